// The echo demo: an echo server on loopback (handlers inline on the I/O
// loop) and a client that sends a few lines and prints each echo; exits 0
// when every line came back unchanged and in order.
//   ./bazelw run //examples/echo:demo
#include <cstdio>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "examples/echo/echo_service.h"

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::Registry server_registry;
  TAO_CHECK(echo::RegisterEchoServer(&server_registry).ok());
  tao::ServerOptions server_options;
  server_options.io_threads = 1;
  server_options.handler_threads = 0;
  tao::Server server(server_options, &server_registry);
  TAO_CHECK(server.Listen("127.0.0.1:0").ok());
  TAO_CHECK(server.Start().ok());

  absl::Mutex mu;
  std::vector<std::string> echoes;
  tao::Registry client_registry;
  TAO_CHECK(client_registry
                .RegisterRaw(echo::kEchoMessage,
                             [&](tao::Context&, absl::string_view payload) {
                               absl::MutexLock lock(&mu);
                               echoes.emplace_back(payload);
                             })
                .ok());
  tao::ClientOptions client_options;
  client_options.handler_threads = 0;
  tao::Client client(client_options, &client_registry);
  absl::Status connected = client.Connect(server.listen_address().ToString());
  if (connected.ok()) connected = client.WaitConnected(absl::Seconds(10));
  if (!connected.ok()) {
    std::fprintf(stderr, "echo demo failed: %s\n",
                 connected.ToString().c_str());
    return 1;
  }
  const std::vector<std::string> lines = {"hello", "tao speaks Go tao's TLV",
                                          std::string(100000, 'x'), "bye"};
  for (const std::string& line : lines) {
    TAO_CHECK(client.SendRaw(echo::kEchoMessage, line).ok());
  }
  bool all_back;
  {
    absl::MutexLock lock(&mu);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return echoes.size() >= lines.size();
    };
    all_back = mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
  }
  client.Stop();
  server.Stop(absl::Seconds(1));
  server.Join();
  absl::MutexLock lock(&mu);
  for (size_t i = 0; i < echoes.size(); ++i) {
    const std::string& e = echoes[i];
    std::printf("sent %zu bytes, echo: %s\n", lines[i].size(),
                e.size() > 40 ? (e.substr(0, 20) + "...").c_str() : e.c_str());
  }
  if (!all_back || echoes != lines) {
    std::fprintf(stderr, "echo demo failed: %zu of %zu echoes matched\n",
                 echoes.size(), lines.size());
    return 1;
  }
  std::printf("echo demo: all %zu lines came back intact\n", lines.size());
  return 0;
}
