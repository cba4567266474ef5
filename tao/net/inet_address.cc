#include "tao/net/inet_address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tao/base/logging.h"

namespace tao {
namespace {

constexpr size_t kPathOffset = offsetof(sockaddr_un, sun_path);
constexpr size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;  // keeps a NUL

absl::Status ParseError(absl::string_view text, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid address \"", absl::CEscape(text), "\": ", reason));
}

bool AllDigits(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
}

// Strict decimal 0..65535: no sign, no spaces, at most 5 digits.
bool ParsePort(absl::string_view s, uint16_t* port) {
  uint32_t value = 0;
  if (!AllDigits(s) || s.size() > 5 || !absl::SimpleAtoi(s, &value) ||
      value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

InetAddress::InetAddress() : len_(0) {
  std::memset(&storage_, 0, sizeof(storage_));
}

absl::StatusOr<InetAddress> InetAddress::Parse(absl::string_view text) {
  if (text.empty()) return ParseError(text, "empty string");
  InetAddress result;

  absl::string_view path = text;
  if (absl::ConsumePrefix(&path, "unix:")) {
    auto* un = reinterpret_cast<sockaddr_un*>(&result.storage_);
    un->sun_family = AF_UNIX;
    if (path.empty()) return ParseError(text, "empty Unix socket path");
    if (path.front() == '@') {  // Linux abstract namespace: leading NUL.
      path.remove_prefix(1);
      if (path.empty()) return ParseError(text, "empty abstract socket name");
      if (path.size() > kMaxPath) {
        return ParseError(
            text, absl::StrCat("abstract socket name too long (", path.size(),
                               " bytes, max ", kMaxPath, ")"));
      }
      std::memcpy(un->sun_path + 1, path.data(), path.size());
      result.len_ = static_cast<socklen_t>(kPathOffset + 1 + path.size());
      return result;
    }
    if (path.find('\0') != absl::string_view::npos) {
      return ParseError(text, "NUL byte in Unix socket path");
    }
    if (path.size() > kMaxPath) {
      return ParseError(
          text, absl::StrCat("path too long for sun_path (", path.size(),
                             " bytes, max ", kMaxPath, ")"));
    }
    std::memcpy(un->sun_path, path.data(), path.size());
    result.len_ = static_cast<socklen_t>(kPathOffset + path.size() + 1);
    return result;
  }

  absl::string_view host;
  absl::string_view port_text;
  bool bracketed = false;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos) {
      return ParseError(text, "missing ']' after IPv6 address");
    }
    host = text.substr(1, close - 1);
    absl::string_view after = text.substr(close + 1);
    if (after.empty()) return ParseError(text, "missing port after ']'");
    if (after.front() != ':') {
      return ParseError(text, "expected ':' and a port after ']'");
    }
    port_text = after.substr(1);
    bracketed = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return ParseError(text,
                        "missing port (expected host:port, e.g. "
                        "127.0.0.1:80)");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return ParseError(text, "IPv6 addresses need brackets, e.g. [::1]:80");
    }
    if (host.find_first_of("[]") != absl::string_view::npos) {
      return ParseError(text, "unbalanced brackets");
    }
  }
  if (port_text.empty()) return ParseError(text, "missing port");
  uint16_t port = 0;
  if (!ParsePort(port_text, &port)) {
    return ParseError(text,
                      absl::StrCat("bad port \"", absl::CEscape(port_text),
                                   "\" (expected 0..65535)"));
  }

  if (bracketed) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    absl::string_view addr = host;
    if (const size_t percent = host.find('%');
        percent != absl::string_view::npos) {
      addr = host.substr(0, percent);
      const std::string scope(host.substr(percent + 1));
      if (AllDigits(scope)) {
        if (!absl::SimpleAtoi(scope, &in6->sin6_scope_id)) {
          return ParseError(text, "bad IPv6 scope id");
        }
      } else if ((in6->sin6_scope_id = if_nametoindex(scope.c_str())) == 0) {
        return ParseError(text, absl::StrCat("unknown network interface \"",
                                             absl::CEscape(scope), "\""));
      }
    }
    const std::string addr_str(addr);
    if (addr.empty() ||
        inet_pton(AF_INET6, addr_str.c_str(), &in6->sin6_addr) != 1) {
      return ParseError(text, "bad IPv6 address");
    }
    result.len_ = sizeof(sockaddr_in6);
    return result;
  }

  auto* in = reinterpret_cast<sockaddr_in*>(&result.storage_);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  result.len_ = sizeof(sockaddr_in);
  if (host.empty() || host == "*") {
    in->sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (absl::EqualsIgnoreCase(host, "localhost")) {
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (const std::string host_str(host);
             inet_pton(AF_INET, host_str.c_str(), &in->sin_addr) != 1) {
    const bool looks_like_name =
        std::any_of(host.begin(), host.end(),
                    [](char c) { return absl::ascii_isalpha(c) || c == '-'; });
    return ParseError(
        text, looks_like_name
                  ? "host names are not resolved; use a numeric address "
                    "(or localhost)"
                  : "bad IPv4 address");
  }
  return result;
}

InetAddress InetAddress::Loopback(uint16_t port, bool ipv6) {
  InetAddress result;
  if (ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    result.len_ = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&result.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    result.len_ = sizeof(sockaddr_in);
  }
  return result;
}

InetAddress InetAddress::Any(uint16_t port, bool ipv6) {
  InetAddress result;
  if (ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&result.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_any;
    result.len_ = sizeof(sockaddr_in6);
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&result.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    result.len_ = sizeof(sockaddr_in);
  }
  return result;
}

absl::StatusOr<InetAddress> InetAddress::FromSockaddr(
    const struct sockaddr* addr, socklen_t len) {
  if (addr == nullptr || len < sizeof(sa_family_t)) {
    return absl::InvalidArgumentError(
        absl::StrCat("sockaddr too short (", len, " bytes)"));
  }
  socklen_t need = 0;
  switch (addr->sa_family) {
    case AF_INET:
      need = sizeof(sockaddr_in);
      break;
    case AF_INET6:
      need = sizeof(sockaddr_in6);
      break;
    case AF_UNIX:
      need = sizeof(sa_family_t);
      if (len > sizeof(sockaddr_un)) {
        return absl::InvalidArgumentError(
            absl::StrCat("AF_UNIX sockaddr too long (", len, " bytes, max ",
                         sizeof(sockaddr_un), ")"));
      }
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported address family ", addr->sa_family));
  }
  if (len < need) {
    return absl::InvalidArgumentError(
        absl::StrCat("sockaddr too short for family ", addr->sa_family, " (",
                     len, " bytes, need ", need, ")"));
  }
  InetAddress result;
  const socklen_t copy = addr->sa_family == AF_UNIX ? len : need;
  std::memcpy(&result.storage_, addr, copy);
  result.set_socklen(copy);
  return result;
}

uint16_t InetAddress::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

uint32_t InetAddress::scope_id() const {
  return family() == AF_INET6
             ? reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_scope_id
             : 0;
}

absl::string_view InetAddress::address_bytes() const {
  switch (family()) {
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
      return absl::string_view(reinterpret_cast<const char*>(&in->sin_addr),
                               sizeof(in->sin_addr));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      return absl::string_view(reinterpret_cast<const char*>(&in6->sin6_addr),
                               sizeof(in6->sin6_addr));
    }
    case AF_UNIX: {
      if (len_ <= kPathOffset) return absl::string_view();  // unnamed
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      return absl::string_view(un->sun_path, len_ - kPathOffset);
    }
    default:
      return absl::string_view();
  }
}

std::string InetAddress::host() const {
  switch (family()) {
    case AF_INET: {
      char buf[INET_ADDRSTRLEN];
      const auto* in = reinterpret_cast<const sockaddr_in*>(&storage_);
      inet_ntop(AF_INET, &in->sin_addr, buf, sizeof(buf));
      return buf;
    }
    case AF_INET6: {
      char buf[INET6_ADDRSTRLEN];
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf));
      if (in6->sin6_scope_id != 0) {
        return absl::StrCat(buf, "%", in6->sin6_scope_id);
      }
      return buf;
    }
    case AF_UNIX: {
      absl::string_view bytes = address_bytes();
      if (bytes.empty()) return std::string();  // unnamed
      if (bytes.front() == '\0') return absl::StrCat("@", bytes.substr(1));
      return std::string(bytes.substr(0, bytes.find('\0')));
    }
    default:
      return std::string();
  }
}

std::string InetAddress::ToString() const {
  switch (family()) {
    case AF_INET:
      return absl::StrCat(host(), ":", port());
    case AF_INET6:
      return absl::StrCat("[", host(), "]:", port());
    case AF_UNIX:
      return absl::StrCat("unix:", host());
    default:
      return "<unspecified>";
  }
}

struct sockaddr* InetAddress::mutable_sockaddr() {
  std::memset(&storage_, 0, sizeof(storage_));
  len_ = 0;
  return reinterpret_cast<struct sockaddr*>(&storage_);
}

void InetAddress::set_socklen(socklen_t len) {
  TAO_DCHECK(len <= capacity()) << len;
  len_ = std::min(len, capacity());
  if (family() != AF_UNIX || len_ <= kPathOffset) return;
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  if (un->sun_path[0] == '\0') return;  // abstract: every byte counts
  // A pathname ends at its first NUL; the kernel may or may not count it.
  const size_t path_len = strnlen(un->sun_path, len_ - kPathOffset);
  len_ = static_cast<socklen_t>(
      std::min(kPathOffset + path_len + 1, sizeof(sockaddr_un)));
}

bool operator==(const InetAddress& a, const InetAddress& b) {
  return a.family() == b.family() && a.port() == b.port() &&
         a.scope_id() == b.scope_id() && a.address_bytes() == b.address_bytes();
}

}  // namespace tao
