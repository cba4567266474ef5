#include "examples/flatbuffers/game_service.h"

#include <atomic>
#include <cstdint>
#include <memory>

#include "examples/flatbuffers/game_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "tao/message/context.h"
#include "tao/message/flatbuffers.h"

namespace game {

absl::Status RegisterGameServer(tao::Registry* registry) {
  auto tick = std::make_shared<std::atomic<uint64_t>>(0);
  return tao::RegisterFlatBuffer<PositionUpdate>(
      *registry, [tick](tao::Context& ctx, const PositionUpdate& update) {
        // A builder per thread, reused: no allocation in steady state.
        thread_local flatbuffers::FlatBufferBuilder builder;
        builder.Clear();
        const Vec2 origin(0, 0);
        const Vec2* position =
            update.position() != nullptr ? update.position() : &origin;
        builder.Finish(CreateEntityMoved(
            builder, tick->fetch_add(1, std::memory_order_relaxed) + 1,
            update.entity(), update.seq(), position));
        (void)tao::BroadcastFlatBuffer<EntityMoved>(ctx.endpoint(), builder);
      });
}

}  // namespace game
