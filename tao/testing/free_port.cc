#include "tao/testing/free_port.h"

#include <sys/socket.h>

#include "tao/net/inet_address.h"
#include "tao/net/socket.h"

namespace tao {
namespace testing {

absl::StatusOr<uint16_t> PickFreePort() {
  absl::StatusOr<Socket> socket = Socket::Create(AF_INET);
  if (!socket.ok()) return socket.status();
  if (absl::Status bound = socket->Bind(InetAddress::Loopback(0));
      !bound.ok()) {
    return bound;
  }
  absl::StatusOr<InetAddress> local = socket->LocalAddress();
  if (!local.ok()) return local.status();
  return local->port();
}

}  // namespace testing
}  // namespace tao
