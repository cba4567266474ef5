// Socket: owns one stream socket file descriptor (RAII) and wraps the socket
// system calls tao needs, returning absl::Status with errno and the address
// in the message ("bind 127.0.0.1:80: Permission denied").
//
//   TAO_ASSIGN_OR_RETURN(Socket listener, Socket::Create(addr.family()));
//   TAO_RETURN_IF_ERROR(listener.SetReuseAddr(true));
//   TAO_RETURN_IF_ERROR(listener.Bind(addr));
//   TAO_RETURN_IF_ERROR(listener.Listen());
//   absl::StatusOr<Socket> conn = listener.Accept(&peer);
//   if (absl::IsUnavailable(conn.status())) { /* nothing pending */ }
//
// Sockets are non-blocking and close-on-exec. Move-only.
// Not thread-safe: one owner at a time (a connection's socket belongs to its
// loop thread).

#ifndef TAO_NET_SOCKET_H_
#define TAO_NET_SOCKET_H_

#include <sys/socket.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tao/net/inet_address.h"

namespace tao {

class Socket {
 public:
  Socket() = default;                   // invalid: fd() == -1
  explicit Socket(int fd) : fd_(fd) {}  // adopts `fd`
  ~Socket() { Close(); }

  Socket(Socket&& other) noexcept : fd_(other.Release()) {}
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0).
  static absl::StatusOr<Socket> Create(int family);

  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing; returns the fd (-1 if invalid).
  int Release();
  // Closes the fd if valid. Idempotent.
  void Close();

  absl::Status Bind(const InetAddress& addr);
  absl::Status Listen(int backlog = SOMAXCONN);

  // accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC; fills `*peer` if non-null.
  // Unavailable: nothing to accept now, or a transient error (EAGAIN,
  // ECONNABORTED, EINTR, EPROTO): retry on the next readiness event.
  // ResourceExhausted: out of file descriptors (EMFILE, ENFILE) or memory.
  // Anything else: absl::ErrnoToStatus.
  absl::StatusOr<Socket> Accept(InetAddress* peer);

  // Non-blocking connect. true: connected at once (typical for AF_UNIX);
  // false: in progress (EINPROGRESS): wait for writability, then TakeError().
  absl::StatusOr<bool> Connect(const InetAddress& addr);

  absl::Status SetTcpNoDelay(bool on);  // OK without effect on AF_UNIX
  absl::Status SetReuseAddr(bool on);
  absl::Status SetReusePort(bool on);
  absl::Status SetKeepAlive(bool on);
  // SO_LINGER {on, 0}: Close() then resets the connection (RST) instead of a
  // graceful FIN.
  absl::Status SetLingerZero();
  // shutdown(SHUT_WR): half-close; the peer reads EOF, we can still read.
  absl::Status ShutdownWrite();
  // Reads and clears SO_ERROR: OK, or the pending error (e.g. a refused
  // connect is Unavailable "...: Connection refused").
  absl::Status TakeError();
  // Bytes in the kernel's send queue the peer has not acknowledged yet
  // (SIOCOUTQ): a queue that shrinks means a live peer, however slow.
  absl::StatusOr<size_t> UnsentBytes() const;

  absl::StatusOr<InetAddress> LocalAddress() const;  // getsockname
  absl::StatusOr<InetAddress> PeerAddress() const;   // getpeername

 private:
  absl::Status SetBoolOption(int level, int name, bool on, const char* what);

  int fd_ = -1;
};

}  // namespace tao

#endif  // TAO_NET_SOCKET_H_
