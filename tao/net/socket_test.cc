#include "tao/net/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;

constexpr int kTimeoutMs = 10000;

// Waits (no sleeping) until `fd` reports one of `events`; returns revents,
// or 0 on timeout.
short WaitFor(int fd, short events) {
  pollfd p = {.fd = fd, .events = events, .revents = 0};
  int n;
  do {
    n = ::poll(&p, 1, kTimeoutMs);
  } while (n < 0 && errno == EINTR);
  return n > 0 ? p.revents : 0;
}

// A connected pair made through a real listener.
struct Connected {
  Socket listener;
  Socket client;
  Socket server;
  InetAddress peer;  // as reported by Accept
};

absl::StatusOr<Connected> ConnectVia(const InetAddress& bind_addr) {
  Connected c;
  absl::StatusOr<Socket> listener = Socket::Create(bind_addr.family());
  if (!listener.ok()) return listener.status();
  c.listener = std::move(*listener);
  if (absl::Status s = c.listener.Bind(bind_addr); !s.ok()) return s;
  if (absl::Status s = c.listener.Listen(); !s.ok()) return s;
  absl::StatusOr<InetAddress> local = c.listener.LocalAddress();
  if (!local.ok()) return local.status();

  absl::StatusOr<Socket> client = Socket::Create(bind_addr.family());
  if (!client.ok()) return client.status();
  c.client = std::move(*client);
  absl::StatusOr<bool> connected = c.client.Connect(*local);
  if (!connected.ok()) return connected.status();
  if (!*connected) {
    if ((WaitFor(c.client.fd(), POLLOUT) & POLLOUT) == 0) {
      return absl::DeadlineExceededError("connect did not complete");
    }
    if (absl::Status s = c.client.TakeError(); !s.ok()) return s;
  }
  if ((WaitFor(c.listener.fd(), POLLIN) & POLLIN) == 0) {
    return absl::DeadlineExceededError("nothing to accept");
  }
  absl::StatusOr<Socket> server = c.listener.Accept(&c.peer);
  if (!server.ok()) return server.status();
  c.server = std::move(*server);
  return c;
}

void ExpectNonBlockingCloexec(int fd) {
  EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
}

// Sends `text` one way and reads it back whole on the other side.
void ExpectTransfer(const Socket& from, const Socket& to,
                    const std::string& text) {
  ASSERT_EQ(::write(from.fd(), text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  std::string got;
  while (got.size() < text.size()) {
    ASSERT_NE(WaitFor(to.fd(), POLLIN) & POLLIN, 0);
    char buf[256];
    const ssize_t n = ::read(to.fd(), buf, sizeof(buf));
    ASSERT_GT(n, 0) << errno;
    got.append(buf, n);
  }
  EXPECT_EQ(got, text);
}

void ExpectWorkingPair(Connected& c) {
  ExpectNonBlockingCloexec(c.listener.fd());
  ExpectNonBlockingCloexec(c.client.fd());
  ExpectNonBlockingCloexec(c.server.fd());
  ExpectTransfer(c.client, c.server, "ping");
  ExpectTransfer(c.server, c.client, "pong");
}

TEST(SocketTest, Ipv4ConnectAcceptPair) {
  absl::StatusOr<Connected> c = ConnectVia(InetAddress::Loopback(0));
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectWorkingPair(*c);

  absl::StatusOr<InetAddress> listen_addr = c->listener.LocalAddress();
  ASSERT_TRUE(listen_addr.ok()) << listen_addr.status();
  EXPECT_EQ(listen_addr->host(), "127.0.0.1");
  EXPECT_NE(listen_addr->port(), 0);

  absl::StatusOr<InetAddress> client_local = c->client.LocalAddress();
  absl::StatusOr<InetAddress> client_peer = c->client.PeerAddress();
  absl::StatusOr<InetAddress> server_peer = c->server.PeerAddress();
  absl::StatusOr<InetAddress> server_local = c->server.LocalAddress();
  ASSERT_TRUE(client_local.ok() && client_peer.ok() && server_peer.ok() &&
              server_local.ok());
  EXPECT_EQ(c->peer, *client_local);
  EXPECT_EQ(*server_peer, *client_local);
  EXPECT_EQ(*client_peer, *listen_addr);
  EXPECT_EQ(*server_local, *listen_addr);
}

TEST(SocketTest, Ipv6ConnectAcceptPair) {
  {
    absl::StatusOr<Socket> probe = Socket::Create(AF_INET6);
    if (!probe.ok() ||
        !probe->Bind(InetAddress::Loopback(0, /*ipv6=*/true)).ok()) {
      GTEST_SKIP() << "::1 is not available here";
    }
  }
  absl::StatusOr<Connected> c =
      ConnectVia(InetAddress::Loopback(0, /*ipv6=*/true));
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectWorkingPair(*c);
  EXPECT_EQ(c->peer.family(), AF_INET6);
  EXPECT_EQ(c->peer.host(), "::1");
  absl::StatusOr<InetAddress> client_local = c->client.LocalAddress();
  ASSERT_TRUE(client_local.ok());
  EXPECT_EQ(c->peer, *client_local);
}

// A directory for Unix socket files: under TEST_TMPDIR when its path is short
// enough for sun_path, else a fresh directory under /tmp.
class UnixDir {
 public:
  UnixDir() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string base = tmp != nullptr ? tmp : "/tmp";
    std::string pattern = base + "/sockXXXXXX";
    if (pattern.size() + 16 > 100) pattern = "/tmp/tao_socket_testXXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
  }
  ~UnixDir() {
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

TEST(SocketTest, UnixPathConnectAcceptPair) {
  UnixDir dir;
  ASSERT_FALSE(dir.dir().empty()) << "mkdtemp failed: " << errno;
  const std::string path = dir.dir() + "/s.sock";
  absl::StatusOr<InetAddress> addr = InetAddress::Parse("unix:" + path);
  ASSERT_TRUE(addr.ok()) << addr.status();
  {
    absl::StatusOr<Connected> c = ConnectVia(*addr);
    ASSERT_TRUE(c.ok()) << c.status();
    ExpectWorkingPair(*c);
    absl::StatusOr<InetAddress> local = c->listener.LocalAddress();
    ASSERT_TRUE(local.ok());
    EXPECT_EQ(*local, *addr);
    EXPECT_EQ(local->ToString(), "unix:" + path);
    EXPECT_EQ(c->peer.family(), AF_UNIX);
    EXPECT_EQ(c->peer.ToString(), "unix:") << "the client is unnamed";
    EXPECT_TRUE(c->client.SetTcpNoDelay(true).ok()) << "no-op on AF_UNIX";
    EXPECT_TRUE(c->client.SetKeepAlive(true).ok());
  }
  ::unlink(path.c_str());
}

TEST(SocketTest, UnixAbstractConnectAcceptPair) {
  absl::StatusOr<InetAddress> addr =
      InetAddress::Parse(absl::StrCat("unix:@tao-socket-test-", ::getpid()));
  ASSERT_TRUE(addr.ok()) << addr.status();
  absl::StatusOr<Connected> c = ConnectVia(*addr);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectWorkingPair(*c);
  absl::StatusOr<InetAddress> local = c->listener.LocalAddress();
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, *addr);
  absl::StatusOr<InetAddress> client_peer = c->client.PeerAddress();
  ASSERT_TRUE(client_peer.ok());
  EXPECT_EQ(*client_peer, *addr);
}

TEST(SocketTest, ConnectToClosedPortIsRefused) {
  // A bound socket that never listens keeps the port reserved and refuses.
  absl::StatusOr<Socket> reserved = Socket::Create(AF_INET);
  ASSERT_TRUE(reserved.ok());
  ASSERT_TRUE(reserved->Bind(InetAddress::Loopback(0)).ok());
  absl::StatusOr<InetAddress> target = reserved->LocalAddress();
  ASSERT_TRUE(target.ok());

  absl::StatusOr<Socket> client = Socket::Create(AF_INET);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<bool> connected = client->Connect(*target);
  absl::Status error;
  if (!connected.ok()) {
    error = connected.status();
    EXPECT_THAT(std::string(error.message()),
                HasSubstr(absl::StrCat("connect ", target->ToString())));
  } else {
    ASSERT_FALSE(*connected);
    ASSERT_NE(WaitFor(client->fd(), POLLOUT), 0);
    error = client->TakeError();
    EXPECT_TRUE(client->TakeError().ok()) << "SO_ERROR is cleared";
  }
  EXPECT_TRUE(absl::IsUnavailable(error)) << error;
  EXPECT_THAT(std::string(error.message()), HasSubstr("Connection refused"));
}

TEST(SocketTest, AcceptOnEmptyListenerIsUnavailable) {
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  InetAddress peer;
  absl::StatusOr<Socket> accepted = listener->Accept(&peer);
  EXPECT_TRUE(absl::IsUnavailable(accepted.status())) << accepted.status();
  EXPECT_THAT(std::string(accepted.status().message()), HasSubstr("accept"));
  EXPECT_EQ(peer.family(), AF_UNSPEC) << "untouched on failure";
}

TEST(SocketTest, AcceptWithoutPeerOutParameter) {
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  absl::StatusOr<Socket> client = Socket::Create(AF_INET);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->Connect(*listener->LocalAddress()).ok());
  ASSERT_NE(WaitFor(listener->fd(), POLLIN) & POLLIN, 0);
  absl::StatusOr<Socket> accepted = listener->Accept(nullptr);
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  EXPECT_TRUE(accepted->valid());
}

TEST(SocketTest, AcceptOnNonListeningSocketIsAnError) {
  absl::StatusOr<Socket> socket = Socket::Create(AF_INET);
  ASSERT_TRUE(socket.ok());
  absl::StatusOr<Socket> accepted = socket->Accept(nullptr);
  EXPECT_TRUE(absl::IsInvalidArgument(accepted.status())) << accepted.status();
}

TEST(SocketTest, BindErrorNamesOperationAndAddress) {
  absl::StatusOr<Socket> first = Socket::Create(AF_INET);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(first->Listen().ok());
  absl::StatusOr<InetAddress> taken = first->LocalAddress();
  ASSERT_TRUE(taken.ok());

  absl::StatusOr<Socket> second = Socket::Create(AF_INET);
  ASSERT_TRUE(second.ok());
  absl::Status s = second->Bind(*taken);
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_EQ(s.message(), absl::StrCat("bind ", taken->ToString(),
                                      ": Address already in use"));
}

TEST(SocketTest, ErrorsOnInvalidSocket) {
  Socket invalid;
  EXPECT_FALSE(invalid.valid());
  EXPECT_EQ(invalid.fd(), -1);
  absl::Status s = invalid.Bind(InetAddress::Loopback(0));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("bind 127.0.0.1:0: Bad file descriptor"));
  EXPECT_THAT(std::string(invalid.Listen().message()), HasSubstr("listen"));
  EXPECT_FALSE(invalid.TakeError().ok());
  EXPECT_FALSE(invalid.LocalAddress().ok());
  EXPECT_FALSE(invalid.PeerAddress().ok());
  EXPECT_FALSE(invalid.ShutdownWrite().ok());
  EXPECT_THAT(std::string(invalid.SetReuseAddr(true).message()),
              HasSubstr("SO_REUSEADDR"));
}

TEST(SocketTest, CreateRejectsUnknownFamily) {
  absl::StatusOr<Socket> s = Socket::Create(12345);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("socket("));
}

bool IsClosedFd(int fd) { return ::fcntl(fd, F_GETFD) == -1 && errno == EBADF; }

TEST(SocketTest, MoveSemantics) {
  absl::StatusOr<Socket> created = Socket::Create(AF_INET);
  ASSERT_TRUE(created.ok());
  const int fd = created->fd();
  Socket a = std::move(*created);
  EXPECT_FALSE(created->valid());
  EXPECT_EQ(a.fd(), fd);

  Socket b(std::move(a));
  EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): documented
  EXPECT_EQ(b.fd(), fd);

  absl::StatusOr<Socket> other = Socket::Create(AF_INET);
  ASSERT_TRUE(other.ok());
  const int other_fd = other->fd();
  b = std::move(*other);  // closes fd
  EXPECT_TRUE(IsClosedFd(fd));
  EXPECT_EQ(b.fd(), other_fd);

  const int released = b.Release();
  EXPECT_EQ(released, other_fd);
  EXPECT_FALSE(b.valid());
  EXPECT_FALSE(IsClosedFd(released));
  Socket adopted(released);
  adopted.Close();
  EXPECT_TRUE(IsClosedFd(released));
  adopted.Close();  // idempotent
  EXPECT_FALSE(adopted.valid());
}

TEST(SocketTest, DestructorCloses) {
  int fd = -1;
  {
    absl::StatusOr<Socket> s = Socket::Create(AF_INET);
    ASSERT_TRUE(s.ok());
    fd = s->fd();
  }
  EXPECT_TRUE(IsClosedFd(fd));
}

TEST(SocketTest, ShutdownWriteMakesPeerReadEof) {
  absl::StatusOr<Connected> c = ConnectVia(InetAddress::Loopback(0));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->client.ShutdownWrite().ok());
  ASSERT_NE(WaitFor(c->server.fd(), POLLIN) & POLLIN, 0);
  char buf[16];
  EXPECT_EQ(::read(c->server.fd(), buf, sizeof(buf)), 0) << "EOF";
  // Half-close: the other direction still works.
  ExpectTransfer(c->server, c->client, "still open");
}

TEST(SocketTest, LingerZeroCloseResetsPeer) {
  absl::StatusOr<Connected> c = ConnectVia(InetAddress::Loopback(0));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->server.SetLingerZero().ok());
  c->server.Close();
  ASSERT_NE(WaitFor(c->client.fd(), POLLIN), 0);
  char buf[16];
  EXPECT_EQ(::read(c->client.fd(), buf, sizeof(buf)), -1);
  EXPECT_EQ(errno, ECONNRESET);
}

int GetIntOption(const Socket& s, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  EXPECT_EQ(::getsockopt(s.fd(), level, name, &value, &len), 0);
  return value;
}

TEST(SocketTest, SetOptions) {
  absl::StatusOr<Socket> s = Socket::Create(AF_INET);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->SetTcpNoDelay(true).ok());
  EXPECT_NE(GetIntOption(*s, IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(s->SetTcpNoDelay(false).ok());
  EXPECT_EQ(GetIntOption(*s, IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(s->SetReuseAddr(true).ok());
  EXPECT_NE(GetIntOption(*s, SOL_SOCKET, SO_REUSEADDR), 0);
  ASSERT_TRUE(s->SetReusePort(true).ok());
  EXPECT_NE(GetIntOption(*s, SOL_SOCKET, SO_REUSEPORT), 0);
  ASSERT_TRUE(s->SetKeepAlive(true).ok());
  EXPECT_NE(GetIntOption(*s, SOL_SOCKET, SO_KEEPALIVE), 0);
  ASSERT_TRUE(s->SetKeepAlive(false).ok());
  EXPECT_EQ(GetIntOption(*s, SOL_SOCKET, SO_KEEPALIVE), 0);
  ASSERT_TRUE(s->SetLingerZero().ok());
  struct linger linger = {};
  socklen_t len = sizeof(linger);
  ASSERT_EQ(::getsockopt(s->fd(), SOL_SOCKET, SO_LINGER, &linger, &len), 0);
  EXPECT_EQ(linger.l_onoff, 1);
  EXPECT_EQ(linger.l_linger, 0);
}

TEST(SocketTest, ReusePortAllowsTwoListeners) {
  absl::StatusOr<Socket> a = Socket::Create(AF_INET);
  absl::StatusOr<Socket> b = Socket::Create(AF_INET);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->SetReusePort(true).ok());
  ASSERT_TRUE(b->SetReusePort(true).ok());
  ASSERT_TRUE(a->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(a->Listen().ok());
  absl::StatusOr<InetAddress> addr = a->LocalAddress();
  ASSERT_TRUE(addr.ok());
  absl::Status s = b->Bind(*addr);
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(b->Listen().ok());
}

}  // namespace
}  // namespace tao

namespace tao {
namespace {

TEST(SocketUnsentBytesTest, CountsBytesThePeerHasNotAcknowledged) {
  absl::StatusOr<Socket> listener = Socket::Create(AF_INET);
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(listener->Bind(InetAddress::Loopback(0)).ok());
  ASSERT_TRUE(listener->Listen().ok());
  absl::StatusOr<InetAddress> address = listener->LocalAddress();
  ASSERT_TRUE(address.ok());
  absl::StatusOr<Socket> client = Socket::Create(AF_INET);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->Connect(*address).ok());
  struct pollfd writable = {client->fd(), POLLOUT, 0};
  ASSERT_EQ(::poll(&writable, 1, 10000), 1);
  absl::StatusOr<size_t> unsent = client->UnsentBytes();
  ASSERT_TRUE(unsent.ok()) << unsent.status();
  EXPECT_EQ(*unsent, 0u);  // nothing sent yet
  Socket closed;
  EXPECT_FALSE(closed.UnsentBytes().ok());  // no descriptor: a clear error
}

}  // namespace
}  // namespace tao
