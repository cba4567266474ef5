// Connection-level behaviours driven through a loopback tao::TcpServer and
// raw test peers: Send from many threads, peer close/reset, backpressure
// (output cap, overflow policies, water marks), half-close and Shutdown,
// Close/CloseWithError, the "OnClosed exactly once" contract and the
// lifetime of the per-connection handler.
#include "tao/net/connection.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/buffer.h"
#include "tao/net/connection_handler.h"
#include "tao/net/event_loop.h"
#include "tao/net/options.h"
#include "tao/net/tcp_server.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace {

using ::tao::testing::Callbacks;
using ::tao::testing::ConnectionTracker;
using ::tao::testing::Echo;
using ::tao::testing::kTimeout;
using ::tao::testing::kTsan;
using ::tao::testing::Pattern;
using ::tao::testing::RandomBytes;
using ::tao::testing::TestPeer;
using ::tao::testing::TestServer;

constexpr size_t kChunk = 64 << 10;

// Runs `loop`'s queued work up to now: functors run FIFO, so once this
// returns, everything queued on the loop before it has run.
void Barrier(EventLoop* loop) {
  absl::Notification done;
  loop->QueueInLoop([&done] { done.Notify(); });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(kTimeout));
}

// Water mark events in the order the callbacks ran.
class WaterMarkLog {
 public:
  struct Event {
    bool high;
    size_t queued;
  };

  void High(size_t queued) {
    absl::MutexLock lock(&mu_);
    events_.push_back({true, queued});
  }
  void Low(size_t queued) {
    absl::MutexLock lock(&mu_);
    events_.push_back({false, queued});
  }
  size_t highs() const {
    absl::MutexLock lock(&mu_);
    size_t n = 0;
    for (const Event& e : events_) n += e.high ? 1 : 0;
    return n;
  }
  bool WaitForHighs(size_t n) const {
    absl::MutexLock lock(&mu_);
    auto cond = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      size_t highs = 0;
      for (const Event& e : events_) highs += e.high ? 1 : 0;
      return highs >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), kTimeout);
  }
  // Waits until the last event is a low water mark.
  bool WaitForLowLast() const {
    absl::MutexLock lock(&mu_);
    auto cond = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !events_.empty() && !events_.back().high;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), kTimeout);
  }
  // High and low strictly alternate, starting high ("once per crossing"),
  // with the queue above `high` / at or below `low` as reported.
  ::testing::AssertionResult Alternates(size_t high, size_t low) const {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < events_.size(); ++i) {
      const Event& e = events_[i];
      if (e.high != (i % 2 == 0)) {
        return ::testing::AssertionFailure()
               << "event " << i << " is a " << (e.high ? "high" : "low")
               << " water mark callback; expected alternation from high";
      }
      if (e.high && e.queued <= high) {
        return ::testing::AssertionFailure()
               << "high water callback with " << e.queued << " <= " << high;
      }
      if (!e.high && e.queued > low) {
        return ::testing::AssertionFailure()
               << "low water callback with " << e.queued << " > " << low;
      }
    }
    return ::testing::AssertionSuccess();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
};

class ConnectionTest : public testing::TestServerTest {
 protected:
  // Connects a peer and returns the server side of it.
  ConnectionPtr ConnectPeer(TestPeer* peer,
                            const TestPeer::Options& options = {}) {
    absl::StatusOr<TestPeer> connected =
        TestPeer::Connect(server_->address(), options);
    EXPECT_TRUE(connected.ok()) << connected.status();
    if (!connected.ok()) return nullptr;
    *peer = *std::move(connected);
    return tracker().WaitForPeer(peer->local_address());
  }

  // Connects peers.size() peers that read slowly (a 16 KiB receive buffer)
  // and returns their server sides (nullptr where connecting failed).
  std::vector<ConnectionPtr> ConnectSlowReaders(std::vector<TestPeer>& peers) {
    TestPeer::Options small;
    small.receive_buffer = 16 << 10;
    std::vector<ConnectionPtr> conns;
    for (TestPeer& peer : peers) conns.push_back(ConnectPeer(&peer, small));
    return conns;
  }
};

// ---------------------------------------------------------------------------
// Send from many threads

// Message: | u32 total length | u32 thread | u32 seq | payload |, the payload
// a function of (thread, seq) so the reader can check every byte.
constexpr size_t kHeader = 12;

size_t PayloadSize(uint32_t thread, uint32_t seq) {
  return 1 + (seq * 7 + thread * 13) % 200;
}
char PayloadByte(uint32_t thread, uint32_t seq, size_t i) {
  return static_cast<char>(thread * 31 + seq + i);
}
void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}
std::string Message(uint32_t thread, uint32_t seq) {
  const size_t n = PayloadSize(thread, seq);
  std::string out;
  PutU32(out, static_cast<uint32_t>(kHeader + n));
  PutU32(out, thread);
  PutU32(out, seq);
  for (size_t i = 0; i < n; ++i) out.push_back(PayloadByte(thread, seq, i));
  return out;
}

TEST_F(ConnectionTest, SendFromManyThreadsArrivesCompleteAndInPerThreadOrder) {
  constexpr uint32_t kThreads = 8;
  constexpr uint32_t kMessages = 1000;
  ASSERT_TRUE(StartServer({}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);

  size_t total = 0;
  for (uint32_t t = 0; t < kThreads; ++t) {
    for (uint32_t s = 0; s < kMessages; ++s) {
      total += kHeader + PayloadSize(t, s);
    }
  }

  absl::Notification go;
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> senders;
  for (uint32_t t = 0; t < kThreads; ++t) {
    senders.emplace_back([&, t] {
      if (!go.WaitForNotificationWithTimeout(kTimeout)) return;
      for (uint32_t s = 0; s < kMessages; ++s) {
        const std::string message = Message(t, s);
        // Both overloads: string_view (copied) and Cord (shared).
        absl::Status sent =
            s % 2 == 0 ? conn->Send(message) : conn->Send(absl::Cord(message));
        if (!sent.ok()) {
          results[t] = sent;
          return;
        }
      }
    });
  }
  go.Notify();
  absl::StatusOr<std::string> stream = peer.ReadExactly(total);
  for (std::thread& t : senders) t.join();
  for (uint32_t t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(results[t].ok()) << "thread " << t << ": " << results[t];
  }
  ASSERT_TRUE(stream.ok()) << stream.status();

  std::vector<uint32_t> next(kThreads, 0);
  size_t at = 0;
  size_t messages = 0;
  while (at < stream->size()) {
    ASSERT_LE(at + kHeader, stream->size()) << "truncated header at " << at;
    const char* p = stream->data() + at;
    const uint32_t length = GetU32(p);
    const uint32_t thread = GetU32(p + 4);
    const uint32_t seq = GetU32(p + 8);
    ASSERT_LT(thread, kThreads) << "garbage at offset " << at;
    ASSERT_EQ(seq, next[thread])
        << "thread " << thread << " out of order at offset " << at;
    ASSERT_EQ(length, kHeader + PayloadSize(thread, seq)) << "at " << at;
    ASSERT_LE(at + length, stream->size());
    for (size_t i = 0; i < length - kHeader; ++i) {
      ASSERT_EQ(p[kHeader + i], PayloadByte(thread, seq, i))
          << "thread " << thread << " seq " << seq << " byte " << i;
    }
    ++next[thread];
    ++messages;
    at += length;
  }
  EXPECT_EQ(messages, size_t{kThreads} * kMessages);
  for (uint32_t t = 0; t < kThreads; ++t) EXPECT_EQ(next[t], kMessages);
  Barrier(conn->loop());  // bytes_written is counted after the write
  EXPECT_EQ(conn->bytes_written(), total);
}

// Sends from inside the loop's own callbacks are written once per event and
// interleave correctly with sends from other threads.
TEST_F(ConnectionTest, SendFromLoopThreadAndOtherThreadsKeepsEachOrder) {
  // Every byte the peer sends is answered with "<byte>" from the loop.
  ASSERT_TRUE(StartServer({.on_data = [](Connection& c, Buffer& in) {
                for (char ch : in.view()) {
                  (void)c.Send(absl::StrCat("<", std::string(1, ch), ">"));
                }
                in.RetrieveAll();
              }}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  const std::string request(1000, 'x');
  std::thread other([&] {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(conn->Send("#").ok());
  });
  absl::StatusOr<std::string> got = peer.Exchange(request, 3000 + 1000);
  other.join();
  ASSERT_TRUE(got.ok()) << got.status();
  // Removing the other thread's "#" leaves exactly the loop's replies.
  std::string loop_part;
  size_t hashes = 0;
  for (char ch : *got) {
    if (ch == '#') {
      ++hashes;
    } else {
      loop_part.push_back(ch);
    }
  }
  EXPECT_EQ(hashes, 1000u);
  std::string want;
  for (int i = 0; i < 1000; ++i) want += "<x>";
  EXPECT_EQ(loop_part, want);
}

// ---------------------------------------------------------------------------
// Peer goes away

TEST_F(ConnectionTest, PeerClosesMidWriteClosesExactlyOnce) {
  TcpServerOptions options;
  options.connection.high_water_mark = 1 << 20;
  options.connection.low_water_mark = 256 << 10;
  // Far above what the paced sender below can queue: the close must come
  // from the peer, not from the cap.
  options.connection.max_output_bytes = size_t{256} << 20;
  // The sender below pauses while the queue is above the high water mark.
  absl::Mutex mu;
  bool above = false;
  bool closed = false;
  ASSERT_TRUE(StartServer({.on_close =
                               [&](Connection&) {
                                 absl::MutexLock lock(&mu);
                                 closed = true;
                               },
                           .on_high_water_mark =
                               [&](Connection&, size_t) {
                                 absl::MutexLock lock(&mu);
                                 above = true;
                               },
                           .on_low_water_mark =
                               [&](Connection&, size_t) {
                                 absl::MutexLock lock(&mu);
                                 above = false;
                               }},
                          options)
                  .ok());
  // The callbacks capture locals: stop before they go away, however the
  // test ends.
  absl::Cleanup stop = [this] { server_->StopAndJoin(); };
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);

  absl::Status last;
  std::thread sender([&] {
    const std::string chunk = RandomBytes(kChunk, 1);
    for (int i = 0; i < 100000; ++i) {
      {
        absl::MutexLock lock(&mu);
        auto can_send = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return !above || closed;
        };
        if (!mu.AwaitWithTimeout(absl::Condition(&can_send), kTimeout)) {
          last = absl::DeadlineExceededError("sender stuck above high water");
          return;
        }
      }
      last = conn->Send(chunk);
      if (!last.ok()) return;
    }
    last = absl::InternalError("the connection never closed");
  });

  // Read a little, then close with unread data pending (the kernel resets).
  absl::StatusOr<std::string> some = peer.ReadExactly(256 << 10);
  EXPECT_TRUE(some.ok()) << some.status();
  peer.Close();
  sender.join();

  ASSERT_TRUE(tracker().WaitForCloses(1));
  EXPECT_EQ(last.code(), absl::StatusCode::kFailedPrecondition) << last;
  EXPECT_EQ(conn->state(), Connection::State::kClosed);
  absl::Status after = conn->Send("more");
  EXPECT_EQ(after.code(), absl::StatusCode::kFailedPrecondition) << after;
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_EQ(tracker().Get(conn->id()).closes, 1);
  EXPECT_EQ(conn->queued_output_bytes(), 0u);
  EXPECT_EQ(server().stats().queued_output_bytes, 0u);
  EXPECT_EQ(server().connection_count(), 0u);
}

TEST_F(ConnectionTest, PeerResetReportsErrorThenClosesOnce) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  absl::StatusOr<std::string> echoed = peer.Exchange("hi", 2);
  ASSERT_TRUE(echoed.ok()) << echoed.status();

  ASSERT_TRUE(peer.SetLingerZero().ok());
  peer.Close();  // RST
  ASSERT_TRUE(tracker().WaitForCloses(1));
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const ConnectionTracker::Record r = tracker().Get(conn->id());
  EXPECT_EQ(r.closes, 1);
  ASSERT_EQ(r.errors.size(), 1u) << "a reset must be reported to OnError";
  const absl::Status& error = r.errors[0];
  EXPECT_EQ(error.code(), absl::StatusCode::kUnavailable) << error;
  EXPECT_TRUE(
      absl::StrContains(absl::AsciiStrToLower(error.message()), "reset"))
      << error;
  EXPECT_EQ(r.close_reason, error);
  EXPECT_EQ(conn->close_reason(), error);
  EXPECT_EQ(server().stats().closed_with_error, 1u);
}

TEST_F(ConnectionTest, PeerResetWhileServerHasQueuedOutputClosesOnce) {
  TcpServerOptions options;
  ASSERT_TRUE(StartServer({}, options).ok());
  TestPeer peer;
  TestPeer::Options small;
  small.receive_buffer = 16 << 10;
  ConnectionPtr conn = ConnectPeer(&peer, small);
  ASSERT_NE(conn, nullptr);
  // Queue more than the socket buffers hold, so output is pending.
  const std::string chunk = RandomBytes(kChunk, 2);
  for (int i = 0; i < 160; ++i) ASSERT_TRUE(conn->Send(chunk).ok());
  Barrier(conn->loop());
  ASSERT_TRUE(peer.SetLingerZero().ok());
  peer.Close();
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const ConnectionTracker::Record r = tracker().Get(conn->id());
  EXPECT_EQ(r.closes, 1);
  EXPECT_GE(r.errors.size(), 1u);
  EXPECT_FALSE(r.close_reason.ok());
  EXPECT_EQ(conn->queued_output_bytes(), 0u);
  EXPECT_EQ(server().stats().queued_output_bytes, 0u);
}

// ---------------------------------------------------------------------------
// Backpressure

// Under kDisconnect (and kPauseReading, whose hard cap still disconnects) a
// peer that never reads is disconnected at the output cap, and the queue
// never exceeds the cap on the way.
class OutputCapTest : public ConnectionTest,
                      public ::testing::WithParamInterface<OverflowPolicy> {};

INSTANTIATE_TEST_SUITE_P(Policies, OutputCapTest,
                         ::testing::Values(OverflowPolicy::kDisconnect,
                                           OverflowPolicy::kPauseReading),
                         [](const ::testing::TestParamInfo<OverflowPolicy>& p) {
                           return p.param == OverflowPolicy::kDisconnect
                                      ? "Disconnect"
                                      : "PauseReading";
                         });

TEST_P(OutputCapTest, PeerThatNeverReadsIsDisconnectedAtTheOutputCap) {
  constexpr size_t kCap = 1 << 20;
  TcpServerOptions options;
  options.connection.max_output_bytes = kCap;
  options.connection.high_water_mark = 512 << 10;
  options.connection.low_water_mark = 128 << 10;
  options.connection.overflow_policy = GetParam();
  ASSERT_TRUE(StartServer({}, options).ok());
  TestPeer peer;
  TestPeer::Options small;
  small.receive_buffer = 16 << 10;
  ConnectionPtr conn = ConnectPeer(&peer, small);
  ASSERT_NE(conn, nullptr);

  const std::string chunk = RandomBytes(kChunk, 3);
  absl::Status sent;
  size_t accepted = 0;
  size_t max_queued = 0;
  size_t max_server_queued = 0;
  // Far more than the socket buffers and the cap hold together.
  for (int i = 0; i < 4096 && sent.ok(); ++i) {
    sent = conn->Send(chunk);
    if (sent.ok()) accepted += chunk.size();
    max_queued = std::max(max_queued, conn->queued_output_bytes());
    max_server_queued =
        std::max(max_server_queued, server().stats().queued_output_bytes);
  }
  EXPECT_EQ(sent.code(), absl::StatusCode::kResourceExhausted) << sent;
  EXPECT_LE(max_queued, kCap);
  EXPECT_LE(max_server_queued, kCap);

  ASSERT_TRUE(tracker().WaitForErrors(1));
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const ConnectionTracker::Record r = tracker().Get(conn->id());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].code(), absl::StatusCode::kResourceExhausted)
      << r.errors[0];
  EXPECT_EQ(r.close_reason.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(r.closes, 1);
  EXPECT_EQ(conn->queued_output_bytes(), 0u);
  EXPECT_EQ(server().stats().queued_output_bytes, 0u);
  EXPECT_EQ(server().stats().closed_with_error, 1u);
  EXPECT_EQ(conn->dropped_sends(), 0u);
  // The peer sees the end of the connection.
  EXPECT_TRUE(peer.WaitClosed().ok());
}

TEST_F(ConnectionTest, DropNewestRefusesSendsAndKeepsTheConnection) {
  constexpr size_t kCap = 1 << 20;
  TcpServerOptions options;
  options.connection.max_output_bytes = kCap;
  options.connection.high_water_mark = 512 << 10;
  options.connection.low_water_mark = 128 << 10;
  options.connection.overflow_policy = OverflowPolicy::kDropNewest;
  ASSERT_TRUE(StartServer({}, options).ok());
  TestPeer peer;
  TestPeer::Options small;
  small.receive_buffer = 16 << 10;
  ConnectionPtr conn = ConnectPeer(&peer, small);
  ASSERT_NE(conn, nullptr);

  // Chunk k is 64 KiB of one byte value plus its number, so a gap or a
  // reordering shows.
  auto make_chunk = [](uint64_t k) {
    std::string chunk(kChunk, static_cast<char>('a' + k % 26));
    std::memcpy(&chunk[0], &k, sizeof(k));
    return chunk;
  };
  std::string expected;
  uint64_t refused = 0;
  for (uint64_t k = 0; k < 4096 && refused < 10; ++k) {
    const std::string chunk = make_chunk(k);
    absl::Status sent = conn->Send(chunk);
    if (sent.ok()) {
      expected += chunk;
    } else {
      EXPECT_EQ(sent.code(), absl::StatusCode::kResourceExhausted) << sent;
      ++refused;
    }
    EXPECT_LE(conn->queued_output_bytes(), kCap);
    EXPECT_LE(server().stats().queued_output_bytes, kCap);
  }
  ASSERT_EQ(refused, 10u) << "the cap was never reached";
  // A single send larger than the cap is refused however empty the queue.
  absl::Status huge = conn->Send(std::string(kCap + 1, 'h'));
  EXPECT_EQ(huge.code(), absl::StatusCode::kResourceExhausted) << huge;
  ++refused;
  EXPECT_EQ(conn->dropped_sends(), refused);
  // Empty sends are no-ops that always succeed.
  EXPECT_TRUE(conn->Send("").ok());
  EXPECT_TRUE(conn->Send(absl::Cord()).ok());

  // Still up: nothing closed, nothing reported.
  Barrier(conn->loop());
  EXPECT_TRUE(conn->connected());
  EXPECT_EQ(tracker().closes(), 0u);
  EXPECT_EQ(tracker().errors(), 0u);

  // The peer gets exactly the accepted chunks, in order; then sending works
  // again.
  absl::StatusOr<std::string> got = peer.ReadExactly(expected.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(*got == expected) << "stream differs from the accepted chunks";
  absl::Status tail = conn->Send("tail");
  EXPECT_TRUE(tail.ok()) << tail;
  got = peer.ReadExactly(4);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "tail");
  EXPECT_EQ(conn->dropped_sends(), refused);
  EXPECT_TRUE(conn->connected());
}

TEST_F(ConnectionTest, ServerWideOutputBudgetBoundsAllConnections) {
  constexpr size_t kBudget = 1 << 20;
  TcpServerOptions options;
  options.max_total_output_bytes = kBudget;
  options.connection.overflow_policy = OverflowPolicy::kDropNewest;
  ASSERT_TRUE(StartServer({}, options).ok());
  TestPeer::Options small;
  small.receive_buffer = 16 << 10;
  TestPeer peers[2];
  ConnectionPtr conns[2] = {ConnectPeer(&peers[0], small),
                            ConnectPeer(&peers[1], small)};
  ASSERT_NE(conns[0], nullptr);
  ASSERT_NE(conns[1], nullptr);

  const std::string chunk = RandomBytes(kChunk, 8);
  size_t accepted[2] = {0, 0};
  size_t refused = 0;
  absl::Status first_refusal;
  for (int i = 0; i < 8192 && refused < 20; ++i) {
    const int k = i % 2;
    absl::Status sent = conns[k]->Send(chunk);
    if (sent.ok()) {
      accepted[k] += chunk.size();
    } else {
      EXPECT_EQ(sent.code(), absl::StatusCode::kResourceExhausted) << sent;
      if (refused++ == 0) first_refusal = sent;
    }
    EXPECT_LE(server().stats().queued_output_bytes, kBudget);
    EXPECT_LE(conns[0]->queued_output_bytes() + conns[1]->queued_output_bytes(),
              kBudget);
  }
  ASSERT_EQ(refused, 20u) << "the budget was never reached";
  EXPECT_TRUE(absl::StrContains(first_refusal.message(), "budget"))
      << first_refusal;
  EXPECT_EQ(conns[0]->dropped_sends() + conns[1]->dropped_sends(), refused);
  EXPECT_TRUE(conns[0]->connected());
  EXPECT_TRUE(conns[1]->connected());

  // Draining one connection frees budget for the other.
  for (int k = 0; k < 2; ++k) {
    absl::StatusOr<std::string> got = peers[k].ReadExactly(accepted[k]);
    ASSERT_TRUE(got.ok()) << got.status();
  }
  Barrier(conns[0]->loop());
  Barrier(conns[1]->loop());
  EXPECT_EQ(server().stats().queued_output_bytes, 0u);
  EXPECT_TRUE(conns[0]->Send(chunk).ok());
  EXPECT_TRUE(conns[1]->Send(chunk).ok());
}

// A broadcast's shared bytes are charged to the server-wide budget once,
// not once per recipient: a frame of half the budget reaches every one of
// many peers that are not reading yet, and the charge goes when the last
// one has read it.
TEST_F(ConnectionTest, BroadcastIsChargedToTheBudgetOnce) {
  constexpr size_t kBudget = 2 << 20;
  constexpr int kPeers = 16;
  TcpServerOptions options;
  options.max_total_output_bytes = kBudget;
  ASSERT_TRUE(StartServer({}, options).ok());
  std::vector<TestPeer> peers(kPeers);
  std::vector<ConnectionPtr> conns = ConnectSlowReaders(peers);
  for (const ConnectionPtr& conn : conns) ASSERT_NE(conn, nullptr);

  const std::string frame = RandomBytes(kBudget / 2, 9);
  EXPECT_EQ(server().Broadcast(absl::Cord(frame)), size_t{kPeers});
  EXPECT_LE(server().stats().queued_output_bytes, kBudget);
  for (TestPeer& peer : peers) {
    absl::StatusOr<std::string> got = peer.ReadExactly(frame.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == frame);
  }
  EXPECT_EQ(server().connection_count(), size_t{kPeers});
  EXPECT_EQ(tracker().errors(), 0u);
  EXPECT_EQ(server().stats().closed_over_budget, 0u);
  for (const ConnectionPtr& conn : conns) Barrier(conn->loop());
  EXPECT_EQ(server().stats().queued_output_bytes, 0u);
}

// When the budget is exhausted by peers that do not read, the one holding
// the most is closed, not the healthy peer whose echo asked last.
TEST_F(ConnectionTest, ExhaustedBudgetClosesTheBiggestHolderNotTheAsker) {
  constexpr size_t kBudget = 4 << 20;
  constexpr int kHogs = 3;
  TcpServerOptions options;
  options.max_total_output_bytes = kBudget;
  ASSERT_TRUE(StartServer({.on_data = Echo()}, options).ok());
  // Hogs never read; they hold 1, 1.25 and the rest of the budget, so it is
  // exactly full.
  std::vector<TestPeer> hogs(kHogs);
  std::vector<ConnectionPtr> hog_conns = ConnectSlowReaders(hogs);
  for (const ConnectionPtr& conn : hog_conns) ASSERT_NE(conn, nullptr);
  const std::string chunk = RandomBytes(kChunk, 10);
  for (int i = 0; i < kHogs - 1; ++i) {
    const size_t target = (size_t{4} + i) << 18;
    while (hog_conns[i]->queued_output_bytes() < target) {
      ASSERT_TRUE(hog_conns[i]->Send(chunk).ok());
      Barrier(hog_conns[i]->loop());  // the kernel took what it takes
    }
  }
  ConnectionPtr& biggest = hog_conns.back();
  for (size_t used; (used = server().stats().queued_output_bytes) < kBudget;) {
    ASSERT_TRUE(
        biggest->Send(RandomBytes(std::min(kChunk, kBudget - used), 12)).ok());
    Barrier(biggest->loop());
  }
  ASSERT_EQ(server().stats().queued_output_bytes, kBudget);
  ASSERT_GT(biggest->queued_output_bytes(), size_t{3} << 19);

  // The healthy client's echo needs budget at once.
  TestPeer healthy;
  ConnectionPtr healthy_conn = ConnectPeer(&healthy);
  ASSERT_NE(healthy_conn, nullptr);
  const std::string request = RandomBytes(2 << 20, 11);
  absl::StatusOr<std::string> echoed =
      healthy.Exchange(request, request.size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == request);
  EXPECT_TRUE(healthy_conn->connected());
  EXPECT_TRUE(tracker().Get(healthy_conn->id()).errors.empty());
  // The biggest hog went, with an error that says why; the others stay.
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_EQ(server().stats().closed_over_budget, 1u);
  const testing::ConnectionTracker::Record record =
      tracker().Get(biggest->id());
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsResourceExhausted(record.errors[0])) << record.errors[0];
  EXPECT_TRUE(absl::StrContains(record.errors[0].message(), "holds the most"))
      << record.errors[0];
  EXPECT_TRUE(hog_conns[0]->connected());
  EXPECT_TRUE(hog_conns[1]->connected());
}

// Input held unconsumed (partial frames) is bounded server-wide: past the
// bound the connection holding the most is closed, and the others (and a
// control connection) go on.
TEST_F(ConnectionTest, HeldInputBeyondTheServerWideBoundClosesTheBiggest) {
  constexpr size_t kBound = 1 << 20;
  TcpServerOptions options;
  options.max_total_held_input_bytes = kBound;
  // The control's bytes start with 'c' and are echoed; everyone else's are
  // kept, as a protocol keeps an incomplete frame.
  ASSERT_TRUE(StartServer({.on_data =
                               [](Connection& c, Buffer& in) {
                                 if (in.view()[0] != 'c') return;
                                 (void)c.Send(in.view());
                                 in.RetrieveAll();
                               }},
                          options)
                  .ok());
  TestPeer control;
  ASSERT_NE(ConnectPeer(&control), nullptr);
  std::vector<TestPeer> hogs(3);
  std::vector<ConnectionPtr> conns;
  const size_t sizes[] = {600 << 10, 200 << 10, 300 << 10};
  size_t sent = 0;
  for (size_t i = 0; i < hogs.size(); ++i) {
    conns.push_back(ConnectPeer(&hogs[i]));
    ASSERT_NE(conns.back(), nullptr);
    ASSERT_TRUE(hogs[i].WriteAll(std::string(sizes[i], 'h')).ok());
    sent += sizes[i];
    // Wait until the server holds it all (or closed someone for it).
    for (absl::Time deadline = absl::Now() + testing::kTimeout;
         server().stats().held_input_bytes < std::min(kBound, sent) &&
         server().stats().closed_over_input_bound == 0;) {
      ASSERT_LT(absl::Now(), deadline);
      std::this_thread::yield();
    }
  }
  EXPECT_TRUE(hogs[0].WaitClosed().ok());
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const testing::ConnectionTracker::Record record =
      tracker().Get(conns[0]->id());
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsResourceExhausted(record.errors[0])) << record.errors[0];
  EXPECT_TRUE(absl::StrContains(record.errors[0].message(),
                                "holds the most unprocessed input"))
      << record.errors[0];
  EXPECT_TRUE(conns[1]->connected());
  EXPECT_TRUE(conns[2]->connected());
  // The last hog's bytes may still be arriving after the close.
  for (absl::Time deadline = absl::Now() + testing::kTimeout;
       server().stats().held_input_bytes < sizes[1] + sizes[2];) {
    ASSERT_LT(absl::Now(), deadline) << server().stats().held_input_bytes;
    std::this_thread::yield();
  }
  const TcpServerStats stats = server().stats();
  EXPECT_EQ(stats.closed_over_input_bound, 1u);
  EXPECT_EQ(stats.held_input_bytes, sizes[1] + sizes[2]);
  absl::StatusOr<std::string> echoed = control.Exchange("control", 7);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(*echoed, "control");
}

TEST_F(ConnectionTest, PauseReadingPolicyStopsReadingAboveHighWater) {
  constexpr size_t kHigh = 256 << 10;
  constexpr size_t kLow = 64 << 10;
  constexpr size_t kLimit = 48 << 20;  // "never blocked" beyond this
  TcpServerOptions options;
  options.connection.high_water_mark = kHigh;
  options.connection.low_water_mark = kLow;
  options.connection.overflow_policy = OverflowPolicy::kPauseReading;
  WaterMarkLog log;
  ASSERT_TRUE(
      StartServer(
          {.on_data = Echo(),
           .on_high_water_mark = [&log](Connection&, size_t q) { log.High(q); },
           .on_low_water_mark = [&log](Connection&, size_t q) { log.Low(q); }},
          options)
          .ok());
  absl::Cleanup stop = [this] { server_->StopAndJoin(); };  // captures
  TestPeer peer;
  TestPeer::Options small;
  small.receive_buffer = 32 << 10;
  ConnectionPtr conn = ConnectPeer(&peer, small);
  ASSERT_NE(conn, nullptr);

  // Write without reading until the echo crosses the high water mark...
  uint64_t written = 0;
  while (log.highs() == 0) {
    ASSERT_LT(written, kLimit) << "the high water mark never fired";
    absl::StatusOr<size_t> n = peer.WriteSome(Pattern(written, kChunk));
    ASSERT_TRUE(n.ok()) << n.status();
    written += *n;
    if (*n == 0) peer.WaitWritable(absl::Milliseconds(50));
  }
  // ...then until our writes block: the server stopped reading, so its
  // receive buffer and our send buffer fill up and stay full.
  while (true) {
    ASSERT_LT(written, kLimit) << "writes never blocked: reading not paused";
    absl::StatusOr<size_t> n = peer.WriteSome(Pattern(written, kChunk));
    ASSERT_TRUE(n.ok()) << n.status();
    written += *n;
    if (*n == 0 && !peer.WaitWritable(absl::Milliseconds(300))) break;
  }
  const uint64_t read_while_paused = conn->bytes_read();
  EXPECT_FALSE(peer.WaitWritable(absl::Milliseconds(200)));
  EXPECT_EQ(conn->bytes_read(), read_while_paused) << "still reading";
  EXPECT_LT(conn->bytes_read(), written);
  EXPECT_GE(conn->queued_output_bytes(), kHigh);

  // Draining resumes reading: every byte comes back, in order.
  absl::StatusOr<std::string> echoed = peer.Exchange("", written);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == Pattern(0, written)) << "echo differs";
  EXPECT_EQ(conn->bytes_read(), written);
  ASSERT_TRUE(log.WaitForLowLast());
  Barrier(conn->loop());
  EXPECT_GE(log.highs(), 1u);
  EXPECT_TRUE(log.Alternates(kHigh, kLow));
  EXPECT_TRUE(conn->connected());
  EXPECT_EQ(tracker().errors(), 0u);
}

TEST_F(ConnectionTest, WaterMarkCallbacksFireOncePerCrossing) {
  constexpr size_t kHigh = 256 << 10;
  constexpr size_t kLow = 64 << 10;
  TcpServerOptions options;
  options.connection.high_water_mark = kHigh;
  options.connection.low_water_mark = kLow;
  WaterMarkLog log;
  ASSERT_TRUE(
      StartServer(
          {.on_high_water_mark = [&log](Connection&, size_t q) { log.High(q); },
           .on_low_water_mark = [&log](Connection&, size_t q) { log.Low(q); }},
          options)
          .ok());
  absl::Cleanup stop = [this] { server_->StopAndJoin(); };  // captures
  TestPeer peer;
  TestPeer::Options small;
  small.receive_buffer = 16 << 10;
  ConnectionPtr conn = ConnectPeer(&peer, small);
  ASSERT_NE(conn, nullptr);

  // The kernel's socket buffers may absorb part of the queue, so one round
  // of sending can cross the marks more than once; what must hold is one
  // callback per crossing: high and low strictly alternate.
  uint64_t sent = 0;
  uint64_t read = 0;
  for (int round = 0; round < 2; ++round) {
    // Send (the peer does not read) until the queue is above the mark.
    const size_t highs_before = log.highs();
    while (log.highs() == highs_before) {
      ASSERT_LT(sent, uint64_t{64} << 20) << "no high water callback";
      ASSERT_TRUE(conn->Send(Pattern(sent, kChunk)).ok());
      sent += kChunk;
      if (conn->queued_output_bytes() > kHigh) Barrier(conn->loop());
    }
    // More sends while above: no second callback for the same crossing.
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(conn->Send(Pattern(sent, kChunk)).ok());
      sent += kChunk;
    }
    Barrier(conn->loop());
    EXPECT_TRUE(log.Alternates(kHigh, kLow));

    // Draining everything crosses the low water mark exactly once.
    absl::StatusOr<std::string> got = peer.ReadExactly(sent - read);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == Pattern(read, sent - read));
    read = sent;
    ASSERT_TRUE(log.WaitForLowLast());
    Barrier(conn->loop());
    EXPECT_GT(log.highs(), highs_before);
    EXPECT_TRUE(log.Alternates(kHigh, kLow));
    EXPECT_EQ(conn->queued_output_bytes(), 0u);
  }
}

// On the loop thread nothing is flushed until the event ends, so the
// crossing is exact: one callback however many sends follow.
TEST_F(ConnectionTest, HighWaterCallbackFiresOnceForSendsInsideOneEvent) {
  constexpr size_t kHigh = 256 << 10;
  TcpServerOptions options;
  options.connection.high_water_mark = kHigh;
  options.connection.low_water_mark = 64 << 10;
  WaterMarkLog log;
  size_t highs_inside = 0;  // loop thread only, read after Join
  ASSERT_TRUE(
      StartServer(
          {.on_connect =
               [&](Connection& c) {
                 const std::string chunk(kChunk, 'w');
                 for (int i = 0; i < 10; ++i) {
                   EXPECT_TRUE(c.Send(chunk).ok());
                 }
                 highs_inside = log.highs();
                 return true;
               },
           .on_high_water_mark = [&log](Connection&, size_t q) { log.High(q); },
           .on_low_water_mark = [&log](Connection&, size_t q) { log.Low(q); }},
          options)
          .ok());
  absl::Cleanup stop = [this] { server_->StopAndJoin(); };  // captures
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  absl::StatusOr<std::string> got = peer.ReadExactly(10 * kChunk);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(log.WaitForLowLast());
  peer.Close();
  server_->StopAndJoin();
  EXPECT_EQ(highs_inside, 1u);
  EXPECT_EQ(log.highs(), 1u);
  EXPECT_TRUE(log.Alternates(kHigh, 64 << 10));
}

TEST_F(ConnectionTest, UserPauseAndResumeReading) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  conn->PauseReading();
  Barrier(conn->loop());
  ASSERT_TRUE(peer.WriteAll("while paused").ok());
  // Nothing is delivered while paused (a short negative check).
  EXPECT_FALSE(peer.ReadExactly(1, absl::Milliseconds(100)).ok());
  EXPECT_EQ(conn->bytes_read(), 0u);
  conn->ResumeReading();
  absl::StatusOr<std::string> got = peer.ReadExactly(12);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "while paused");
}

// ---------------------------------------------------------------------------
// Half-close and Shutdown

TEST_F(ConnectionTest, PeerHalfCloseGetsEveryByteEchoedThenEof) {
  const size_t kBytes = kTsan ? (1 << 20) : (4 << 20);
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  const std::string payload = RandomBytes(kBytes, 4);
  // Write everything (reading concurrently), then half-close.
  absl::StatusOr<std::string> first = peer.Exchange(payload, 0);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(peer.ShutdownWrite().ok());
  absl::StatusOr<std::string> rest = peer.ReadUntilEof();
  ASSERT_TRUE(rest.ok()) << rest.status() << " (a reset instead of FIN?)";
  EXPECT_EQ(rest->size(), payload.size());
  EXPECT_TRUE(*rest == payload);
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_TRUE(tracker().Get(conn->id()).close_reason.ok())
      << tracker().Get(conn->id()).close_reason;
  EXPECT_EQ(tracker().errors(), 0u);
}

// A line echo: answers each complete line, leaves a partial one.
void EchoLines(Connection& c, Buffer& in) {
  const size_t end = in.view().rfind('\n');
  if (end == absl::string_view::npos) return;
  (void)c.Send(in.view().substr(0, end + 1));
  in.Retrieve(end + 1);
}

TEST_F(ConnectionTest, EofWithUnconsumedInputAnswersThenClosesWithDataLoss) {
  ASSERT_TRUE(StartServer({.on_data = EchoLines}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  ASSERT_TRUE(peer.WriteAll("one\ntwo\nthr").ok());
  ASSERT_TRUE(peer.ShutdownWrite().ok());
  absl::StatusOr<std::string> got = peer.ReadUntilEof();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "one\ntwo\n");
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const ConnectionTracker::Record record = tracker().Get(conn->id());
  EXPECT_EQ(record.close_reason,
            absl::DataLossError("the peer closed its side with 3 bytes of "
                                "input unconsumed"));
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_EQ(record.errors[0], record.close_reason);
}

// A protocol that takes EOF as the end of its last message.
class EofEndsTheMessage : public ConnectionHandler {
 public:
  void OnData(Connection& /*c*/, Buffer& /*in*/) override {}
  absl::Status OnPeerEof(Connection& c, const Buffer& unconsumed) override {
    (void)c.Send(absl::StrCat(unconsumed.readable_bytes()));
    return absl::OkStatus();
  }
  void OnError(Connection& /*c*/, const absl::Status& error) override {
    ADD_FAILURE() << error;
  }
};

TEST(ConnectionHandlerTest, OnPeerEofThatAcceptsTheRestClosesInOrder) {
  TcpServer server(TcpServerOptions{},
                   [] { return std::make_unique<EofEndsTheMessage>(); });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  absl::Cleanup stop = [&server] {
    server.Stop(absl::ZeroDuration());
    server.Join();
  };
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server.listen_address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(peer->WriteAll("12345").ok());
  ASSERT_TRUE(peer->ShutdownWrite().ok());
  absl::StatusOr<std::string> got = peer->ReadUntilEof();
  ASSERT_TRUE(got.ok()) << got.status() << " (a reset instead of FIN?)";
  EXPECT_EQ(*got, "5");
  EXPECT_EQ(server.stats().closed_with_error, 0u);
}

TEST_F(ConnectionTest, ShutdownInOnConnectDeliversEverythingThenFin) {
  const std::string payload = RandomBytes(2 << 20, 5);
  ASSERT_TRUE(StartServer({.on_connect = [&payload](Connection& c) {
                EXPECT_TRUE(c.Send(payload).ok());
                c.Shutdown();
                return true;
              }}).ok());
  absl::Cleanup stop = [this] { server_->StopAndJoin(); };  // captures
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  absl::StatusOr<std::string> got = peer.ReadUntilEof();
  ASSERT_TRUE(got.ok()) << got.status() << " (RST instead of FIN?)";
  EXPECT_TRUE(*got == payload) << got->size() << " of " << payload.size();
  // Sending after Shutdown is refused.
  absl::Status late = conn->Send("late");
  EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition) << late;
  // The server waits for our FIN, then closes cleanly.
  peer.Close();
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_TRUE(tracker().Get(conn->id()).close_reason.ok());
  EXPECT_EQ(tracker().errors(), 0u);
}

TEST_F(ConnectionTest, ShutdownFromAnotherThreadDeliversPriorSendsThenFin) {
  const size_t kBytes = kTsan ? (2 << 20) : (8 << 20);
  ASSERT_TRUE(StartServer({}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  const std::string payload = RandomBytes(kBytes, 6);
  for (size_t at = 0; at < kBytes; at += kChunk) {
    ASSERT_TRUE(conn->Send(absl::string_view(payload).substr(at, kChunk)).ok());
  }
  conn->Shutdown();
  absl::StatusOr<std::string> got = peer.ReadUntilEof();
  ASSERT_TRUE(got.ok()) << got.status() << " (RST instead of FIN?)";
  EXPECT_TRUE(*got == payload) << got->size() << " of " << payload.size();
  peer.Close();
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_TRUE(tracker().Get(conn->id()).close_reason.ok());
}

TEST_F(ConnectionTest, ShutdownWithAPeerThatNeverClosesEndsAfterLinger) {
  TcpServerOptions options;
  options.connection.linger = absl::Milliseconds(100);
  ASSERT_TRUE(StartServer({}, options).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  conn->Shutdown();
  EXPECT_TRUE(peer.ExpectEof().ok());
  // We never close our side: the linger bound closes the connection.
  ASSERT_TRUE(tracker().WaitForSettled(1));
  EXPECT_EQ(tracker().Get(conn->id()).closes, 1);
  EXPECT_EQ(conn->state(), Connection::State::kClosed);
}

// ---------------------------------------------------------------------------
// Close, CloseWithError, Send after close

// Closes race from several threads and from the loop itself, round after
// round. Close() returns early once it sees kClosed, so for a second close
// to reach the connection's own guard the closers must all get past that
// check first: in every other round the loop is held (inside a functor)
// while they call Close(), so each of them queues a close behind it, and
// the loop then closes too. Only one of those may run OnClosed. The tracker
// is checked after a barrier queued behind every close, so a second
// OnClosed cannot come after the check.
TEST_F(ConnectionTest, CloseFromAnotherThreadRunsOnCloseOnce) {
  constexpr int kClosers = 4;
  const int kRounds = kTsan ? 20 : 60;
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    TestPeer peer;
    ConnectionPtr conn = ConnectPeer(&peer);
    ASSERT_NE(conn, nullptr);
    EventLoop* const loop = conn->loop();
    const bool hold_loop = round % 2 == 0;
    // Shared with the loop's functor, which may outlive a failed ASSERT.
    auto held = std::make_shared<absl::Notification>();
    auto release = std::make_shared<absl::Notification>();
    loop->QueueInLoop([conn, held, release, hold_loop] {
      if (hold_loop) {
        held->Notify();
        (void)release->WaitForNotificationWithTimeout(kTimeout);
      }
      conn->Close();  // on the loop thread: closes at once
    });
    if (hold_loop) {
      ASSERT_TRUE(held->WaitForNotificationWithTimeout(kTimeout));
    }

    absl::BlockingCounter ready(kClosers);
    absl::Notification go;
    std::vector<std::thread> closers;
    for (int i = 0; i < kClosers; ++i) {
      closers.emplace_back([&] {
        ready.DecrementCount();
        go.WaitForNotification();
        conn->Close();
      });
    }
    ready.Wait();
    go.Notify();
    for (std::thread& t : closers) t.join();
    release->Notify();
    Barrier(loop);  // every close queued above has run

    const ConnectionTracker::Record r = tracker().Get(conn->id());
    EXPECT_EQ(r.closes, 1);
    EXPECT_TRUE(r.close_reason.ok()) << r.close_reason;
    EXPECT_TRUE(r.errors.empty());
    ASSERT_TRUE(tracker().CheckNoViolations());
    EXPECT_EQ(conn->state(), Connection::State::kClosed);
    absl::Status after = conn->Send("x");
    EXPECT_EQ(after.code(), absl::StatusCode::kFailedPrecondition) << after;
    EXPECT_EQ(server().Find(conn->id()), nullptr);
    EXPECT_TRUE(peer.WaitClosed().ok());
  }
  ASSERT_TRUE(tracker().WaitForSettled(kRounds));
  EXPECT_EQ(tracker().closes(), static_cast<size_t>(kRounds));
  EXPECT_TRUE(tracker().CheckBalanced());
}

TEST_F(ConnectionTest, CloseWithErrorReportsTheReasonOnce) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  const absl::Status reason = absl::PermissionDeniedError("go away");
  conn->CloseWithError(reason);
  conn->CloseWithError(absl::InternalError("second"));  // no-op
  conn->Close();                                        // no-op
  EXPECT_TRUE(peer.WaitClosed().ok());
  ASSERT_TRUE(tracker().WaitForSettled(1));
  const ConnectionTracker::Record r = tracker().Get(conn->id());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], reason);
  EXPECT_EQ(r.close_reason, reason);
  EXPECT_EQ(r.closes, 1);
}

// One OnData starts two closes: a send beyond the output cap queues an
// error close (OverflowPolicy::kDisconnect never closes inline), then
// Close() closes at once, and more Close/CloseWithError calls follow. The
// queued close runs later in the same loop iteration and must find the
// connection closed: one OnClosed, with Close()'s reason, and no OnError.
TEST_F(ConnectionTest, CloseInsideOnDataRunsOnCloseOnce) {
  constexpr int kPeers = 20;
  constexpr size_t kCap = 64 << 10;
  TcpServerOptions options;
  options.connection.max_output_bytes = kCap;
  ASSERT_TRUE(
      StartServer(
          {.on_data =
               [](Connection& c, Buffer& in) {
                 (void)c.Send(in.view());
                 in.RetrieveAll();
                 absl::Status over = c.Send(std::string(kCap, 'o'));
                 EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted)
                     << over;
                 c.Close();
                 c.Close();
                 c.CloseWithError(absl::InternalError("after Close"));
                 absl::Status late = c.Send("late");
                 EXPECT_EQ(late.code(), absl::StatusCode::kFailedPrecondition)
                     << late;
               }},
          options)
          .ok());
  for (int i = 0; i < kPeers; ++i) {
    SCOPED_TRACE(absl::StrCat("peer ", i));
    TestPeer peer;
    ConnectionPtr conn = ConnectPeer(&peer);
    ASSERT_NE(conn, nullptr);
    ASSERT_TRUE(peer.WriteAll("bye").ok());
    EXPECT_TRUE(peer.WaitClosed().ok());
    // The settled marker is queued behind the overflow close, so once it
    // ran, a second OnClosed would have run too.
    ASSERT_TRUE(tracker().WaitForSettled(i + 1));
    const ConnectionTracker::Record r = tracker().Get(conn->id());
    EXPECT_EQ(r.closes, 1);
    EXPECT_TRUE(r.errors.empty()) << r.errors.front();
    EXPECT_TRUE(r.close_reason.ok()) << r.close_reason;
    ASSERT_TRUE(tracker().CheckNoViolations());
  }
  EXPECT_EQ(server().stats().closed_with_error, 0u);
  EXPECT_TRUE(tracker().CheckBalanced());
}

TEST_F(ConnectionTest, AccessorsDescribeTheConnection) {
  ASSERT_TRUE(StartServer({.on_data = Echo()}).ok());
  TestPeer peer;
  ConnectionPtr conn = ConnectPeer(&peer);
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(conn->peer_address(), peer.local_address());
  EXPECT_EQ(conn->local_address(), server_->address());
  EXPECT_TRUE(conn->connected());
  EXPECT_FALSE(conn->name().empty());
  conn->set_name("alice");
  EXPECT_EQ(conn->name(), "alice");
  absl::StatusOr<std::string> echoed = peer.Exchange("12345", 5);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  Barrier(conn->loop());  // bytes_written is counted after the write
  EXPECT_EQ(conn->bytes_read(), 5u);
  EXPECT_EQ(conn->bytes_written(), 5u);
}

// ---------------------------------------------------------------------------
// The handler: per-connection state lives in it, exactly as long as the
// connection

// What happened to the handlers of a server, in order.
class HandlerLog {
 public:
  struct Entry {
    int handler;  // the handler's serial number, from 1
    std::string event;
    uint64_t bytes;  // the handler's state at that moment
  };

  void Add(int handler, std::string event, uint64_t bytes) {
    absl::MutexLock lock(&mu_);
    entries_.push_back({handler, std::move(event), bytes});
  }
  size_t Count(absl::string_view event) const {
    absl::MutexLock lock(&mu_);
    return CountLocked(event);
  }
  bool WaitFor(absl::string_view event, size_t n) const {
    absl::MutexLock lock(&mu_);
    auto cond = [this, event, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return CountLocked(event) >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), kTimeout);
  }
  // "event:bytes" for one handler, in order.
  std::vector<std::string> Of(int handler) const {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> out;
    for (const Entry& e : entries_) {
      if (e.handler == handler)
        out.push_back(absl::StrCat(e.event, ":", e.bytes));
    }
    return out;
  }

 private:
  size_t CountLocked(absl::string_view event) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t n = 0;
    for (const Entry& e : entries_) n += e.event == event ? 1 : 0;
    return n;
  }

  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

// Echoes and counts its connection's bytes: per-connection state in the
// handler, where the old typed connection values used to be.
class SessionHandler : public ConnectionHandler {
 public:
  SessionHandler(HandlerLog* log, int serial) : log_(log), serial_(serial) {
    log_->Add(serial_, "constructed", 0);
  }
  ~SessionHandler() override {
    // Destroyed by ~Connection: no reference to the connection is left.
    log_->Add(
        serial_,
        connection_.expired() ? "destroyed" : "destroyed before its connection",
        bytes_.load());
  }
  bool OnConnected(Connection& c) override {
    connection_ = c.weak_from_this();
    log_->Add(serial_, "connected", bytes_.load());
    return true;
  }
  void OnData(Connection& c, Buffer& in) override {
    bytes_.fetch_add(in.readable_bytes());
    (void)c.Send(in.view());
    in.RetrieveAll();
  }
  void OnClosed(Connection& c, const absl::Status& reason) override {
    EXPECT_TRUE(reason.ok()) << reason;
    EXPECT_EQ(connection_.lock().get(), &c);
    log_->Add(serial_, "closed", bytes_.load());
  }

  int serial() const { return serial_; }
  // Any thread.
  uint64_t bytes() const { return bytes_.load(); }

 private:
  HandlerLog* const log_;
  const int serial_;
  std::weak_ptr<Connection> connection_;  // loop thread only
  std::atomic<uint64_t> bytes_{0};
};

TEST(ConnectionHandlerTest,
     StateInTheHandlerLivesExactlyAsLongAsTheConnection) {
  HandlerLog log;  // outlives every handler (declared first)
  std::atomic<int> serial{0};
  TcpServerOptions options;
  options.io_threads = 2;
  TcpServer server(options, [&log, &serial] {
    return std::make_unique<SessionHandler>(&log, ++serial);
  });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  absl::Cleanup stop = [&server] {
    server.Stop(absl::ZeroDuration());
    server.Join();
  };

  // Two connections, two handlers, two separate states, each kept across
  // reads.
  absl::StatusOr<TestPeer> a = TestPeer::Connect(server.listen_address());
  ASSERT_TRUE(a.ok()) << a.status();
  absl::StatusOr<TestPeer> b = TestPeer::Connect(server.listen_address());
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE(a->Exchange("hello", 5).ok());
  ASSERT_TRUE(b->Exchange("hi", 2).ok());
  ASSERT_TRUE(a->Exchange(", world", 7).ok());
  ASSERT_TRUE(log.WaitFor("connected", 2));
  EXPECT_EQ(log.Count("constructed"), 2u) << "one handler per connection";

  ConnectionPtr ca, cb;
  server.ForEach([&](const ConnectionPtr& c) {
    if (c->peer_address() == a->local_address()) ca = c;
    if (c->peer_address() == b->local_address()) cb = c;
  });
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(cb, nullptr);
  auto* ha = dynamic_cast<SessionHandler*>(&ca->handler());
  auto* hb = dynamic_cast<SessionHandler*>(&cb->handler());
  ASSERT_NE(ha, nullptr);
  ASSERT_NE(hb, nullptr);
  EXPECT_NE(ha, hb);
  EXPECT_EQ(ha->bytes(), 12u);
  EXPECT_EQ(hb->bytes(), 2u);
  const int serial_a = ha->serial();
  const int serial_b = hb->serial();

  // a's peer closes: OnClosed runs, but the handler and its state stay as
  // long as the connection object does (we hold it).
  a->Close();
  ASSERT_TRUE(log.WaitFor("closed", 1));
  Barrier(ca->loop());  // the server's bookkeeping follows OnClosed there
  EXPECT_EQ(ca->state(), Connection::State::kClosed);
  EXPECT_EQ(server.Find(ca->id()), nullptr);
  EXPECT_EQ(&ca->handler(), ha);
  EXPECT_EQ(ha->bytes(), 12u);
  EXPECT_EQ(log.Count("destroyed"), 0u);

  // Letting go of the last reference destroys the connection and, with it,
  // the handler: after OnClosed, never before.
  std::weak_ptr<Connection> weak_a = ca;
  ca.reset();
  ha = nullptr;
  ASSERT_TRUE(log.WaitFor("destroyed", 1));
  EXPECT_TRUE(weak_a.expired());
  EXPECT_EQ(log.Of(serial_a),
            (std::vector<std::string>{"constructed:0", "connected:0",
                                      "closed:12", "destroyed:12"}));
  // The other connection and its handler are untouched.
  EXPECT_TRUE(cb->connected());
  EXPECT_EQ(hb->bytes(), 2u);
  ASSERT_TRUE(b->Exchange("!", 1).ok());
  EXPECT_EQ(hb->bytes(), 3u);

  b->Close();
  ASSERT_TRUE(log.WaitFor("closed", 2));
  cb.reset();
  hb = nullptr;
  ASSERT_TRUE(log.WaitFor("destroyed", 2));
  EXPECT_EQ(log.Of(serial_b),
            (std::vector<std::string>{"constructed:0", "connected:0",
                                      "closed:3", "destroyed:3"}));
  std::move(stop).Invoke();
  EXPECT_EQ(log.Count("constructed"), 2u);
  EXPECT_EQ(log.Count("destroyed before its connection"), 0u);
}

}  // namespace
}  // namespace tao
