// HeartbeatWatch: what a heartbeat server sees of each peer, keyed by the
// peer's address: the Go tao heartbeats it sends (type 0, payload an int64
// little-endian Unix-nanosecond timestamp) and how its connection ended.
// Each event is also a line on a Timeline.
//
// A server with HeartbeatOptions::timeout closes a peer that sends nothing
// for that long (DEADLINE_EXCEEDED). Any frame counts as traffic; a client
// that only listens must send heartbeats (HeartbeatOptions::interval) to
// stay connected. Stock Go tao clients send none.
//
//   HeartbeatWatch watch(&timeline);
//   (void)watch.Register(&registry);   // before the Server is made
//   tao::Server server(options, &registry);
//   watch.Attach(server);              // before it starts
//   absl::StatusOr<absl::Status> why = watch.WaitClosed(peer, timeout);
//
// Thread safety: Register and Attach before the server starts; what they
// install runs on the server's loops or workers; Wait* and beats() from any
// thread. The watch and the timeline must outlive the server.
#ifndef EXAMPLES_HEARTBEAT_HEARTBEAT_WATCH_H_
#define EXAMPLES_HEARTBEAT_HEARTBEAT_WATCH_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "examples/common/timeline.h"
#include "tao/tao.h"

namespace heartbeat_example {

// The sender's clock in a Go tao heartbeat payload; INVALID_ARGUMENT unless
// it is exactly 8 bytes.
absl::StatusOr<absl::Time> DecodeHeartbeat(absl::string_view payload);

class HeartbeatWatch {
 public:
  explicit HeartbeatWatch(tao::examples::Timeline* timeline)
      : timeline_(timeline) {}
  HeartbeatWatch(const HeartbeatWatch&) = delete;
  HeartbeatWatch& operator=(const HeartbeatWatch&) = delete;

  // Handles type 0 itself (the framework's handling is then off): counts
  // and prints each heartbeat, and closes a peer whose payload is not an
  // int64, as Go tao and tao's own handling do.
  absl::Status Register(tao::Registry* registry);
  // OnConnect, OnError, OnClose of `server`.
  void Attach(tao::Server& server);

  // The close reason of `peer` ("127.0.0.1:40000") once it closed, or
  // DEADLINE_EXCEEDED when it is still open after `timeout`.
  absl::StatusOr<absl::Status> WaitClosed(const std::string& peer,
                                          absl::Duration timeout);
  // Whether `peer` sent `beats` heartbeats within `timeout` while open.
  bool WaitBeats(const std::string& peer, int beats, absl::Duration timeout);
  int beats(const std::string& peer);

 private:
  struct Peer {
    int beats = 0;
    bool closed = false;
    absl::Status reason;  // set once closed
  };

  void Beat(tao::Context& ctx, absl::string_view payload);

  tao::examples::Timeline* const timeline_;  // constant after construction
  absl::Mutex mu_;
  std::map<std::string, Peer> peers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace heartbeat_example

#endif  // EXAMPLES_HEARTBEAT_HEARTBEAT_WATCH_H_
