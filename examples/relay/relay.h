// Relay: the front server's half of the relay example. Requests from the
// front server's clients (TLV, Go tao's framing) go on unchanged, type id
// and payload, over one upstream tao::Client connection to the back server,
// framed with the protobuf envelope codec; each answer goes back to the
// client that asked. The front never parses the messages it relays.
//
//   tao::Registry front_registry;
//   relay::Relay relay(upstream_options, relay::AnswerTypes());
//   (void)relay.RegisterRequests(&front_registry, relay::RequestTypes());
//   tao::Server front(front_options, &front_registry);
//   (void)relay.Connect("127.0.0.1:7001");   // the back server
//   ... front.Listen, Start ... front.Stop(); front.Join();
//   relay.Stop();                            // before `front` goes
//
// Answers are matched to requests by order: the back server answers each
// request exactly once, in order (one connection's handlers run one at a
// time, in order, inline or on a worker pool). Invariants:
//  1. pending_ holds, oldest first, who asked each request written upstream
//     and not answered yet, with the upstream connection it went out on.
//  2. A request is appended to pending_ and written upstream under mu_, so
//     pending_'s order is the order on the wire.
//  3. Entries of an upstream connection that closed are dropped, and their
//     askers closed with UNAVAILABLE: those answers will never come.
//
// Thread safety: RegisterRequests before the front server is made; Connect
// and Stop from the main thread, Stop after the front server stopped.
// Request handlers run on the front's loops or workers, answer handlers on
// the upstream client's loop; relayed() from any thread.
#ifndef EXAMPLES_RELAY_RELAY_H_
#define EXAMPLES_RELAY_RELAY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/tao.h"

namespace relay {

class Relay {
 public:
  // The upstream client gets `upstream` with the envelope codec (LinkCodec)
  // and handles `answer_types` by sending them back to their askers.
  Relay(tao::ClientOptions upstream, const std::vector<int32_t>& answer_types);
  ~Relay();  // Stop()
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Relays frames of `request_types` arriving at the front server.
  absl::Status RegisterRequests(tao::Registry* front,
                                const std::vector<int32_t>& request_types);
  // Connects the upstream link to the back server at `address` (waiting up
  // to `timeout`).
  absl::Status Connect(absl::string_view address, absl::Duration timeout);
  void Stop() { upstream_->Stop(); }

  // Answers delivered back to their askers.
  uint64_t relayed() const;
  const tao::Codec& link_codec() const { return upstream_->codec(); }

 private:
  struct Pending {
    std::weak_ptr<tao::Connection> asker;
    const tao::Endpoint* front;  // the front server; outlives the relay's use
    uint64_t upstream_id;        // the upstream connection it went out on
  };

  void Forward(tao::Context& ctx, absl::string_view payload);
  void Answer(tao::Context& ctx, absl::string_view payload);
  // Closes the askers of `upstream_id`'s entries and drops them.
  void DropPending(uint64_t upstream_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  tao::Registry upstream_registry_;        // the answers' handlers
  std::unique_ptr<tao::Client> upstream_;  // constant after construction
  mutable absl::Mutex mu_;
  std::deque<Pending> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t relayed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace relay

#endif  // EXAMPLES_RELAY_RELAY_H_
