// The relay example's back server: answers SumRequest with SumReply and
// UpperRequest with UpperReply (relay.proto), one answer per request, on
// the connection it came from. It speaks the envelope codec
// (codec/envelope_codec.h): its peer is the front server's relay link.
#ifndef EXAMPLES_RELAY_BACKEND_H_
#define EXAMPLES_RELAY_BACKEND_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "tao/tao.h"

namespace relay {

// Registers the back server's handlers.
absl::Status RegisterBackend(tao::Registry* registry);

// The type ids of the requests and of the answers (from relay.proto).
std::vector<int32_t> RequestTypes();
std::vector<int32_t> AnswerTypes();

// The framing between the front and back servers.
std::shared_ptr<const tao::Codec> LinkCodec();

}  // namespace relay

#endif  // EXAMPLES_RELAY_BACKEND_H_
