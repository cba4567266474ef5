// Channel: one file descriptor's epoll interest set and event dispatch inside
// one EventLoop, to a Handler (the fd's owner: a connection, an acceptor).
// It owns neither the descriptor nor the handler.
//
// Thread safety: every method must be called on the owning loop's thread.
// Lifetime: a channel must be Remove()d before it is destroyed. A removed
// channel that is still in the poller's current batch of ready events
// ignores them, so the owner may remove it from inside another handler.
#ifndef TAO_NET_CHANNEL_H_
#define TAO_NET_CHANNEL_H_

#include <cstdint>
#include <memory>

namespace tao {

class EventLoop;

class Channel {
 public:
  // Where the events go. An interface, not four callbacks: one pointer per
  // channel instead of 128 bytes of closures (a channel exists per
  // connection). Unimplemented events are ignored.
  class Handler {
   public:
    virtual void OnReadable() {}
    virtual void OnWritable() {}
    // Hang-up without readable data (the peer is gone).
    virtual void OnHangUp() {}
    virtual void OnError() {}

   protected:
    ~Handler() = default;
  };

  // `handler` must outlive the channel.
  Channel(EventLoop* loop, int fd, Handler* handler);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

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
  Handler* const handler_;
  std::weak_ptr<void> owner_;
};

}  // namespace tao

#endif  // TAO_NET_CHANNEL_H_
