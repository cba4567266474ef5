// InetAddress: a socket address value (IPv4, IPv6 or Unix domain) that
// parses from and formats to text, for listening, connecting and logging.
//
//   absl::StatusOr<InetAddress> addr = InetAddress::Parse("[::1]:8080");
//   if (!addr.ok()) return addr.status();
//   TAO_LOG(INFO) << "listening on " << *addr;  // "[::1]:8080"
//
// Accepted text (host names are never resolved: no DNS in tao's core):
//   "1.2.3.4:80"   "0.0.0.0:80"  ":80"  "*:80"   IPv4 (the last three: any)
//   "localhost:80"                               IPv4 loopback, 127.0.0.1
//   "[::1]:80"     "[::]:80"    "[fe80::1%2]:80" IPv6 (scope: index or name)
//   "unix:/path/to.sock"   "unix:rel.sock"       Unix pathname socket
//   "unix:@name"                                 Linux abstract namespace
//
// A value type: copyable, comparable, hashable (a flat_hash_map key). Not
// synchronized: like an int, concurrent reads are fine, writes need a lock.

#ifndef TAO_NET_INET_ADDRESS_H_
#define TAO_NET_INET_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tao/base/cxx20.h"

namespace tao {

class InetAddress {
 public:
  // AF_UNSPEC: no address; host() is "" and ToString() "<unspecified>".
  InetAddress();

  // Parses one of the forms listed above. Errors are InvalidArgument and name
  // the input and the reason (empty, missing/bad port, bad brackets, host
  // names are not resolved, path too long for sun_path, ...).
  static absl::StatusOr<InetAddress> Parse(absl::string_view text);

  // 127.0.0.1:port or [::1]:port.
  static InetAddress Loopback(uint16_t port, bool ipv6 = false);
  // 0.0.0.0:port or [::]:port.
  static InetAddress Any(uint16_t port, bool ipv6 = false);

  // Copies an address the kernel returned (accept, getsockname, recvfrom).
  // InvalidArgument for an unknown family or a length too short for it. An
  // unnamed Unix address (len == sizeof(sa_family_t)) is accepted.
  static absl::StatusOr<InetAddress> FromSockaddr(const struct sockaddr* addr,
                                                  socklen_t len);

  int family() const {
    return storage_.ss_family;
  }  // AF_INET, AF_INET6,
     // AF_UNIX or AF_UNSPEC
  bool is_ip() const { return family() == AF_INET || family() == AF_INET6; }
  uint16_t port() const;  // host byte order; 0 for Unix and unspecified
  // "1.2.3.4", "::1", "fe80::1%2", "/path", "@name"; "" for an unnamed Unix
  // socket or AF_UNSPEC.
  std::string host() const;
  // "1.2.3.4:80", "[::1]:80", "unix:/path", "unix:@name". Round-trips through
  // Parse (except "unix:" for an unnamed Unix socket and "<unspecified>").
  std::string ToString() const;

  const struct sockaddr* sockaddr() const {
    return reinterpret_cast<const struct sockaddr*>(&storage_);
  }
  socklen_t socklen() const { return len_; }

  // For accept/getsockname/getpeername: clears the address and returns
  // storage of capacity() bytes to fill; then call set_socklen(len).
  //   socklen_t len = InetAddress::capacity();
  //   accept4(fd, addr.mutable_sockaddr(), &len, flags);
  //   addr.set_socklen(len);
  struct sockaddr* mutable_sockaddr();
  static constexpr socklen_t capacity() { return sizeof(sockaddr_storage); }
  // REQUIRES: len <= capacity(). Canonicalizes Unix pathname lengths so equal
  // paths compare equal however the kernel reported them.
  void set_socklen(socklen_t len);

  // Equal when family, address, port (and IPv6 scope id, or Unix path/name)
  // are equal. IPv6 flow info is ignored.
  friend bool operator==(const InetAddress& a, const InetAddress& b);
  friend bool operator!=(const InetAddress& a, const InetAddress& b) {
    return !(a == b);
  }

  template <typename H>
  friend H AbslHashValue(H h, const InetAddress& a) {
    return H::combine(std::move(h), a.family(), a.port(), a.scope_id(),
                      a.address_bytes());
  }

  friend std::ostream& operator<<(std::ostream& os, const InetAddress& a) {
    return os << a.ToString();
  }

 private:
  // The raw address: 4 or 16 bytes for IP, the sun_path bytes that count for
  // Unix (the name after the leading NUL for abstract), "" otherwise.
  absl::string_view address_bytes() const;
  uint32_t scope_id() const;  // IPv6 scope id; 0 for other families

  struct sockaddr_storage storage_;
  socklen_t len_;
};

}  // namespace tao

#endif  // TAO_NET_INET_ADDRESS_H_
