#include "codec/codec.h"

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao {

absl::Status Codec::AppendFrame(int32_t type, absl::string_view payload,
                                std::string* out) const {
  const size_t old_size = out->size();
  // Grow once for the whole frame (std::string grows geometrically, so a
  // stream of appends stays amortized O(1)).
  out->resize(old_size + max_header_size());
  absl::StatusOr<size_t> header =
      EncodeHeader(type, payload.size(), out->data() + old_size);
  if (!header.ok()) {
    out->resize(old_size);
    return header.status();
  }
  out->resize(old_size + *header);
  out->append(payload.data(), payload.size());
  return absl::OkStatus();
}

}  // namespace tao
