// The adversarial suite of issue 12 ("hostile peers"): a message Server with
// default options (io_threads 2; what a case must scale down is set in that
// case) and a small echo registry, attacked over loopback. Beside every
// attack a control connection (tao::testing::GoodClient: a window of Chat
// requests in flight, every echo checked byte-exact and in order) keeps
// working during and after it. Each case checks the attacker's documented
// outcome (its close status, a refusal, a pause), the stats counter that
// moved, that the control saw no error and every reply, and that the server
// still serves a new client afterwards.
//
// Cases: an oversized length prefix; garbage bytes; a truncated frame then
// FIN; a reset mid-frame; a flood of 100,000 unknown-type frames (skipped,
// counted, bounded logging); a throwing handler; a non-reader pipelining
// echo requests into a small output budget while a healthy client echoes
// large payloads (the non-reader is closed, never the healthy one); a large
// broadcast to many non-readers (charged once); big frames at a blocked
// handler (the worker pool's backlog stays bounded, nothing lost); requests
// followed by a half-close (every one answered); connection floods beyond
// max_connections and max_connections_per_ip (refused, counted, bounded
// logging); idle connections filling max_connections (the idlest evicted);
// a slow reader under kPauseReading (reading paused, memory bounded).
// Inline handlers and a pool of 2 where it matters.
//
// Nothing sleeps to synchronize: waits are tracker waits, Notifications,
// Mutex conditions, poll(2) on the raw peers, or the control's own round
// trips; every wait is bounded by tao::testing::kTimeout. Workloads shrink
// under TSan (testing::kTsan).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/base/logging.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/testing/good_client.h"
#include "tao/testing/log_capture.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::kTimeout;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kEcho = 11;   // replied with the same type and payload
constexpr int32_t kThrow = 12;  // the handler throws
constexpr int32_t kBlock = 13;  // the handler waits for the test's release
constexpr int32_t kUnknown = 99;

std::string EchoFrame(absl::string_view payload) {
  return TlvFrame(kEcho, payload);
}

// The first half of an echo request of 1000 bytes.
std::string HalfAFrame() {
  return EchoFrame(testing::RandomBytes(1000, 3)).substr(0, 504);
}

// A TLV header claiming `length` payload bytes.
std::string Header(int32_t type, uint32_t length) {
  std::string out(8, '\0');
  for (int i = 0; i < 4; ++i) {
    out[i] = static_cast<char>((static_cast<uint32_t>(type) >> (8 * i)) & 0xff);
    out[4 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  return out;
}

// Small socket buffers, so that a peer that does not read is felt soon.
TestPeer::Options SmallBuffers() {
  TestPeer::Options options;
  options.receive_buffer = 16 << 10;
  options.send_buffer = 16 << 10;
  return options;
}

using ::tao::testing::WaitFor;

// Waits until `done(stats)` holds for the server's stats; false on timeout.
bool WaitForStats(Server& server,
                  absl::FunctionRef<bool(const ServerStats&)> done) {
  return WaitFor([&] { return done(server.stats()); });
}

// Connection ids whose output crossed the high water mark.
class HighWaterLog {
 public:
  void Record(uint64_t id) {
    absl::MutexLock lock(&mu_);
    ids_.insert(id);
  }
  bool Has(uint64_t id) {
    absl::MutexLock lock(&mu_);
    return ids_.contains(id);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<uint64_t> ids_ ABSL_GUARDED_BY(mu_);
};

// What the kBlock handler saw: the sequence numbers (the first 8 digits of
// each payload) in order.
class BlockLog {
 public:
  void Record(absl::string_view payload) {
    int seq = -1;
    absl::MutexLock lock(&mu_);
    if (payload.size() < 8 || !absl::SimpleAtoi(payload.substr(0, 8), &seq) ||
        seq != static_cast<int>(seqs_.size())) {
      ++violations_;
    }
    seqs_.push_back(seq);
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return seqs_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kTimeout);
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return seqs_.size();
  }
  int violations() {
    absl::MutexLock lock(&mu_);
    return violations_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int> seqs_ ABSL_GUARDED_BY(mu_);
  int violations_ ABSL_GUARDED_BY(mu_) = 0;
};

// The parameter: handler_threads (0 inline, 2 a pool).
class AdversarialTest : public ::testing::TestWithParam<int> {
 protected:
  // Starts the server with `options` (io_threads 2, handler_threads from the
  // parameter) and the control connection, which has echoed a few messages
  // when this returns.
  void Start(ServerOptions options = ServerOptions()) {
    options.io_threads = 2;
    options.handler_threads = GetParam();
    server_ = std::make_unique<testing::MessageServer>(options);
    Registry& registry = server_->registry();
    ASSERT_TRUE(
        registry
            .Register<test::Chat>(
                [](Context& ctx, const test::Chat& c) { (void)ctx.Reply(c); })
            .ok());
    ASSERT_TRUE(testing::RegisterRawEcho(registry, kEcho).ok());
    ASSERT_TRUE(testing::RegisterRawThrow(registry, kThrow).ok());
    ASSERT_TRUE(registry
                    .RegisterRaw(kBlock,
                                 [this](Context&, absl::string_view p) {
                                   release_.WaitForNotificationWithTimeout(
                                       kTimeout);
                                   blocked_.Record(p);
                                 })
                    .ok());
    ASSERT_TRUE(server_
                    ->Start({.on_high_water_mark =
                                 [this](Connection& c, size_t) {
                                   high_water_.Record(c.id());
                                 }})
                    .ok());
    control_ = std::make_unique<testing::GoodClient>(0, server_->address());
    ASSERT_TRUE(control_->Begin().ok());
    ASSERT_TRUE(control_->WaitForReceived(20)) << control_->failure();
    control_conn_ = tracker().WaitForConnection(0);
    ASSERT_NE(control_conn_, nullptr);
  }

  void TearDown() override {
    if (!release_.HasBeenNotified()) release_.Notify();
    control_.reset();
    if (server_ != nullptr) {
      server_->Stop();
      EXPECT_TRUE(tracker().CheckBalanced());
    }
  }

  Server& server() { return server_->server(); }
  testing::ConnectionTracker& tracker() { return server_->tracker(); }

  // An attacker connected from `options.bind` (default: 127.0.0.1), and its
  // connection on the server.
  ConnectionPtr ConnectAttacker(TestPeer* peer,
                                const TestPeer::Options& options = {}) {
    absl::StatusOr<TestPeer> p = TestPeer::Connect(server_->address(), options);
    EXPECT_TRUE(p.ok()) << p.status();
    if (!p.ok()) return nullptr;
    *peer = *std::move(p);
    return tracker().WaitForPeer(peer->local_address());
  }

  // `connection` closed (the `n`-th close the server settled) with `code`,
  // reported once to OnError when not OK.
  void ExpectClosedWith(const ConnectionPtr& connection, size_t n,
                        absl::StatusCode code) {
    ASSERT_TRUE(tracker().WaitForSettled(n));
    const testing::ConnectionTracker::Record record =
        tracker().Get(connection->id());
    EXPECT_EQ(record.closes, 1);
    EXPECT_EQ(record.close_reason.code(), code) << record.close_reason;
    if (code != absl::StatusCode::kOk) {
      ASSERT_EQ(record.errors.size(), 1u);
      EXPECT_EQ(record.errors[0].code(), code) << record.errors[0];
    }
  }

  // The message of the first error reported for `connection`; "" if none.
  std::string FirstError(const ConnectionPtr& connection) {
    const testing::ConnectionTracker::Record record =
        tracker().Get(connection->id());
    return record.errors.empty() ? std::string()
                                 : std::string(record.errors[0].message());
  }

  // The control echoes `n` more messages.
  void ExpectControlProgress(int64_t n = 20) {
    const int64_t now = control_->received();
    ASSERT_TRUE(control_->WaitForReceived(now + n)) << control_->failure();
  }

  // After the attack: the control still echoes, then gets every reply it
  // asked for, and saw no error on either side.
  void ExpectControlUndisturbed() {
    ExpectControlProgress();
    EXPECT_TRUE(control_->Finish()) << control_->failure();
    EXPECT_EQ(control_->failure(), "");
    EXPECT_EQ(control_->tracker().errors(), 0u);
    EXPECT_EQ(control_->tracker().closes(), 0u);
    EXPECT_TRUE(control_conn_->connected());
    const testing::ConnectionTracker::Record record =
        tracker().Get(control_conn_->id());
    EXPECT_TRUE(record.errors.empty()) << record.errors.front();
    EXPECT_EQ(record.closes, 0);
  }

  // The end of a case whose one attacker, `c`, was closed with `code` and
  // counted (closed_with_error, and `bad_frames` and `handler_exceptions`):
  // a new client is served and the control was not disturbed.
  void ExpectOnlyTheAttackerClosed(const ConnectionPtr& c,
                                   absl::StatusCode code, uint64_t bad_frames,
                                   uint64_t handler_exceptions = 0) {
    ExpectClosedWith(c, 1, code);
    const ServerStats stats = server().stats();
    EXPECT_EQ(stats.closed_with_error, 1u);
    EXPECT_EQ(stats.bad_frames, bad_frames);
    EXPECT_EQ(stats.handler_exceptions, handler_exceptions);
    EXPECT_EQ(stats.connections, 1u);  // the control
    ExpectNewClientServed();
    ExpectControlUndisturbed();
  }

  // Opens `n` connections from `from`, one after the other, into `flood`:
  // the first `admitted` are admitted (in order of arrival), the rest
  // refused (closed by the server at once).
  void Flood(size_t n, size_t admitted, const TestPeer::Options& from,
             std::vector<TestPeer>* flood) {
    const size_t connects = tracker().connects();
    for (size_t i = 0; i < n; ++i) {
      absl::StatusOr<TestPeer> peer =
          TestPeer::Connect(server_->address(), from);
      ASSERT_TRUE(peer.ok()) << i << ": " << peer.status();
      if (i < admitted) {
        ASSERT_TRUE(tracker().WaitForConnects(connects + i + 1)) << i;
      } else {
        ASSERT_TRUE(peer->WaitClosed().ok()) << i;  // refused
      }
      flood->push_back(*std::move(peer));
    }
  }

  // A new client (from 127.0.0.1) is admitted and served.
  void ExpectNewClientServed(absl::string_view text = "newcomer") {
    absl::StatusOr<TestPeer> peer = server_->Connect();
    ASSERT_TRUE(peer.ok()) << peer.status();
    const std::string frame = EchoFrame(text);
    ASSERT_TRUE(peer->WriteAll(frame).ok());
    absl::StatusOr<std::string> got = peer->ReadExactly(frame.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, frame);
  }

  absl::Notification release_;  // outlives server_ (kBlock handlers wait)
  BlockLog blocked_;
  HighWaterLog high_water_;
  std::unique_ptr<testing::MessageServer> server_;
  std::unique_ptr<testing::GoodClient> control_;
  ConnectionPtr control_conn_;  // the control on the server
};

std::string ThreadsName(const ::testing::TestParamInfo<int>& info) {
  return info.param == 0 ? "Inline" : absl::StrCat("Pool", info.param);
}

// --- Bad input -------------------------------------------------------------

// 1. A length prefix beyond the codec's maximum: rejected from the header.
TEST_P(AdversarialTest, OversizedLengthPrefixIsClosedAsABadFrame) {
  ASSERT_NO_FATAL_FAILURE(Start());
  TestPeer attacker;
  ConnectionPtr c = ConnectAttacker(&attacker);
  ASSERT_NE(c, nullptr);
  const uint32_t too_long = TlvCodec::kDefaultMaxPayload + 1;
  ASSERT_TRUE(attacker.WriteAll(Header(kEcho, too_long) + "x").ok());
  EXPECT_TRUE(attacker.WaitClosed().ok());
  ExpectOnlyTheAttackerClosed(c, absl::StatusCode::kInvalidArgument, 1);
}

// 2. Garbage: an HTTP request and random bytes read as absurd lengths.
TEST_P(AdversarialTest, GarbageIsClosedAsABadFrame) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::vector<std::string> garbage = {
      "GET / HTTP/1.1\r\nHost: tao\r\n\r\n",
      // Bytes 4..7 (the length) have their top bit set: far above 8 MiB.
      Header(0x5a5a5a5a, 0xdeadbeef) + testing::RandomBytes(4096, 12)};
  size_t closes = 0;
  for (const std::string& bytes : garbage) {
    TestPeer attacker;
    ConnectionPtr c = ConnectAttacker(&attacker);
    ASSERT_NE(c, nullptr);
    ASSERT_TRUE(attacker.WriteAll(bytes).ok());
    EXPECT_TRUE(attacker.WaitClosed().ok());
    ExpectClosedWith(c, ++closes, absl::StatusCode::kInvalidArgument);
    ExpectControlProgress();
  }
  const ServerStats stats = server().stats();
  EXPECT_EQ(stats.bad_frames, garbage.size());
  EXPECT_EQ(stats.closed_with_error, garbage.size());
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 3. Two whole frames and half a frame, then FIN: the whole ones are
// answered, then the server closes with DATA_LOSS naming the truncation
// (counted in truncated_frames); the half frame is never handled.
TEST_P(AdversarialTest, TruncatedFrameThenFinIsAnsweredThenCountedAsDataLoss) {
  ASSERT_NO_FATAL_FAILURE(Start());
  TestPeer attacker;
  ConnectionPtr c = ConnectAttacker(&attacker);
  ASSERT_NE(c, nullptr);
  const std::string whole = EchoFrame("one") + EchoFrame("two");
  ASSERT_TRUE(attacker.WriteAll(whole + HalfAFrame()).ok());
  ASSERT_TRUE(attacker.ShutdownWrite().ok());
  absl::StatusOr<std::string> got = attacker.ReadUntilEof();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, whole) << "the whole frames were not answered in full";
  ExpectClosedWith(c, 1, absl::StatusCode::kDataLoss);
  EXPECT_THAT(FirstError(c),
              ::testing::HasSubstr("closed its side in the middle of a tlv "
                                   "frame (504 bytes of it received)"));
  const ServerStats stats = server().stats();
  EXPECT_EQ(stats.truncated_frames, 1u);
  EXPECT_EQ(stats.bad_frames, 0u);
  EXPECT_EQ(stats.closed_with_error, 1u);
  EXPECT_EQ(stats.connections, 1u);  // the control
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 4. Half a frame, then a reset (SO_LINGER 0).
TEST_P(AdversarialTest, ResetMidFrameIsClosedWithAnError) {
  ASSERT_NO_FATAL_FAILURE(Start());
  TestPeer attacker;
  ConnectionPtr c = ConnectAttacker(&attacker);
  ASSERT_NE(c, nullptr);
  const std::string half = HalfAFrame();
  ASSERT_TRUE(attacker.WriteAll(half).ok());
  // The server has read the half frame (it waits for the rest).
  ASSERT_TRUE(WaitForStats(server(), [&](const ServerStats&) {
    return c->bytes_read() == half.size();
  }));
  ASSERT_TRUE(attacker.SetLingerZero().ok());
  attacker.Close();
  ExpectOnlyTheAttackerClosed(c, absl::StatusCode::kUnavailable, 0);
}

// 5. 100,000 frames of a type nothing handles: each skipped and counted,
// the connection stays up, and they are not logged line by line.
TEST_P(AdversarialTest, UnknownTypeFloodIsSkippedCountedAndNotLogged) {
  constexpr size_t kFrames = 100'000;
  ASSERT_NO_FATAL_FAILURE(Start());
  testing::LogCapture log;
  TestPeer attacker;
  ConnectionPtr c = ConnectAttacker(&attacker);
  ASSERT_NE(c, nullptr);
  std::string flood;
  flood.reserve(kFrames * 8);
  for (size_t i = 0; i < kFrames; ++i) flood += TlvFrame(kUnknown, "");
  const std::string after = EchoFrame("still here");
  ASSERT_TRUE(attacker.WriteAll(flood + after).ok());
  // Its next request is answered: every unknown frame before it was skipped.
  absl::StatusOr<std::string> got = attacker.ReadExactly(after.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, after);
  ExpectControlProgress();
  const ServerStats stats = server().stats();
  EXPECT_EQ(stats.unknown_types, kFrames);
  EXPECT_EQ(stats.closed_with_error, 0u);
  EXPECT_TRUE(c->connected());
  // Each was reported to OnError (NOT_FOUND), none logged.
  ASSERT_TRUE(tracker().WaitForErrors(kFrames));
  const testing::ConnectionTracker::Record record = tracker().Get(c->id());
  ASSERT_EQ(record.errors.size(), kFrames);
  EXPECT_TRUE(absl::IsNotFound(record.errors.back())) << record.errors.back();
  EXPECT_LE(log.lines(), static_cast<size_t>(kLogRateBurst));
  std::printf("%zu unknown frames: %zu log lines\n", kFrames, log.lines());
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 6. A handler that throws closes only its own connection.
TEST_P(AdversarialTest, ThrowingHandlerClosesOnlyItsConnection) {
  ASSERT_NO_FATAL_FAILURE(Start());
  TestPeer attacker;
  ConnectionPtr c = ConnectAttacker(&attacker);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(
      attacker.WriteAll(TlvFrame(kThrow, "boom") + EchoFrame("never")).ok());
  absl::StatusOr<std::string> got = attacker.ReadUntilEof();
  EXPECT_TRUE(!got.ok() || got->empty()) << "answered after the throw";
  ExpectOnlyTheAttackerClosed(c, absl::StatusCode::kInternal, 0,
                              /*handler_exceptions=*/1);
  EXPECT_TRUE(absl::StrContains(FirstError(c), "boom")) << FirstError(c);
}

// --- Output -------------------------------------------------------------

// 7. A peer pipelines echo requests and never reads; once its queued
// output fills most of the server-wide budget, a healthy client echoing
// large payloads needs the rest: the non-reader, which holds the most, is
// closed (closed_over_budget), never the healthy client.
TEST_P(AdversarialTest, NonReaderIsClosedForTheBudgetNotTheHealthyClient) {
  // The non-reader stops at the high water mark (4 MiB, the default); a
  // healthy echo of kLarge then does not fit in the budget, and the
  // non-reader holds more than kLarge.
  constexpr size_t kBudget = 7 << 20;
  constexpr size_t kLarge = 3 << 20;
  constexpr size_t kPayload = 16 << 10;
  ServerOptions options;
  options.max_total_output_bytes = kBudget;
  ASSERT_NO_FATAL_FAILURE(Start(options));

  TestPeer healthy;
  ConnectionPtr healthy_conn = ConnectAttacker(&healthy);
  ASSERT_NE(healthy_conn, nullptr);
  const std::string large = EchoFrame(testing::RandomBytes(kLarge, 7));
  absl::StatusOr<std::string> echoed = healthy.Exchange(large, large.size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  ASSERT_TRUE(*echoed == large);

  TestPeer hog;
  ConnectionPtr hog_conn = ConnectAttacker(&hog, SmallBuffers());
  ASSERT_NE(hog_conn, nullptr);
  const std::string request = EchoFrame(testing::RandomBytes(kPayload, 8));
  // One request at a time, each echoed (queued or in the kernel) before the
  // next is written: the hog then stops within one echo of the high water
  // mark. Unpaced, the requests the server had already read when the mark
  // was crossed (a worker backlog under load) grew its output to the whole
  // budget, and it was closed for its own send before the healthy echo.
  uint64_t requests = 0;
  while (!high_water_.Has(hog_conn->id())) {
    ASSERT_LT(requests, uint64_t{1024}) << "never reached high water";
    for (size_t offset = 0; offset < request.size();) {
      absl::StatusOr<size_t> n =
          hog.WriteSome(absl::string_view(request).substr(offset));
      ASSERT_TRUE(n.ok()) << n.status();
      offset += *n;
      if (*n == 0) hog.WaitWritable(absl::Milliseconds(10));
    }
    ++requests;
    const uint64_t echoed_bytes = requests * request.size();
    ASSERT_TRUE(WaitFor([&] {
      return hog_conn->bytes_written() + hog_conn->queued_output_bytes() ==
             echoed_bytes;
    })) << "request "
        << requests << " not echoed: " << hog_conn->bytes_written() << " + "
        << hog_conn->queued_output_bytes() << " of " << echoed_bytes;
  }
  ExpectControlProgress();
  EXPECT_TRUE(hog_conn->connected()) << "closed before the healthy echo";
  EXPECT_LE(server().stats().queued_output_bytes, kBudget);

  const size_t hog_queued = hog_conn->queued_output_bytes();
  echoed = healthy.Exchange(large, large.size());
  ASSERT_TRUE(echoed.ok()) << echoed.status() << "; the healthy client: "
                           << FirstError(healthy_conn) << "; the hog held "
                           << hog_queued << " bytes, now "
                           << hog_conn->queued_output_bytes() << ", "
                           << (hog_conn->connected() ? "open" : "closed");
  EXPECT_TRUE(*echoed == large);
  EXPECT_TRUE(hog.WaitClosed().ok());
  ExpectClosedWith(hog_conn, 1, absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(FirstError(hog_conn), "holds the most"))
      << FirstError(hog_conn);
  EXPECT_EQ(server().stats().closed_over_budget, 1u);
  // The healthy client goes on echoing large payloads.
  echoed = healthy.Exchange(large, large.size());
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_TRUE(*echoed == large);
  EXPECT_TRUE(healthy_conn->connected());
  EXPECT_TRUE(tracker().Get(healthy_conn->id()).errors.empty());
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 8. A broadcast of a large frame to many peers that do not read, with a
// budget smaller than frame x peers: charged once, every one accepts it.
TEST_P(AdversarialTest, LargeBroadcastToNonReadersIsChargedOnce) {
  constexpr size_t kBudget = 4 << 20;
  constexpr size_t kFrame = 1 << 20;
  const int kPeers =
      testing::kTsan ? 8 : 16;  // 8 or 16 MiB if charged per peer
  ServerOptions options;
  options.max_total_output_bytes = kBudget;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  std::vector<TestPeer> peers(kPeers);
  for (TestPeer& peer : peers)
    ASSERT_NE(ConnectAttacker(&peer, SmallBuffers()), nullptr);

  const std::string payload = testing::RandomBytes(kFrame, 9);
  absl::StatusOr<size_t> reached = server().BroadcastRaw(kEcho, payload);
  ASSERT_TRUE(reached.ok()) << reached.status();
  EXPECT_EQ(*reached, static_cast<size_t>(kPeers) + 1);  // + the control
  EXPECT_LE(server().stats().queued_output_bytes, kBudget);
  const std::string frame = EchoFrame(payload);
  for (TestPeer& peer : peers) {
    absl::StatusOr<std::string> got = peer.ReadExactly(frame.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == frame);
  }
  EXPECT_EQ(server().stats().closed_over_budget, 0u);
  EXPECT_EQ(tracker().errors(), 0u);
  EXPECT_EQ(server().connection_count(), static_cast<size_t>(kPeers) + 1);
  ExpectControlProgress();
  EXPECT_EQ(control_->others(), 1);  // the control got the broadcast too
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 13. A peer that pipelines echo requests and never reads, under
// kPauseReading: the server stops reading from it above the high water
// mark, its queued output stays under the cap; it gets every echo once it
// reads.
TEST_P(AdversarialTest, SlowReaderIsPausedAndItsMemoryBounded) {
  ServerOptions options;
  options.connection.overflow_policy = OverflowPolicy::kPauseReading;
  options.connection.high_water_mark = 256 << 10;
  options.connection.low_water_mark = 64 << 10;
  options.connection.max_output_bytes = 4 << 20;
  const size_t kLow = options.connection.low_water_mark;
  const size_t kCap = options.connection.max_output_bytes;
  constexpr size_t kPayload = 16 << 10;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  TestPeer slow;
  ConnectionPtr c = ConnectAttacker(&slow, SmallBuffers());
  ASSERT_NE(c, nullptr);

  // Frame i carries testing::Pattern bytes [i * kPayload, (i + 1) * kPayload);
  // its echo is the same bytes.
  auto frame = [&](uint64_t i) {
    return EchoFrame(testing::Pattern(i * kPayload, kPayload));
  };
  uint64_t frames = 0;  // begun
  std::string current;
  size_t offset = 0;  // into current
  // Writes until our socket is full.
  auto fill = [&]() -> absl::Status {
    for (;;) {
      if (offset == current.size()) {
        if (frames >= 16384) return absl::InternalError("never paused");
        current = frame(frames++);
        offset = 0;
      }
      absl::StatusOr<size_t> n =
          slow.WriteSome(absl::string_view(current).substr(offset));
      if (!n.ok()) return n.status();
      if (*n == 0) return absl::OkStatus();
      offset += *n;
    }
  };
  // Until the server stops reading: above high water, our writes stay
  // blocked and nothing more is read while the control makes 50 round trips.
  // (Paused means above the low water mark: the kernel may still take some
  // of our output, and reading resumes at the low water mark.)
  for (int round = 0;; ++round) {
    ASSERT_LT(round, 100) << "reading never stayed paused: "
                          << c->queued_output_bytes() << " queued, "
                          << c->bytes_read() << " read";
    absl::Status filled = fill();
    ASSERT_TRUE(filled.ok()) << filled;
    const uint64_t read = c->bytes_read();
    ExpectControlProgress(50);
    if (high_water_.Has(c->id()) && c->bytes_read() == read &&
        !slow.WaitWritable(absl::ZeroDuration()) &&
        c->queued_output_bytes() > kLow) {
      break;
    }
  }
  EXPECT_TRUE(c->connected());
  EXPECT_LE(c->queued_output_bytes(), kCap);
  EXPECT_LE(server().stats().queued_output_bytes, kCap + (1 << 20));
  std::printf("paused: %llu bytes read, %zu queued\n",
              static_cast<unsigned long long>(c->bytes_read()),
              c->queued_output_bytes());

  // Reading: every echo arrives, byte-exact, and reading resumes.
  absl::StatusOr<std::string> echoed = slow.Exchange(
      absl::string_view(current).substr(offset), frames * (kPayload + 8));
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  bool all_match = true;
  for (uint64_t i = 0; i < frames && all_match; ++i) {
    all_match = absl::string_view(*echoed).substr(i * (kPayload + 8),
                                                  kPayload + 8) == frame(i);
  }
  EXPECT_TRUE(all_match) << "an echo differs";
  const std::string more = EchoFrame("resumed");
  ASSERT_TRUE(slow.WriteAll(more).ok());
  absl::StatusOr<std::string> got = slow.ReadExactly(more.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, more);
  EXPECT_TRUE(c->connected());
  EXPECT_EQ(tracker().errors(), 0u);
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// --- Requests and closes ---------------------------------------------------

// 10. Requests each followed by a half-close: every one answered, none
// handled after its connection could no longer reply.
TEST_P(AdversarialTest, RequestsThenHalfCloseAreAllAnswered) {
  const int kPeers = testing::kTsan ? 30 : 100;
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<TestPeer> peers(kPeers);
  for (int i = 0; i < kPeers; ++i) {
    ASSERT_NE(ConnectAttacker(&peers[i]), nullptr);
    ASSERT_TRUE(peers[i].WriteAll(EchoFrame(absl::StrCat("request ", i))).ok());
    ASSERT_TRUE(peers[i].ShutdownWrite().ok());
  }
  int answered = 0;
  for (int i = 0; i < kPeers; ++i) {
    absl::StatusOr<std::string> got = peers[i].ReadUntilEof();
    ASSERT_TRUE(got.ok()) << got.status();
    if (*got == EchoFrame(absl::StrCat("request ", i))) ++answered;
  }
  EXPECT_EQ(answered, kPeers);
  ASSERT_TRUE(tracker().WaitForSettled(kPeers));
  EXPECT_EQ(tracker().errors(), 0u);
  EXPECT_EQ(server().stats().handled_after_close, 0u);
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// --- Connection floods -----------------------------------------------------

// 127.0.0.2 as the attacker's source address (all of 127/8 is loopback on
// Linux); unset when it cannot be bound here.
TestPeer::Options FromSecondAddress() {
  TestPeer::Options options;
  options.bind = *InetAddress::Parse("127.0.0.2:0");
  return options;
}

bool SecondAddressUsable(const InetAddress& server) {
  return TestPeer::Connect(server, FromSecondAddress()).ok();
}

// 11a. Connections beyond max_connections (scaled down to 50) are refused
// and counted, without a log line each; the control keeps its slot.
TEST_P(AdversarialTest, ConnectionFloodBeyondMaxConnectionsIsRefused) {
  constexpr size_t kMax = 50;
  ServerOptions options;
  options.max_connections = kMax;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  const size_t kFlood = testing::kTsan ? 150 : 400;
  testing::LogCapture log;
  std::vector<TestPeer> flood;
  // The control holds one slot.
  ASSERT_NO_FATAL_FAILURE(Flood(kFlood, kMax - 1, {}, &flood));
  ExpectControlProgress();
  ServerStats stats = server().stats();
  EXPECT_EQ(stats.refused_max_connections, kFlood - (kMax - 1));
  EXPECT_EQ(stats.connections, kMax);
  EXPECT_EQ(stats.evicted_idle, 0u);
  EXPECT_LE(log.lines(), static_cast<size_t>(kLogRateBurst));
  std::printf("%zu refusals: %zu log lines\n", stats.refused_max_connections,
              log.lines());
  // Once the flood's admitted connections leave, new clients get in.
  flood.clear();
  ASSERT_TRUE(tracker().WaitForSettled(kMax - 1));
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 11b. An address beyond max_connections_per_ip (scaled down to 10) is
// refused; clients from another address are not affected, even while it
// holds its quota.
TEST_P(AdversarialTest, ConnectionFloodFromOneAddressIsRefusedPerIp) {
  constexpr size_t kPerIp = 10;
  const size_t kFlood = testing::kTsan ? 100 : 300;
  ServerOptions options;
  options.max_connections_per_ip = kPerIp;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  if (!SecondAddressUsable(server_->address())) {
    GTEST_SKIP() << "127.0.0.2 cannot be bound here";
  }
  ASSERT_TRUE(tracker().WaitForSettled(1));  // the probe
  testing::LogCapture log;
  std::vector<TestPeer> flood;
  ASSERT_NO_FATAL_FAILURE(Flood(kFlood, kPerIp, FromSecondAddress(), &flood));
  const ServerStats stats = server().stats();
  EXPECT_EQ(stats.refused_per_ip, kFlood - kPerIp);
  EXPECT_EQ(stats.refused_max_connections, 0u);
  EXPECT_LE(log.lines(), static_cast<size_t>(kLogRateBurst));
  std::printf("%zu refusals per ip: %zu log lines\n", stats.refused_per_ip,
              log.lines());
  // 127.0.0.1 is served while 127.0.0.2 holds its quota.
  ExpectNewClientServed();
  ExpectControlUndisturbed();
}

// 12. Idle connections fill max_connections: a newcomer takes the place of
// the one idle longest (evict_idle_after scaled down), not the active
// control.
TEST_P(AdversarialTest, IdleConnectionsGiveWayToANewcomer) {
  constexpr size_t kMax = 20;
  ServerOptions options;
  options.max_connections = kMax;
  options.evict_idle_after = absl::Nanoseconds(1);
  ASSERT_NO_FATAL_FAILURE(Start(options));
  std::vector<TestPeer> idle(kMax - 1);
  std::vector<ConnectionPtr> idle_conns;
  for (TestPeer& peer : idle) {
    idle_conns.push_back(ConnectAttacker(&peer));
    ASSERT_NE(idle_conns.back(), nullptr);
  }
  ASSERT_EQ(server().connection_count(), kMax);
  // The control echoes on: its last activity is after every idle one's
  // (on a loaded machine its thread may otherwise lag behind them).
  ASSERT_TRUE(control_->WaitForReceived(control_->received() + 20))
      << control_->failure();
  ExpectNewClientServed();
  // Settled: the eviction and the newcomer's own close. Which idle
  // connection was idle longest depends on the two loops' clocks (each
  // caches its time per wake-up), not on the order they connected: find
  // the one that went; every other one stays.
  ASSERT_TRUE(tracker().WaitForCloses(2));
  size_t evicted = idle_conns.size();
  for (size_t i = 0; i < idle_conns.size(); ++i) {
    if (idle_conns[i]->connected()) continue;
    EXPECT_EQ(evicted, idle_conns.size()) << "a second eviction: " << i;
    evicted = i;
  }
  ASSERT_LT(evicted, idle_conns.size());
  EXPECT_TRUE(idle[evicted].WaitClosed().ok());
  ExpectClosedWith(idle_conns[evicted], 2, absl::StatusCode::kUnavailable);
  const ServerStats stats = server().stats();
  EXPECT_EQ(stats.evicted_idle, 1u);
  EXPECT_EQ(stats.refused_max_connections, 0u);
  ExpectControlUndisturbed();
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, AdversarialTest,
                         ::testing::Values(0, 2), ThreadsName);

// --- A blocked handler (worker pool only) -----------------------------------

// 9. Big frames at a handler that blocks: the pool's backlog stays within
// the byte bound (plus one frame), reading pauses, and nothing is lost once
// the handler is released. Per connection, the control on the other worker
// is not held up; at the endpoint-wide bound every connection waits (that
// is the bound), and the control gets every reply after the release.
class BlockedHandlerTest : public AdversarialTest {
 protected:
  void Run(bool per_connection) {
    constexpr size_t kPayload = 64 << 10;
    constexpr size_t kBound = 512 << 10;
    const int kFrames = testing::kTsan ? 40 : 100;  // 2.5 or 6.4 MiB
    ServerOptions options;
    (per_connection ? options.max_queued_bytes
                    : options.max_total_queued_bytes) = kBound;
    ASSERT_NO_FATAL_FAILURE(Start(options));
    std::string stream;
    for (int seq = 0; seq < kFrames; ++seq) {
      stream += TlvFrame(kBlock, absl::StrCat(absl::Dec(seq, absl::kZeroPad8)) +
                                     std::string(kPayload - 8, 'b'));
    }
    TestPeer attacker;
    ConnectionPtr c = ConnectAttacker(&attacker);
    ASSERT_NE(c, nullptr);
    absl::Status written;
    std::thread writer([&] { written = attacker.WriteAll(stream); });
    const bool paused = WaitForStats(server(), [](const ServerStats& s) {
      return s.queue_full_pauses >= 1;
    });
    if (paused && per_connection) ExpectControlProgress();
    const ServerStats blocked = server().stats();
    release_.Notify();
    writer.join();
    ASSERT_TRUE(paused) << "decoding never stopped";
    ASSERT_TRUE(written.ok()) << written;
    // The queue, plus the frame that crossed the bound, plus the one running.
    EXPECT_LE(blocked.peak_queued_bytes, kBound + 2 * kPayload);
    // Frames decoded: the attacker's up to the bound, and the control's.
    EXPECT_LE(blocked.messages, control_->received() +
                                    testing::GoodClient::kWindow +
                                    kBound / kPayload + 2);
    ASSERT_TRUE(blocked_.WaitFor(kFrames));
    EXPECT_EQ(blocked_.size(), static_cast<size_t>(kFrames));
    EXPECT_EQ(blocked_.violations(), 0) << "lost or reordered";
    EXPECT_LE(server().stats().peak_queued_bytes, kBound + 2 * kPayload);
    EXPECT_TRUE(c->connected());
    EXPECT_EQ(tracker().errors(), 0u);
    ExpectNewClientServed();
    ExpectControlUndisturbed();
  }
};

TEST_P(BlockedHandlerTest, BacklogStaysWithinThePerConnectionBound) {
  Run(/*per_connection=*/true);
}

TEST_P(BlockedHandlerTest, BacklogStaysWithinTheEndpointBound) {
  Run(/*per_connection=*/false);
}

INSTANTIATE_TEST_SUITE_P(Pool, BlockedHandlerTest, ::testing::Values(2),
                         ThreadsName);

}  // namespace
}  // namespace tao
