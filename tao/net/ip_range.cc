#include "tao/net/ip_range.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tao {
namespace {

// Whether the first `prefix` bits of `a` and `b` agree.
bool PrefixEqual(const uint8_t* a, const uint8_t* b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

absl::StatusOr<IpRange> IpRange::Parse(absl::string_view text) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("IP range \"", text, "\": ", why));
  };
  const size_t slash = text.find('/');
  const std::string host(text.substr(0, slash));
  std::array<uint8_t, 16> bytes{};
  int family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), bytes.data()) != 1) {
    family = AF_INET6;
    if (inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) {
      return bad("not an IPv4 or IPv6 address (host names are not resolved)");
    }
  }
  const int bits = family == AF_INET ? 32 : 128;
  int prefix = bits;
  if (slash != absl::string_view::npos) {
    const absl::string_view length = text.substr(slash + 1);
    if (length.empty() || length.size() > 3 ||
        !absl::SimpleAtoi(length, &prefix) || length[0] == '+' ||
        length[0] == '-' || prefix < 0 || prefix > bits) {
      return bad(absl::StrCat("the prefix length is not 0-", bits));
    }
  }
  std::array<uint8_t, 16> masked = bytes;
  for (int bit = prefix; bit < bits; ++bit) {
    masked[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (masked != bytes) {
    return bad("has bits set below its prefix length");
  }
  return IpRange(family, bytes, prefix);
}

absl::StatusOr<std::vector<IpRange>> IpRange::ParseList(
    const std::vector<std::string>& texts) {
  std::vector<IpRange> ranges;
  ranges.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<IpRange> range = Parse(texts[i]);
    if (!range.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("[", i, "]: ", range.status().message()));
    }
    ranges.push_back(*range);
  }
  return ranges;
}

bool IpRange::Contains(const InetAddress& address) const {
  const uint8_t* bytes = nullptr;
  int family = address.family();
  if (family == AF_INET) {
    bytes = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(address.sockaddr())->sin_addr);
  } else if (family == AF_INET6) {
    bytes = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in6*>(address.sockaddr())->sin6_addr);
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0,    0,
                                            0, 0, 0, 0, 0xFF, 0xFF};
    if (family_ == AF_INET && std::memcmp(bytes, kMapped, 12) == 0) {
      bytes += 12;
      family = AF_INET;
    }
  } else {
    return false;
  }
  return family == family_ && PrefixEqual(bytes, bytes_.data(), prefix_);
}

bool IpRange::AnyContains(const std::vector<IpRange>& ranges,
                          const InetAddress& address) {
  for (const IpRange& range : ranges) {
    if (range.Contains(address)) return true;
  }
  return false;
}

std::string IpRange::ToString() const {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(family_, bytes_.data(), text, sizeof(text));
  return absl::StrCat(text, "/", prefix_);
}

}  // namespace tao
