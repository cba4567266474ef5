// The process's limit on open files (RLIMIT_NOFILE), which is what caps the
// connections one process can hold: every connection, listener and eventfd
// is a file.
//
//   absl::StatusOr<tao::OpenFileLimit> limit = tao::RaiseOpenFileLimit();
//   // limit->soft is now limit->hard (20,000 on a machine that allows that)
//
// Thread safety: thread-safe (the kernel serializes the calls); the limit is
// process-wide.
#ifndef TAO_BASE_OPEN_FILE_LIMIT_H_
#define TAO_BASE_OPEN_FILE_LIMIT_H_

#include <cstdint>
#include <limits>

#include "absl/status/statusor.h"

namespace tao {

struct OpenFileLimit {
  uint64_t soft = 0;  // what the process may open now
  uint64_t hard = 0;  // what an unprivileged process may raise `soft` to
};

absl::StatusOr<OpenFileLimit> GetOpenFileLimit();

// Raises the soft limit to at least `at_least` (by default: to the hard
// limit); never lowers it. FAILED_PRECONDITION when the hard limit is below
// `at_least` (nothing changed then); the limit after the call otherwise.
absl::StatusOr<OpenFileLimit> RaiseOpenFileLimit(
    uint64_t at_least = std::numeric_limits<uint64_t>::max());

}  // namespace tao

#endif  // TAO_BASE_OPEN_FILE_LIMIT_H_
