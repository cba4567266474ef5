#include "codec/envelope_codec.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"

namespace tao {
namespace {

// Protobuf wire types.
enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

constexpr uint32_t kTypeIdField = 1;
constexpr uint32_t kPayloadField = 2;
constexpr char kTypeIdTag = (kTypeIdField << 3) | kVarint;             // 0x08
constexpr char kPayloadTag = (kPayloadField << 3) | kLengthDelimited;  // 0x12
constexpr size_t kMaxVarintBytes = 10;
constexpr size_t kMaxVarint32Bytes = 5;

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* WriteVarint(uint64_t v, char* out) {
  while (v >= 0x80) {
    *out++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}

enum class VarintResult { kOk, kIncomplete, kMalformed };

// Reads a varint from [*p, end). kOk advances *p past it; kIncomplete means
// the bytes ran out first; kMalformed is a varint longer than 10 bytes or
// above 64 bits. Both failures leave the bits seen so far in *value.
inline VarintResult ReadVarint(const char** p, const char* end,
                               uint64_t* value) {
  const char* q = *p;
  // Fast path: one-byte varints (small tags, types and lengths).
  if (ABSL_PREDICT_TRUE(q != end && static_cast<signed char>(*q) >= 0)) {
    *value = static_cast<unsigned char>(*q);
    *p = q + 1;
    return VarintResult::kOk;
  }
  uint64_t result = 0;
  for (size_t i = 0; i < kMaxVarintBytes; ++i, ++q) {
    if (q == end) {
      *value = result;
      return VarintResult::kIncomplete;
    }
    const auto byte = static_cast<unsigned char>(*q);
    // The 10th byte holds bit 63 only.
    if (i == kMaxVarintBytes - 1 && byte > 1) {
      *value = result;
      return VarintResult::kMalformed;
    }
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *p = q + 1;
      *value = result;
      return VarintResult::kOk;
    }
  }
  *value = result;
  return VarintResult::kMalformed;  // unreachable: the 10th byte ends it
}

// What ParseEnvelope found wrong; formatted into a Status only on failure,
// so the success path builds no strings.
enum class Problem {
  kNone,
  kBadTag,          // tag not a varint of at most 5 bytes / 32 bits
  kTruncatedTag,    // tag runs past the end
  kFieldZero,       // field number 0
  kBadVarint,       // value or length not a valid varint
  kTruncated,       // value, length or fixed-width field runs past the end
  kLengthPastEnd,   // length-delimited field longer than what remains
  kGroup,           // wire type 3 or 4
  kBadWireType,     // wire type 6 or 7
  kTypeIdTooLarge,  // type_id > INT32_MAX
  kPayloadTooLarge  // payload > max_payload_size
};

struct ParseResult {
  Problem problem = Problem::kNone;
  uint64_t field = 0;  // the field concerned
  uint64_t value = 0;  // wire type, type_id, or length, depending on problem
};

// Reads a varint lying within [*p, end) of at most `max_bytes` bytes.
inline bool ReadBodyVarint(const char** p, const char* end, size_t max_bytes,
                           uint64_t* value, bool* truncated) {
  const char* const start = *p;
  switch (ReadVarint(p, end, value)) {
    case VarintResult::kOk:
      return static_cast<size_t>(*p - start) <= max_bytes;
    case VarintResult::kIncomplete:
      *truncated = true;
      return false;
    case VarintResult::kMalformed:
      break;
  }
  return false;
}

// Parses a complete serialized Envelope in `body` (all N bytes present).
ParseResult ParseEnvelope(absl::string_view body, size_t max_payload,
                          Frame* frame) {
  const char* p = body.data();
  const char* const end = body.data() + body.size();
  uint32_t type_id = 0;
  absl::string_view payload;
  ParseResult r;
  while (p != end) {
    uint64_t tag;
    bool truncated = false;
    if (!ReadBodyVarint(&p, end, kMaxVarint32Bytes, &tag, &truncated) ||
        tag > std::numeric_limits<uint32_t>::max()) {
      r.problem = truncated ? Problem::kTruncatedTag : Problem::kBadTag;
      return r;
    }
    r.field = tag >> 3;
    const auto wire_type = static_cast<uint32_t>(tag & 7);
    if (r.field == 0) {
      r.problem = Problem::kFieldZero;
      return r;
    }
    switch (wire_type) {
      case kVarint: {
        uint64_t v;
        if (!ReadBodyVarint(&p, end, kMaxVarintBytes, &v, &truncated)) {
          r.problem = truncated ? Problem::kTruncated : Problem::kBadVarint;
          return r;
        }
        // uint32 fields keep the low 32 bits, as protobuf does.
        if (r.field == kTypeIdField) type_id = static_cast<uint32_t>(v);
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t n = wire_type == kFixed64 ? 8 : 4;
        if (static_cast<size_t>(end - p) < n) {
          r.problem = Problem::kTruncated;
          return r;
        }
        p += n;
        break;
      }
      case kLengthDelimited: {
        uint64_t len;
        if (!ReadBodyVarint(&p, end, kMaxVarint32Bytes, &len, &truncated)) {
          r.problem = truncated ? Problem::kTruncated : Problem::kBadVarint;
          return r;
        }
        if (len > static_cast<size_t>(end - p)) {
          r.problem = Problem::kLengthPastEnd;
          r.value = len;
          return r;
        }
        if (r.field == kPayloadField) {
          payload = absl::string_view(p, static_cast<size_t>(len));
        }
        p += len;
        break;
      }
      case kStartGroup:
      case kEndGroup:
        r.problem = Problem::kGroup;
        return r;
      default:
        r.problem = Problem::kBadWireType;
        r.value = wire_type;
        return r;
    }
  }
  if (type_id > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    r.problem = Problem::kTypeIdTooLarge;
    r.field = kTypeIdField;
    r.value = type_id;
    return r;
  }
  if (payload.size() > max_payload) {
    r.problem = Problem::kPayloadTooLarge;
    r.field = kPayloadField;
    r.value = payload.size();
    return r;
  }
  frame->type = static_cast<int32_t>(type_id);
  frame->payload = payload;
  return ParseResult{};
}

absl::Status DataLoss(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed envelope: ", what));
}

ABSL_ATTRIBUTE_NOINLINE absl::Status ToStatus(const ParseResult& r,
                                              size_t max_payload) {
  const std::string field = absl::StrCat("field ", r.field);
  switch (r.problem) {
    case Problem::kNone:
      break;
    case Problem::kBadTag:
      return DataLoss("tag is not a varint of at most 5 bytes and 32 bits");
    case Problem::kTruncatedTag:
      return DataLoss("tag runs past the end of the envelope");
    case Problem::kFieldZero:
      return DataLoss("field number 0");
    case Problem::kBadVarint:
      return DataLoss(absl::StrCat(field, " has an invalid varint"));
    case Problem::kTruncated:
      return DataLoss(
          absl::StrCat(field, " runs past the end of the envelope"));
    case Problem::kLengthPastEnd:
      return DataLoss(absl::StrCat(field, " length ", r.value,
                                   " runs past the end of the envelope"));
    case Problem::kGroup:
      return DataLoss(absl::StrCat(field, " is a group"));
    case Problem::kBadWireType:
      return DataLoss(absl::StrCat(field, " has invalid wire type ", r.value));
    case Problem::kTypeIdTooLarge:
      return DataLoss(absl::StrCat("type_id ", r.value, " exceeds INT32_MAX"));
    case Problem::kPayloadTooLarge:
      return absl::InvalidArgumentError(absl::StrCat(
          "payload length ", r.value, " exceeds the maximum ", max_payload));
  }
  return absl::OkStatus();
}

}  // namespace

EnvelopeCodec::EnvelopeCodec(size_t max_payload_size)
    : Codec(std::min(max_payload_size, kMaxSupportedPayload)) {}

const EnvelopeCodec& EnvelopeCodec::Default() {
  static const EnvelopeCodec* const codec =
      new EnvelopeCodec();  // never destroyed
  return *codec;
}

absl::StatusOr<size_t> EnvelopeCodec::EncodeHeader(int32_t type,
                                                   size_t payload_size,
                                                   char* out) const {
  if (type < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "type ", type, " cannot be represented: envelope type_id is unsigned"));
  }
  if (payload_size > max_payload_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("frame length ", payload_size, " exceeds the maximum ",
                     max_payload_size()));
  }
  // proto3 omits fields holding their default value.
  size_t body = 0;
  if (type != 0) body += 1 + VarintSize(static_cast<uint64_t>(type));
  if (payload_size != 0) body += 1 + VarintSize(payload_size) + payload_size;
  char* p = WriteVarint(body, out);
  if (type != 0) {
    *p++ = kTypeIdTag;
    p = WriteVarint(static_cast<uint64_t>(type), p);
  }
  if (payload_size != 0) {
    *p++ = kPayloadTag;
    p = WriteVarint(payload_size, p);
  }
  return static_cast<size_t>(p - out);
}

absl::StatusOr<std::optional<Frame>> EnvelopeCodec::Decode(
    absl::string_view input) const {
  const size_t max_body = max_payload_size() + kMaxEnvelopeOverhead;
  const char* p = input.data();
  const char* const end = input.data() + input.size();
  uint64_t body_size;
  switch (ReadVarint(&p, end, &body_size)) {
    case VarintResult::kOk:
      break;
    case VarintResult::kIncomplete:
      // Later bytes only add bits: a prefix already too large stays so.
      if (body_size > max_body) break;
      return std::nullopt;
    case VarintResult::kMalformed:
      // Too large already, as an incomplete prefix of it was: the same
      // error however the bytes arrive.
      if (body_size > max_body) break;
      return DataLoss("length prefix is not a valid varint");
  }
  if (body_size > max_body) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame length ", body_size, " exceeds the maximum ", max_body));
  }
  const size_t prefix_size = static_cast<size_t>(p - input.data());
  if (static_cast<size_t>(end - p) < body_size) return std::nullopt;
  Frame frame;
  const ParseResult r = ParseEnvelope(absl::string_view(p, body_size),
                                      max_payload_size(), &frame);
  if (ABSL_PREDICT_FALSE(r.problem != Problem::kNone)) {
    return ToStatus(r, max_payload_size());
  }
  frame.size = prefix_size + static_cast<size_t>(body_size);
  return frame;
}

}  // namespace tao
