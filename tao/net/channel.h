// Channel: one file descriptor's epoll interest set and event dispatch inside
// one EventLoop. It does not own the descriptor.
//
// Thread safety: every method must be called on the owning loop's thread.
// Lifetime: a channel must be Remove()d before it is destroyed. A removed
// channel that is still in the poller's current batch of ready events
// ignores them, so the owner may remove it from inside another handler.
#ifndef TAO_NET_CHANNEL_H_
#define TAO_NET_CHANNEL_H_

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"

namespace tao {

class EventLoop;

class Channel {
 public:
  using EventCallback = absl::AnyInvocable<void()>;

  Channel(EventLoop* loop, int fd);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void SetReadCallback(EventCallback cb) { read_callback_ = std::move(cb); }
  void SetWriteCallback(EventCallback cb) { write_callback_ = std::move(cb); }
  // Hang-up without readable data (the peer is gone).
  void SetCloseCallback(EventCallback cb) { close_callback_ = std::move(cb); }
  void SetErrorCallback(EventCallback cb) { error_callback_ = std::move(cb); }

  // Keeps `owner` alive while one of this channel's handlers runs, so a
  // handler may drop the last other reference to the owner.
  void Tie(std::weak_ptr<void> owner);

  void EnableReading() { Update(events_ | kReadEvents); }
  void DisableReading() { Update(events_ & ~kReadEvents); }
  void EnableWriting() { Update(events_ | kWriteEvents); }
  void DisableWriting() { Update(events_ & ~kWriteEvents); }
  void DisableAll() { Update(0); }
  bool IsReading() const { return (events_ & kReadEvents) != 0; }
  bool IsWriting() const { return (events_ & kWriteEvents) != 0; }

  // Stops all events for good and unregisters from the poller.
  void Remove();

  // Called by the EventLoop with the epoll events that fired.
  void HandleEvent(uint32_t revents);

  int fd() const { return fd_; }
  uint32_t events() const { return events_; }
  EventLoop* loop() const { return loop_; }

  // Poller bookkeeping: whether the fd is registered with epoll.
  bool registered() const { return registered_; }
  void set_registered(bool registered) { registered_ = registered; }

 private:
  static constexpr uint32_t kReadEvents = 0x001 | 0x002;  // EPOLLIN | EPOLLPRI
  static constexpr uint32_t kWriteEvents = 0x004;         // EPOLLOUT

  void Update(uint32_t events);
  void HandleEventGuarded(uint32_t revents);

  EventLoop* const loop_;
  const int fd_;
  uint32_t events_ = 0;
  bool registered_ = false;
  bool removed_ = false;
  bool tied_ = false;
  std::weak_ptr<void> owner_;
  EventCallback read_callback_;
  EventCallback write_callback_;
  EventCallback close_callback_;
  EventCallback error_callback_;
};

}  // namespace tao

#endif  // TAO_NET_CHANNEL_H_
