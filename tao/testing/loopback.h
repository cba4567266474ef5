// Test-only helpers for loopback integration tests of the reactor core
// (tcp_server_test, tcp_client_test, connection_test) and of the message
// layer built on it.
//
//   tao::testing::TestServer server;               // tracks every event
//   ASSERT_TRUE(server.Start({.on_data = tao::testing::Echo()}).ok());
//   absl::StatusOr<tao::testing::TestPeer> peer =
//       tao::testing::TestPeer::Connect(server.address());
//   ASSERT_TRUE(peer->WriteAll("ping").ok());
//   EXPECT_EQ(*peer->ReadExactly(4), "ping");
//   server.StopAndJoin();
//   EXPECT_TRUE(server.tracker().CheckBalanced());
//
// Every wait here has a timeout (kTimeout by default), so a library bug fails
// a test instead of hanging it. Nothing sleeps to synchronize: waits block on
// poll(2) or on an absl::Mutex condition.
//
// Byte endpoints (TcpServer, TcpClient) take a handler factory:
//
//   tao::TcpClient client(options,
//                         tao::testing::Tracked(tracker, {.on_data = ...}));
//
// Message endpoints (tao::Server, tao::Client) take callbacks:
//
//   tao::testing::Install(server, tracker, {.on_close = ...});
//
// Thread safety: ConnectionTracker is thread-safe. A TestPeer belongs to one
// thread at a time. TestServer: Start/StopAndJoin from the test thread.
#ifndef TAO_TESTING_LOOPBACK_H_
#define TAO_TESTING_LOOPBACK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/socket.h"
#include "tao/net/tcp_server.h"

namespace tao {
namespace testing {

// The default bound on every wait: generous, so a slow sanitizer build under
// load never fails spuriously, yet a hang still ends.
inline constexpr absl::Duration kTimeout = absl::Seconds(30);

// True once `condition` holds, false after `deadline`. For conditions only
// visible as counters, gauges or another process's state, checked every
// millisecond; everything else waits on its event.
bool WaitFor(absl::FunctionRef<bool()> condition,
             absl::Duration deadline = kTimeout);

// True in ThreadSanitizer builds, where tests shrink their workloads.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kTsan = true;
#else
inline constexpr bool kTsan = false;
#endif

// `n` pseudo-random bytes, a pure function of (n, seed).
std::string RandomBytes(size_t n, uint64_t seed);

// A byte stream that is a pure function of the offset, for checking long
// streams without keeping a copy: Pattern(a, n) + Pattern(a + n, m) ==
// Pattern(a, n + m).
char PatternByte(uint64_t offset);
std::string Pattern(uint64_t offset, size_t n);

// Raises RLIMIT_NOFILE to at least `n` (up to the hard limit).
// FAILED_PRECONDITION when the hard limit is lower.
absl::Status EnsureFdLimit(size_t n);

// A DataCallback that echoes everything: c.Send(in.view()); in.RetrieveAll().
DataCallback Echo();

// A path for a Unix-domain socket, under TEST_TMPDIR when it fits in
// sun_path, else under /tmp. Returned as "unix:/path"; the file is removed
// first if it exists.
std::string UnixSocketAddress(absl::string_view name);

// ---------------------------------------------------------------------------
// ConnectionTracker: records OnConnect / OnError / OnClose per connection id
// and checks the "OnClose exactly once" contract.

class ConnectionTracker {
 public:
  struct Record {
    uint64_t id = 0;
    InetAddress peer;
    InetAddress local;
    int connects = 0;
    int closes = 0;
    bool refused = false;  // OnConnect returned false
    absl::Status close_reason;
    std::vector<absl::Status> errors;
    std::vector<std::string> violations;  // e.g. "closed twice"
  };

  ConnectionTracker() = default;
  ConnectionTracker(const ConnectionTracker&) = delete;
  ConnectionTracker& operator=(const ConnectionTracker&) = delete;

  // Hooks called by the tracked handlers and callbacks (see Tracked /
  // Install).
  void RecordConnect(Connection& c, bool accepted);
  void RecordError(Connection& c, const absl::Status& error);
  void RecordClose(Connection& c);

  size_t connects() const;
  size_t closes() const;
  size_t errors() const;
  // Closes whose owner bookkeeping (the TcpServer/TcpClient
  // ConnectionOwner::OnClosed, which follows the handler's OnClosed on the
  // same loop thread) has finished: RecordClose queues a marker on the
  // connection's loop, which runs after it, so once settled() counts a
  // close, connection_count() and the admission counters reflect it.
  size_t settled() const;

  // Wait until the count reaches `n`; false on timeout.
  bool WaitForConnects(size_t n, absl::Duration timeout = kTimeout) const;
  bool WaitForCloses(size_t n, absl::Duration timeout = kTimeout) const;
  bool WaitForSettled(size_t n, absl::Duration timeout = kTimeout) const;
  bool WaitForErrors(size_t n, absl::Duration timeout = kTimeout) const;

  // The `index`-th connection to run OnConnect (0-based), waiting for it.
  // nullptr on timeout. The pointer stays valid after the close.
  ConnectionPtr WaitForConnection(size_t index,
                                  absl::Duration timeout = kTimeout) const;
  // The connection whose peer address is `peer` (a TestPeer's local
  // address), waiting for its OnConnect. nullptr on timeout.
  ConnectionPtr WaitForPeer(const InetAddress& peer,
                            absl::Duration timeout = kTimeout) const;

  // A snapshot of one connection's record; id 0 when unknown.
  Record Get(uint64_t id) const;
  std::vector<Record> All() const;

  // Success when no connection was closed twice or closed without OnConnect
  // and no connect/close ran for a connection that was not tracked.
  ::testing::AssertionResult CheckNoViolations() const;
  // CheckNoViolations() and every OnConnect had its OnClose.
  ::testing::AssertionResult CheckBalanced() const;

 private:
  bool WaitFor(bool (ConnectionTracker::*pred)(size_t) const, size_t n,
               absl::Duration timeout) const;
  bool HasConnects(size_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasCloses(size_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasSettled(size_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasErrors(size_t n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Record> records_ ABSL_GUARDED_BY(mu_);
  std::vector<ConnectionPtr> order_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  size_t connects_ ABSL_GUARDED_BY(mu_) = 0;
  size_t closes_ ABSL_GUARDED_BY(mu_) = 0;
  size_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  size_t settled_ ABSL_GUARDED_BY(mu_) = 0;
};

// The user callbacks of a tracked server or client. Each runs after the
// tracker has recorded the event; an empty on_connect accepts.
// The default member initializers let tests name only the callbacks they
// need ({.on_data = Echo()}) without -Wmissing-field-initializers.
struct Callbacks {
  ConnectCallback on_connect = nullptr;
  DataCallback on_data = nullptr;
  CloseCallback on_close = nullptr;
  ErrorCallback on_error = nullptr;
  HighWaterMarkCallback on_high_water_mark = nullptr;
  LowWaterMarkCallback on_low_water_mark = nullptr;
};

// For byte endpoints (TcpServer, TcpClient): a factory of handlers that
// record OnConnected / OnError / OnClosed in `tracker` and forward every
// event to `callbacks` (shared by all handlers of the factory):
// OnConnected -> on_connect (empty: accept), OnData -> on_data (empty:
// discard the input), OnError -> on_error, OnClosed -> on_close,
// OnHighWater / OnLowWater -> the water mark callbacks. `tracker` must
// outlive the endpoint.
ConnectionHandlerFactory Tracked(ConnectionTracker& tracker,
                                 Callbacks callbacks);

// For message endpoints (tao::Server, tao::Client: anything with
// OnConnect / OnClose / OnError / OnHighWaterMark / OnLowWaterMark setters
// taking the tao/net/callbacks.h types): installs `callbacks`, wrapped so
// that `tracker` records connects, errors and closes. They decode their
// input themselves, so `callbacks.on_data` must be empty. `tracker` must
// outlive `endpoint`. A template, so this header needs no tao/message.
template <typename Endpoint>
void Install(Endpoint& endpoint, ConnectionTracker& tracker,
             Callbacks callbacks) {
  if (callbacks.on_data) {
    ADD_FAILURE() << "testing::Install: a message endpoint decodes its own "
                     "input; on_data is ignored (use Tracked() for byte "
                     "endpoints)";
  }
  ConnectionTracker* t = &tracker;
  endpoint.OnConnect([t, cb = std::move(callbacks.on_connect)](Connection& c) {
    // Recorded first: the user callback may close the connection, and
    // OnClose must then find its OnConnect.
    t->RecordConnect(c, /*accepted=*/true);
    if (!cb) return true;
    const bool accepted = cb(c);
    if (!accepted) t->RecordConnect(c, /*accepted=*/false);
    return accepted;
  });
  endpoint.OnClose([t, cb = std::move(callbacks.on_close)](Connection& c) {
    t->RecordClose(c);
    if (cb) cb(c);
  });
  endpoint.OnError([t, cb = std::move(callbacks.on_error)](
                       Connection& c, const absl::Status& error) {
    t->RecordError(c, error);
    if (cb) cb(c, error);
  });
  if (callbacks.on_high_water_mark) {
    endpoint.OnHighWaterMark(std::move(callbacks.on_high_water_mark));
  }
  if (callbacks.on_low_water_mark) {
    endpoint.OnLowWaterMark(std::move(callbacks.on_low_water_mark));
  }
}

// ---------------------------------------------------------------------------
// TestServer: a tao::TcpServer whose handlers are Tracked(tracker(), ...),
// started on a loopback address.

class TestServer {
 public:
  explicit TestServer(TcpServerOptions options = TcpServerOptions());
  // StopAndJoin(absl::ZeroDuration()) if still running.
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // Creates the server with Tracked(tracker(), callbacks), listens on
  // `address` and starts. Once.
  absl::Status Start(Callbacks callbacks,
                     absl::string_view address = "127.0.0.1:0");
  // Stop(grace) + Join(). Idempotent.
  void StopAndJoin(absl::Duration grace = absl::Seconds(10));

  // REQUIRES: Start() was called.
  TcpServer& server() { return *server_; }
  ConnectionTracker& tracker() { return tracker_; }
  const InetAddress& address() const { return server_->listen_address(); }

 private:
  const TcpServerOptions options_;
  ConnectionTracker tracker_;  // outlives server_ (declared first)
  std::unique_ptr<TcpServer> server_;
  bool started_ = false;
  bool stopped_ = false;
};

// A fixture with one TestServer per test (StartServer); TearDown stops and
// joins it and checks that every OnConnect had exactly one OnClose and that
// no connection is left.
class TestServerTest : public ::testing::Test {
 protected:
  absl::Status StartServer(Callbacks callbacks,
                           TcpServerOptions options = TcpServerOptions(),
                           absl::string_view address = "127.0.0.1:0");
  void TearDown() override;

  // REQUIRES: StartServer() was called.
  TcpServer& server() { return server_->server(); }
  ConnectionTracker& tracker() { return server_->tracker(); }

  std::unique_ptr<TestServer> server_;
};

// ---------------------------------------------------------------------------
// TestPeer: a raw stream socket driven with blocking semantics (poll(2) with
// timeouts over a non-blocking fd), for playing the remote side exactly.

class TestPeer {
 public:
  struct Options {
    // Bind the local end here before connecting (e.g. 127.0.0.2:0 for a
    // second source IP). Unset: the kernel chooses.
    InetAddress bind;
    // SO_RCVBUF / SO_SNDBUF before connecting; 0 keeps the default. Small
    // buffers make "peer does not read" tests fill up quickly.
    int receive_buffer = 0;
    int send_buffer = 0;
  };

  // Connects and waits for the handshake to complete.
  static absl::StatusOr<TestPeer> Connect(const InetAddress& to,
                                          absl::Duration timeout = kTimeout);
  static absl::StatusOr<TestPeer> Connect(const InetAddress& to,
                                          const Options& options,
                                          absl::Duration timeout = kTimeout);
  // Starts a non-blocking connect without waiting; finish with
  // FinishConnect (used to open many connections at once).
  static absl::StatusOr<TestPeer> StartConnect(const InetAddress& to,
                                               const Options& options);
  absl::Status FinishConnect(absl::Duration timeout = kTimeout);

  TestPeer() = default;
  TestPeer(TestPeer&&) = default;
  TestPeer& operator=(TestPeer&&) = default;

  int fd() const { return socket_.fd(); }
  bool valid() const { return socket_.valid(); }
  // getsockname: the address the server sees as the peer.
  InetAddress local_address() const;

  // Writes all of `data`, waiting for room. DEADLINE_EXCEEDED on timeout.
  absl::Status WriteAll(absl::string_view data,
                        absl::Duration timeout = kTimeout);
  // Writes what fits now without waiting; returns the bytes taken (0 when
  // the socket buffer is full).
  absl::StatusOr<size_t> WriteSome(absl::string_view data);
  // Reads exactly `n` bytes. DATA_LOSS if EOF comes first; the errno status
  // (e.g. UNAVAILABLE "Connection reset by peer") for an error.
  absl::StatusOr<std::string> ReadExactly(size_t n,
                                          absl::Duration timeout = kTimeout);
  // Reads what is available now without waiting ("" when nothing is);
  // sets *eof when the peer's FIN was read.
  absl::StatusOr<std::string> ReadAvailable(bool* eof);
  // Reads until EOF (orderly FIN) and returns everything read. A reset is an
  // error status, so ok() means "FIN, not RST".
  absl::StatusOr<std::string> ReadUntilEof(absl::Duration timeout = kTimeout);
  // OK when the next read is an orderly EOF; FAILED_PRECONDITION when data
  // arrives instead; the errno status on a reset.
  absl::Status ExpectEof(absl::Duration timeout = kTimeout);
  // OK when the connection ends (EOF or reset) before `timeout`, discarding
  // any data that arrives first.
  absl::Status WaitClosed(absl::Duration timeout = kTimeout);
  // Writes `out` while reading, and returns the first `in_bytes` read; for
  // echoes too large to write before reading.
  absl::StatusOr<std::string> Exchange(absl::string_view out, size_t in_bytes,
                                       absl::Duration timeout = kTimeout);

  // poll(2) for POLLOUT; true when writable within `timeout`.
  bool WaitWritable(absl::Duration timeout);

  absl::Status ShutdownWrite() { return socket_.ShutdownWrite(); }
  absl::Status SetLingerZero() { return socket_.SetLingerZero(); }
  void Close() { socket_.Close(); }

 private:
  explicit TestPeer(Socket socket) : socket_(std::move(socket)) {}
  // poll for `events`; DEADLINE_EXCEEDED when `deadline` passes first.
  absl::Status Poll(short events, absl::Time deadline);

  Socket socket_;
};

// Echo round trips over many peers at once: writes payloads[i] to peers[i]
// and reads it back, byte-exact, with `threads` threads each polling its
// share of the peers. OK when every byte matched; otherwise the first
// mismatch (peer index and offset) or a timeout.
absl::Status EchoAll(std::vector<TestPeer>& peers,
                     const std::vector<std::string>& payloads, int threads,
                     absl::Duration timeout = kTimeout);

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_LOOPBACK_H_
