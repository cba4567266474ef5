#include "tao/net/resolver.h"

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/net/event_loop.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/inet_address.h"

namespace tao {
namespace {

// A host name no resolver can know, refused before any query is sent: a
// DNS label is at most 63 bytes, so glibc cannot even encode the question.
// (Tests must not send packets anywhere but loopback.)
std::string UnknownHost() { return std::string(70, 'x') + ".invalid"; }

TEST(ParseHostNameTest, NamesOnly) {
  std::optional<HostPort> name = ParseHostName("example.com:443");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "example.com");
  EXPECT_EQ(name->port, 443);
  EXPECT_TRUE(ParseHostName("my-host:1").has_value());
  // Numeric, loopback, bracketed, Unix and malformed forms are not names.
  EXPECT_FALSE(ParseHostName("127.0.0.1:80").has_value());
  EXPECT_FALSE(ParseHostName("localhost:80").has_value());
  EXPECT_FALSE(ParseHostName("[::1]:80").has_value());
  EXPECT_FALSE(ParseHostName("unix:/tmp/x").has_value());
  EXPECT_FALSE(ParseHostName("example.com").has_value());
  EXPECT_FALSE(ParseHostName("example.com:99999").has_value());
  EXPECT_FALSE(ParseHostName(":80").has_value());
}

TEST(ResolveBlockingTest, LocalhostFromTheHostsFile) {
  absl::StatusOr<InetAddress> address = ResolveBlocking("localhost", 8080);
  ASSERT_TRUE(address.ok()) << address.status();
  EXPECT_TRUE(address->is_ip());
  EXPECT_EQ(address->port(), 8080);
  EXPECT_TRUE(address->host() == "127.0.0.1" || address->host() == "::1")
      << address->host();
}

TEST(ResolveBlockingTest, UnknownHostIsNotFoundNamingIt) {
  absl::StatusOr<InetAddress> address = ResolveBlocking(UnknownHost(), 80);
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), absl::StatusCode::kNotFound)
      << address.status();
  EXPECT_NE(address.status().message().find("cannot resolve host '" +
                                            UnknownHost() + "'"),
            absl::string_view::npos)
      << address.status();
}

TEST(ResolveOnLoopTest, AnswerArrivesOnTheLoopThread) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Notification done;
  absl::StatusOr<InetAddress> answer;
  bool on_loop = false;
  std::shared_ptr<ResolveRequest> request = ResolveOnLoop(
      loop, "localhost", 1234, [&](absl::StatusOr<InetAddress> result) {
        on_loop = loop->IsInLoopThread();
        answer = std::move(result);
        done.Notify();
      });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(on_loop);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->port(), 1234);
}

TEST(ResolveOnLoopTest, CancelledRequestNeverTouchesTheLoop) {
  absl::Notification ran;
  {
    absl::Notification held, cancelled;  // outlive the loop's thread
    EventLoopThread thread;
    EventLoop* loop = thread.Start();
    // The loop is held until the request is cancelled, so its callback
    // cannot have run before: whether the answer arrives before the Cancel
    // (it is queued and must then be dropped) or after (it must not be
    // posted), it never runs.
    loop->QueueInLoop([&] {
      held.Notify();
      (void)cancelled.WaitForNotificationWithTimeout(absl::Seconds(30));
    });
    ASSERT_TRUE(held.WaitForNotificationWithTimeout(absl::Seconds(30)));
    std::shared_ptr<ResolveRequest> request =
        ResolveOnLoop(loop, UnknownHost(), 1,
                      [&](absl::StatusOr<InetAddress>) { ran.Notify(); });
    request->Cancel();
    cancelled.Notify();
  }  // the loop is gone; a late answer must not be posted to it
  // A later request is answered, so the cancelled one was processed first.
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Notification second;
  std::shared_ptr<ResolveRequest> request =
      ResolveOnLoop(loop, "localhost", 1,
                    [&](absl::StatusOr<InetAddress>) { second.Notify(); });
  ASSERT_TRUE(second.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_FALSE(ran.HasBeenNotified());
}

// The handover itself, without the helper thread's timing.
void RunQueued(EventLoop* loop) {
  absl::Notification barrier;
  loop->QueueInLoop([&barrier] { barrier.Notify(); });
  ASSERT_TRUE(barrier.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST(ResolveRequestTest, DeliverAfterCancelDropsTheAnswer) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  bool ran = false;  // loop thread only
  auto request = std::make_shared<ResolveRequest>(
      loop, [&ran](absl::StatusOr<InetAddress>) { ran = true; });
  request->Cancel();
  request->Deliver(InetAddress::Loopback(1));
  request->Cancel();  // idempotent
  RunQueued(loop);
  EXPECT_FALSE(ran);
}

TEST(ResolveRequestTest, CancelDropsAnAnswerAlreadyQueuedOnTheLoop) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  bool ran = false;  // loop thread only
  auto request = std::make_shared<ResolveRequest>(
      loop, [&ran](absl::StatusOr<InetAddress>) { ran = true; });
  absl::Notification held, cancelled;
  loop->QueueInLoop([&] {
    held.Notify();
    (void)cancelled.WaitForNotificationWithTimeout(absl::Seconds(30));
  });
  ASSERT_TRUE(held.WaitForNotificationWithTimeout(absl::Seconds(30)));
  request->Deliver(InetAddress::Loopback(1));  // queued behind the hold
  request->Cancel();
  cancelled.Notify();
  RunQueued(loop);
  EXPECT_FALSE(ran);
}

TEST(ResolveRequestTest, DeliveredAnswerRunsOnTheLoop) {
  EventLoopThread thread;
  EventLoop* loop = thread.Start();
  absl::Notification done;
  bool on_loop = false;
  absl::StatusOr<InetAddress> answer;
  auto request = std::make_shared<ResolveRequest>(
      loop, [&](absl::StatusOr<InetAddress> result) {
        on_loop = loop->IsInLoopThread();
        answer = std::move(result);
        done.Notify();
      });
  request->Deliver(InetAddress::Loopback(7));
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  request->Cancel();  // after the callback ran: harmless
  EXPECT_TRUE(on_loop);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->port(), 7);
}

}  // namespace
}  // namespace tao
