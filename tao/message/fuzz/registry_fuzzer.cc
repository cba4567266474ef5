// Fuzzes the message layer's decode path: the input is a TLV stream, as a
// server reads it; each frame goes through Registry::Dispatch, whose typed
// handlers parse the payload into the thread's reused protobuf message.
// Registered: tao.test.Chat (1), Numbers (2), Negative (-5) and a raw
// handler for type 7; no catch-all. Checks: Dispatch returns OK, NOT_FOUND
// (exactly the unregistered types) or DATA_LOSS (exactly the payloads a
// fresh message does not parse); a handler runs once per OK, with the frame's
// type, and sees what a fresh parse sees (the reused message keeps nothing
// from earlier frames); the raw handler gets the payload unchanged.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/proto/test_messages.pb.h"
#include "codec/tlv_codec.h"
#include "google/protobuf/stubs/logging.h"
#include "tao/message/context.h"
#include "tao/message/registry.h"
#include "tao/testing/detached_connection.h"
#include "tao/testing/fuzz.h"

namespace tao {
namespace {

constexpr int32_t kRawType = 7;

// What the last handler call saw.
struct Seen {
  int calls = 0;
  int32_t type = 0;
  std::string serialized;  // the parsed message, serialized; or raw payload
};

// The fuzzer's registry, with handlers recording into `seen`.
struct Fixture {
  Fixture() {
    auto record = [this](Context& ctx, const google::protobuf::Message& m) {
      ++seen.calls;
      seen.type = ctx.type();
      seen.serialized = m.SerializeAsString();
    };
    absl::Status s = registry.Register<test::Chat>(record);
    if (s.ok()) s = registry.Register<test::Numbers>(record);
    if (s.ok()) s = registry.Register<test::Negative>(record);
    if (s.ok()) {
      s = registry.RegisterRaw(kRawType,
                               [this](Context& ctx, absl::string_view payload) {
                                 ++seen.calls;
                                 seen.type = ctx.type();
                                 seen.serialized = std::string(payload);
                               });
    }
    TAO_FUZZ_CHECK(s.ok() && detached.ok(), s.ToString());
  }

  testing::DetachedConnection detached;
  Registry registry;
  Seen seen;
};

// What a fresh message of `type` makes of `payload`: its serialization, or
// nullopt when it does not parse.
template <typename Message>
std::optional<std::string> FreshParse(absl::string_view payload) {
  Message message;
  if (!message.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    return std::nullopt;
  }
  return message.SerializeAsString();
}

std::optional<std::string> Expected(int32_t type, absl::string_view payload) {
  switch (type) {
    case 1:
      return FreshParse<test::Chat>(payload);
    case 2:
      return FreshParse<test::Numbers>(payload);
    case -5:
      return FreshParse<test::Negative>(payload);
    default:
      return std::string(payload);  // raw
  }
}

void DispatchFrame(Fixture& f, const Frame& frame) {
  f.seen = Seen();
  Context context = f.detached.MakeContext(frame.type);
  const absl::Status status =
      f.registry.Dispatch(context, frame.type, frame.payload);
  const std::string where =
      absl::StrCat("type ", frame.type, ", ", frame.payload.size(),
                   "-byte payload: ", status.ToString());
  if (!f.registry.Contains(frame.type)) {
    TAO_FUZZ_CHECK(absl::IsNotFound(status) && f.seen.calls == 0, where);
    return;
  }
  const std::optional<std::string> expected =
      Expected(frame.type, frame.payload);
  if (!expected.has_value()) {
    TAO_FUZZ_CHECK(absl::IsDataLoss(status) && f.seen.calls == 0, where);
    return;
  }
  TAO_FUZZ_CHECK(status.ok() && f.seen.calls == 1 && f.seen.type == frame.type,
                 where);
  TAO_FUZZ_CHECK(f.seen.serialized == *expected,
                 absl::StrCat(where, ": the handler saw another message"));
}

}  // namespace
}  // namespace tao

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // Invalid UTF-8 in a proto3 string is a parse failure that protobuf also
  // logs; the fuzzer makes millions of them.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static tao::Fixture* const fixture = new tao::Fixture();
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  for (;;) {
    absl::StatusOr<std::optional<tao::Frame>> frame =
        tao::TlvCodec::Default().Decode(input);
    if (!frame.ok() || !frame->has_value()) break;
    tao::DispatchFrame(*fixture, **frame);
    input.remove_prefix((*frame)->size);
  }
  return 0;
}
