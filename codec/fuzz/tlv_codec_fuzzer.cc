// Fuzzes TlvCodec::Decode (Go tao's framing) with arbitrary bytes: the Codec
// contract (tao/testing/codec_fuzz.h), whole and in pieces, with the default
// 8 MiB limit and a 64-byte one (so oversized lengths are reached); and,
// since the format is canonical, every frame re-encodes to its own bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "codec/tlv_codec.h"
#include "tao/testing/codec_fuzz.h"
#include "tao/testing/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  static const tao::TlvCodec* const small = new tao::TlvCodec(64);
  for (const tao::TlvCodec* codec : {&tao::TlvCodec::Default(), small}) {
    size_t offset = 0;
    for (const tao::Frame& frame :
         tao::testing::CheckDecodeContract(*codec, input)) {
      TAO_FUZZ_CHECK(
          frame.size == tao::TlvCodec::kHeaderSize + frame.payload.size(),
          absl::StrCat("frame size ", frame.size));
      std::string encoded;
      (void)codec->AppendFrame(frame.type, frame.payload, &encoded);
      TAO_FUZZ_CHECK(
          encoded == input.substr(offset, frame.size),
          absl::StrCat("frame at ", offset, " re-encodes differently"));
      offset += frame.size;
    }
  }
  return 0;
}
