// The echo protocol, byte-compatible with Go tao's examples/echo: message
// type 1 whose payload is the text itself (no protobuf), echoed back as is.
#ifndef EXAMPLES_ECHO_ECHO_SERVICE_H_
#define EXAMPLES_ECHO_ECHO_SERVICE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "tao/tao.h"

namespace echo {

inline constexpr int32_t kEchoMessage = 1;

// Registers the server side: every type-1 payload is sent straight back.
absl::Status RegisterEchoServer(tao::Registry* registry);

}  // namespace echo

#endif  // EXAMPLES_ECHO_ECHO_SERVICE_H_
