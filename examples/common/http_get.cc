#include "examples/common/http_get.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tao::examples {
namespace {

// Waits for `events` on `fd` until `deadline`.
absl::Status Await(int fd, short events, absl::Time deadline) {
  for (;;) {
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(
        std::max(absl::ZeroDuration(), deadline - absl::Now())));
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, ms);
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError("HTTP GET timed out");
    if (errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
  }
}

}  // namespace

absl::StatusOr<std::string> HttpGet(const InetAddress& address,
                                    absl::string_view path,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const int fd =
      socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  absl::Cleanup close_fd = [fd] { close(fd); };
  if (connect(fd, address.sockaddr(), address.socklen()) != 0 &&
      errno != EINPROGRESS) {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address.ToString(), ": ", std::strerror(errno)));
  }
  if (absl::Status s = Await(fd, POLLOUT, deadline); !s.ok()) return s;
  int error = 0;
  socklen_t len = sizeof(error);
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "connect to ", address.ToString(), ": ", std::strerror(error)));
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: ", address.ToString(),
                   "\r\nConnection: close\r\n\r\n");
  for (size_t sent = 0; sent < request.size();) {
    if (absl::Status s = Await(fd, POLLOUT, deadline); !s.ok()) return s;
    const ssize_t n =
        send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return absl::ErrnoToStatus(errno, "send");
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  for (;;) {
    if (absl::Status s = Await(fd, POLLIN, deadline); !s.ok()) return s;
    char buf[16384];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "recv");
    }
    response.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return absl::DataLossError("HTTP response without a complete head");
  }
  if (!absl::StartsWith(response, "HTTP/1.1 200 ")) {
    return absl::InternalError(absl::StrCat(
        "HTTP GET ", path, ": ", response.substr(0, response.find("\r\n"))));
  }
  return response.substr(head_end + 4);
}

}  // namespace tao::examples
