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
namespace {

const tao::Registry& Registered(tao::Registry& registry,
                                const RelayClient::AnswerCallback& on_answer) {
  TAO_CHECK(registry
                .Register<SumReply>(
                    [&on_answer](tao::Context&, const SumReply& reply) {
                      on_answer(absl::StrCat("sum = ", reply.sum()));
                    })
                .ok());
  TAO_CHECK(registry
                .Register<UpperReply>(
                    [&on_answer](tao::Context&, const UpperReply& reply) {
                      on_answer(absl::StrCat("upper = ", reply.text()));
                    })
                .ok());
  return registry;
}

}  // namespace

RelayClient::RelayClient(tao::ClientOptions options, AnswerCallback on_answer)
    : on_answer_(std::move(on_answer)),
      client_(std::make_unique<tao::Client>(
          std::move(options), &Registered(registry_, on_answer_))) {}

absl::Status RelayClient::Connect(absl::string_view address) {
  TAO_RETURN_IF_ERROR(client_->Connect(address));
  return client_->WaitConnected(absl::Seconds(10));
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
    return client_->Send(request);
  }
  UpperRequest request;
  request.set_text(std::string(line));
  return client_->Send(request);
}

}  // namespace relay
