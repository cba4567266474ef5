#include "tao/net/channel.h"

#include <sys/epoll.h>

#include "tao/base/logging.h"
#include "tao/net/event_loop.h"

namespace tao {

static_assert(EPOLLIN == 0x001 && EPOLLPRI == 0x002 && EPOLLOUT == 0x004,
              "Channel's event constants must match epoll's");

Channel::Channel(EventLoop* loop, int fd, Handler* handler)
    : loop_(loop), fd_(fd), handler_(handler) {}

Channel::~Channel() {
  TAO_DCHECK(!registered_) << "Channel for fd " << fd_
                           << " destroyed while registered";
}

void Channel::Tie(std::weak_ptr<void> owner) {
  owner_ = std::move(owner);
  tied_ = true;
}

void Channel::Update(uint32_t events) {
  if (removed_) return;
  events_ = events;
  loop_->UpdateChannel(this);
}

void Channel::Remove() {
  events_ = 0;
  removed_ = true;
  loop_->RemoveChannel(this);
}

void Channel::HandleEvent(uint32_t revents) {
  if (removed_) return;
  if (tied_) {
    std::shared_ptr<void> guard = owner_.lock();
    if (guard) HandleEventGuarded(revents);
  } else {
    HandleEventGuarded(revents);
  }
}

void Channel::HandleEventGuarded(uint32_t revents) {
  // Each step re-checks removed_: a handler may have removed this channel.
  if ((revents & EPOLLHUP) && !(revents & EPOLLIN)) {
    handler_->OnHangUp();
    return;
  }
  // Read before looking at an error: data (e.g. a TLS alert) that arrived
  // together with a reset is delivered first; the read then reports the
  // error itself.
  if ((revents & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) && !removed_) {
    handler_->OnReadable();
  }
  if ((revents & EPOLLERR) && !removed_) handler_->OnError();
  if ((revents & EPOLLOUT) && !removed_) handler_->OnWritable();
}

}  // namespace tao
