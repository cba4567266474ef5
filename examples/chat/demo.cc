// The chat demo: a server on loopback and three clients. Each client says a
// line in turn; the demo waits until every client has heard it, prints the
// transcript each client saw, and exits 0 (or 1 with the reason).
//   ./bazelw run //examples/chat:demo
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "examples/chat/chat_client.h"
#include "examples/chat/chat_server.h"
#include "examples/common/transcripts.h"

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(10);

using ::tao::examples::Transcripts;

int Fail(const std::string& why) {
  std::fprintf(stderr, "chat demo failed: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 2;
  chat::ChatServer server(options);
  absl::Status started = server.Start("127.0.0.1:0");
  if (!started.ok()) return Fail(started.ToString());
  const std::string address = server.address().ToString();
  std::printf("chat server on %s\n", address.c_str());

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
  for (auto& client : clients) client->Leave();
  server.Stop();
  std::printf("chat demo: every client heard every message\n");
  return 0;
}
