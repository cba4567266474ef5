// Test-only: a TCP port for a child process that cannot be told to pick
// its own (redis-server, HAProxy).
#ifndef TAO_TESTING_FREE_PORT_H_
#define TAO_TESTING_FREE_PORT_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace tao {
namespace testing {

// A port on 127.0.0.1 that nothing listened on a moment ago (bound to :0,
// read, closed). Another process may take it before the caller binds it:
// callers retry with another.
absl::StatusOr<uint16_t> PickFreePort();

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_FREE_PORT_H_
