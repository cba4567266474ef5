#include "tao/net/connection_handler.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tao/net/buffer.h"

namespace tao {

absl::Status ConnectionHandler::OnPeerEof(Connection& /*connection*/,
                                          const Buffer& unconsumed) {
  if (unconsumed.readable_bytes() == 0) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("the peer closed its side with ",
                                          unconsumed.readable_bytes(),
                                          " bytes of input unconsumed"));
}

}  // namespace tao
