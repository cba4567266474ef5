// End-to-end tests of the dispatcher over loopback sockets: per-connection
// order on the worker pool and inline, handlers on many workers at once,
// causal order of sends from different threads, the queue-full policy (pause
// reading, and a reset while paused), registration errors, unknown types,
// the catch-all handler, bad input isolated to its connection, and resets
// reported as errors.
//
// Raw TestPeers play the remote side byte for byte; frames are written with
// the TLV codec (tested byte-exactly in //codec). Nothing sleeps to
// synchronize: every wait is a Mutex condition or a Notification with
// tao::testing::kTimeout. Workloads shrink under TSan (kTsan).
#include "tao/message/dispatcher.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "codec/codec.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "gtest/gtest.h"
#include "tao/base/logging.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/heartbeat.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"
#include "tao/testing/good_client.h"
#include "tao/testing/log_capture.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::Callbacks;
using ::tao::testing::ConnectionTracker;
using ::tao::testing::GoodClient;
using ::tao::testing::kTimeout;
using ::tao::testing::kTsan;
using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kChatType = 1;
constexpr int32_t kNumbersType = 2;

std::string ChatFrame(absl::string_view text) {
  test::Chat chat;
  chat.set_text(std::string(text));
  return TlvFrame(kChatType, chat.SerializeAsString());
}

std::string NumbersFrame(int64_t seq) {
  test::Numbers numbers;
  numbers.add_values(seq);
  return TlvFrame(kNumbersType, numbers.SerializeAsString());
}

// Registers a test::Chat handler that replies with the message it got.
absl::Status RegisterChatEcho(Registry& registry) {
  return registry.Register<test::Chat>(
      [](Context& ctx, const test::Chat& c) { (void)ctx.Reply(c); });
}

// Notifies `n` (if not yet) when it goes out of scope, so that a failed
// ASSERT never leaves a handler or a loop waiting on it. Declare it after
// the server, so that it runs before the server is stopped.
class NotifyOnExit {
 public:
  explicit NotifyOnExit(absl::Notification& n) : n_(n) {}
  ~NotifyOnExit() {
    if (!n_.HasBeenNotified()) n_.Notify();
  }
  NotifyOnExit(const NotifyOnExit&) = delete;
  NotifyOnExit& operator=(const NotifyOnExit&) = delete;

 private:
  absl::Notification& n_;
};

// Records (net id, sequence number) per connection as handlers see them,
// plus the threads handlers ran on and any handler calls of one connection
// that overlapped.
class SequenceLog {
 public:
  // Call at the start and the end of a handler.
  void Enter(uint64_t net_id) {
    absl::MutexLock lock(&mu_);
    if (!running_.insert(net_id).second) {
      violations_.push_back(
          absl::StrCat("two handlers of connection ", net_id, " at once"));
    }
  }
  void Exit(uint64_t net_id) {
    absl::MutexLock lock(&mu_);
    running_.erase(net_id);
  }

  void Record(uint64_t net_id, int64_t seq) {
    absl::MutexLock lock(&mu_);
    by_connection_[net_id].push_back(seq);
    threads_.insert(std::this_thread::get_id());
    ++total_;
  }

  void Violation(std::string what) {
    absl::MutexLock lock(&mu_);
    violations_.push_back(std::move(what));
  }

  bool WaitForTotal(size_t n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return total_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kTimeout);
  }

  size_t total() {
    absl::MutexLock lock(&mu_);
    return total_;
  }

  size_t thread_count() {
    absl::MutexLock lock(&mu_);
    return threads_.size();
  }

  // Success when there are `connections` connections, each of which saw
  // exactly 0, 1, ..., per_connection - 1 in that order, and no handler
  // calls of one connection overlapped.
  ::testing::AssertionResult CheckComplete(size_t connections,
                                           int64_t per_connection) {
    absl::MutexLock lock(&mu_);
    if (!violations_.empty()) {
      return ::testing::AssertionFailure() << violations_.front();
    }
    if (by_connection_.size() != connections) {
      return ::testing::AssertionFailure()
             << by_connection_.size() << " connections, want " << connections;
    }
    for (const auto& [id, seqs] : by_connection_) {
      if (static_cast<int64_t>(seqs.size()) != per_connection) {
        return ::testing::AssertionFailure()
               << "connection " << id << " handled " << seqs.size()
               << " messages, want " << per_connection;
      }
      for (size_t i = 0; i < seqs.size(); ++i) {
        if (seqs[i] != static_cast<int64_t>(i)) {
          return ::testing::AssertionFailure()
                 << "connection " << id << ": message " << i << " was seq "
                 << seqs[i];
        }
      }
    }
    return ::testing::AssertionSuccess();
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, std::vector<int64_t>> by_connection_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<uint64_t> running_ ABSL_GUARDED_BY(mu_);
  std::set<std::thread::id> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  size_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Opens `connections` peers and writes `per_connection` Numbers frames with
// sequence numbers 0.. to each (all of a peer's frames in one write).
void FloodNumbers(MessageServer& server, int connections,
                  int64_t per_connection, std::vector<TestPeer>* peers) {
  std::string frames;
  for (int64_t seq = 0; seq < per_connection; ++seq) {
    frames += NumbersFrame(seq);
  }
  for (int i = 0; i < connections; ++i) {
    absl::StatusOr<TestPeer> peer = server.Connect();
    ASSERT_TRUE(peer.ok()) << peer.status();
    peers->push_back(*std::move(peer));
  }
  // Written after every peer is connected, so the connections' messages
  // interleave on the workers.
  for (TestPeer& peer : *peers) {
    absl::Status written = peer.WriteAll(frames);
    ASSERT_TRUE(written.ok()) << written;
  }
}

// --- 1. Ordering per connection under load, on the worker pool -----------

TEST(DispatcherTest, WorkerPoolKeepsEachConnectionsOrderUnderLoad) {
  const int kConnections = kTsan ? 30 : 100;
  const int64_t kPerConnection = kTsan ? 200 : 500;
  SequenceLog log;
  ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 4;
  MessageServer server(options);
  ASSERT_TRUE(server.registry()
                  .Register<test::Numbers>(
                      [&log](Context& ctx, const test::Numbers& numbers) {
                        log.Enter(ctx.net_id());
                        if (ctx.connection().loop()->IsInLoopThread()) {
                          log.Violation("pool handler ran on the I/O loop");
                        }
                        if (numbers.values_size() != 1) {
                          log.Violation("bad Numbers payload");
                        } else {
                          log.Record(ctx.net_id(), numbers.values(0));
                        }
                        log.Exit(ctx.net_id());
                      })
                  .ok());
  ASSERT_TRUE(server.Start().ok());

  std::vector<TestPeer> peers;
  ASSERT_NO_FATAL_FAILURE(
      FloodNumbers(server, kConnections, kPerConnection, &peers));
  const size_t total = static_cast<size_t>(kConnections * kPerConnection);
  ASSERT_TRUE(log.WaitForTotal(total)) << log.total() << " of " << total;

  EXPECT_TRUE(log.CheckComplete(kConnections, kPerConnection));
  // The connections were spread over the workers, not run by one.
  EXPECT_GT(log.thread_count(), 1u);
  EXPECT_LE(log.thread_count(), 4u);
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.messages, total);
  EXPECT_EQ(stats.unknown_types, 0u);
  EXPECT_EQ(stats.bad_frames, 0u);
  EXPECT_EQ(stats.bad_payloads, 0u);
  EXPECT_EQ(server.tracker().errors(), 0u);
  // Peers close first: a graceful Stop waits (up to the linger time) for
  // the peers' FIN.
  peers.clear();
  server.Stop();
  EXPECT_TRUE(server.tracker().CheckBalanced());
}

// --- Handlers of different connections run on many workers at once -------

TEST(DispatcherTest, HandlersOfDifferentConnectionsRunOnManyWorkersAtOnce) {
  constexpr int kWorkers = 4;
  // Each handler waits until all kWorkers handlers are inside at the same
  // time: only possible if the pool runs them in parallel, one per worker.
  absl::Mutex mu;
  int inside = 0;
  std::set<std::thread::id> threads;
  int met = 0;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = kWorkers;
  MessageServer server(options);
  ASSERT_TRUE(
      server.registry()
          .Register<test::Chat>([&](Context&, const test::Chat&) {
            absl::MutexLock lock(&mu);
            ++inside;
            threads.insert(std::this_thread::get_id());
            auto all_inside = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
              return inside >= kWorkers;
            };
            if (mu.AwaitWithTimeout(absl::Condition(&all_inside), kTimeout)) {
              ++met;
            }
          })
          .ok());
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestPeer> peers;
  for (int i = 0; i < kWorkers; ++i) {
    absl::StatusOr<TestPeer> peer = server.Connect();
    ASSERT_TRUE(peer.ok()) << peer.status();
    ASSERT_TRUE(peer->WriteAll(ChatFrame(absl::StrCat("peer ", i))).ok());
    peers.push_back(*std::move(peer));
  }
  absl::MutexLock lock(&mu);
  auto all_done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return met >= kWorkers;
  };
  EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_done), kTimeout))
      << inside << " handlers inside at once, want " << kWorkers;
  EXPECT_EQ(threads.size(), static_cast<size_t>(kWorkers));
}

// --- 2. Inline mode: handlers on the I/O loop, order kept ----------------

TEST(DispatcherTest, InlineHandlersRunOnTheConnectionsLoopInOrder) {
  const int kConnections = kTsan ? 10 : 20;
  const int64_t kPerConnection = kTsan ? 200 : 500;
  SequenceLog log;
  ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 0;
  MessageServer server(options);
  ASSERT_TRUE(
      server.registry()
          .Register<test::Numbers>(
              [&log, &server](Context& ctx, const test::Numbers& numbers) {
                log.Enter(ctx.net_id());
                if (!ctx.connection().loop()->IsInLoopThread()) {
                  log.Violation(absl::StrCat("inline handler of connection ",
                                             ctx.net_id(),
                                             " ran off its I/O loop"));
                }
                if (&ctx.endpoint() !=
                    static_cast<const Endpoint*>(&server.server())) {
                  log.Violation(
                      "the context's endpoint is not the "
                      "server");
                }
                log.Record(ctx.net_id(), numbers.values(0));
                log.Exit(ctx.net_id());
              })
          .ok());
  ASSERT_TRUE(server.Start().ok());
  std::vector<TestPeer> peers;
  ASSERT_NO_FATAL_FAILURE(
      FloodNumbers(server, kConnections, kPerConnection, &peers));
  const size_t total = static_cast<size_t>(kConnections * kPerConnection);
  ASSERT_TRUE(log.WaitForTotal(total)) << log.total() << " of " << total;
  EXPECT_TRUE(log.CheckComplete(kConnections, kPerConnection));
  // Only the two I/O loop threads ran handlers.
  EXPECT_LE(log.thread_count(), 2u);
  EXPECT_EQ(server.server().stats().messages, total);
}

// Connection::Send is safe from any thread, and sends ordered by
// happens-before go out in that order: bytes the test thread handed to Send
// before an inline handler replies must not be overtaken by the reply.
TEST(DispatcherTest, SendFromAnotherThreadIsNotOvertakenByAnInlineReply) {
  absl::Notification holding;  // outlive the server: its loop uses them
  absl::Notification resume;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  MessageServer server(options);
  NotifyOnExit release_on_exit(resume);
  ASSERT_TRUE(server.registry()
                  .Register<test::Chat>([](Context& ctx, const test::Chat&) {
                    test::Chat reply;
                    reply.set_text("second: the inline reply");
                    (void)ctx.Reply(reply);
                  })
                  .ok());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);

  // Hold the connection's loop so that the request and the off-loop Send
  // are both waiting when it resumes.
  connection->loop()->QueueInLoop([&holding, &resume] {
    holding.Notify();
    resume.WaitForNotificationWithTimeout(kTimeout);
  });
  ASSERT_TRUE(holding.WaitForNotificationWithTimeout(kTimeout));
  ASSERT_TRUE(peer->WriteAll(ChatFrame("request")).ok());
  test::Chat first;
  first.set_text("first: sent by the test thread");
  // Before the request is read.
  ASSERT_TRUE(server.server().Send(*connection, first).ok());
  resume.Notify();

  test::Chat second;
  second.set_text("second: the inline reply");
  const std::string want = TlvFrame(kChatType, first.SerializeAsString()) +
                           TlvFrame(kChatType, second.SerializeAsString());
  absl::StatusOr<std::string> got = peer->ReadExactly(want.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want)
      << "the inline handler's reply overtook bytes that Send() had already "
         "accepted from another thread";
}

// --- 3. Queue-full policy: reading pauses, nothing is lost ----------------

// Writes `stream` until the socket stays full for a second (the server
// stopped reading); returns the bytes written. FAILED_PRECONDITION when all
// of it was taken: a server that did not pause reads (and queues)
// everything.
absl::StatusOr<size_t> WriteUntilStalled(TestPeer& peer,
                                         absl::string_view stream) {
  size_t offset = 0;
  while (offset < stream.size()) {
    absl::StatusOr<size_t> n = peer.WriteSome(stream.substr(offset));
    if (!n.ok()) return n.status();
    offset += *n;
    if (*n == 0 && !peer.WaitWritable(absl::Seconds(1))) return offset;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("all ", stream.size(),
                   " bytes were taken while the handler was blocked"));
}

TEST(DispatcherTest, FullHandlerQueuePausesReadingThenDeliversEverything) {
  constexpr int kMessages = 10000;
  constexpr size_t kMaxQueued = 8;
  // ~2 KiB frames: 10k of them (20 MB) are far more than the socket buffers
  // hold once the server stops reading.
  const std::string padding(2000, 'p');
  auto text = [&](int seq) { return absl::StrFormat("%08d", seq) + padding; };

  absl::Notification release;  // outlives the server (its handler waits)
  absl::Notification first_handler_entered;
  SequenceLog log;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 1;
  options.max_queued_messages = kMaxQueued;
  MessageServer server(options);
  NotifyOnExit release_on_exit(release);
  ASSERT_TRUE(
      server.registry()
          .Register<test::Chat>([&](Context& ctx, const test::Chat& chat) {
            if (!first_handler_entered.HasBeenNotified()) {
              first_handler_entered.Notify();
            }
            // Blocks the only worker until the test releases it.
            release.WaitForNotificationWithTimeout(kTimeout);
            int seq = -1;
            if (chat.text().size() < 8 ||
                !absl::SimpleAtoi(chat.text().substr(0, 8), &seq)) {
              log.Violation("bad text");
            }
            log.Record(ctx.net_id(), seq);
          })
          .ok());
  ASSERT_TRUE(server.Start().ok());

  std::string stream;
  for (int seq = 0; seq < kMessages; ++seq) stream += ChatFrame(text(seq));
  const size_t frame_size = stream.size() / kMessages;

  TestPeer::Options peer_options;
  peer_options.send_buffer = 64 << 10;
  absl::StatusOr<TestPeer> peer =
      TestPeer::Connect(server.address(), peer_options);
  ASSERT_TRUE(peer.ok()) << peer.status();
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);

  absl::StatusOr<size_t> offset = WriteUntilStalled(*peer, stream);
  ASSERT_TRUE(offset.ok()) << offset.status();
  ASSERT_TRUE(first_handler_entered.WaitForNotificationWithTimeout(kTimeout));

  // While blocked: decoding stopped at the frame that filled the queue (the
  // bound is checked per frame, not per read): the queue plus the one
  // running.
  const uint64_t decoded = server.server().stats().messages;
  EXPECT_LE(decoded, kMaxQueued + 1) << "frame size " << frame_size;
  EXPECT_LT(connection->bytes_read(), stream.size() / 4);
  EXPECT_EQ(log.total(), 0u);
  std::printf(
      "blocked handler: %llu of %d messages decoded, %llu of %zu "
      "bytes read by the server, %zu written by the peer\n",
      static_cast<unsigned long long>(decoded), kMessages,
      static_cast<unsigned long long>(connection->bytes_read()), stream.size(),
      *offset);

  // Release: reading resumes and every message arrives, in order.
  release.Notify();
  absl::Status rest =
      peer->WriteAll(absl::string_view(stream).substr(*offset), kTimeout);
  ASSERT_TRUE(rest.ok()) << rest;
  ASSERT_TRUE(log.WaitForTotal(kMessages)) << log.total();
  EXPECT_TRUE(log.CheckComplete(1, kMessages));
  EXPECT_EQ(server.server().stats().messages, uint64_t{kMessages});
  EXPECT_TRUE(connection->connected());
  EXPECT_EQ(server.tracker().errors(), 0u);
}

// The byte bounds on queued work, per connection and per endpoint: with
// the only worker blocked, big frames are decoded only up to the bound (one
// frame over at most), and everything arrives in order once released.
class ByteBoundTest : public ::testing::TestWithParam<bool> {};

TEST_P(ByteBoundTest, DecodingStopsAtTheFrameThatCrossesTheBound) {
  const bool per_connection = GetParam();
  constexpr size_t kPayload = 64 << 10;
  constexpr size_t kBound = 512 << 10;
  constexpr int kPeers = 4;
  const int kFrames = kTsan ? 40 : 100;  // 2.5 or 6.4 MiB per peer

  absl::Notification release;  // outlives the server (its handler waits)
  SequenceLog log;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 1;
  (per_connection ? options.max_queued_bytes : options.max_total_queued_bytes) =
      kBound;
  MessageServer server(options);
  NotifyOnExit release_on_exit(release);
  ASSERT_TRUE(
      server.registry()
          .RegisterRaw(kChatType,
                       [&](Context& ctx, absl::string_view payload) {
                         release.WaitForNotificationWithTimeout(kTimeout);
                         int seq = -1;
                         if (!absl::SimpleAtoi(payload.substr(0, 8), &seq)) {
                           log.Violation("bad payload");
                         }
                         log.Record(ctx.net_id(), seq);
                       })
          .ok());
  ASSERT_TRUE(server.Start().ok());
  std::string stream;
  for (int seq = 0; seq < kFrames; ++seq) {
    stream += TlvFrame(kChatType, absl::StrFormat("%08d", seq) +
                                      std::string(kPayload - 8, 'x'));
  }
  std::vector<TestPeer> peers;
  std::vector<size_t> written;
  TestPeer::Options peer_options;
  peer_options.send_buffer = 64 << 10;
  for (int i = 0; i < (per_connection ? 1 : kPeers); ++i) {
    absl::StatusOr<TestPeer> peer =
        TestPeer::Connect(server.address(), peer_options);
    ASSERT_TRUE(peer.ok()) << peer.status();
    absl::StatusOr<size_t> n = WriteUntilStalled(*peer, stream);
    ASSERT_TRUE(n.ok()) << n.status();
    peers.push_back(*std::move(peer));
    written.push_back(*n);
  }
  const ServerStats blocked = server.server().stats();
  // One frame over the bound per connection still under its own bounds,
  // plus the one running.
  const size_t slack = (per_connection ? 1 : kPeers) * kPayload + kPayload;
  EXPECT_LE(blocked.peak_queued_bytes, kBound + slack);
  EXPECT_LE(blocked.messages * kPayload, kBound + slack);
  EXPECT_GE(blocked.queue_full_pauses, 1u);
  std::printf("bound %zu: %llu frames of %zu decoded, peak queued %llu\n",
              kBound, static_cast<unsigned long long>(blocked.messages),
              kPayload,
              static_cast<unsigned long long>(blocked.peak_queued_bytes));

  release.Notify();
  for (size_t i = 0; i < peers.size(); ++i) {
    ASSERT_TRUE(
        peers[i].WriteAll(absl::string_view(stream).substr(written[i])).ok());
  }
  ASSERT_TRUE(log.WaitForTotal(peers.size() * kFrames)) << log.total();
  EXPECT_TRUE(log.CheckComplete(peers.size(), kFrames));
  EXPECT_EQ(server.tracker().errors(), 0u);
  for (TestPeer& peer : peers) peer.Close();
  server.Stop();  // every handler has finished
  EXPECT_EQ(server.server().stats().queued_bytes, 0u);
}

INSTANTIATE_TEST_SUITE_P(PerConnectionAndPerEndpoint, ByteBoundTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "PerConnection" : "PerEndpoint";
                         });

// A peer that resets while its connection is paused (handlers behind): the
// queued messages still run, and the reset is reported as an error once the
// queue drains and reading resumes.
TEST(DispatcherTest, ResetWhileReadingIsPausedIsReportedWhenReadingResumes) {
  constexpr int kMessages = 10;
  absl::Notification release;  // outlives the server (its handler waits)
  absl::Notification entered;
  SequenceLog log;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 1;
  options.max_queued_messages = 2;
  MessageServer server(options);
  NotifyOnExit release_on_exit(release);
  ASSERT_TRUE(server.registry()
                  .Register<test::Numbers>(
                      [&](Context& ctx, const test::Numbers& numbers) {
                        if (!entered.HasBeenNotified()) entered.Notify();
                        release.WaitForNotificationWithTimeout(kTimeout);
                        log.Record(ctx.net_id(), numbers.values(0));
                      })
                  .ok());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);
  std::string frames;
  for (int seq = 0; seq < kMessages; ++seq) frames += NumbersFrame(seq);
  ASSERT_TRUE(peer->WriteAll(frames).ok());
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kTimeout));
  ASSERT_TRUE(peer->SetLingerZero().ok());
  peer->Close();
  release.Notify();

  ASSERT_TRUE(server.tracker().WaitForSettled(1));
  const ConnectionTracker::Record record =
      server.tracker().Get(connection->id());
  EXPECT_TRUE(absl::IsUnavailable(record.close_reason)) << record.close_reason;
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsUnavailable(record.errors[0])) << record.errors[0];
  // Every message read before the reset ran, in order.
  const uint64_t decoded = server.server().stats().messages;
  ASSERT_TRUE(log.WaitForTotal(decoded));
  EXPECT_TRUE(log.CheckComplete(1, static_cast<int64_t>(decoded)));
  EXPECT_EQ(server.server().stats().closed_with_error, 1u);
}

// --- 4. Registration errors ----------------------------------------------

TEST(DispatcherTest, DuplicateAndMissingIdsFailAtRegistration) {
  Registry registry;
  ASSERT_TRUE(
      registry.Register<test::Chat>([](Context&, const test::Chat&) {}).ok());
  // tao.test.Duplicate declares message_id 1, already Chat's.
  absl::Status duplicate = registry.Register<test::Duplicate>(
      [](Context&, const test::Duplicate&) {});
  EXPECT_TRUE(absl::IsAlreadyExists(duplicate)) << duplicate;
  EXPECT_NE(duplicate.message().find("tao.test.Chat"), std::string::npos)
      << duplicate;
  absl::Status raw_duplicate =
      registry.RegisterRaw(kChatType, [](Context&, absl::string_view) {});
  EXPECT_TRUE(absl::IsAlreadyExists(raw_duplicate)) << raw_duplicate;
  // The same message type twice.
  EXPECT_TRUE(absl::IsAlreadyExists(
      registry.Register<test::Chat>([](Context&, const test::Chat&) {})));
  // tao.test.Untyped has no (tao.message_id).
  absl::Status missing =
      registry.Register<test::Untyped>([](Context&, const test::Untyped&) {});
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_NE(missing.message().find("tao.test.Untyped"), std::string::npos)
      << missing;
  // The failures registered nothing.
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(registry.TypeName(kChatType), "tao.test.Chat");
}

TEST(DispatcherTest, SendingAMessageWithoutIdIsNotFound) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  MessageServer server(options);
  ASSERT_TRUE(server.Start().ok());
  ClientOptions client_options;
  client_options.handler_threads = 0;
  Registry client_registry;
  Client client(client_options, &client_registry);
  ASSERT_TRUE(client.Connect(server.address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected(kTimeout).ok());
  test::Untyped untyped;
  untyped.set_text("no id");
  absl::Status sent = client.Send(untyped);
  EXPECT_TRUE(absl::IsNotFound(sent)) << sent;
  client.Stop();
}

// --- 5. Unknown types ----------------------------------------------------

class UnknownTypeTest : public ::testing::TestWithParam<int> {};

TEST_P(UnknownTypeTest, SkipPolicyReportsCountsAndKeepsTheConnection) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  ASSERT_EQ(options.unknown_type_policy, UnknownTypePolicy::kSkip);
  MessageServer server(options);
  ASSERT_TRUE(server.registry()
                  .Register<test::Chat>([](Context& ctx, const test::Chat& c) {
                    test::Chat reply;
                    reply.set_text("re: " + c.text());
                    (void)ctx.Reply(reply);
                  })
                  .ok());
  // No catch-all (CatchAllTest): the policy decides.
  ASSERT_FALSE(server.registry().has_catch_all());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  // An unknown type between two known frames, all in one write.
  ASSERT_TRUE(peer->WriteAll(ChatFrame("one") +
                             TlvFrame(99, "from the future") + ChatFrame("two"))
                  .ok());
  const std::string want = [] {
    test::Chat one, two;
    one.set_text("re: one");
    two.set_text("re: two");
    return TlvFrame(kChatType, one.SerializeAsString()) +
           TlvFrame(kChatType, two.SerializeAsString());
  }();
  absl::StatusOr<std::string> got = peer->ReadExactly(want.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);

  ASSERT_TRUE(server.tracker().WaitForErrors(1));
  ConnectionPtr connection = server.tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  ConnectionTracker::Record record = server.tracker().Get(connection->id());
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(record.errors[0])) << record.errors[0];
  EXPECT_NE(record.errors[0].message().find("99"), std::string::npos)
      << record.errors[0];
  EXPECT_TRUE(connection->connected());
  ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.unknown_types, 1u);
  EXPECT_EQ(stats.messages, 2u);
  EXPECT_EQ(stats.closed_with_error, 0u);

  // Still usable afterwards.
  ASSERT_TRUE(peer->WriteAll(ChatFrame("three")).ok());
  test::Chat three;
  three.set_text("re: three");
  const std::string want_three = TlvFrame(kChatType, three.SerializeAsString());
  got = peer->ReadExactly(want_three.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want_three);
  EXPECT_EQ(server.tracker().errors(), 1u);
}

TEST_P(UnknownTypeTest, ClosePolicyClosesWithNotFound) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  options.unknown_type_policy = UnknownTypePolicy::kClose;
  MessageServer server(options);
  std::atomic<int> handled{0};
  ASSERT_TRUE(server.registry()
                  .Register<test::Chat>(
                      [&handled](Context&, const test::Chat&) { ++handled; })
                  .ok());
  ASSERT_FALSE(server.registry().has_catch_all());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(
      peer->WriteAll(TlvFrame(99, "from the future") + ChatFrame("after"))
          .ok());
  EXPECT_TRUE(peer->WaitClosed().ok());
  // Settled: the server's own bookkeeping (stats) has seen the close too.
  ASSERT_TRUE(server.tracker().WaitForSettled(1));
  ConnectionPtr connection = server.tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  ConnectionTracker::Record record = server.tracker().Get(connection->id());
  ASSERT_EQ(record.errors.size(), 1u);
  EXPECT_TRUE(absl::IsNotFound(record.errors[0])) << record.errors[0];
  EXPECT_TRUE(absl::IsNotFound(record.close_reason)) << record.close_reason;
  // The frame after the unknown one was not handled.
  EXPECT_EQ(handled.load(), 0);
  ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.unknown_types, 1u);
  EXPECT_EQ(stats.messages, 0u);
  EXPECT_EQ(stats.closed_with_error, 1u);
}

// Issue 12: 100,000 unknown frames (800 KB) must not become 100,000 log
// lines. The dispatcher logs nothing per frame: it counts each and reports
// each to OnError (where a user who logs uses TAO_LOG_RATE_LIMITED; the
// chat example's test covers that), and the connection stays open.
TEST_P(UnknownTypeTest, AFloodOfUnknownFramesIsCountedNotLogged) {
  constexpr size_t kFrames = 100'000;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  MessageServer server(options);
  ASSERT_TRUE(RegisterChatEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());
  testing::LogCapture log;
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  std::string flood;
  for (size_t i = 0; i < kFrames; ++i) flood += TlvFrame(99, "");
  ASSERT_EQ(flood.size(), kFrames * 8);
  ASSERT_TRUE(peer->WriteAll(flood + ChatFrame("after")).ok());
  // The reply to the last frame: every unknown one before it was handled.
  const std::string want = ChatFrame("after");
  absl::StatusOr<std::string> got = peer->ReadExactly(want.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);

  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.unknown_types, kFrames);
  EXPECT_EQ(stats.messages, 1u);
  EXPECT_EQ(stats.closed_with_error, 0u);
  ASSERT_TRUE(server.tracker().WaitForErrors(kFrames));
  EXPECT_EQ(server.tracker().errors(), kFrames);
  EXPECT_LE(log.lines(), static_cast<size_t>(kLogRateBurst));
  for (const std::string& m : log.messages()) ADD_FAILURE() << m;
  ConnectionPtr connection = server.tracker().WaitForConnection(0);
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(connection->connected());
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, UnknownTypeTest,
                         ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

// --- 5b. The catch-all handler (Go tao's OnMessage) -----------------------

class CatchAllTest : public ::testing::TestWithParam<int> {
 protected:
  // What the handlers saw, in order: "chat:<text>" from the Chat handler,
  // "<type>:<payload>" from the catch-all.
  std::vector<std::string> seen() {
    absl::MutexLock lock(&mu_);
    return seen_;
  }

  // Registers a Chat handler and a catch-all on `server`; both record what
  // they got and echo it back (the catch-all with the frame's own type).
  void RegisterEchoes(MessageServer& server) {
    ASSERT_TRUE(
        server.registry()
            .Register<test::Chat>([this](Context& ctx, const test::Chat& chat) {
              Record(absl::StrCat("chat:", chat.text()));
              (void)ctx.Reply(chat);
            })
            .ok());
    ASSERT_TRUE(
        server.registry()
            .RegisterCatchAll([this](Context& ctx, absl::string_view payload) {
              Record(absl::StrCat(ctx.type(), ":", payload));
              (void)ctx.ReplyRaw(ctx.type(), payload);
            })
            .ok());
    ASSERT_TRUE(server.registry().has_catch_all());
  }

 private:
  void Record(std::string what) {
    absl::MutexLock lock(&mu_);
    seen_.push_back(std::move(what));
  }

  absl::Mutex mu_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mu_);
};

TEST_P(CatchAllTest, UnregisteredTypesReachItInOrderButHeartbeatsDoNot) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  MessageServer server(options);
  ASSERT_NO_FATAL_FAILURE(RegisterEchoes(server));
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();

  const std::string binary("b\0c", 3);
  const std::string heartbeat = TlvFrame(
      kHeartbeatType, EncodeHeartbeatPayload(absl::FromUnixSeconds(1)));
  // Registered and unregistered types interleaved, with heartbeats between
  // them, all in one write.
  ASSERT_TRUE(peer->WriteAll(ChatFrame("one") + TlvFrame(99, "first") +
                             heartbeat + TlvFrame(7, binary) +
                             ChatFrame("two") + heartbeat + TlvFrame(99, "") +
                             TlvFrame(-3, "negative"))
                  .ok());
  // The echoes come back in order, and none for the heartbeats.
  const std::string want = ChatFrame("one") + TlvFrame(99, "first") +
                           TlvFrame(7, binary) + ChatFrame("two") +
                           TlvFrame(99, "") + TlvFrame(-3, "negative");
  absl::StatusOr<std::string> got = peer->ReadExactly(want.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  // Each handler recorded before it replied.
  EXPECT_EQ(seen(), (std::vector<std::string>{
                        "chat:one", "99:first", absl::StrCat("7:", binary),
                        "chat:two", "99:", "-3:negative"}));

  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.messages, 6u);
  EXPECT_EQ(stats.heartbeats, 2u);
  EXPECT_EQ(stats.unknown_types, 0u)
      << "frames the catch-all handled were counted as unknown";
  EXPECT_EQ(stats.bad_frames, 0u);
  EXPECT_EQ(stats.bad_payloads, 0u);
  EXPECT_EQ(server.tracker().errors(), 0u);
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(connection->connected());
}

// The close policy is for frames nothing handles: with a catch-all there are
// none.
TEST_P(CatchAllTest, ClosePolicyDoesNotApplyToCaughtTypes) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  options.unknown_type_policy = UnknownTypePolicy::kClose;
  MessageServer server(options);
  ASSERT_NO_FATAL_FAILURE(RegisterEchoes(server));
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  const std::string frames =
      TlvFrame(99, "from the future") +
      TlvFrame(kHeartbeatType, EncodeHeartbeatPayload(absl::Now())) +
      ChatFrame("after");
  ASSERT_TRUE(peer->WriteAll(frames).ok());
  const std::string want = TlvFrame(99, "from the future") + ChatFrame("after");
  absl::StatusOr<std::string> got = peer->ReadExactly(want.size());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  EXPECT_EQ(seen(),
            (std::vector<std::string>{"99:from the future", "chat:after"}));
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);
  EXPECT_TRUE(connection->connected());
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.unknown_types, 0u);
  EXPECT_EQ(stats.heartbeats, 1u);
  EXPECT_EQ(stats.messages, 2u);
  EXPECT_EQ(stats.closed_with_error, 0u);
  EXPECT_EQ(server.tracker().errors(), 0u);
}

// A type-0 frame whose payload is not an int64 is a bad payload (Go tao
// closes on it too), not a heartbeat.
TEST_P(CatchAllTest, MalformedHeartbeatIsABadPayloadAndCloses) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  MessageServer server(options);
  ASSERT_NO_FATAL_FAILURE(RegisterEchoes(server));
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(peer->WriteAll(TlvFrame(kHeartbeatType, "abc")).ok());
  (void)peer->ReadUntilEof();  // FIN or a reset: closed either way
  ASSERT_TRUE(server.tracker().WaitForSettled(1));
  const testing::ConnectionTracker::Record record =
      server.tracker().Get(connection->id());
  EXPECT_EQ(record.close_reason.code(), absl::StatusCode::kInvalidArgument)
      << record.close_reason;
  EXPECT_TRUE(absl::StrContains(record.close_reason.message(),
                                "has 3 payload bytes, not 8"))
      << record.close_reason;
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.heartbeats, 0u);
  EXPECT_EQ(stats.bad_payloads, 1u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, CatchAllTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

// --- 6. Bad input on one connection never disturbs the others -------------

// The good clients are tao::testing::GoodClient (tao/testing/good_client.h).

class BadInputTest : public ::testing::TestWithParam<int> {};

TEST_P(BadInputTest, BadConnectionsAreClosedAndTheOthersUndisturbed) {
  constexpr int kGoodClients = 10;
  ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = GetParam();
  MessageServer server(options);
  ASSERT_TRUE(RegisterChatEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());

  std::vector<std::unique_ptr<GoodClient>> good;
  for (int i = 0; i < kGoodClients; ++i) {
    good.push_back(std::make_unique<GoodClient>(i, server.address()));
  }
  for (auto& g : good) ASSERT_TRUE(g->Begin().ok());
  // Traffic is flowing on every good connection before the bad input.
  std::vector<int64_t> before;
  for (auto& g : good) {
    ASSERT_TRUE(g->WaitForReceived(20)) << g->failure();
    before.push_back(g->received());
  }

  struct Bad {
    std::string name;
    std::string bytes;
    bool reset;  // close with RST (SO_LINGER 0) after writing
    absl::StatusCode want;
  };
  const std::string chat = ChatFrame("a perfectly good chat");
  std::vector<Bad> bads;
  // (a) A length of 0xFFFFFFFF: rejected from the header alone.
  bads.push_back({"oversized length",
                  std::string("\x01\x00\x00\x00\xff\xff\xff\xff", 8), false,
                  absl::StatusCode::kInvalidArgument});
  // (b) Garbage: an HTTP request reads as type "GET ", length "/ HT"
  // (0x54482f20 bytes, far above the 8 MiB maximum).
  bads.push_back({"garbage", "GET / HTTP/1.1\r\nHost: tao\r\n\r\n", false,
                  absl::StatusCode::kInvalidArgument});
  // (c) Half a frame, then a reset.
  bads.push_back({"truncated frame then RST", chat.substr(0, chat.size() / 2),
                  true, absl::StatusCode::kUnavailable});
  // (d) A Chat whose field 1 claims 0x7f bytes but has 3.
  bads.push_back({"unparsable payload",
                  TlvFrame(kChatType, std::string("\x0a\x7f"
                                                  "abc",
                                                  5)),
                  false, absl::StatusCode::kDataLoss});

  // Several rounds, so the bad input overlaps the good traffic for longer.
  constexpr int kRounds = 5;
  size_t closes = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (Bad& bad : bads) {
      SCOPED_TRACE(absl::StrCat(bad.name, ", round ", round));
      absl::StatusOr<TestPeer> peer = server.Connect();
      ASSERT_TRUE(peer.ok()) << peer.status();
      ConnectionPtr connection =
          server.tracker().WaitForPeer(peer->local_address());
      ASSERT_NE(connection, nullptr);
      ASSERT_TRUE(peer->WriteAll(bad.bytes).ok());
      if (bad.reset) {
        ASSERT_TRUE(peer->SetLingerZero().ok());
        peer->Close();
      } else {
        EXPECT_TRUE(peer->WaitClosed().ok());
      }
      ASSERT_TRUE(server.tracker().WaitForSettled(++closes));
      const ConnectionTracker::Record record =
          server.tracker().Get(connection->id());
      EXPECT_EQ(record.closes, 1);
      EXPECT_EQ(record.close_reason.code(), bad.want) << record.close_reason;
      ASSERT_EQ(record.errors.size(), 1u);
      EXPECT_EQ(record.errors[0].code(), bad.want) << record.errors[0];
      EXPECT_FALSE(record.errors[0].message().empty());
      if (round == 0) {
        std::printf("%s: %s\n", bad.name.c_str(),
                    record.errors[0].ToString().c_str());
      }
    }
  }

  // The good clients kept exchanging messages throughout, all intact.
  for (size_t i = 0; i < good.size(); ++i) {
    EXPECT_TRUE(good[i]->Finish()) << "client " << i;
    EXPECT_EQ(good[i]->failure(), "") << "client " << i;
    EXPECT_GT(good[i]->received(), before[i]);
    EXPECT_EQ(good[i]->tracker().errors(), 0u) << "client " << i;
    EXPECT_EQ(good[i]->tracker().closes(), 0u) << "client " << i;
    ConnectionPtr c = good[i]->client().connection();
    ASSERT_NE(c, nullptr);
    EXPECT_TRUE(c->connected());
  }
  const ServerStats stats = server.server().stats();
  EXPECT_EQ(stats.bad_frames, 2u * kRounds);
  EXPECT_EQ(stats.bad_payloads, 1u * kRounds);
  EXPECT_EQ(stats.unknown_types, 0u);
  EXPECT_EQ(stats.closed_with_error, bads.size() * kRounds);
  EXPECT_EQ(stats.connections, static_cast<size_t>(kGoodClients));
  // Only the bad connections saw errors on the server.
  EXPECT_EQ(server.tracker().errors(), bads.size() * kRounds);
  good.clear();
  server.Stop();
  EXPECT_TRUE(server.tracker().CheckBalanced());
}

// A reset (RST) after a normal exchange, when the server has read
// everything: read(2) itself fails with ECONNRESET. That is an I/O error, not
// an orderly close: reported to OnError, close_reason not OK, counted.
TEST_P(BadInputTest, PeerResetIsReportedAsAnErrorNotAnOrderlyClose) {
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = GetParam();
  MessageServer server(options);
  ASSERT_TRUE(RegisterChatEcho(server.registry()).ok());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  ConnectionPtr connection =
      server.tracker().WaitForPeer(peer->local_address());
  ASSERT_NE(connection, nullptr);
  const std::string frame = ChatFrame("hello before the reset");
  ASSERT_TRUE(peer->WriteAll(frame).ok());
  absl::StatusOr<std::string> echo = peer->ReadExactly(frame.size());
  ASSERT_TRUE(echo.ok()) << echo.status();
  ASSERT_EQ(*echo, frame);  // the server has read all our bytes
  ASSERT_TRUE(peer->SetLingerZero().ok());
  peer->Close();

  ASSERT_TRUE(server.tracker().WaitForSettled(1));
  const ConnectionTracker::Record record =
      server.tracker().Get(connection->id());
  EXPECT_FALSE(record.close_reason.ok())
      << "a connection reset by the peer was closed as if orderly";
  ASSERT_EQ(record.errors.size(), 1u) << "the reset was not reported";
  EXPECT_TRUE(absl::IsUnavailable(record.errors[0])) << record.errors[0];
  EXPECT_EQ(server.server().stats().closed_with_error, 1u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, BadInputTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

// --- A handler or connection timer that throws ------------------------------
// closes its own connection with INTERNAL naming the exception, is counted,
// and disturbs nothing else: the server and a control connection go on.

constexpr int32_t kEchoRaw = 11;
constexpr int32_t kThrow = 12;
constexpr int32_t kThrowInTimer = 13;

// One I/O loop; handlers inline (0) or on a pool of `handler_threads`.
std::unique_ptr<MessageServer> OneLoopServer(
    int handler_threads, ServerOptions options = ServerOptions()) {
  options.handler_threads = handler_threads;
  options.io_threads = 1;
  return std::make_unique<MessageServer>(options);
}

class HandlerExceptionTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    server_ = OneLoopServer(GetParam());
    Registry& registry = server_->registry();
    ASSERT_TRUE(testing::RegisterRawEcho(registry, kEchoRaw).ok());
    ASSERT_TRUE(testing::RegisterRawThrow(registry, kThrow).ok());
    ASSERT_TRUE(registry
                    .RegisterRaw(kThrowInTimer,
                                 [](Context& ctx, absl::string_view) {
                                   ctx.connection().RunAfter(
                                       absl::ZeroDuration(), [](Connection&) {
                                         throw 42;  // not a std::exception
                                       });
                                 })
                    .ok());
    ASSERT_TRUE(server_->Start().ok());
  }

  // A control connection echoes `text` byte-exact.
  void ExpectEcho(TestPeer& peer, absl::string_view text) {
    const std::string frame = TlvFrame(kEchoRaw, text);
    ASSERT_TRUE(peer.WriteAll(frame).ok());
    absl::StatusOr<std::string> got = peer.ReadExactly(frame.size());
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, frame);
  }

  // A victim sends `frames`; it must be closed with INTERNAL containing
  // `reason` while a control connection keeps echoing.
  void ExpectOnlyTheVictimClosed(const std::string& frames,
                                 absl::string_view reason) {
    absl::StatusOr<TestPeer> control = server_->Connect();
    absl::StatusOr<TestPeer> victim = server_->Connect();
    ASSERT_TRUE(control.ok() && victim.ok());
    ExpectEcho(*control, "before");
    ASSERT_TRUE(victim->WriteAll(frames).ok());
    EXPECT_TRUE(victim->WaitClosed().ok());
    ExpectEcho(*control, "after");
    ASSERT_TRUE(server_->tracker().WaitForSettled(1));
    ConnectionPtr c = server_->tracker().WaitForPeer(victim->local_address());
    ASSERT_NE(c, nullptr);
    ConnectionTracker::Record record = server_->tracker().Get(c->id());
    ASSERT_EQ(record.errors.size(), 1u);
    EXPECT_TRUE(absl::IsInternal(record.errors[0])) << record.errors[0];
    EXPECT_NE(record.errors[0].message().find(reason), absl::string_view::npos)
        << record.errors[0];
    ServerStats stats = server_->server().stats();
    EXPECT_EQ(stats.handler_exceptions, 1u);
    EXPECT_EQ(stats.bad_payloads, 0u);
    EXPECT_EQ(stats.closed_with_error, 1u);
    EXPECT_EQ(stats.connections, 1u);
  }

  std::unique_ptr<MessageServer> server_;
};

TEST_P(HandlerExceptionTest, AThrowingHandlerClosesOnlyItsConnection) {
  ExpectOnlyTheVictimClosed(
      TlvFrame(kThrow, "boom") + TlvFrame(kEchoRaw, "never answered"),
      "message type 12 threw: boom");
}

TEST_P(HandlerExceptionTest, AThrowingTimerClosesOnlyItsConnection) {
  ExpectOnlyTheVictimClosed(TlvFrame(kThrowInTimer, ""),
                            "a connection timer threw");
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, HandlerExceptionTest,
                         ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? "Inline" : "Pool";
                         });

// --- 8. Replies are never lost ------------------------------------------

// A request that was read is answered before its connection finishes
// closing: when the peer half-closes right after it, and when the server
// stops with a grace period while handlers are still behind.
class NoLostRepliesTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    server_ = OneLoopServer(GetParam());
    ASSERT_TRUE(server_->registry()
                    .RegisterRaw(kEchoRaw,
                                 [this](Context& ctx, absl::string_view p) {
                                   // With a pool, handlers stay behind the
                                   // connection until the test releases
                                   // them (inline they would block the loop).
                                   if (GetParam() > 0) {
                                     release_.WaitForNotificationWithTimeout(
                                         kTimeout);
                                   }
                                   (void)ctx.ReplyRaw(kEchoRaw, p);
                                 })
                    .ok());
    ASSERT_TRUE(server_->Start().ok());
  }

  std::vector<TestPeer> ConnectPeers(int n) {
    std::vector<TestPeer> peers;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<TestPeer> peer = server_->Connect();
      EXPECT_TRUE(peer.ok()) << peer.status();
      if (!peer.ok()) break;
      peers.push_back(*std::move(peer));
    }
    return peers;
  }

  absl::Notification release_;  // outlives server_ (its handlers wait)
  NotifyOnExit release_on_exit_{release_};
  std::unique_ptr<MessageServer> server_;
};

TEST_P(NoLostRepliesTest, ARequestFollowedByAHalfCloseIsAnswered) {
  const int kPeers = kTsan ? 50 : 200;
  std::vector<TestPeer> peers = ConnectPeers(kPeers);
  ASSERT_EQ(peers.size(), static_cast<size_t>(kPeers));
  for (int i = 0; i < kPeers; ++i) {
    ASSERT_TRUE(peers[i].WriteAll(TlvFrame(kEchoRaw, absl::StrCat(i))).ok());
    ASSERT_TRUE(peers[i].ShutdownWrite().ok());
  }
  release_.Notify();
  int answered = 0;
  for (int i = 0; i < kPeers; ++i) {
    absl::StatusOr<std::string> got = peers[i].ReadUntilEof();
    ASSERT_TRUE(got.ok()) << got.status();
    if (*got == TlvFrame(kEchoRaw, absl::StrCat(i))) ++answered;
  }
  EXPECT_EQ(answered, kPeers);
  ASSERT_TRUE(server_->tracker().WaitForSettled(kPeers));
  EXPECT_EQ(server_->tracker().errors(), 0u);
  EXPECT_EQ(server_->server().stats().handled_after_close, 0u);
}

TEST_P(NoLostRepliesTest, StopWithGraceAnswersEveryRequestAlreadyRead) {
  const int kPeers = kTsan ? 5 : 20;
  const int kRequests = 50;
  std::vector<TestPeer> peers = ConnectPeers(kPeers);
  ASSERT_EQ(peers.size(), static_cast<size_t>(kPeers));
  std::vector<std::string> expected(kPeers);
  for (int i = 0; i < kPeers; ++i) {
    std::string frames;
    for (int r = 0; r < kRequests; ++r) {
      frames += TlvFrame(kEchoRaw, absl::StrCat(i, "/", r));
    }
    ASSERT_TRUE(peers[i].WriteAll(frames).ok());
    expected[i] = std::move(frames);
  }
  // Every request was read and handed to a handler (which, with a pool,
  // has not run yet) before the server stops.
  const uint64_t total = uint64_t{kPeers} * kRequests;
  for (absl::Time deadline = absl::Now() + kTimeout;
       server_->server().stats().messages < total;) {
    ASSERT_LT(absl::Now(), deadline) << server_->server().stats().messages;
    std::this_thread::yield();
  }
  server_->server().Stop(absl::Seconds(30));
  release_.Notify();
  for (int i = 0; i < kPeers; ++i) {
    absl::StatusOr<std::string> got = peers[i].ReadUntilEof();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->size(), expected[i].size()) << "peer " << i;
    EXPECT_TRUE(*got == expected[i]) << "peer " << i;
    peers[i].Close();
  }
  server_->Stop();
  EXPECT_EQ(server_->server().stats().handled_after_close, 0u);
  EXPECT_EQ(server_->tracker().errors(), 0u);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, NoLostRepliesTest,
                         ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? "Inline" : "Pool";
                         });

// --- 9. A frame that has begun must be completed in time -----------------

// A peer trickling a frame byte by byte (so it is never idle) is closed
// once the frame stays incomplete for frame_timeout; a control connection
// whose requests arrive in two pieces each is never taken for one.
class FrameDeadlineTest : public ::testing::TestWithParam<int> {};

TEST_P(FrameDeadlineTest, ATrickledFrameIsClosedAndTheControlIsNot) {
  ServerOptions options;
  options.frame_timeout = absl::Milliseconds(300);
  std::unique_ptr<MessageServer> server = OneLoopServer(GetParam(), options);
  ASSERT_TRUE(server->registry()
                  .RegisterRaw(kEchoRaw,
                               [](Context& ctx, absl::string_view p) {
                                 (void)ctx.ReplyRaw(kEchoRaw, p);
                               })
                  .ok());
  ASSERT_TRUE(server->Start().ok());
  absl::StatusOr<TestPeer> control = server->Connect();
  absl::StatusOr<TestPeer> trickler = server->Connect();
  ASSERT_TRUE(control.ok() && trickler.ok());
  ConnectionPtr trickled =
      server->tracker().WaitForPeer(trickler->local_address());
  ASSERT_NE(trickled, nullptr);

  // A 1 MiB frame, one byte per control round trip.
  const std::string frame = TlvFrame(kEchoRaw, std::string(1 << 20, 't'));
  size_t sent = 0;
  int round_trips = 0;
  const absl::Time give_up = absl::Now() + kTimeout;
  while (trickled->state() != Connection::State::kClosed &&
         absl::Now() < give_up) {
    if (trickler->WriteAll(absl::string_view(frame).substr(sent, 1)).ok()) {
      ++sent;
    }
    const std::string request = TlvFrame(kEchoRaw, absl::StrCat(round_trips));
    const size_t half = request.size() / 2;
    ASSERT_TRUE(control->WriteAll(request.substr(0, half)).ok());
    ASSERT_TRUE(control->WriteAll(request.substr(half)).ok());
    absl::StatusOr<std::string> reply = control->ReadExactly(request.size());
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(*reply, request);
    ++round_trips;
  }
  ASSERT_EQ(trickled->state(), Connection::State::kClosed)
      << sent << " bytes trickled in " << round_trips << " round trips";
  EXPECT_TRUE(absl::IsDeadlineExceeded(trickled->close_reason()))
      << trickled->close_reason();
  EXPECT_EQ(server->server().stats().frame_timeouts, 1u);
  EXPECT_EQ(server->server().stats().connections, 1u);  // the control
  std::printf("trickler closed after %zu bytes, %d control round trips\n", sent,
              round_trips);
}

INSTANTIATE_TEST_SUITE_P(InlineAndPool, FrameDeadlineTest,
                         ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? "Inline" : "Pool";
                         });

}  // namespace
}  // namespace tao
