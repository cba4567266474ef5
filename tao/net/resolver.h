// Resolver: host names to socket addresses without blocking an I/O loop.
//
//   std::shared_ptr<ResolveRequest> pending = ResolveOnLoop(
//       loop, "example.com", 443,
//       [](absl::StatusOr<InetAddress> address) { ... });  // on `loop`
//   ...
//   pending->Cancel();  // neither the helper thread nor the callback will
//                       // touch `loop` any more
//
// getaddrinfo(3) blocks, so it runs on one helper thread shared by the
// process (started on first use, never joined: it holds no resources but
// its queue). Requests are served one at a time, in order; the answer is
// posted to the loop that asked. The first address returned is used (IPv4 or
// IPv6, as the system's resolver orders them).
//
// Errors: NOT_FOUND "cannot resolve host 'x': <gai_strerror>" for a name the
// resolver does not know; UNAVAILABLE for a temporary failure (EAI_AGAIN).
//
// Thread safety: ResolveOnLoop and Cancel from any thread. `loop` must
// stay alive until the callback ran or Cancel() returned.
#ifndef TAO_NET_RESOLVER_H_
#define TAO_NET_RESOLVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/net/inet_address.h"

namespace tao {

class EventLoop;

// A "host:port" whose host is a name to look up (not a numeric address, not
// "localhost", not "unix:..."). std::nullopt for anything else.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
std::optional<HostPort> ParseHostName(absl::string_view address);

// Looks `host` up now, blocking the calling thread (the helper thread's
// work; also for tools and tests).
absl::StatusOr<InetAddress> ResolveBlocking(const std::string& host,
                                            uint16_t port);

class ResolveRequest {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<InetAddress>)>;

  ResolveRequest(EventLoop* loop, Callback done)
      : loop_(loop), done_(std::move(done)) {}
  ResolveRequest(const ResolveRequest&) = delete;
  ResolveRequest& operator=(const ResolveRequest&) = delete;

  // After Cancel returns the helper thread no longer touches the loop, and
  // the callback does not run, not even for an answer already queued on
  // the loop (unless it is running right now on the loop thread: Cancel
  // from the loop thread itself is exact). Idempotent.
  void Cancel();

  // Helper thread: hands the answer to the loop unless cancelled.
  void Deliver(absl::StatusOr<InetAddress> result);

 private:
  absl::Mutex mu_;
  EventLoop* loop_ ABSL_GUARDED_BY(mu_);  // null once cancelled or delivered
  Callback done_;                         // moved to the loop by Deliver
  // Shared with the answer queued on the loop, which checks it there.
  const std::shared_ptr<std::atomic<bool>> cancelled_ =
      std::make_shared<std::atomic<bool>>(false);
};

std::shared_ptr<ResolveRequest> ResolveOnLoop(EventLoop* loop, std::string host,
                                              uint16_t port,
                                              ResolveRequest::Callback done);

}  // namespace tao

#endif  // TAO_NET_RESOLVER_H_
