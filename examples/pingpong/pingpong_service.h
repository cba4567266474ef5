// The pingpong protocol, byte-compatible with Go tao's examples/pingpong:
// message type 1 whose payload is the text itself; the server answers every
// message with "pong".
#ifndef EXAMPLES_PINGPONG_PINGPONG_SERVICE_H_
#define EXAMPLES_PINGPONG_PINGPONG_SERVICE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "tao/tao.h"

namespace pingpong {

inline constexpr int32_t kPingPongMessage = 1;

// Registers the server side: every type-1 message is answered with "pong".
absl::Status RegisterPingPongServer(tao::Registry* registry);

}  // namespace pingpong

#endif  // EXAMPLES_PINGPONG_PINGPONG_SERVICE_H_
