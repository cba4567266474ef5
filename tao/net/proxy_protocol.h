// PROXY protocol (HAProxy's spec, versions 1 and 2): the header a load
// balancer sends at the start of a TCP connection to tell the server the
// client's real address. This file is a pure parser over the bytes received
// so far; tao/net/proxy_header_reader.h reads them off a socket.
//
//   absl::StatusOr<std::optional<ProxyHeader>> header =
//       ParseProxyHeader(bytes_so_far);
//   if (!header.ok()) { /* malformed: close */ }
//   else if (!header->has_value()) { /* need more bytes */ }
//   else { /* (*header)->length bytes are the header; the rest is data */ }
//
// v1 (text, at most 107 bytes including the CRLF):
//   "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n"
//   "PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"
//   "PROXY UNKNOWN[ anything]\r\n"
// parsed strictly: single spaces, addresses of the stated family in their
// plain form, decimal ports 0-65535 without sign or leading zeros.
//
// v2 (binary): the 12-byte signature \r\n\r\n\0\r\nQUIT\n; a byte with the
// version (high nibble, 2) and command (low nibble, 0 LOCAL, 1 PROXY); a
// byte with the family (high nibble: 0 UNSPEC, 1 INET, 2 INET6) and the
// transport (low nibble: 1 STREAM); a 16-bit big-endian length of what
// follows: the addresses (12 bytes for INET, 36 for INET6: source address,
// destination address, source port, destination port) and then TLVs, which
// are skipped (their lengths must fit). AF_UNIX and DGRAM are refused.
//
// Invariant (the reader relies on it, the fuzzer checks it): when the
// result is "need more bytes", every byte given belongs to the header if
// it is a valid one, so a reader may consume them all without taking any
// byte of the payload after the header.
//
// Thread safety: pure functions.
#ifndef TAO_NET_PROXY_PROTOCOL_H_
#define TAO_NET_PROXY_PROTOCOL_H_

#include <cstddef>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/net/inet_address.h"

namespace tao {

// The v2 signature (12 bytes).
inline constexpr absl::string_view kProxyV2Signature("\r\n\r\n\0\r\nQUIT\n",
                                                     12);
// The v1 prefix.
inline constexpr absl::string_view kProxyV1Prefix("PROXY ");
// The longest v1 header, CRLF included (the spec's bound).
inline constexpr size_t kProxyV1MaxLength = 107;
// The longest v2 header accepted, the 16 fixed bytes included. The spec
// allows 16 + 65535, but what a balancer sends is small: HAProxy's largest
// is IPv6 addresses (36 bytes) plus TLVs for ALPN, authority (SNI, at most
// 255 bytes), unique id (at most 128), CRC32c and SSL details (version,
// cipher, client certificate CN): well under 1 KiB. 2 KiB leaves room for
// that and bounds what a pending connection may make a server hold.
inline constexpr size_t kProxyV2MaxLength = 2048;
// Enough bytes to parse any header accepted (the larger bound).
inline constexpr size_t kProxyMaxLength = kProxyV2MaxLength;

struct ProxyHeader {
  // Bytes of the header; what follows them is the connection's data.
  size_t length = 0;
  int version = 0;  // 1 or 2
  // true: the header carries the client's addresses (v1 TCP4/TCP6, v2 PROXY
  // over INET/INET6). false: v1 UNKNOWN, v2 LOCAL (a health check by the
  // balancer itself) or v2 UNSPEC: keep the socket's own addresses.
  bool has_addresses = false;
  InetAddress source;       // the client, when has_addresses
  InetAddress destination;  // what the client connected to, when has_addresses
};

// Parses the header at the start of `bytes`: a header (bytes after it are
// ignored), nullopt when `bytes` is a valid beginning of a header but
// incomplete, or INVALID_ARGUMENT saying what is wrong (not a PROXY header,
// bad version or command, unsupported family, bad length, bad v1 token,
// oversize, no CRLF within 107 bytes, ...).
absl::StatusOr<std::optional<ProxyHeader>> ParseProxyHeader(
    absl::string_view bytes);

// Whether the bytes a peer sent first are a PROXY header's start: kYes when
// they begin with the v1 prefix "PROXY " or the v2 signature, kNo when they
// cannot, kMaybe when they are a proper prefix of either (wait for more).
enum class ProxyPrefix { kNo, kMaybe, kYes };
ProxyPrefix MatchProxyPrefix(absl::string_view bytes);

}  // namespace tao

#endif  // TAO_NET_PROXY_PROTOCOL_H_
