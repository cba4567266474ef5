#include "tao/net/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tao {
namespace {

using Result = absl::StatusOr<std::optional<ProxyHeader>>;

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("PROXY header: ", what));
}

// Shown in errors: at most 40 bytes, escaped.
std::string Quote(absl::string_view bytes) {
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, 40)),
                      bytes.size() > 40 ? "...\"" : "\"");
}

InetAddress FromIp(int family, const void* address, uint16_t port_be) {
  InetAddress result;
  if (family == AF_INET) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = port_be;
    std::memcpy(&in.sin_addr, address, 4);
    result = *InetAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&in),
                                        sizeof(in));
  } else {
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = port_be;
    std::memcpy(&in6.sin6_addr, address, 16);
    result = *InetAddress::FromSockaddr(reinterpret_cast<sockaddr*>(&in6),
                                        sizeof(in6));
  }
  return result;
}

// A decimal port 0-65535: digits only, no sign, no leading zero.
bool ParsePort(absl::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  uint32_t value = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

absl::StatusOr<InetAddress> ParseV1Address(int family, absl::string_view text,
                                           absl::string_view port_text,
                                           absl::string_view which) {
  unsigned char raw[16];
  // inet_pton is strict: dotted quads without leading zeros, IPv6 without
  // a zone.
  const std::string host(text);
  if (inet_pton(family, host.c_str(), raw) != 1) {
    return Malformed(
        absl::StrCat("v1 ", which, " address ", Quote(text), " is not an ",
                     family == AF_INET ? "IPv4" : "IPv6", " address"));
  }
  uint16_t port = 0;
  if (!ParsePort(port_text, &port)) {
    return Malformed(absl::StrCat("v1 ", which, " port ", Quote(port_text),
                                  " is not a port (0-65535)"));
  }
  return FromIp(family, raw, htons(port));
}

Result ParseV1(absl::string_view bytes) {
  // Look for the CRLF within the bound; a lone CR or LF is malformed.
  const size_t limit = std::min(bytes.size(), kProxyV1MaxLength);
  size_t end = absl::string_view::npos;
  for (size_t i = kProxyV1Prefix.size(); i < limit; ++i) {
    if (bytes[i] == '\n') return Malformed("v1 line has an LF without a CR");
    if (bytes[i] != '\r') continue;
    // The LF may be next, unless that is beyond the bound.
    if (i + 1 >= bytes.size() || i + 1 >= kProxyV1MaxLength) break;
    if (bytes[i + 1] != '\n') return Malformed("v1 line has a CR without LF");
    end = i;
    break;
  }
  if (end == absl::string_view::npos) {
    if (bytes.size() >= kProxyV1MaxLength) {
      return Malformed(absl::StrCat("v1 line has no CRLF within ",
                                    kProxyV1MaxLength, " bytes"));
    }
    return std::nullopt;
  }
  const absl::string_view line =
      bytes.substr(kProxyV1Prefix.size(), end - kProxyV1Prefix.size());
  ProxyHeader header;
  header.version = 1;
  header.length = end + 2;
  if (line == "UNKNOWN" || absl::StartsWith(line, "UNKNOWN ")) {
    return header;  // the rest of an UNKNOWN line is ignored (the spec)
  }
  const std::vector<absl::string_view> tokens = absl::StrSplit(line, ' ');
  int family = AF_UNSPEC;
  if (tokens[0] == "TCP4") {
    family = AF_INET;
  } else if (tokens[0] == "TCP6") {
    family = AF_INET6;
  } else {
    return Malformed(absl::StrCat("v1 protocol ", Quote(tokens[0]),
                                  " is not TCP4, TCP6 or UNKNOWN"));
  }
  if (tokens.size() != 5) {
    return Malformed(absl::StrCat(
        "v1 line ", Quote(line),
        " is not \"PROTO SRC DST SRCPORT DSTPORT\" (single spaces)"));
  }
  absl::StatusOr<InetAddress> source =
      ParseV1Address(family, tokens[1], tokens[3], "source");
  if (!source.ok()) return source.status();
  absl::StatusOr<InetAddress> destination =
      ParseV1Address(family, tokens[2], tokens[4], "destination");
  if (!destination.ok()) return destination.status();
  header.has_addresses = true;
  header.source = *std::move(source);
  header.destination = *std::move(destination);
  return header;
}

uint16_t Be16(absl::string_view bytes, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(bytes[at]) << 8) |
                               static_cast<unsigned char>(bytes[at + 1]));
}

Result ParseV2(absl::string_view bytes) {
  constexpr size_t kFixed = 16;
  if (bytes.size() > 12) {
    const unsigned char ver_cmd = static_cast<unsigned char>(bytes[12]);
    if ((ver_cmd >> 4) != 2) {
      return Malformed(absl::StrCat("v2 version ", ver_cmd >> 4, " is not 2"));
    }
    if ((ver_cmd & 0xF) > 1) {
      return Malformed(absl::StrCat("v2 command ", ver_cmd & 0xF,
                                    " is neither LOCAL (0) nor PROXY (1)"));
    }
  }
  if (bytes.size() < kFixed) return std::nullopt;
  const bool local = (static_cast<unsigned char>(bytes[12]) & 0xF) == 0;
  const unsigned char family = static_cast<unsigned char>(bytes[13]) >> 4;
  const unsigned char transport = static_cast<unsigned char>(bytes[13]) & 0xF;
  const size_t length = Be16(bytes, 14);
  const size_t total = kFixed + length;
  if (total > kProxyV2MaxLength) {
    return Malformed(absl::StrCat("v2 header of ", total,
                                  " bytes is longer than the ",
                                  kProxyV2MaxLength, " accepted"));
  }
  // LOCAL: the balancer's own connection; its addresses are ignored (the
  // spec). UNSPEC likewise.
  size_t address_length = 0;
  if (!local && family != 0) {
    if (family == 3) {
      return Malformed("v2 family AF_UNIX is not supported");
    }
    if (family > 3) {
      return Malformed(absl::StrCat("v2 family ", family, " is unknown"));
    }
    if (transport != 1) {
      return Malformed(
          absl::StrCat("v2 transport ", transport, " is not STREAM (1)"));
    }
    address_length = family == 1 ? 12 : 36;
    if (length < address_length) {
      return Malformed(absl::StrCat("v2 length ", length, " is too short for ",
                                    family == 1 ? "IPv4" : "IPv6",
                                    " addresses (", address_length, " bytes)"));
    }
  }
  if (bytes.size() < total) return std::nullopt;
  ProxyHeader header;
  header.version = 2;
  header.length = total;
  if (address_length == 0) return header;
  const char* block = bytes.data() + kFixed;
  const size_t ip = family == 1 ? 4 : 16;
  const int af = family == 1 ? AF_INET : AF_INET6;
  uint16_t source_port;
  uint16_t destination_port;
  std::memcpy(&source_port, block + 2 * ip, 2);
  std::memcpy(&destination_port, block + 2 * ip + 2, 2);
  header.has_addresses = true;
  header.source = FromIp(af, block, source_port);
  header.destination = FromIp(af, block + ip, destination_port);
  // TLVs: type (1 byte), length (2, big-endian), value; skipped, but each
  // must fit in the header.
  for (size_t at = kFixed + address_length; at < total;) {
    if (total - at < 3) {
      return Malformed(absl::StrCat("v2 TLV at byte ", at, " is truncated (",
                                    total - at, " bytes left)"));
    }
    const size_t value = Be16(bytes, at + 1);
    if (value > total - at - 3) {
      return Malformed(absl::StrCat("v2 TLV at byte ", at, " of length ", value,
                                    " overruns the header (", total,
                                    " bytes)"));
    }
    at += 3 + value;
  }
  return header;
}

// Whether `bytes` and `prefix` agree on their common length.
bool Agrees(absl::string_view bytes, absl::string_view prefix) {
  const size_t n = std::min(bytes.size(), prefix.size());
  return bytes.substr(0, n) == prefix.substr(0, n);
}

}  // namespace

ProxyPrefix MatchProxyPrefix(absl::string_view bytes) {
  for (absl::string_view prefix : {kProxyV1Prefix, kProxyV2Signature}) {
    if (!Agrees(bytes, prefix)) continue;
    return bytes.size() >= prefix.size() ? ProxyPrefix::kYes
                                         : ProxyPrefix::kMaybe;
  }
  return ProxyPrefix::kNo;
}

absl::StatusOr<std::optional<ProxyHeader>> ParseProxyHeader(
    absl::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  if (Agrees(bytes, kProxyV2Signature)) return ParseV2(bytes);
  if (Agrees(bytes, kProxyV1Prefix)) {
    if (bytes.size() < kProxyV1Prefix.size()) return std::nullopt;
    return ParseV1(bytes);
  }
  return Malformed(absl::StrCat("the connection starts with ", Quote(bytes),
                                ", neither \"PROXY \" (v1) nor the v2 "
                                "signature"));
}

}  // namespace tao
