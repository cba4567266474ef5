// The chat demo: a server on loopback and three clients. Each client says a
// line in turn; the demo waits until every client has heard it, prints the
// transcript each client saw, then what the server's /metrics said before
// and after the talk, and exits 0 (or 1 with the reason).
//   ./bazelw run //examples/chat:demo
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "examples/chat/chat_client.h"
#include "examples/chat/chat_server.h"
#include "examples/common/http_get.h"
#include "examples/common/transcripts.h"

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);

using ::tao::examples::Transcripts;

int Fail(const std::string& why) {
  std::fprintf(stderr, "chat demo failed: %s\n", why.c_str());
  return 1;
}

// The server's samples a reader cares about here, from one scrape.
absl::StatusOr<std::map<std::string, std::string>> ScrapeChatNumbers(
    const tao::InetAddress& metrics) {
  absl::StatusOr<std::string> text =
      tao::examples::HttpGet(metrics, "/metrics");
  if (!text.ok()) return text.status();
  std::map<std::string, std::string> numbers;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    if (absl::StartsWith(line, "tao_connections_open") ||
        absl::StartsWith(line, "tao_connections_accepted_total") ||
        absl::StartsWith(line, "tao_frames_") ||
        absl::StartsWith(line, "tao_messages_handled_total") ||
        absl::StartsWith(line, "tao_received_bytes_total") ||
        absl::StartsWith(line, "tao_sent_bytes_total")) {
      const size_t space = line.rfind(' ');
      numbers[std::string(line.substr(0, space))] =
          std::string(line.substr(space + 1));
    }
  }
  return numbers;
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 2;
  chat::ChatServer server(options);
  absl::Status started = server.server().ListenMetrics("127.0.0.1:0");
  if (started.ok()) started = server.Start("127.0.0.1:0");
  if (!started.ok()) return Fail(started.ToString());
  const std::string address = server.address().ToString();
  const tao::InetAddress metrics = server.server().metrics_address();
  std::printf("chat server on %s, metrics on http://%s/metrics\n",
              address.c_str(), metrics.ToString().c_str());

  const std::vector<std::string> names = {"alice", "bob", "carol"};
  const std::vector<std::string> lines = {
      "hi all, anyone here?", "hello alice!", "hey both, good to see you"};
  Transcripts transcripts;
  std::vector<std::unique_ptr<chat::ChatClient>> clients;
  for (const std::string& name : names) {
    clients.push_back(std::make_unique<chat::ChatClient>(
        name, [&transcripts, name](const chat::ChatMessage& message) {
          transcripts.Heard(
              name, absl::StrCat("[", message.from(), "] ", message.text()));
        }));
    absl::Status joined = clients.back()->Join(address, kTimeout);
    if (!joined.ok()) return Fail(joined.ToString());
    std::printf("%s joined\n", name.c_str());
  }
  absl::StatusOr<std::map<std::string, std::string>> before =
      ScrapeChatNumbers(metrics);
  if (!before.ok()) return Fail(before.status().ToString());
  for (size_t i = 0; i < names.size(); ++i) {
    std::printf("%s says: %s\n", names[i].c_str(), lines[i].c_str());
    absl::Status said = clients[i]->Say(lines[i]);
    if (!said.ok()) return Fail(said.ToString());
    if (!transcripts.WaitForAll(names, i + 1, kTimeout)) {
      return Fail(absl::StrCat("not every client heard ", names[i], " within ",
                               absl::FormatDuration(kTimeout)));
    }
  }
  for (const auto& [name, heard] : transcripts.Snapshot()) {
    std::printf("--- %s heard:\n", name.c_str());
    for (const std::string& line : heard) std::printf("  %s\n", line.c_str());
    if (heard.size() != lines.size()) {
      return Fail(absl::StrCat(name, " heard ", heard.size(), " lines"));
    }
  }
  absl::StatusOr<std::map<std::string, std::string>> after =
      ScrapeChatNumbers(metrics);
  if (!after.ok()) return Fail(after.status().ToString());
  std::printf("--- the server's /metrics, before -> after the talk:\n");
  for (const auto& [name, value] : *after) {
    auto was = before->find(name);
    std::printf("  %-60s %6s -> %s\n", name.c_str(),
                was != before->end() ? was->second.c_str() : "-",
                value.c_str());
  }
  for (auto& client : clients) client->Leave();
  server.Stop();
  std::printf("chat demo: every client heard every message\n");
  return 0;
}
