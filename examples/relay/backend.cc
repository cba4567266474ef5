#include "examples/relay/backend.h"

#include <cctype>
#include <string>

#include "codec/message_id.h"
#include "examples/relay/relay.pb.h"

namespace relay {
namespace {

template <typename Message>
int32_t TypeOf() {
  absl::StatusOr<int32_t> type = tao::MessageTypeId(*Message::descriptor());
  TAO_CHECK(type.ok()) << type.status();
  return *type;
}

}  // namespace

absl::Status RegisterBackend(tao::Registry* registry) {
  TAO_RETURN_IF_ERROR(registry->Register<SumRequest>(
      [](tao::Context& ctx, const SumRequest& request) {
        SumReply reply;
        for (int64_t n : request.numbers()) reply.set_sum(reply.sum() + n);
        (void)ctx.Reply(reply);
      }));
  return registry->Register<UpperRequest>(
      [](tao::Context& ctx, const UpperRequest& request) {
        UpperReply reply;
        std::string text = request.text();
        for (char& c : text) {
          c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        reply.set_text(text);
        (void)ctx.Reply(reply);
      });
}

std::vector<int32_t> RequestTypes() {
  return {TypeOf<SumRequest>(), TypeOf<UpperRequest>()};
}

std::vector<int32_t> AnswerTypes() {
  return {TypeOf<SumReply>(), TypeOf<UpperReply>()};
}

std::shared_ptr<const tao::Codec> LinkCodec() {
  return std::make_shared<tao::EnvelopeCodec>();
}

}  // namespace relay
