// Connects to a time server and prints every tick until the server closes.
#ifndef EXAMPLES_TIMER_TIME_CLIENT_H_
#define EXAMPLES_TIMER_TIME_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tao/message/options.h"

namespace timer_example {

// Returns the number of ticks received before the server closed. Ticks
// print in order when handlers run inline (a client's default).
absl::StatusOr<int> WatchTime(
    const std::string& address, absl::Duration timeout,
    const tao::ClientOptions& options = tao::ClientOptions());

}  // namespace timer_example

#endif  // EXAMPLES_TIMER_TIME_CLIENT_H_
