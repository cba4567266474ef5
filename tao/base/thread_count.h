// Thread counts: the one convention every option that sizes a thread pool
// follows (ServerOptions::io_threads, handler_threads, WorkerPool, ...).
//
//   N > 0              exactly N threads
//   0                  no threads of its own: the work runs on a thread that
//                      exists anyway (handlers inline on the I/O loop);
//                      INVALID_ARGUMENT where that makes no sense (an
//                      endpoint needs at least one I/O loop)
//   kOneThreadPerCore  one thread per hardware thread
//
// Anything below kOneThreadPerCore is INVALID_ARGUMENT.
#ifndef TAO_BASE_THREAD_COUNT_H_
#define TAO_BASE_THREAD_COUNT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao {

inline constexpr int kOneThreadPerCore = -1;

// The number of threads `requested` stands for (>= 0). `option` names the
// option in the error, e.g. "io_threads".
absl::StatusOr<int> ResolveThreadCount(int requested, absl::string_view option);

// As ResolveThreadCount, with 0 refused: for pools that must run something.
absl::StatusOr<int> ResolvePositiveThreadCount(int requested,
                                               absl::string_view option);

}  // namespace tao

#endif  // TAO_BASE_THREAD_COUNT_H_
