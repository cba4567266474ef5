#include "tao/base/open_file_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tao {
namespace {

absl::Status ErrnoError(int error, const char* call) {
  return absl::Status(
      absl::ErrnoToStatusCode(error),
      absl::StrCat(call, "(RLIMIT_NOFILE): ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<OpenFileLimit> GetOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoError(errno, "getrlimit");
  }
  return OpenFileLimit{limit.rlim_cur, limit.rlim_max};
}

absl::StatusOr<OpenFileLimit> RaiseOpenFileLimit(uint64_t at_least) {
  absl::StatusOr<OpenFileLimit> now = GetOpenFileLimit();
  if (!now.ok()) return now.status();
  const bool to_hard = at_least == std::numeric_limits<uint64_t>::max();
  if (to_hard) at_least = now->hard;
  if (now->soft >= at_least) return now;
  if (now->hard < at_least) {
    return absl::FailedPreconditionError(
        absl::StrCat("RLIMIT_NOFILE hard limit ", now->hard, " < ", at_least));
  }
  rlimit limit{at_least, now->hard};
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return ErrnoError(errno, "setrlimit");
  }
  return GetOpenFileLimit();
}

}  // namespace tao
