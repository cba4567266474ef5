#include "tao/cluster/payload.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tao {

std::string EncodeClusterPayload(uint64_t origin, const absl::Cord& frame) {
  std::string out;
  out.reserve(kClusterPayloadHeaderSize + frame.size());
  out.push_back(static_cast<char>(kClusterPayloadVersion));
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<char>((origin >> (8 * i)) & 0xff));
  }
  for (absl::string_view chunk : frame.Chunks())
    out.append(chunk.data(), chunk.size());
  return out;
}

absl::StatusOr<ClusterPayload> DecodeClusterPayload(absl::string_view bytes) {
  if (bytes.size() <= kClusterPayloadHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster payload of ", bytes.size(), " bytes: no frame after the ",
        kClusterPayloadHeaderSize, "-byte header"));
  }
  const uint8_t version = static_cast<uint8_t>(bytes[0]);
  if (version != kClusterPayloadVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster payload version ", version, " (expected ",
                     kClusterPayloadVersion, ")"));
  }
  ClusterPayload payload;
  for (int i = 0; i < 8; ++i) {
    payload.origin |= uint64_t{static_cast<uint8_t>(bytes[1 + i])} << (8 * i);
  }
  payload.frame = bytes.substr(kClusterPayloadHeaderSize);
  return payload;
}

}  // namespace tao
