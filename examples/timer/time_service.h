// The time service: after a client connects, the server sends it the time
// (type 1, text "2026-11-27 09:13:31.250 UTC") every `interval` with a
// connection-bound RunEvery timer, and closes gracefully after `ticks`.
#ifndef EXAMPLES_TIMER_TIME_SERVICE_H_
#define EXAMPLES_TIMER_TIME_SERVICE_H_

#include <cstdint>
#include <memory>

#include "absl/time/time.h"
#include "tao/tao.h"

namespace timer_example {

inline constexpr int32_t kTimeMessage = 1;

// A server (not started) that shows the time to each client.
std::unique_ptr<tao::Server> NewTimeServer(tao::ServerOptions options,
                                           absl::Duration interval, int ticks);

}  // namespace timer_example

#endif  // EXAMPLES_TIMER_TIME_SERVICE_H_
