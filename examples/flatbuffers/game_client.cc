#include "examples/flatbuffers/game_client.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "examples/flatbuffers/game_tao.h"
#include "flatbuffers/flatbuffers.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/message/flatbuffers.h"

namespace game {

GameClient::GameClient(uint32_t entity, const tao::ClientOptions& options)
    : entity_(entity) {
  absl::Status registered = tao::RegisterFlatBuffer<EntityMoved>(
      registry_, [this](tao::Context&, const EntityMoved& moved) {
        absl::MutexLock lock(&mu_);
        (moved.entity() == entity_ ? stats_.own : stats_.others) += 1;
        if (moved.tick() <= stats_.last_tick) ++stats_.out_of_order;
        stats_.last_tick = moved.tick();
      });
  TAO_CHECK(registered.ok());  // a fresh registry: cannot be taken
  client_ = std::make_unique<tao::Client>(options, &registry_);
}

GameClient::~GameClient() { Stop(); }

absl::Status GameClient::Connect(const std::string& address,
                                 absl::Duration timeout) {
  TAO_RETURN_IF_ERROR(client_->Connect(address));
  return client_->WaitConnected(timeout);
}

absl::Status GameClient::SendUpdates(int count) {
  flatbuffers::FlatBufferBuilder builder;
  for (int seq = 1; seq <= count; ++seq) {
    const float angle = 0.1f * static_cast<float>(seq);
    const Vec2 position(10 * std::cos(angle), 10 * std::sin(angle));
    const Vec2 velocity(-std::sin(angle), std::cos(angle));
    builder.Clear();
    builder.Finish(CreatePositionUpdate(
        builder, entity_, static_cast<uint32_t>(seq), &position, &velocity));
    TAO_RETURN_IF_ERROR(tao::SendFlatBuffer<PositionUpdate>(*client_, builder));
  }
  return absl::OkStatus();
}

absl::Status GameClient::WaitForMoves(int own, int total,
                                      absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto arrived = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stats_.own >= own && stats_.own + stats_.others >= total;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("entity ", entity_, ": ", stats_.own, "/", own,
                     " own moves, ", stats_.own + stats_.others, "/", total,
                     " in all after ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

MoveStats GameClient::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void GameClient::Stop() {
  if (client_ != nullptr) client_->Stop();
}

}  // namespace game
