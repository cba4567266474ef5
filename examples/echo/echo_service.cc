#include "examples/echo/echo_service.h"

namespace echo {

absl::Status RegisterEchoServer(tao::Registry* registry) {
  return registry->RegisterRaw(
      kEchoMessage, [](tao::Context& ctx, absl::string_view payload) {
        (void)ctx.ReplyRaw(kEchoMessage, payload);
      });
}

}  // namespace echo
