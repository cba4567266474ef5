#include "tao/testing/codec_fuzz.h"

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "tao/testing/fuzz.h"

namespace tao {
namespace testing {
namespace {

// What decoding a stream found: its frames, then how it stopped.
struct Decoded {
  std::vector<Frame> frames;
  absl::Status error;  // OK: the rest is an incomplete frame (maybe empty)
};

// A frame as found by Decode on `input`, checked against it.
void CheckFrame(const Codec& codec, absl::string_view input,
                const Frame& frame) {
  TAO_FUZZ_CHECK(frame.size > 0 && frame.size <= input.size(),
                 absl::StrCat("frame size ", frame.size, " of ", input.size(),
                              " input bytes"));
  const char* const begin = input.data();
  const char* const end = input.data() + frame.size;
  TAO_FUZZ_CHECK(frame.payload.empty() ||
                     (frame.payload.data() >= begin &&
                      frame.payload.data() + frame.payload.size() <= end),
                 "payload outside its frame");
  TAO_FUZZ_CHECK(frame.payload.size() <= codec.max_payload_size(),
                 absl::StrCat("payload ", frame.payload.size(), " > max ",
                              codec.max_payload_size()));
}

bool SameFrame(const Frame& a, const Frame& b) {
  return a.type == b.type && a.payload == b.payload && a.size == b.size;
}

// Whole-input decoding, with the checks that need only one frame.
Decoded DecodeAll(const Codec& codec, absl::string_view input) {
  Decoded out;
  absl::string_view rest = input;
  for (;;) {
    absl::StatusOr<std::optional<Frame>> frame = codec.Decode(rest);
    if (!frame.ok()) {
      const absl::StatusCode code = frame.status().code();
      TAO_FUZZ_CHECK(code == absl::StatusCode::kInvalidArgument ||
                         code == absl::StatusCode::kDataLoss,
                     frame.status().ToString());
      out.error = frame.status();
      return out;
    }
    if (!frame->has_value()) return out;
    const Frame& f = **frame;
    CheckFrame(codec, rest, f);
    // Bytes after the frame are not looked at; a strict prefix of the frame
    // is incomplete (checked at the cut points that matter most).
    absl::StatusOr<std::optional<Frame>> alone =
        codec.Decode(rest.substr(0, f.size));
    TAO_FUZZ_CHECK(alone.ok() && alone->has_value() && SameFrame(**alone, f),
                   "the frame's own bytes decode differently");
    for (size_t cut : {size_t{0}, f.size / 2, f.size - 1}) {
      absl::StatusOr<std::optional<Frame>> prefix =
          codec.Decode(rest.substr(0, cut));
      TAO_FUZZ_CHECK(prefix.ok() && !prefix->has_value(),
                     absl::StrCat("a ", cut, "-byte prefix of a ", f.size,
                                  "-byte frame is not incomplete: ",
                                  prefix.status().ToString()));
    }
    out.frames.push_back(f);
    rest.remove_prefix(f.size);
  }
}

// The same bytes arriving in pieces, decoded from a growing buffer.
Decoded DecodeInPieces(const Codec& codec, absl::string_view input) {
  Decoded out;
  std::string buffer;
  size_t consumed = 0;  // of `input`, by frames already decoded
  ChunkSplitter split(Fnv1a(input), /*max_chunk=*/17);
  absl::string_view unread = input;
  while (!unread.empty()) {
    const size_t n = split.Next(unread.size());
    buffer.append(unread.data(), n);
    unread.remove_prefix(n);
    for (;;) {
      absl::StatusOr<std::optional<Frame>> frame = codec.Decode(buffer);
      if (!frame.ok()) {
        out.error = frame.status();
        return out;
      }
      if (!frame->has_value()) break;
      // Re-point the frame into `input`, where the whole decode's are.
      Frame f = **frame;
      const size_t offset = static_cast<size_t>(
          f.payload.empty() ? 0 : f.payload.data() - buffer.data());
      f.payload = input.substr(consumed + offset, f.payload.size());
      out.frames.push_back(f);
      consumed += f.size;
      buffer.erase(0, f.size);
    }
  }
  return out;
}

}  // namespace

std::vector<Frame> CheckDecodeContract(const Codec& codec,
                                       absl::string_view input) {
  Decoded whole = DecodeAll(codec, input);
  Decoded pieces = DecodeInPieces(codec, input);
  TAO_FUZZ_CHECK(whole.frames.size() == pieces.frames.size(),
                 absl::StrCat(whole.frames.size(), " frames whole, ",
                              pieces.frames.size(), " in pieces"));
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    TAO_FUZZ_CHECK(SameFrame(whole.frames[i], pieces.frames[i]),
                   absl::StrCat("frame ", i, " differs in pieces"));
  }
  TAO_FUZZ_CHECK(whole.error.code() == pieces.error.code(),
                 absl::StrCat("whole: ", whole.error.ToString(),
                              "; in pieces: ", pieces.error.ToString()));
  for (const Frame& f : whole.frames) {
    std::string encoded;
    const absl::Status appended =
        codec.AppendFrame(f.type, f.payload, &encoded);
    TAO_FUZZ_CHECK(appended.ok(), appended.ToString());
    absl::StatusOr<std::optional<Frame>> again = codec.Decode(encoded);
    TAO_FUZZ_CHECK(
        again.ok() && again->has_value() && (*again)->type == f.type &&
            (*again)->payload == f.payload && (*again)->size == encoded.size(),
        absl::StrCat("type ", f.type, " with a ", f.payload.size(),
                     "-byte payload does not round-trip"));
  }
  return whole.frames;
}

}  // namespace testing
}  // namespace tao
