// Poller: a level-triggered epoll set of Channels, owned by one EventLoop.
//
// Thread safety: every method must be called on the owning loop's thread.
// The poller does not own the channels it watches.
#ifndef TAO_NET_POLLER_H_
#define TAO_NET_POLLER_H_

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tao {

class Channel;

class Poller {
 public:
  struct ReadyEvent {
    Channel* channel;
    uint32_t events;
  };

  static absl::StatusOr<std::unique_ptr<Poller>> Create();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // Waits up to `timeout_ms` (-1: forever) and replaces `*ready` with the
  // channels that have events. Interrupted waits return no events.
  absl::Status Poll(int timeout_ms, std::vector<ReadyEvent>* ready);

  // Registers, modifies or (when the channel wants no events) unregisters.
  void UpdateChannel(Channel* channel);
  void RemoveChannel(Channel* channel);

  size_t channel_count() const { return channel_count_; }

 private:
  explicit Poller(int epoll_fd);
  void Control(int op, Channel* channel);

  const int epoll_fd_;
  size_t channel_count_ = 0;
  std::vector<struct epoll_event> events_;
};

}  // namespace tao

#endif  // TAO_NET_POLLER_H_
