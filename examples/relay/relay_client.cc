#include "examples/relay/relay_client.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "examples/relay/relay.pb.h"

namespace relay {

RelayClient::RelayClient(tao::ClientOptions options, AnswerCallback on_answer)
    : on_answer_(std::move(on_answer)) {
  TAO_CHECK(registry_
                .Register<SumReply>([this](tao::Context&, const SumReply& r) {
                  Answered(absl::StrCat("sum = ", r.sum()));
                })
                .ok());
  TAO_CHECK(
      registry_
          .Register<UpperReply>([this](tao::Context&, const UpperReply& r) {
            Answered(absl::StrCat("upper = ", r.text()));
          })
          .ok());
  client_ = std::make_unique<tao::Client>(std::move(options), &registry_);
}

void RelayClient::Answered(const std::string& answer) {
  on_answer_(answer);
  absl::MutexLock lock(&mu_);
  ++answered_;
}

bool RelayClient::WaitAnswered(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return answered_ >= asked_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

absl::Status RelayClient::Connect(absl::string_view address) {
  TAO_RETURN_IF_ERROR(client_->Connect(address));
  return client_->WaitConnected(absl::Seconds(10));
}

absl::Status RelayClient::Send(const google::protobuf::Message& request) {
  absl::MutexLock lock(&mu_);
  absl::Status sent = client_->Send(request);
  if (sent.ok()) ++asked_;
  return sent;
}

absl::Status RelayClient::Ask(absl::string_view line) {
  if (absl::StartsWith(line, "sum ")) {
    SumRequest request;
    for (absl::string_view word :
         absl::StrSplit(line.substr(4), ' ', absl::SkipEmpty())) {
      int64_t n;
      if (!absl::SimpleAtoi(word, &n)) {
        return absl::InvalidArgumentError(absl::StrCat("not a number: ", word));
      }
      request.add_numbers(n);
    }
    return Send(request);
  }
  UpperRequest request;
  request.set_text(std::string(line));
  return Send(request);
}

}  // namespace relay
