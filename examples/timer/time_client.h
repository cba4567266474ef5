// Connects to a time server and prints every tick until the server closes.
#ifndef EXAMPLES_TIMER_TIME_CLIENT_H_
#define EXAMPLES_TIMER_TIME_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace timer_example {

// Returns the number of ticks received before the server closed.
absl::StatusOr<int> WatchTime(const std::string& address,
                              absl::Duration timeout);

}  // namespace timer_example

#endif  // EXAMPLES_TIMER_TIME_CLIENT_H_
