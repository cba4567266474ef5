#include "examples/reconnect/greeter.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace reconnect_example {

absl::Status RegisterGreeter(tao::Registry* registry, std::string name) {
  return registry->RegisterRaw(
      kGreeting,
      [name = std::move(name)](tao::Context& ctx, absl::string_view text) {
        (void)ctx.ReplyRaw(kGreeting, absl::StrCat(name, " heard: ", text));
      });
}

}  // namespace reconnect_example
