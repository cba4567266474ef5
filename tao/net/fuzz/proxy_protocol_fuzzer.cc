// Fuzzes ParseProxyHeader (tao/net/proxy_protocol.h) on arbitrary bytes,
// fed as a socket would deliver them: growing prefixes cut by a
// ChunkSplitter seeded from the input. Invariants:
//   - the answers over growing prefixes are "need more" some times, then
//     one final answer that never changes again: the same header (same
//     length, version, addresses) or an INVALID_ARGUMENT "PROXY header: ..."
//     (whose message may quote more of the input);
//   - "need more" only for a proper prefix of a PROXY header's start
//     (MatchProxyPrefix is not kNo) shorter than kProxyMaxLength, so a
//     reader that consumes those bytes takes none after a header;
//   - a header is at most kProxyMaxLength bytes (v1: 107), is no longer
//     than the input, parses the same from exactly its own bytes, and every
//     shorter prefix of it needs more.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "tao/net/proxy_protocol.h"
#include "tao/testing/fuzz.h"

namespace tao {
namespace {

using Result = absl::StatusOr<std::optional<ProxyHeader>>;

bool Same(const Result& a, const Result& b) {
  if (a.ok() != b.ok()) return false;
  // Errors may quote more of the input as more arrives.
  if (!a.ok()) return a.status().code() == b.status().code();
  if (a->has_value() != b->has_value()) return false;
  if (!a->has_value()) return true;
  const ProxyHeader& x = **a;
  const ProxyHeader& y = **b;
  return x.length == y.length && x.version == y.version &&
         x.has_addresses == y.has_addresses && x.source == y.source &&
         x.destination == y.destination;
}

void CheckOne(absl::string_view bytes, const Result& result) {
  if (!result.ok()) {
    TAO_FUZZ_CHECK(absl::IsInvalidArgument(result.status()),
                   result.status().ToString());
    TAO_FUZZ_CHECK(
        absl::StartsWith(result.status().message(), "PROXY header: "),
        result.status().ToString());
    return;
  }
  if (!result->has_value()) {
    TAO_FUZZ_CHECK(bytes.size() < kProxyMaxLength,
                   absl::StrCat(bytes.size(), " bytes still need more"));
    TAO_FUZZ_CHECK(MatchProxyPrefix(bytes) != ProxyPrefix::kNo,
                   "need more for bytes that cannot start a header");
    return;
  }
  const ProxyHeader& header = **result;
  TAO_FUZZ_CHECK(header.length > 0 && header.length <= bytes.size(),
                 absl::StrCat(header.length, " of ", bytes.size()));
  TAO_FUZZ_CHECK(header.length <= kProxyMaxLength, absl::StrCat(header.length));
  TAO_FUZZ_CHECK(header.version == 1 || header.version == 2,
                 absl::StrCat(header.version));
  TAO_FUZZ_CHECK(header.version == 2 || header.length <= kProxyV1MaxLength,
                 absl::StrCat(header.length));
  TAO_FUZZ_CHECK(MatchProxyPrefix(bytes) == ProxyPrefix::kYes, "no prefix");
  if (header.has_addresses) {
    TAO_FUZZ_CHECK(header.source.is_ip() &&
                       header.source.family() == header.destination.family(),
                   header.source.ToString());
  }
  const absl::string_view own = bytes.substr(0, header.length);
  TAO_FUZZ_CHECK(Same(ParseProxyHeader(own), result),
                 "the header's own bytes parse differently");
  const Result shorter = ParseProxyHeader(own.substr(0, own.size() - 1));
  TAO_FUZZ_CHECK(shorter.ok() && !shorter->has_value(),
                 "a proper prefix of a header does not need more");
}

}  // namespace
}  // namespace tao

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  tao::testing::ChunkSplitter split(tao::testing::Fnv1a(input),
                                    /*max_chunk=*/32);
  std::optional<tao::Result> final;
  size_t have = 0;
  while (have < input.size()) {
    have += split.Next(input.size() - have);
    const absl::string_view prefix = input.substr(0, have);
    const tao::Result result = tao::ParseProxyHeader(prefix);
    tao::CheckOne(prefix, result);
    const bool need_more = result.ok() && !result->has_value();
    if (final.has_value()) {
      TAO_FUZZ_CHECK(tao::Same(*final, result),
                     absl::StrCat("the answer changed at ", have, " bytes"));
    } else if (!need_more) {
      final = result;
    }
  }
  return 0;
}
