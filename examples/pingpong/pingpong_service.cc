#include "examples/pingpong/pingpong_service.h"

namespace pingpong {

absl::Status RegisterPingPongServer(tao::Registry* registry) {
  return registry->RegisterRaw(kPingPongMessage,
                               [](tao::Context& ctx, absl::string_view) {
                                 (void)ctx.ReplyRaw(kPingPongMessage, "pong");
                               });
}

}  // namespace pingpong
