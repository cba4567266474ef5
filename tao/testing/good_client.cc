#include "tao/testing/good_client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tao/message/options.h"
#include "tao/net/connection.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace testing {

GoodClient::GoodClient(int index, const InetAddress& server, size_t padding)
    : index_(index), padding_(padding, 'p') {
  EXPECT_TRUE(
      registry_
          .Register<test::Chat>([this](Context& ctx, const test::Chat& chat) {
            OnEcho(ctx, chat);
          })
          .ok());
  EXPECT_TRUE(registry_
                  .RegisterCatchAll([this](Context&, absl::string_view) {
                    absl::MutexLock lock(&mu_);
                    ++others_;
                  })
                  .ok());
  ClientOptions options;
  options.handler_threads = 0;
  client_ = std::make_unique<Client>(options, &registry_);
  Install(*client_, tracker_, Callbacks());
  EXPECT_TRUE(client_->Connect(server.ToString()).ok());
}

GoodClient::~GoodClient() { client_->Stop(); }

absl::Status GoodClient::Begin() {
  absl::Status connected = client_->WaitConnected(kTimeout);
  if (!connected.ok()) return connected;
  absl::Notification done;
  absl::Status result;
  client_->loop()->RunInLoop([&] {
    absl::MutexLock lock(&mu_);
    ConnectionPtr connection = client_->connection();
    for (int i = 0; i < kWindow && result.ok(); ++i) {
      result = connection == nullptr ? absl::UnavailableError("not connected")
                                     : client_->Send(*connection, Next());
      if (result.ok()) ++sent_;
    }
    done.Notify();
  });
  if (!done.WaitForNotificationWithTimeout(kTimeout)) {
    return absl::DeadlineExceededError("client loop did not run");
  }
  return result;
}

bool GoodClient::WaitForReceived(int64_t n) {
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return received_ >= n || !failure_.empty();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), kTimeout) &&
         failure_.empty();
}

bool GoodClient::Finish() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  auto drained = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return received_ == sent_ || !failure_.empty();
  };
  return mu_.AwaitWithTimeout(absl::Condition(&drained), kTimeout) &&
         failure_.empty();
}

int64_t GoodClient::received() {
  absl::MutexLock lock(&mu_);
  return received_;
}

int64_t GoodClient::others() {
  absl::MutexLock lock(&mu_);
  return others_;
}

std::string GoodClient::failure() {
  absl::MutexLock lock(&mu_);
  return failure_;
}

std::string GoodClient::Text(int64_t n) const {
  return absl::StrCat("client ", index_, " message ", n, padding_);
}

test::Chat GoodClient::Next() {
  test::Chat chat;
  chat.set_text(Text(sent_));
  return chat;
}

void GoodClient::OnEcho(Context& ctx, const test::Chat& chat) {
  absl::MutexLock lock(&mu_);
  if (failure_.empty() && chat.text() != Text(received_)) {
    failure_ =
        absl::StrCat("message ", received_, ": got \"",
                     chat.text().substr(0, 64), "\" (", chat.text().size(),
                     " bytes), want \"", Text(received_).substr(0, 64), "\"");
  }
  ++received_;
  if (stop_) return;
  absl::Status sent = ctx.Reply(Next());
  if (sent.ok()) {
    ++sent_;
  } else if (failure_.empty()) {
    failure_ = sent.ToString();
  }
}

}  // namespace testing
}  // namespace tao
