#include "tao/testing/loopback.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tao/base/open_file_limit.h"
#include "tao/net/buffer.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace testing {
namespace {

constexpr size_t kReadChunk = 256 << 10;

// Milliseconds left until `deadline`, rounded up, for poll(2).
int PollTimeoutMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60 * 1000));
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  return absl::ErrnoToStatus(error, what);
}

}  // namespace

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed * 0x9E3779B97F4A7C15ull + n);
  std::string out(n, '\0');
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t v = gen();
    std::memcpy(&out[i], &v, 8);
  }
  if (i < n) {
    const uint64_t v = gen();
    std::memcpy(&out[i], &v, n - i);
  }
  return out;
}

char PatternByte(uint64_t offset) {
  return static_cast<char>((offset * 2654435761u) >> 13);
}

std::string Pattern(uint64_t offset, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = PatternByte(offset + i);
  return out;
}

absl::Status EnsureFdLimit(size_t n) { return RaiseOpenFileLimit(n).status(); }

DataCallback Echo() {
  return [](Connection& c, Buffer& in) {
    // A refused Send (cap reached) closes the connection; the tests that
    // care observe that through OnError.
    (void)c.Send(in.view());
    in.RetrieveAll();
  };
}

std::string UnixSocketAddress(absl::string_view name) {
  std::string path;
  const char* tmpdir = std::getenv("TEST_TMPDIR");
  if (tmpdir != nullptr) path = absl::StrCat(tmpdir, "/", name);
  // sun_path holds 108 bytes including the NUL.
  if (path.empty() || path.size() > 100) {
    path = absl::StrCat("/tmp/tao-test-", getpid(), "-", name);
  }
  ::unlink(path.c_str());
  return absl::StrCat("unix:", path);
}

// ---------------------------------------------------------------------------
// ConnectionTracker

void ConnectionTracker::RecordConnect(Connection& c, bool accepted) {
  absl::MutexLock lock(&mu_);
  Record& record = records_[c.id()];
  if (record.id == 0) {
    record.id = c.id();
    record.peer = c.peer_address();
    record.local = c.local_address();
  }
  if (accepted) {
    ++record.connects;
    ++connects_;
    if (record.connects > 1) {
      record.violations.push_back("OnConnect ran twice");
      violations_.push_back(
          absl::StrCat("connection ", c.id(), ": OnConnect ran twice"));
    }
    order_.push_back(c.shared_from_this());
  } else {
    record.refused = true;
  }
}

void ConnectionTracker::RecordError(Connection& c, const absl::Status& error) {
  absl::MutexLock lock(&mu_);
  Record& record = records_[c.id()];
  record.id = c.id();
  record.errors.push_back(error);
  ++errors_;
  if (record.closes > 0) {
    violations_.push_back(absl::StrCat(
        "connection ", c.id(), ": OnError after OnClose: ", error.ToString()));
  }
}

void ConnectionTracker::RecordClose(Connection& c) {
  {
    absl::MutexLock lock(&mu_);
    Record& record = records_[c.id()];
    record.id = c.id();
    ++record.closes;
    ++closes_;
    record.close_reason = c.close_reason();
    if (record.closes > 1) {
      violations_.push_back(absl::StrCat(
          "connection ", c.id(), ": OnClose ran ", record.closes, " times"));
    }
    if (record.connects == 0 && !record.refused) {
      violations_.push_back(
          absl::StrCat("connection ", c.id(), ": OnClose without OnConnect"));
    }
    if (c.state() != Connection::State::kClosed) {
      violations_.push_back(absl::StrCat(
          "connection ", c.id(), ": OnClose while state() is not kClosed"));
    }
  }
  // Runs after the owner's closed hook, which follows OnClose on this same
  // loop thread.
  c.loop()->QueueInLoop([this] {
    absl::MutexLock lock(&mu_);
    ++settled_;
  });
}

size_t ConnectionTracker::connects() const {
  absl::MutexLock lock(&mu_);
  return connects_;
}
size_t ConnectionTracker::closes() const {
  absl::MutexLock lock(&mu_);
  return closes_;
}
size_t ConnectionTracker::errors() const {
  absl::MutexLock lock(&mu_);
  return errors_;
}
size_t ConnectionTracker::settled() const {
  absl::MutexLock lock(&mu_);
  return settled_;
}

bool ConnectionTracker::HasConnects(size_t n) const { return connects_ >= n; }
bool ConnectionTracker::HasCloses(size_t n) const { return closes_ >= n; }
bool ConnectionTracker::HasSettled(size_t n) const { return settled_ >= n; }
bool ConnectionTracker::HasErrors(size_t n) const { return errors_ >= n; }

bool ConnectionTracker::WaitFor(bool (ConnectionTracker::*pred)(size_t) const,
                                size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto cond = [this, pred, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (this->*pred)(n);
  };
  return mu_.AwaitWithTimeout(absl::Condition(&cond), timeout);
}

bool ConnectionTracker::WaitForConnects(size_t n,
                                        absl::Duration timeout) const {
  return WaitFor(&ConnectionTracker::HasConnects, n, timeout);
}
bool ConnectionTracker::WaitForCloses(size_t n, absl::Duration timeout) const {
  return WaitFor(&ConnectionTracker::HasCloses, n, timeout);
}
bool ConnectionTracker::WaitForSettled(size_t n, absl::Duration timeout) const {
  return WaitFor(&ConnectionTracker::HasSettled, n, timeout);
}
bool ConnectionTracker::WaitForErrors(size_t n, absl::Duration timeout) const {
  return WaitFor(&ConnectionTracker::HasErrors, n, timeout);
}

ConnectionPtr ConnectionTracker::WaitForConnection(
    size_t index, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto cond = [this, index]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return order_.size() > index;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&cond), timeout)) return nullptr;
  return order_[index];
}

ConnectionPtr ConnectionTracker::WaitForPeer(const InetAddress& peer,
                                             absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  ConnectionPtr found;
  auto cond = [this, &peer, &found]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const ConnectionPtr& c : order_) {
      if (c->peer_address() == peer) {
        found = c;
        return true;
      }
    }
    return false;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&cond), timeout)) return nullptr;
  return found;
}

ConnectionTracker::Record ConnectionTracker::Get(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = records_.find(id);
  return it == records_.end() ? Record() : it->second;
}

std::vector<ConnectionTracker::Record> ConnectionTracker::All() const {
  absl::MutexLock lock(&mu_);
  std::vector<Record> all;
  all.reserve(records_.size());
  for (const auto& [id, record] : records_) all.push_back(record);
  std::sort(all.begin(), all.end(),
            [](const Record& a, const Record& b) { return a.id < b.id; });
  return all;
}

::testing::AssertionResult ConnectionTracker::CheckNoViolations() const {
  absl::MutexLock lock(&mu_);
  if (violations_.empty()) return ::testing::AssertionSuccess();
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  for (const std::string& v : violations_) failure << v << "\n";
  return failure;
}

::testing::AssertionResult ConnectionTracker::CheckBalanced() const {
  ::testing::AssertionResult ok = CheckNoViolations();
  if (!ok) return ok;
  absl::MutexLock lock(&mu_);
  ::testing::AssertionResult failure = ::testing::AssertionFailure();
  bool failed = false;
  for (const auto& [id, record] : records_) {
    const int expected_closes = (record.connects > 0 || record.refused) ? 1 : 0;
    if (record.closes != expected_closes) {
      failed = true;
      failure << "connection " << id << " (" << record.peer
              << "): " << record.connects << " OnConnect, " << record.closes
              << " OnClose" << (record.refused ? " (refused)" : "") << "\n";
    }
  }
  return failed ? failure : ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Tracked

namespace {

// One per connection; everything it forwards to is shared by the factory.
class TrackedHandler final : public ConnectionHandler {
 public:
  TrackedHandler(ConnectionTracker* tracker,
                 std::shared_ptr<const Callbacks> callbacks)
      : tracker_(tracker), callbacks_(std::move(callbacks)) {}

  bool OnConnected(Connection& c) override {
    // Recorded first: the user callback may close the connection, and
    // OnClosed must then find its OnConnected.
    tracker_->RecordConnect(c, /*accepted=*/true);
    if (!callbacks_->on_connect) return true;
    const bool accepted = callbacks_->on_connect(c);
    if (!accepted) tracker_->RecordConnect(c, /*accepted=*/false);
    return accepted;
  }
  void OnData(Connection& c, Buffer& in) override {
    if (callbacks_->on_data) {
      callbacks_->on_data(c, in);
    } else {
      in.RetrieveAll();
    }
  }
  void OnHighWater(Connection& c, size_t queued) override {
    if (callbacks_->on_high_water_mark) {
      callbacks_->on_high_water_mark(c, queued);
    }
  }
  void OnLowWater(Connection& c, size_t queued) override {
    if (callbacks_->on_low_water_mark) {
      callbacks_->on_low_water_mark(c, queued);
    }
  }
  void OnError(Connection& c, const absl::Status& error) override {
    tracker_->RecordError(c, error);
    if (callbacks_->on_error) callbacks_->on_error(c, error);
  }
  void OnClosed(Connection& c, const absl::Status& /*reason*/) override {
    tracker_->RecordClose(c);
    if (callbacks_->on_close) callbacks_->on_close(c);
  }

 private:
  ConnectionTracker* const tracker_;
  const std::shared_ptr<const Callbacks> callbacks_;
};

}  // namespace

ConnectionHandlerFactory Tracked(ConnectionTracker& tracker,
                                 Callbacks callbacks) {
  auto shared = std::make_shared<const Callbacks>(std::move(callbacks));
  return [tracker = &tracker, shared]() -> std::unique_ptr<ConnectionHandler> {
    return std::make_unique<TrackedHandler>(tracker, shared);
  };
}

// ---------------------------------------------------------------------------
// TestServer

TestServer::TestServer(TcpServerOptions options)
    : options_(std::move(options)) {}

TestServer::~TestServer() { StopAndJoin(absl::ZeroDuration()); }

absl::Status TestServer::Start(Callbacks callbacks, absl::string_view address) {
  if (server_ != nullptr) {
    return absl::FailedPreconditionError("TestServer::Start called twice");
  }
  server_ = std::make_unique<TcpServer>(
      options_, Tracked(tracker_, std::move(callbacks)));
  absl::Status listening = server_->Listen(address);
  if (!listening.ok()) return listening;
  absl::Status started = server_->Start();
  if (started.ok()) started_ = true;
  return started;
}

void TestServer::StopAndJoin(absl::Duration grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  server_->Stop(grace);
  server_->Join();
}

absl::Status TestServerTest::StartServer(Callbacks callbacks,
                                         TcpServerOptions options,
                                         absl::string_view address) {
  server_ = std::make_unique<TestServer>(std::move(options));
  return server_->Start(std::move(callbacks), address);
}

void TestServerTest::TearDown() {
  if (server_ == nullptr) return;
  server_->StopAndJoin();
  EXPECT_TRUE(server_->tracker().CheckBalanced());
  EXPECT_EQ(server_->server().connection_count(), 0u);
}

// ---------------------------------------------------------------------------
// TestPeer

absl::StatusOr<TestPeer> TestPeer::Connect(const InetAddress& to,
                                           absl::Duration timeout) {
  return Connect(to, Options(), timeout);
}

absl::StatusOr<TestPeer> TestPeer::Connect(const InetAddress& to,
                                           const Options& options,
                                           absl::Duration timeout) {
  absl::StatusOr<TestPeer> peer = StartConnect(to, options);
  if (!peer.ok()) return peer.status();
  absl::Status connected = peer->FinishConnect(timeout);
  if (!connected.ok()) return connected;
  return peer;
}

absl::StatusOr<TestPeer> TestPeer::StartConnect(const InetAddress& to,
                                                const Options& options) {
  absl::StatusOr<Socket> socket = Socket::Create(to.family());
  if (!socket.ok()) return socket.status();
  const int fd = socket->fd();
  if (options.receive_buffer > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &options.receive_buffer,
                 sizeof(int)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_RCVBUF)");
  }
  if (options.send_buffer > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &options.send_buffer,
                 sizeof(int)) != 0) {
    return ErrnoStatus(errno, "setsockopt(SO_SNDBUF)");
  }
  if (options.bind.family() != AF_UNSPEC) {
    absl::Status bound = socket->Bind(options.bind);
    if (!bound.ok()) return bound;
  }
  absl::StatusOr<bool> connected = socket->Connect(to);
  if (!connected.ok()) return connected.status();
  return TestPeer(*std::move(socket));
}

absl::Status TestPeer::FinishConnect(absl::Duration timeout) {
  absl::Status ready = Poll(POLLOUT, absl::Now() + timeout);
  if (!ready.ok()) return ready;
  return socket_.TakeError();
}

InetAddress TestPeer::local_address() const {
  absl::StatusOr<InetAddress> local = socket_.LocalAddress();
  return local.ok() ? *local : InetAddress();
}

absl::Status TestPeer::Poll(short events, absl::Time deadline) {
  while (true) {
    struct pollfd p = {socket_.fd(), events, 0};
    const int n = ::poll(&p, 1, PollTimeoutMs(deadline));
    if (n > 0) return absl::OkStatus();  // ready, or an error to collect
    if (n < 0 && errno != EINTR) return ErrnoStatus(errno, "poll");
    if (n == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "poll(", (events & POLLIN) ? "POLLIN" : "POLLOUT", ") timed out"));
    }
  }
}

bool TestPeer::WaitWritable(absl::Duration timeout) {
  struct pollfd p = {socket_.fd(), POLLOUT, 0};
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  int n;
  do {
    n = ::poll(&p, 1, ms);
  } while (n < 0 && errno == EINTR);
  return n > 0 && (p.revents & POLLOUT) != 0;
}

absl::Status TestPeer::WriteAll(absl::string_view data,
                                absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!data.empty()) {
    absl::StatusOr<size_t> n = WriteSome(data);
    if (!n.ok()) return n.status();
    data.remove_prefix(*n);
    if (data.empty()) break;
    if (*n == 0) {
      absl::Status ready = Poll(POLLOUT, deadline);
      if (!ready.ok()) {
        return absl::DeadlineExceededError(
            absl::StrCat("WriteAll: ", data.size(), " bytes still unwritten"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> TestPeer::WriteSome(absl::string_view data) {
  if (data.empty()) return 0;
  while (true) {
    const ssize_t n =
        ::send(socket_.fd(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return ErrnoStatus(errno, "send");
  }
}

absl::StatusOr<std::string> TestPeer::ReadAvailable(bool* eof) {
  *eof = false;
  std::string out;
  char buf[64 << 10];
  while (true) {
    const ssize_t n = ::read(socket_.fd(), buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      *eof = true;
      return out;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return out;
    return ErrnoStatus(errno, "read");
  }
}

absl::StatusOr<std::string> TestPeer::ReadExactly(size_t n,
                                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out;
  out.reserve(n);
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  while (out.size() < n) {
    const ssize_t r =
        ::read(socket_.fd(), buf.get(), std::min(kReadChunk, n - out.size()));
    if (r > 0) {
      out.append(buf.get(), static_cast<size_t>(r));
      continue;
    }
    if (r == 0) {
      return absl::DataLossError(
          absl::StrCat("EOF after ", out.size(), " of ", n, " bytes"));
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      absl::Status error = ErrnoStatus(errno, "read");
      return absl::Status(error.code(),
                          absl::StrCat(error.message(), " after ", out.size(),
                                       " of ", n, " bytes"));
    }
    absl::Status ready = Poll(POLLIN, deadline);
    if (!ready.ok()) {
      return absl::DeadlineExceededError(absl::StrCat(
          "ReadExactly: ", out.size(), " of ", n, " bytes before timeout"));
    }
  }
  return out;
}

absl::StatusOr<std::string> TestPeer::ReadUntilEof(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out;
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  while (true) {
    const ssize_t r = ::read(socket_.fd(), buf.get(), kReadChunk);
    if (r > 0) {
      out.append(buf.get(), static_cast<size_t>(r));
      continue;
    }
    if (r == 0) return out;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      absl::Status error = ErrnoStatus(errno, "read");
      return absl::Status(error.code(), absl::StrCat(error.message(), " after ",
                                                     out.size(), " bytes"));
    }
    absl::Status ready = Poll(POLLIN, deadline);
    if (!ready.ok()) {
      return absl::DeadlineExceededError(
          absl::StrCat("ReadUntilEof: no EOF within the timeout (", out.size(),
                       " bytes read)"));
    }
  }
}

absl::Status TestPeer::ExpectEof(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    char c;
    const ssize_t r = ::read(socket_.fd(), &c, 1);
    if (r == 0) return absl::OkStatus();
    if (r > 0) {
      return absl::FailedPreconditionError("expected EOF, got data");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return ErrnoStatus(errno, "read");
    }
    absl::Status ready = Poll(POLLIN, deadline);
    if (!ready.ok()) {
      return absl::DeadlineExceededError("ExpectEof: no EOF within timeout");
    }
  }
}

absl::Status TestPeer::WaitClosed(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  while (true) {
    const ssize_t r = ::read(socket_.fd(), buf.get(), kReadChunk);
    if (r > 0) continue;
    if (r == 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return absl::OkStatus();
    absl::Status ready = Poll(POLLIN, deadline);
    if (!ready.ok()) {
      return absl::DeadlineExceededError(
          "WaitClosed: the connection stayed open");
    }
  }
}

absl::StatusOr<std::string> TestPeer::Exchange(absl::string_view out,
                                               size_t in_bytes,
                                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string in;
  in.reserve(in_bytes);
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  while (in.size() < in_bytes || !out.empty()) {
    struct pollfd p = {socket_.fd(), 0, 0};
    if (in.size() < in_bytes) p.events |= POLLIN;
    if (!out.empty()) p.events |= POLLOUT;
    const int ready = ::poll(&p, 1, PollTimeoutMs(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll");
    }
    if (ready == 0) {
      if (absl::Now() < deadline) continue;
      return absl::DeadlineExceededError(
          absl::StrCat("Exchange: read ", in.size(), " of ", in_bytes, ", ",
                       out.size(), " bytes left to write"));
    }
    if (!out.empty() && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      absl::StatusOr<size_t> n = WriteSome(out);
      if (!n.ok()) return n.status();
      out.remove_prefix(*n);
    }
    if (in.size() < in_bytes && (p.revents & (POLLIN | POLLERR | POLLHUP))) {
      const ssize_t r = ::read(socket_.fd(), buf.get(),
                               std::min(kReadChunk, in_bytes - in.size()));
      if (r > 0) {
        in.append(buf.get(), static_cast<size_t>(r));
      } else if (r == 0) {
        return absl::DataLossError(
            absl::StrCat("EOF after ", in.size(), " of ", in_bytes, " bytes"));
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return ErrnoStatus(errno, "read");
      }
    }
  }
  return in;
}

// ---------------------------------------------------------------------------
// EchoAll

namespace {

struct EchoState {
  TestPeer* peer;
  const std::string* payload;
  size_t index;
  size_t written = 0;
  size_t read = 0;
};

absl::Status EchoSlice(std::vector<EchoState>& states, absl::Time deadline) {
  std::unique_ptr<char[]> buf(new char[kReadChunk]);
  std::vector<struct pollfd> fds;
  std::vector<EchoState*> active;
  while (true) {
    fds.clear();
    active.clear();
    for (EchoState& s : states) {
      if (s.read == s.payload->size()) continue;
      struct pollfd p = {s.peer->fd(), POLLIN, 0};
      if (s.written < s.payload->size()) p.events |= POLLOUT;
      fds.push_back(p);
      active.push_back(&s);
    }
    if (active.empty()) return absl::OkStatus();
    const int ready = ::poll(fds.data(), fds.size(), PollTimeoutMs(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll");
    }
    if (ready == 0) {
      if (absl::Now() < deadline) continue;
      size_t pending = 0;
      for (EchoState* s : active) pending += s->payload->size() - s->read;
      return absl::DeadlineExceededError(
          absl::StrCat("EchoAll: ", active.size(), " connections still owe ",
                       pending, " bytes at the deadline"));
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      EchoState& s = *active[i];
      const short revents = fds[i].revents;
      if (revents == 0) continue;
      if (s.written < s.payload->size() &&
          (revents & (POLLOUT | POLLERR | POLLHUP))) {
        absl::StatusOr<size_t> n =
            s.peer->WriteSome(absl::string_view(*s.payload).substr(s.written));
        if (!n.ok()) {
          return absl::Status(
              n.status().code(),
              absl::StrCat("peer ", s.index, ": ", n.status().message()));
        }
        s.written += *n;
      }
      if (revents & (POLLIN | POLLERR | POLLHUP)) {
        const size_t want = s.payload->size() - s.read;
        const ssize_t r =
            ::read(s.peer->fd(), buf.get(), std::min(kReadChunk, want));
        if (r > 0) {
          const size_t got = static_cast<size_t>(r);
          if (std::memcmp(buf.get(), s.payload->data() + s.read, got) != 0) {
            size_t at = 0;
            while (buf[at] == (*s.payload)[s.read + at]) ++at;
            return absl::DataLossError(
                absl::StrCat("peer ", s.index, ": echoed byte ", s.read + at,
                             " of ", s.payload->size(), " differs"));
          }
          s.read += got;
        } else if (r == 0) {
          return absl::DataLossError(
              absl::StrCat("peer ", s.index, ": EOF after ", s.read, " of ",
                           s.payload->size(), " echoed bytes"));
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          absl::Status error = ErrnoStatus(errno, "read");
          return absl::Status(error.code(), absl::StrCat("peer ", s.index, ": ",
                                                         error.message()));
        }
      }
    }
  }
}

}  // namespace

absl::Status EchoAll(std::vector<TestPeer>& peers,
                     const std::vector<std::string>& payloads, int threads,
                     absl::Duration timeout) {
  if (peers.size() != payloads.size()) {
    return absl::InvalidArgumentError("EchoAll: one payload per peer");
  }
  const absl::Time deadline = absl::Now() + timeout;
  threads = std::max(1, std::min<int>(threads, static_cast<int>(peers.size())));
  std::vector<std::vector<EchoState>> slices(threads);
  for (size_t i = 0; i < peers.size(); ++i) {
    slices[i % threads].push_back(EchoState{&peers[i], &payloads[i], i});
  }
  std::vector<absl::Status> results(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(
        [&, t] { results[t] = EchoSlice(slices[t], deadline); });
  }
  for (std::thread& w : workers) w.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

bool WaitFor(absl::FunctionRef<bool()> condition, absl::Duration deadline) {
  const absl::Time end = absl::Now() + deadline;
  while (!condition()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

}  // namespace testing
}  // namespace tao
