#include "tao/net/compact_address.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

#include "tao/net/inet_address.h"

namespace tao {

CompactAddress::CompactAddress(const InetAddress& address) {
  switch (address.family()) {
    case AF_UNSPEC:
      break;  // ip_ stays zero: family AF_UNSPEC
    case AF_INET:
      std::memcpy(&ip_.v4, address.sockaddr(), sizeof(ip_.v4));
      break;
    case AF_INET6:
      std::memcpy(&ip_.v6, address.sockaddr(), sizeof(ip_.v6));
      break;
    default:
      other_ = std::make_unique<const InetAddress>(address);
  }
}

InetAddress CompactAddress::Get() const {
  if (other_ != nullptr) return *other_;
  InetAddress address;
  if (ip_.family == AF_INET) {
    std::memcpy(address.mutable_sockaddr(), &ip_.v4, sizeof(ip_.v4));
    address.set_socklen(sizeof(ip_.v4));
  } else if (ip_.family == AF_INET6) {
    std::memcpy(address.mutable_sockaddr(), &ip_.v6, sizeof(ip_.v6));
    address.set_socklen(sizeof(ip_.v6));
  }
  return address;
}

}  // namespace tao
