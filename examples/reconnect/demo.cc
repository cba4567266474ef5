// The reconnect demo: a client (ReconnectPolicy on) greets server A; A
// stops; the client retries with growing, jittered delays (each printed)
// while nothing listens; server B starts on the port A had, and the client
// reconnects and greets B. Exits 0 when B answered.
//   ./bazelw run //examples/reconnect:demo
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "examples/common/timeline.h"
#include "examples/reconnect/backoff_log.h"
#include "examples/reconnect/greeter.h"

namespace {

// Bounds every wait: far above what each step takes, even under TSan.
constexpr absl::Duration kPatience = absl::Seconds(10);
// Failed attempts shown while no server listens.
constexpr int kFailuresToShow = 3;

int Fail(const std::string& why) {
  std::fprintf(stderr, "reconnect demo failed: %s\n", why.c_str());
  return 1;
}

// A started greeter server named `name` on `address`; the error names the
// address (e.g. EADDRINUSE when the port could not be reused).
absl::StatusOr<std::unique_ptr<tao::Server>> StartServer(
    const std::string& name, const std::string& address,
    tao::Registry* registry) {
  TAO_RETURN_IF_ERROR(reconnect_example::RegisterGreeter(registry, name));
  tao::ServerOptions options;
  options.io_threads = 1;
  options.handler_threads = 0;
  auto server = std::make_unique<tao::Server>(options, registry);
  absl::Status up = server->Listen(address);
  if (up.ok()) up = server->Start();
  if (!up.ok()) {
    return absl::Status(
        up.code(), absl::StrCat(name, " on ", address, ": ", up.message()));
  }
  return server;
}

// The answers the client received, in order; thread-safe.
class Answers {
 public:
  void Add(absl::string_view answer) {
    absl::MutexLock lock(&mu_);
    answers_.emplace_back(answer);
  }
  bool WaitFor(size_t n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return answers_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), kPatience);
  }
  std::vector<std::string> Get() {
    absl::MutexLock lock(&mu_);
    return answers_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> answers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kError);
  tao::examples::Timeline timeline;
  tao::Registry registry_a;
  tao::Registry registry_b;
  absl::StatusOr<std::unique_ptr<tao::Server>> a =
      StartServer("server A", "127.0.0.1:0", &registry_a);
  if (!a.ok()) return Fail(a.status().ToString());
  const std::string address = (*a)->listen_address().ToString();
  timeline.Say(absl::StrCat("server A listening on ", address));

  tao::ClientOptions options;
  options.reconnect.enabled = true;
  options.reconnect.initial_backoff = absl::Milliseconds(50);
  options.reconnect.multiplier = 2.0;
  options.reconnect.jitter = 0.2;
  options.reconnect.max_backoff = absl::Seconds(1);
  Answers answers;
  tao::Registry client_registry;
  TAO_CHECK(client_registry
                .RegisterRaw(reconnect_example::kGreeting,
                             [&](tao::Context&, absl::string_view answer) {
                               timeline.Say(absl::StrCat("client: answer \"",
                                                         answer, "\""));
                               answers.Add(answer);
                             })
                .ok());
  reconnect_example::BackoffLog log(options.reconnect, &timeline);
  auto client = std::make_unique<tao::Client>(options, &client_registry);
  log.Attach(*client);
  TAO_CHECK(client->Connect(address).ok());
  if (!log.WaitConnects(1, kPatience)) return Fail("no first connection");
  TAO_CHECK(client->SendRaw(reconnect_example::kGreeting, "hello").ok());
  if (!answers.WaitFor(1)) return Fail("server A did not answer");

  timeline.Say("stopping server A");
  (*a)->Stop(absl::Seconds(1));
  (*a)->Join();
  a->reset();
  if (!log.WaitFailures(kFailuresToShow, kPatience)) {
    return Fail("the client did not retry");
  }
  absl::StatusOr<std::unique_ptr<tao::Server>> b =
      StartServer("server B", address, &registry_b);
  if (!b.ok()) {
    return Fail(absl::StrCat("could not reuse the port of server A: ",
                             b.status().ToString()));
  }
  timeline.Say(absl::StrCat("server B listening on ", address));
  if (!log.WaitConnects(2, kPatience)) return Fail("no reconnection");
  // Sent on the new connection: the client's handlers are inline, so the
  // connection is current once OnConnect ran.
  TAO_CHECK(client->SendRaw(reconnect_example::kGreeting, "hello again").ok());
  const bool answered = answers.WaitFor(2);
  log.Stopping();
  client->Stop();
  (*b)->Stop(absl::Seconds(1));
  (*b)->Join();
  const std::vector<std::string> got = answers.Get();
  if (!answered || got.back() != "server B heard: hello again") {
    return Fail("server B did not answer the reconnected client");
  }
  const std::vector<double> factors = log.factors();
  const double jitter = options.reconnect.jitter;
  for (double f : factors) {
    // Timers never fire early (1 ms of rounding aside).
    if (f < 1 - jitter - 0.05) {
      return Fail(absl::StrCat("a retry came early: jitter x", f));
    }
  }
  std::printf(
      "reconnect demo: the client outlived server A, retried %zu times "
      "with growing jittered delays and greeted server B on the same port\n",
      factors.size());
  return 0;
}
