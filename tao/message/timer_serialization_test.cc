// A connection's timers (Connection::RunEvery / RunAfter) run where its
// message handlers run -- inline on the I/O loop, or on the connection's
// strand of the worker pool -- and never at the same time as one of them
// (DESIGN.md, "Threads and ownership"; Go tao runs both on the connection's
// handler goroutine).
//
// The server-side connection gets a fast RunEvery from OnConnect and a
// RunAfter from every few handlers, while a raw peer floods it with
// messages. Handlers and timer callbacks both enter the same critical
// section, which touches plain (non-atomic) fields and an "inside" flag set
// and cleared non-atomically: under TSan a concurrent run is a data race
// report; in every build an atomic in-flight counter records any overlap,
// and lost updates of the plain counter show in the totals.
//
// Nothing sleeps to synchronize: the flood goes on until the timers have
// run often enough while handlers were busy, and the verdict is read by a
// last handler on the connection's own strand, then published through an
// absl::Notification. Every wait is bounded by tao::testing::kTimeout.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::Callbacks;
using ::tao::testing::kTimeout;
using ::tao::testing::kTsan;
using ::tao::testing::MessageServer;
using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kWorkType = 1;
constexpr int32_t kFinishType = 2;

// How long each handler and timer callback stays inside the critical
// section: long enough that a callback running beside a handler would be
// inside with it, short enough that the flood stays small.
constexpr std::chrono::microseconds kSectionTime(20);
// The RunEvery period: fast, so it fires many times during the flood.
constexpr absl::Duration kTimerPeriod = absl::Milliseconds(1);
// Every this many messages, the handler also schedules a RunAfter.
constexpr int64_t kRunAfterEvery = 16;
// Frames per write of the flood, and how many may wait unhandled: enough
// to keep the handlers busy all the time, few enough that the flood ends
// soon after the timers ran often enough.
constexpr int kBatch = 64;
constexpr int64_t kWindow = 512;

// The state of the one connection under test.
struct Shared {
  // --- Plain: only touched inside Section(), which the framework must
  // serialize (a concurrent run is a data race). ---
  bool inside = false;
  int64_t counter = 0;
  int64_t handler_sections = 0;
  int64_t timer_sections = 0;

  // --- Atomic: the overlap detector, and progress the test thread reads.
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int64_t> flag_overlaps{0};  // found `inside` already set
  std::atomic<int64_t> handled{0};        // work handlers finished
  // The same count, for the test thread to wait on (only it and the
  // handlers take this lock).
  absl::Mutex mu;
  int64_t handled_locked ABSL_GUARDED_BY(mu) = 0;
  // Timer runs after the flood's first handler (the ones that could have
  // collided with a handler).
  std::atomic<int64_t> every_runs{0};
  std::atomic<int64_t> after_runs{0};
  // Timer callbacks that ran on the wrong thread: on the I/O loop with a
  // worker pool, off it with inline handlers.
  std::atomic<int64_t> wrong_thread{0};
  std::atomic<int64_t> wrong_connection{0};
  uint64_t connection_id = 0;  // set in OnConnect, before any timer runs
};

// What the last handler saw of the plain fields, from inside the serialized
// domain.
struct Verdict {
  int64_t counter = 0;
  int64_t handler_sections = 0;
  int64_t timer_sections = 0;
};

void Spin(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// The critical section that handlers and timers share.
void Section(Shared& s, bool timer) {
  const int now = s.in_flight.fetch_add(1) + 1;
  int max = s.max_in_flight.load();
  while (now > max && !s.max_in_flight.compare_exchange_weak(max, now)) {
  }
  if (s.inside) s.flag_overlaps.fetch_add(1);
  s.inside = true;
  const int64_t before = s.counter;
  Spin(kSectionTime);
  s.counter = before + 1;  // a concurrent section loses an update
  if (timer) {
    ++s.timer_sections;
  } else {
    ++s.handler_sections;
  }
  s.inside = false;
  s.in_flight.fetch_sub(1);
}

// A timer callback of the connection: checks where it runs, then enters the
// section.
void TimerSection(Shared& s, Connection& c, bool pool,
                  std::atomic<int64_t>& runs) {
  if (c.id() != s.connection_id) s.wrong_connection.fetch_add(1);
  if (c.loop()->IsInLoopThread() == pool) s.wrong_thread.fetch_add(1);
  Section(s, /*timer=*/true);
  if (s.handled.load() > 0) runs.fetch_add(1);
}

class TimerSerializationTest : public ::testing::TestWithParam<int> {};

TEST_P(TimerSerializationTest, TimersNeverRunBesideTheConnectionsHandlers) {
  const int handler_threads = GetParam();
  const bool pool = handler_threads > 0;
  // Timer runs during the flood before it stops.
  const int64_t min_every = kTsan ? 20 : 50;
  const int64_t min_after = kTsan ? 20 : 50;

  Shared shared;  // outlives the server: its timers and handlers use it
  Verdict verdict;
  absl::Notification finished;
  ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = handler_threads;
  MessageServer server(options);
  ASSERT_TRUE(
      server.registry()
          .RegisterRaw(
              kWorkType,
              [&shared, pool](Context& ctx, absl::string_view) {
                Section(shared, /*timer=*/false);
                const int64_t handled = shared.handled.fetch_add(1);
                {
                  absl::MutexLock lock(&shared.mu);
                  ++shared.handled_locked;
                }
                if (handled % kRunAfterEvery == 0) {
                  // A one-shot from inside a handler.
                  ctx.connection().RunAfter(
                      absl::ZeroDuration(), [&shared, pool](Connection& c) {
                        TimerSection(shared, c, pool, shared.after_runs);
                      });
                }
              })
          .ok());
  ASSERT_TRUE(server.registry()
                  .RegisterRaw(kFinishType,
                               [&](Context&, absl::string_view) {
                                 // On the connection's strand: every earlier
                                 // section happened before this.
                                 verdict.counter = shared.counter;
                                 verdict.handler_sections =
                                     shared.handler_sections;
                                 verdict.timer_sections = shared.timer_sections;
                                 finished.Notify();
                               })
                  .ok());
  ASSERT_TRUE(server
                  .Start({.on_connect =
                              [&shared, pool](Connection& c) {
                                shared.connection_id = c.id();
                                // A periodic timer from OnConnect.
                                c.RunEvery(kTimerPeriod,
                                           [&shared, pool](Connection& c) {
                                             TimerSection(shared, c, pool,
                                                          shared.every_runs);
                                           });
                                return true;
                              }})
                  .ok());

  absl::StatusOr<TestPeer> peer = server.Connect();
  ASSERT_TRUE(peer.ok()) << peer.status();
  std::string batch;
  for (int i = 0; i < kBatch; ++i) batch += TlvFrame(kWorkType, "work");
  // Flood until the timers ran often enough while handlers were busy,
  // keeping about kWindow messages waiting for the handlers.
  int64_t sent = 0;
  const absl::Time deadline = absl::Now() + kTimeout;
  while (shared.every_runs.load() < min_every ||
         shared.after_runs.load() < min_after) {
    {
      absl::MutexLock lock(&shared.mu);
      auto caught_up = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) {
        return sent - shared.handled_locked <= kWindow;
      };
      ASSERT_TRUE(
          shared.mu.AwaitWithDeadline(absl::Condition(&caught_up), deadline))
          << shared.handled_locked << " of " << sent << " messages handled";
    }
    ASSERT_LT(absl::Now(), deadline)
        << "after " << sent << " messages, only " << shared.every_runs.load()
        << " RunEvery and " << shared.after_runs.load()
        << " RunAfter callbacks ran";
    absl::Status written = peer->WriteAll(batch);
    ASSERT_TRUE(written.ok()) << written;
    sent += kBatch;
  }
  ASSERT_TRUE(peer->WriteAll(TlvFrame(kFinishType, "")).ok());
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(kTimeout))
      << shared.handled.load() << " of " << sent << " messages handled";

  EXPECT_EQ(shared.max_in_flight.load(), 1)
      << "a timer of the connection ran at the same time as one of its "
         "message handlers (or another of its timers)";
  EXPECT_EQ(shared.flag_overlaps.load(), 0)
      << "sections of one connection overlapped";
  EXPECT_EQ(verdict.handler_sections, sent);
  EXPECT_EQ(verdict.counter, verdict.handler_sections + verdict.timer_sections)
      << "updates of the plain counter were lost to concurrent sections";
  EXPECT_GE(verdict.timer_sections, min_every + min_after);
  EXPECT_EQ(shared.wrong_thread.load(), 0)
      << (pool ? "timer callbacks ran on the I/O loop instead of the "
                 "connection's strand"
               : "timer callbacks ran off the I/O loop with inline handlers");
  EXPECT_EQ(shared.wrong_connection.load(), 0);
  EXPECT_EQ(server.tracker().errors(), 0u);
  std::printf("handler_threads=%d: %lld messages, %lld timer callbacks\n",
              handler_threads, static_cast<long long>(sent),
              static_cast<long long>(verdict.timer_sections));
  peer->Close();
  ASSERT_TRUE(server.tracker().WaitForCloses(1));
  server.Stop();
  EXPECT_TRUE(server.tracker().CheckBalanced());
}

INSTANTIATE_TEST_SUITE_P(HandlerThreads, TimerSerializationTest,
                         ::testing::Values(0, 1, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0
                                      ? std::string("Inline")
                                      : absl::StrCat("Pool", info.param);
                         });

}  // namespace
}  // namespace tao
