// CompactAddress: an InetAddress kept in 40 bytes instead of 136 when it is
// IPv4, IPv6 or unspecified (every TCP connection); any other family (a
// unix socket path) is kept whole on the heap. For objects that exist once
// per connection, where sockaddr_storage's 128 bytes would dominate.
//
//   CompactAddress peer(InetAddress::Parse("[::1]:80").value());
//   InetAddress again = peer.Get();  // equal to the original
//
// Thread safety: immutable after construction; const methods may run on any
// thread.
#ifndef TAO_NET_COMPACT_ADDRESS_H_
#define TAO_NET_COMPACT_ADDRESS_H_

#include <netinet/in.h>

#include <memory>

#include "tao/net/inet_address.h"

namespace tao {

class CompactAddress {
 public:
  explicit CompactAddress(const InetAddress& address);
  CompactAddress(const CompactAddress&) = delete;
  CompactAddress& operator=(const CompactAddress&) = delete;

  InetAddress Get() const;

 private:
  union Ip {
    sa_family_t family;  // the first member of both
    sockaddr_in v4;
    sockaddr_in6 v6;
  } ip_{};
  std::unique_ptr<const InetAddress> other_;  // other families only
};

}  // namespace tao

#endif  // TAO_NET_COMPACT_ADDRESS_H_
