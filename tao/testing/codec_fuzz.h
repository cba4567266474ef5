// The Codec contract (codec/codec.h) checked on arbitrary bytes, for the
// codec fuzz targets (codec/fuzz/). Any violation aborts (TAO_FUZZ_CHECK).
//
//   std::vector<tao::Frame> frames =
//       tao::testing::CheckDecodeContract(codec, input);
//   for (const tao::Frame& f : frames) { ... codec-specific checks ... }
//
// Thread safety: pure functions.
#ifndef TAO_TESTING_CODEC_FUZZ_H_
#define TAO_TESTING_CODEC_FUZZ_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "codec/codec.h"

namespace tao {
namespace testing {

// Decodes `input` as a connection does (frame after frame until an error or
// an incomplete frame) and checks that:
//   - each frame lies within the input, its payload within the frame and
//     within max_payload_size(); Decode of just the frame's bytes finds the
//     same frame, and a strict prefix of them is incomplete;
//   - an error is INVALID_ARGUMENT or DATA_LOSS;
//   - the same bytes fed in pseudo-random pieces (seeded by the input)
//     into a growing buffer decode to the same frames and an error of the same
//     code;
//   - each frame's (type, payload) re-encodes (AppendFrame) to bytes that
//     decode to that type and payload, as one whole frame.
// Returns the frames, pointing into `input`.
std::vector<Frame> CheckDecodeContract(const Codec& codec,
                                       absl::string_view input);

}  // namespace testing
}  // namespace tao

#endif  // TAO_TESTING_CODEC_FUZZ_H_
