// Fuzzes EnvelopeCodec::Decode (varint-delimited tao.Envelope) with
// arbitrary bytes: the Codec contract (tao/testing/codec_fuzz.h), whole and
// in pieces, with the default 8 MiB limit and a 64-byte one; and against
// protobuf's own parser: every frame tao accepts, protobuf parses
// (ParseDelimitedFromZeroCopyStream, as a peer would) to the same type_id
// and payload.
#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/envelope_codec.h"
#include "codec/proto/envelope.pb.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "tao/testing/codec_fuzz.h"
#include "tao/testing/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  static const tao::EnvelopeCodec* const small = new tao::EnvelopeCodec(64);
  for (const tao::EnvelopeCodec* codec :
       {&tao::EnvelopeCodec::Default(), small}) {
    size_t offset = 0;
    for (const tao::Frame& frame :
         tao::testing::CheckDecodeContract(*codec, input)) {
      const absl::string_view bytes = input.substr(offset, frame.size);
      google::protobuf::io::ArrayInputStream stream(
          bytes.data(), static_cast<int>(bytes.size()));
      tao::Envelope envelope;
      bool clean_eof = false;
      const bool parsed =
          google::protobuf::util::ParseDelimitedFromZeroCopyStream(
              &envelope, &stream, &clean_eof);
      TAO_FUZZ_CHECK(
          parsed && static_cast<size_t>(stream.ByteCount()) == bytes.size(),
          absl::StrCat("protobuf rejects the frame at ", offset));
      TAO_FUZZ_CHECK(static_cast<int64_t>(envelope.type_id()) == frame.type &&
                         envelope.payload() == frame.payload,
                     absl::StrCat("protobuf reads the frame at ", offset,
                                  " as type ", envelope.type_id(), " with a ",
                                  envelope.payload().size(), "-byte payload"));
      offset += frame.size;
    }
  }
  return 0;
}
