#include "codec/message_id.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "codec/proto/options.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"

namespace tao {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;

struct CacheEntry {
  const Descriptor* descriptor;
  int32_t id;
  bool found;
};

// Power of two; a program rarely sends more distinct message types from one
// thread than this, and a collision only costs a lookup.
constexpr size_t kCacheSize = 64;

// Zero-initialized, so no TLS constructor or guard on the fast path.
thread_local CacheEntry cache[kCacheSize];

size_t Slot(const Descriptor* descriptor) {
  const auto bits = reinterpret_cast<uintptr_t>(descriptor);
  // Descriptors are a few dozen bytes apart: drop the alignment bits.
  return ((bits >> 4) ^ (bits >> 10)) & (kCacheSize - 1);
}

absl::Status NotFound(const Descriptor& descriptor) {
  return absl::NotFoundError(absl::StrCat("message ", descriptor.full_name(),
                                          " has no (tao.message_id) option"));
}

}  // namespace

absl::StatusOr<int32_t> MessageTypeId(const Descriptor& descriptor) {
  CacheEntry& entry = cache[Slot(&descriptor)];
  if (entry.descriptor == &descriptor) {
    if (entry.found) return entry.id;
    return NotFound(descriptor);
  }
  const google::protobuf::MessageOptions& options = descriptor.options();
  const bool found = options.HasExtension(tao::message_id);
  const int32_t id = found ? options.GetExtension(tao::message_id) : 0;
  // Generated descriptors are never destroyed, so their addresses cannot be
  // reused by another type; other pools' can.
  if (descriptor.file()->pool() == DescriptorPool::generated_pool()) {
    entry = CacheEntry{&descriptor, id, found};
  }
  if (!found) return NotFound(descriptor);
  return id;
}

}  // namespace tao
