// Acceptor: a listening socket on one EventLoop that accepts connections and
// hands them to a callback.
//
// Running out of descriptors (EMFILE/ENFILE) must not turn a level-triggered
// listener into a busy loop: the acceptor keeps one spare descriptor, frees
// it to accept and immediately close the pending connection (the peer sees a
// clean close), counts it, and takes the spare back. If even that fails it
// stops listening for `kEmfileBackoff` and retries.
//
// Thread safety: construct anywhere; Start, Stop and the callback run on the
// loop thread. local_address() and the counters are safe from any thread.
#ifndef TAO_NET_ACCEPTOR_H_
#define TAO_NET_ACCEPTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tao/net/channel.h"
#include "tao/net/inet_address.h"
#include "tao/net/socket.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class EventLoop;

class Acceptor final : private Channel::Handler {
 public:
  using NewConnectionCallback =
      std::function<void(Socket socket, const InetAddress& peer)>;

  static constexpr absl::Duration kEmfileBackoff = absl::Milliseconds(100);

  // Binds and listens (SO_REUSEADDR, optionally SO_REUSEPORT) at `address`.
  static absl::StatusOr<Socket> Listen(const InetAddress& address,
                                       bool reuse_port);

  Acceptor(EventLoop* loop, Socket listener);
  ~Acceptor();
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;

  // Loop thread. Begins accepting; `callback` runs for each new connection.
  void Start(NewConnectionCallback callback);
  // Loop thread. Stops accepting and closes the listener. Idempotent.
  void Stop();

  const InetAddress& local_address() const { return local_address_; }
  // Connections accepted and dropped because descriptors ran out.
  uint64_t dropped_for_fd_limit() const {
    return dropped_for_fd_limit_.load(std::memory_order_relaxed);
  }
  // accept(2) failures other than "nothing pending" (EMFILE with no spare
  // descriptor left, ENOBUFS, ...).
  uint64_t accept_errors() const {
    return accept_errors_.load(std::memory_order_relaxed);
  }

 private:
  Channel::Handler* AsHandler() { return this; }  // the base is private
  void OnReadable() override { HandleRead(); }
  void HandleRead();
  bool DropOnePending();

  EventLoop* const loop_;
  Socket listener_;
  InetAddress local_address_;
  std::unique_ptr<Channel> channel_;
  NewConnectionCallback callback_;
  int spare_fd_;
  TimerId resume_timer_;
  bool stopped_ = false;
  std::atomic<uint64_t> dropped_for_fd_limit_{0};
  std::atomic<uint64_t> accept_errors_{0};
};

}  // namespace tao

#endif  // TAO_NET_ACCEPTOR_H_
