// The heartbeat demo: a server that closes peers silent for 500 ms, a
// client that sends nothing (closed, with the reason) and a client sending
// a Go tao heartbeat every 100 ms (still connected well past the timeout);
// exits 0 when both happened. Takes about a second.
//   ./bazelw run //examples/heartbeat:demo
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "examples/common/timeline.h"
#include "examples/heartbeat/heartbeat_watch.h"

namespace {

constexpr absl::Duration kTimeout = absl::Milliseconds(500);
constexpr absl::Duration kInterval = absl::Milliseconds(100);
// Bounds every wait: far above what each step takes, even under TSan.
constexpr absl::Duration kPatience = absl::Seconds(10);

int Fail(const std::string& why) {
  std::fprintf(stderr, "heartbeat demo failed: %s\n", why.c_str());
  return 1;
}

// A client of the demo server, beating every `interval` (zero: silent).
// Its local address is the server's name for it. Main thread only; its
// OnClose runs on the client's loop and only notifies `closed`.
struct DemoClient {
  DemoClient(absl::Duration interval, tao::examples::Timeline* timeline,
             const std::string& name) {
    tao::ClientOptions options;
    options.heartbeat.interval = interval;
    client = std::make_unique<tao::Client>(options, nullptr);
    client->OnClose([this, timeline, name](tao::Connection& c) {
      timeline->Say(absl::StrCat(name, " client: connection closed (",
                                 c.close_reason().ToString(), ")"));
      closed.Notify();
    });
  }
  absl::Status Connect(const std::string& address) {
    absl::Status up = client->Connect(address);
    if (up.ok()) up = client->WaitConnected(kPatience);
    if (up.ok()) peer = client->connection()->local_address().ToString();
    return up;
  }
  absl::Notification closed;  // outlives `client`, whose OnClose notifies it
  std::unique_ptr<tao::Client> client;
  std::string peer;  // as the server sees it
};

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::examples::Timeline timeline;
  heartbeat_example::HeartbeatWatch watch(&timeline);
  tao::Registry registry;
  TAO_CHECK(watch.Register(&registry).ok());
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  options.heartbeat.timeout = kTimeout;
  auto server = std::make_unique<tao::Server>(options, &registry);
  watch.Attach(*server);
  TAO_CHECK(server->Listen("127.0.0.1:0").ok());
  TAO_CHECK(server->Start().ok());
  const std::string address = server->listen_address().ToString();
  timeline.Say(absl::StrCat("server on ", address, ": heartbeat timeout ",
                            absl::FormatDuration(kTimeout)));

  DemoClient silent(absl::ZeroDuration(), &timeline, "silent");
  DemoClient beating(kInterval, &timeline, "beating");
  if (absl::Status s = silent.Connect(address); !s.ok()) {
    return Fail(s.ToString());
  }
  if (absl::Status s = beating.Connect(address); !s.ok()) {
    return Fail(s.ToString());
  }
  const absl::Duration beating_since = timeline.Elapsed();
  timeline.Say(absl::StrCat("silent client ", silent.peer,
                            " sends nothing; beating client ", beating.peer,
                            " beats every ", absl::FormatDuration(kInterval)));

  // 1. The silent client is closed for silence, and hears of it.
  absl::StatusOr<absl::Status> reason =
      watch.WaitClosed(silent.peer, kPatience);
  if (!reason.ok()) return Fail(reason.status().ToString());
  if (!absl::IsDeadlineExceeded(*reason)) {
    return Fail("silent client closed for another reason: " +
                reason->ToString());
  }
  if (!silent.closed.WaitForNotificationWithTimeout(kPatience)) {
    return Fail("the silent client did not see its connection close");
  }
  // 2. The beating client is still connected well past the timeout: it
  // sent twice the timeout's worth of heartbeats.
  const int enough = static_cast<int>(2 * kTimeout / kInterval);
  if (!watch.WaitBeats(beating.peer, enough, kPatience)) {
    return Fail(absl::StrCat("the beating client was closed after ",
                             watch.beats(beating.peer), " heartbeats"));
  }
  const absl::Duration survived = timeline.Elapsed() - beating_since;
  if (beating.client->connection() == nullptr || survived <= kTimeout) {
    return Fail("the beating client is not connected past the timeout");
  }
  beating.client->Stop();
  silent.client->Stop();
  server->Stop(absl::Seconds(1));
  server->Join();
  std::printf(
      "heartbeat demo: the silent client was closed (%s); the beating "
      "client survived %s (timeout %s) with %d heartbeats; server stats: "
      "%llu closed idle\n",
      reason->ToString().c_str(), absl::FormatDuration(survived).c_str(),
      absl::FormatDuration(kTimeout).c_str(), watch.beats(beating.peer),
      static_cast<unsigned long long>(server->stats().closed_idle));
  return 0;
}
