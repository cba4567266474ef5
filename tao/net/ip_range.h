// IpRange: an IPv4 or IPv6 network in CIDR notation, for lists of trusted
// peers (TcpServerOptions::proxy_protocol.trusted_sources).
//
//   absl::StatusOr<IpRange> range = IpRange::Parse("10.0.0.0/8");
//   if (range.ok() && range->Contains(peer)) { ... }
//
// Accepted text: "192.0.2.7" (one address, /32), "10.0.0.0/8",
// "::1" (/128), "2001:db8::/32". Bits below the prefix must be zero
// ("10.0.0.1/8" is refused: it is likely a typo). An IPv4-mapped IPv6 peer
// (::ffff:10.1.2.3, as a dual-stack [::] listener reports IPv4 clients)
// matches IPv4 ranges.
//
// A value type; concurrent reads are safe.
#ifndef TAO_NET_IP_RANGE_H_
#define TAO_NET_IP_RANGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/net/inet_address.h"

namespace tao {

class IpRange {
 public:
  // INVALID_ARGUMENT naming `text` and what is wrong.
  static absl::StatusOr<IpRange> Parse(absl::string_view text);
  // Parses every entry; the first error names its index.
  static absl::StatusOr<std::vector<IpRange>> ParseList(
      const std::vector<std::string>& texts);

  // Whether `address` (its host part; the port is ignored) is in the range.
  // Unix and unspecified addresses never are.
  bool Contains(const InetAddress& address) const;
  // Whether any of `ranges` contains `address`.
  static bool AnyContains(const std::vector<IpRange>& ranges,
                          const InetAddress& address);

  std::string ToString() const;  // "10.0.0.0/8"

 private:
  IpRange(int family, const std::array<uint8_t, 16>& bytes, int prefix)
      : family_(family), bytes_(bytes), prefix_(prefix) {}

  int family_;                     // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes_;  // the first 4 for AF_INET
  int prefix_;                     // 0-32 or 0-128
};

}  // namespace tao

#endif  // TAO_NET_IP_RANGE_H_
