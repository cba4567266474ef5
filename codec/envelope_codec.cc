#include "codec/envelope_codec.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

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
// the bytes ran out first (*value holds the bits seen so far); kMalformed is
// a varint longer than 10 bytes or above 64 bits.
VarintResult ReadVarint(const char** p, const char* end, uint64_t* value) {
  uint64_t result = 0;
  const char* q = *p;
  for (size_t i = 0; i < kMaxVarintBytes; ++i, ++q) {
    if (q == end) {
      *value = result;
      return VarintResult::kIncomplete;
    }
    const auto byte = static_cast<unsigned char>(*q);
    // The 10th byte holds bit 63 only.
    if (i == kMaxVarintBytes - 1 && byte > 1) return VarintResult::kMalformed;
    result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *p = q + 1;
      *value = result;
      return VarintResult::kOk;
    }
  }
  return VarintResult::kMalformed;  // unreachable: the 10th byte ends it
}

absl::Status DataLoss(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed envelope: ", what));
}

// Reads a varint that must lie entirely within [*p, end) and take at most
// `max_bytes` bytes (protobuf reads tags and lengths as at most 5 bytes).
// Error messages name `what` of `field` (0: none); they are only formatted on
// failure, keeping the success path free of allocations.
absl::Status ReadBodyVarint(const char** p, const char* end, const char* what,
                            uint64_t field, size_t max_bytes, uint64_t* value) {
  const char* const start = *p;
  absl::string_view problem = "is not a valid varint";
  switch (ReadVarint(p, end, value)) {
    case VarintResult::kOk:
      if (static_cast<size_t>(*p - start) <= max_bytes) {
        return absl::OkStatus();
      }
      break;
    case VarintResult::kIncomplete:
      problem = "runs past the end of the envelope";
      break;
    case VarintResult::kMalformed:
      break;
  }
  if (field == 0) return DataLoss(absl::StrCat(what, " ", problem));
  return DataLoss(absl::StrCat(what, " of field ", field, " ", problem));
}

// Parses a complete serialized Envelope in `body` (N bytes, all present).
absl::Status ParseEnvelope(absl::string_view body, size_t max_payload,
                           Frame* frame) {
  const char* p = body.data();
  const char* const end = body.data() + body.size();
  uint32_t type_id = 0;
  absl::string_view payload;
  while (p != end) {
    uint64_t tag;
    absl::Status s = ReadBodyVarint(&p, end, "tag", 0, kMaxVarint32Bytes, &tag);
    if (!s.ok()) return s;
    if (tag > std::numeric_limits<uint32_t>::max()) {
      return DataLoss(absl::StrCat("tag ", tag, " above 32 bits"));
    }
    const uint64_t field = tag >> 3;
    const uint32_t wire_type = static_cast<uint32_t>(tag & 7);
    if (field == 0) return DataLoss("field number 0");
    switch (wire_type) {
      case kVarint: {
        uint64_t v;
        s = ReadBodyVarint(&p, end, "value", field, kMaxVarintBytes, &v);
        if (!s.ok()) return s;
        // uint32 fields keep the low 32 bits, as protobuf does.
        if (field == kTypeIdField) type_id = static_cast<uint32_t>(v);
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t n = wire_type == kFixed64 ? 8 : 4;
        if (static_cast<size_t>(end - p) < n) {
          return DataLoss(absl::StrCat("field ", field,
                                       " runs past the end of the envelope"));
        }
        p += n;
        break;
      }
      case kLengthDelimited: {
        uint64_t len;
        s = ReadBodyVarint(&p, end, "length", field, kMaxVarint32Bytes, &len);
        if (!s.ok()) return s;
        const size_t remaining = static_cast<size_t>(end - p);
        if (len > remaining) {
          return DataLoss(absl::StrCat("field ", field, " length ", len,
                                       " exceeds the remaining ", remaining,
                                       " bytes"));
        }
        if (field == kPayloadField) {
          payload = absl::string_view(p, static_cast<size_t>(len));
        }
        p += len;
        break;
      }
      case kStartGroup:
      case kEndGroup:
        return DataLoss(absl::StrCat("group in field ", field));
      default:
        return DataLoss(
            absl::StrCat("invalid wire type ", wire_type, " in field ", field));
    }
  }
  if (type_id > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) {
    return DataLoss(absl::StrCat("type_id ", type_id, " exceeds INT32_MAX"));
  }
  if (payload.size() > max_payload) {
    return absl::InvalidArgumentError(
        absl::StrCat("payload length ", payload.size(), " exceeds the maximum ",
                     max_payload));
  }
  frame->type = static_cast<int32_t>(type_id);
  frame->payload = payload;
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
      return DataLoss("length prefix is not a valid varint");
  }
  if (body_size > max_body) {
    return absl::InvalidArgumentError(absl::StrCat(
        "frame length ", body_size, " exceeds the maximum ", max_body));
  }
  const size_t prefix_size = static_cast<size_t>(p - input.data());
  if (static_cast<size_t>(end - p) < body_size) return std::nullopt;
  Frame frame;
  absl::Status s = ParseEnvelope(absl::string_view(p, body_size),
                                 max_payload_size(), &frame);
  if (!s.ok()) return s;
  frame.size = prefix_size + static_cast<size_t>(body_size);
  return frame;
}

}  // namespace tao
