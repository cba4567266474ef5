#include "tao/message/context.h"

namespace tao {

absl::Status Context::Reply(const google::protobuf::Message& message) const {
  return connection_.Send(message);
}

}  // namespace tao
