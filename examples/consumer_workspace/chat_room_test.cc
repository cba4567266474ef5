// Two members join the room; what one says, both hear. Plain main() (no test
// framework), so the workspace needs nothing but tao_deps().
#include "chat_room.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "room.pb.h"
#include "tao/tao.h"

namespace {

constexpr absl::Duration kTimeout = absl::Seconds(30);

void Check(bool ok, absl::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "FAILED: %.*s\n", static_cast<int>(what.size()),
               what.data());
  std::exit(1);
}

void Check(const absl::Status& status, absl::string_view what) {
  Check(status.ok(), absl::StrCat(what, ": ", status.ToString()));
}

// A member: a tao client that records every line it hears.
class Member {
 public:
  explicit Member(std::string name) : name_(std::move(name)) {
    Check(registry_.Register<room::Line>(
              [this](tao::Context&, const room::Line& line) {
                absl::MutexLock lock(&mu_);
                heard_.push_back(absl::StrCat(line.from(), ": ", line.text()));
              }),
          "register");
    client_ = std::make_unique<tao::Client>(tao::ClientOptions(), &registry_);
  }

  absl::Status Join(const std::string& address) {
    absl::Status status = client_->Connect(address);
    if (status.ok()) status = client_->WaitConnected(kTimeout);
    return status;
  }
  absl::Status Say(absl::string_view text) {
    room::Line line;
    line.set_from(name_);
    line.set_text(std::string(text));
    return client_->Send(line);
  }
  // Whether `line` ("name: text") is heard within kTimeout.
  bool Hears(const std::string& line) {
    absl::MutexLock lock(&mu_);
    auto heard = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const std::string& h : heard_) {
        if (h == line) return true;
      }
      return false;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&heard), kTimeout);
  }
  void Leave() { client_->Stop(); }

 private:
  const std::string name_;
  absl::Mutex mu_;
  std::vector<std::string> heard_ ABSL_GUARDED_BY(mu_);
  tao::Registry registry_;
  std::unique_ptr<tao::Client> client_;  // last: stopped first
};

}  // namespace

int main() {
  ChatRoom room;
  Check(room.Start("127.0.0.1:0"), "start the room");
  Member alice("alice");
  Member bob("bob");
  Check(alice.Join(room.address()), "alice joins");
  Check(bob.Join(room.address()), "bob joins");

  // A member that hears its own hello is counted in by the server (a
  // client's connect completes before the server has accepted it).
  Check(alice.Say("hello"), "alice says hello");
  Check(alice.Hears("alice: hello"), "alice hears her hello");
  Check(bob.Say("hello"), "bob says hello");
  Check(bob.Hears("bob: hello"), "bob hears his hello");

  Check(alice.Say("hi bob"), "alice says hi");
  Check(bob.Hears("alice: hi bob"), "bob hears alice");
  Check(alice.Hears("alice: hi bob"), "alice hears herself");
  Check(bob.Say("hi alice"), "bob says hi");
  Check(alice.Hears("bob: hi alice"), "alice hears bob");

  alice.Leave();
  bob.Leave();
  room.Stop();
  std::printf("PASSED: two members chatted through the room\n");
  return 0;
}
