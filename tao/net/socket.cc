#include "tao/net/socket.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tao {
namespace {

std::string FamilyName(int family) {
  switch (family) {
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_UNIX:
      return "AF_UNIX";
    case AF_UNSPEC:
      return "AF_UNSPEC";
    default:
      return absl::StrCat("family ", family);
  }
}

// ErrnoToStatus's message ("what: strerror") under a chosen code.
absl::Status ErrnoWithCode(absl::StatusCode code, int err,
                           absl::string_view what) {
  return absl::Status(code, absl::ErrnoToStatus(err, what).message());
}

}  // namespace

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

absl::StatusOr<Socket> Socket::Create(int family) {
  const int fd =
      ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("socket(", FamilyName(family), ")"));
  }
  return Socket(fd);
}

int Socket::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void Socket::Close() {
  if (fd_ >= 0) {
    // On Linux the fd is released even if close() fails (EINTR included), so
    // there is nothing to retry.
    ::close(fd_);
    fd_ = -1;
  }
}

absl::Status Socket::Bind(const InetAddress& addr) {
  if (::bind(fd_, addr.sockaddr(), addr.socklen()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("bind ", addr.ToString()));
  }
  return absl::OkStatus();
}

absl::Status Socket::Listen(int backlog) {
  if (::listen(fd_, backlog) != 0) {
    const int err = errno;
    absl::StatusOr<InetAddress> local = LocalAddress();
    return absl::ErrnoToStatus(
        err, absl::StrCat("listen ", local.ok() ? local->ToString()
                                                : absl::StrCat("fd ", fd_)));
  }
  return absl::OkStatus();
}

absl::StatusOr<Socket> Socket::Accept(InetAddress* peer) {
  InetAddress addr;
  socklen_t len = InetAddress::capacity();
  const int fd = ::accept4(fd_, addr.mutable_sockaddr(), &len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    // Cheap on purpose: every accept loop ends with EAGAIN.
    const std::string what = absl::StrCat("accept on fd ", fd_);
    switch (err) {
      case EAGAIN:
#if EWOULDBLOCK != EAGAIN
      case EWOULDBLOCK:
#endif
      case ECONNABORTED:
      case EINTR:
      case EPROTO:
        return ErrnoWithCode(absl::StatusCode::kUnavailable, err, what);
      case EMFILE:
      case ENFILE:
        return ErrnoWithCode(absl::StatusCode::kResourceExhausted, err, what);
      default:
        return absl::ErrnoToStatus(err, what);
    }
  }
  addr.set_socklen(len);
  if (peer != nullptr) *peer = addr;
  return Socket(fd);
}

absl::StatusOr<bool> Socket::Connect(const InetAddress& addr) {
  if (::connect(fd_, addr.sockaddr(), addr.socklen()) == 0) return true;
  const int err = errno;
  // EINTR: a non-blocking connect carries on in the background.
  if (err == EINPROGRESS || err == EINTR) return false;
  return absl::ErrnoToStatus(err, absl::StrCat("connect ", addr.ToString()));
}

absl::Status Socket::SetBoolOption(int level, int name, bool on,
                                   const char* what) {
  const int value = on ? 1 : 0;
  if (::setsockopt(fd_, level, name, &value, sizeof(value)) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("setsockopt(", what, ") on fd ", fd_));
  }
  return absl::OkStatus();
}

absl::Status Socket::SetTcpNoDelay(bool on) {
  absl::Status status =
      SetBoolOption(IPPROTO_TCP, TCP_NODELAY, on, "TCP_NODELAY");
  if (!status.ok()) {
    int domain = 0;
    socklen_t len = sizeof(domain);
    if (::getsockopt(fd_, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
        domain == AF_UNIX) {
      return absl::OkStatus();  // Unix sockets have no Nagle to disable.
    }
  }
  return status;
}

absl::Status Socket::SetReuseAddr(bool on) {
  return SetBoolOption(SOL_SOCKET, SO_REUSEADDR, on, "SO_REUSEADDR");
}

absl::Status Socket::SetReusePort(bool on) {
  return SetBoolOption(SOL_SOCKET, SO_REUSEPORT, on, "SO_REUSEPORT");
}

absl::Status Socket::SetKeepAlive(bool on) {
  return SetBoolOption(SOL_SOCKET, SO_KEEPALIVE, on, "SO_KEEPALIVE");
}

absl::Status Socket::SetLingerZero() {
  const struct linger value = {.l_onoff = 1, .l_linger = 0};
  if (::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &value, sizeof(value)) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("setsockopt(SO_LINGER) on fd ", fd_));
  }
  return absl::OkStatus();
}

absl::Status Socket::ShutdownWrite() {
  if (::shutdown(fd_, SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("shutdown(SHUT_WR) on fd ", fd_));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> Socket::UnsentBytes() const {
  int queued = 0;
  if (::ioctl(fd_, SIOCOUTQ, &queued) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("ioctl(SIOCOUTQ) on fd ", fd_));
  }
  return static_cast<size_t>(queued);
}

absl::Status Socket::TakeError() {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("getsockopt(SO_ERROR) on fd ", fd_));
  }
  if (err != 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("socket error on fd ", fd_));
  }
  return absl::OkStatus();
}

absl::StatusOr<InetAddress> Socket::LocalAddress() const {
  InetAddress addr;
  socklen_t len = InetAddress::capacity();
  if (::getsockname(fd_, addr.mutable_sockaddr(), &len) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("getsockname on fd ", fd_));
  }
  addr.set_socklen(len);
  return addr;
}

absl::StatusOr<InetAddress> Socket::PeerAddress() const {
  InetAddress addr;
  socklen_t len = InetAddress::capacity();
  if (::getpeername(fd_, addr.mutable_sockaddr(), &len) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("getpeername on fd ", fd_));
  }
  addr.set_socklen(len);
  return addr;
}

}  // namespace tao
