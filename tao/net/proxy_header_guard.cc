#include "tao/net/proxy_header_guard.h"

#include "absl/strings/str_cat.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/proxy_protocol.h"

namespace tao {

void ProxyHeaderGuard::OnData(Connection& connection, Buffer& input) {
  if (!decided_) {
    if (refused_once_) return;  // closing
    switch (MatchProxyPrefix(input.view())) {
      case ProxyPrefix::kMaybe:
        return;  // wait for the bytes that decide
      case ProxyPrefix::kYes:
        refused_once_ = true;
        refused_->fetch_add(1, std::memory_order_relaxed);
        connection.CloseWithError(absl::PermissionDeniedError(absl::StrCat(
            "connection from ", connection.peer_address().ToString(),
            " sent a PROXY protocol header, but that address is not in "
            "proxy_protocol.trusted_sources: refused")));
        return;
      case ProxyPrefix::kNo:
        decided_ = true;
        break;
    }
  }
  inner_->OnData(connection, input);
}

}  // namespace tao
