#include "tao/net/transport.h"

#include <errno.h>
#include <limits.h>
#include <sys/socket.h>

#include <algorithm>

namespace tao {

absl::StatusOr<Transport::ReadResult> TcpTransport::Read(Buffer& in) {
  absl::StatusOr<size_t> n = in.ReadFd(socket_.fd());
  if (!n.ok()) {
    if (IsWouldBlock(n.status())) return ReadResult{};  // EAGAIN
    return n.status();
  }
  return ReadResult{*n, *n == 0};
}

absl::StatusOr<size_t> TcpTransport::Write(
    absl::Span<const struct iovec> data) {
  struct msghdr msg = {};
  msg.msg_iov = const_cast<struct iovec*>(data.data());
  msg.msg_iovlen = std::min<size_t>(data.size(), IOV_MAX);
  // MSG_NOSIGNAL: a closed peer gives EPIPE, never SIGPIPE.
  ssize_t n = ::sendmsg(socket_.fd(), &msg, MSG_NOSIGNAL);
  if (n >= 0) return static_cast<size_t>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return absl::ErrnoToStatus(errno, "send");
}

absl::StatusOr<std::unique_ptr<Transport>> MakeTransport(
    const TransportFactory* factory, Socket socket,
    absl::string_view server_name) {
  if (factory == nullptr) {
    return std::unique_ptr<Transport>(new TcpTransport(std::move(socket)));
  }
  return factory->Wrap(std::move(socket), server_name);
}

}  // namespace tao
