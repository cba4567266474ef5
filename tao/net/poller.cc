#include "tao/net/poller.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "tao/base/logging.h"
#include "tao/net/channel.h"

namespace tao {
namespace {
constexpr size_t kInitialEvents = 64;
constexpr size_t kMaxEvents = 4096;
}  // namespace

absl::StatusOr<std::unique_ptr<Poller>> Poller::Create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, "epoll_create1");
  return std::unique_ptr<Poller>(new Poller(fd));
}

Poller::Poller(int epoll_fd) : epoll_fd_(epoll_fd), events_(kInitialEvents) {}

Poller::~Poller() { ::close(epoll_fd_); }

absl::Status Poller::Poll(int timeout_ms, std::vector<ReadyEvent>* ready) {
  ready->clear();
  int n = ::epoll_wait(epoll_fd_, events_.data(),
                       static_cast<int>(events_.size()), timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, "epoll_wait");
  }
  ready->reserve(n);
  for (int i = 0; i < n; ++i) {
    ready->push_back(ReadyEvent{static_cast<Channel*>(events_[i].data.ptr),
                                events_[i].events});
  }
  if (static_cast<size_t>(n) == events_.size() && events_.size() < kMaxEvents) {
    events_.resize(events_.size() * 2);
  }
  return absl::OkStatus();
}

void Poller::Control(int op, Channel* channel) {
  struct epoll_event event = {};
  event.events = channel->events();
  event.data.ptr = channel;
  if (::epoll_ctl(epoll_fd_, op, channel->fd(), &event) < 0) {
    // Only a bug in tao (bad fd, double add) gets here.
    TAO_PLOG(FATAL) << "epoll_ctl op=" << op << " fd=" << channel->fd();
  }
}

void Poller::UpdateChannel(Channel* channel) {
  if (!channel->registered()) {
    if (channel->events() == 0) return;
    Control(EPOLL_CTL_ADD, channel);
    channel->set_registered(true);
    ++channel_count_;
  } else if (channel->events() == 0) {
    Control(EPOLL_CTL_DEL, channel);
    channel->set_registered(false);
    --channel_count_;
  } else {
    Control(EPOLL_CTL_MOD, channel);
  }
}

void Poller::RemoveChannel(Channel* channel) {
  if (!channel->registered()) return;
  Control(EPOLL_CTL_DEL, channel);
  channel->set_registered(false);
  --channel_count_;
}

}  // namespace tao
