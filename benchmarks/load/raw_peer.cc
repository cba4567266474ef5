#include "benchmarks/load/raw_peer.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "benchmarks/load/bench_util.h"

namespace tao::bench {

absl::StatusOr<int> ConnectTcp(const sockaddr_in& addr, double timeout_s) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("socket: ", std::strerror(errno)));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int err = 0;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) !=
      0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const int n =
          ::poll(&p, 1, static_cast<int>(std::max(1.0, timeout_s * 1000)));
      if (n <= 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
  }
  if (err != 0) {
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect ", FormatIpv4(addr), ": ", std::strerror(err)));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

std::string TlvHeader(int32_t type, uint32_t length) {
  std::string header(8, '\0');
  const uint32_t t = static_cast<uint32_t>(type);
  for (int i = 0; i < 4; ++i) {
    header[i] = static_cast<char>((t >> (8 * i)) & 0xff);
    header[4 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  return header;
}

std::string TlvFrame(int32_t type, absl::string_view payload) {
  return absl::StrCat(TlvHeader(type, static_cast<uint32_t>(payload.size())),
                      payload);
}

int SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(w));
  }
  return 0;
}

void CloseWithReset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

const char* ReactionName(Reaction r) {
  switch (r) {
    case Reaction::kClosed:
      return "closed";
    case Reaction::kReset:
      return "reset";
    case Reaction::kOpen:
      return "open";
  }
  return "?";
}

Reaction AwaitServer(int fd, double timeout_s, std::string* received,
                     size_t want) {
  const int64_t deadline = NowNs() + static_cast<int64_t>(timeout_s * 1e9);
  size_t got = 0;
  char buffer[16384];
  for (;;) {
    const int64_t left_ms = (deadline - NowNs()) / 1000000;
    if (left_ms <= 0) return Reaction::kOpen;
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left_ms));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Reaction::kOpen;
    const ssize_t r = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (r == 0) return Reaction::kClosed;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Reaction::kReset;
    }
    if (received != nullptr) received->append(buffer, static_cast<size_t>(r));
    got += static_cast<size_t>(r);
    if (want > 0 && got >= want) return Reaction::kOpen;
  }
}

}  // namespace tao::bench
