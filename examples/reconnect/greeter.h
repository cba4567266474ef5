// The reconnect example's protocol: type 1, raw text; the server answers
// "<its name> heard: <text>", so a client sees which server answered.
#ifndef EXAMPLES_RECONNECT_GREETER_H_
#define EXAMPLES_RECONNECT_GREETER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "tao/tao.h"

namespace reconnect_example {

inline constexpr int32_t kGreeting = 1;

// Registers the server side: every greeting is answered, naming `name`.
absl::Status RegisterGreeter(tao::Registry* registry, std::string name);

}  // namespace reconnect_example

#endif  // EXAMPLES_RECONNECT_GREETER_H_
