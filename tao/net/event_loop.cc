#include "tao/net/event_loop.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "tao/base/logging.h"
#include "tao/net/channel.h"

namespace tao {
namespace {

thread_local EventLoop* t_loop_in_this_thread = nullptr;

int CreateEventFd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) TAO_PLOG(FATAL) << "eventfd";
  return fd;
}

int CreateTimerFd() {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) TAO_PLOG(FATAL) << "timerfd_create";
  return fd;
}

}  // namespace

EventLoop::EventLoop(const Clock* clock)
    : clock_(clock),
      thread_id_(std::this_thread::get_id()),
      wakeup_fd_(CreateEventFd()),
      timer_fd_(CreateTimerFd()),
      timers_(clock) {
  TAO_CHECK(t_loop_in_this_thread == nullptr)
      << "another EventLoop already exists in this thread";
  t_loop_in_this_thread = this;
  absl::StatusOr<std::unique_ptr<Poller>> poller = Poller::Create();
  TAO_CHECK(poller.ok()) << poller.status();
  poller_ = *std::move(poller);
  wakeup_channel_ =
      std::make_unique<Channel>(this, wakeup_fd_, &wakeup_handler_);
  wakeup_channel_->EnableReading();
  timer_channel_ = std::make_unique<Channel>(this, timer_fd_, &timer_handler_);
  timer_channel_->EnableReading();
}

EventLoop::~EventLoop() {
  // Other threads write the eventfd only while holding mu_: taking it here
  // waits out a Quit() or QueueInLoop() that is still writing.
  { absl::MutexLock lock(&mu_); }
  // Functors still queued are destroyed unrun; they only hold references.
  wakeup_channel_->Remove();
  timer_channel_->Remove();
  ::close(wakeup_fd_);
  ::close(timer_fd_);
  if (t_loop_in_this_thread == this) t_loop_in_this_thread = nullptr;
}

void EventLoop::AssertInLoopThread() const {
  TAO_DCHECK(IsInLoopThread())
      << "EventLoop used from a thread that does not own it";
}

void EventLoop::Run() {
  TAO_CHECK(IsInLoopThread()) << "EventLoop::Run from a foreign thread";
  while (!quit_.load(std::memory_order_acquire)) {
    ArmTimerFd();
    absl::Status polled = poller_->Poll(-1, &ready_);
    if (!polled.ok()) TAO_LOG(ERROR) << polled;
    for (const Poller::ReadyEvent& event : ready_) {
      event.channel->HandleEvent(event.events);
    }
    ready_.clear();
    RunPendingFunctors();
  }
  // Run what was queued before Quit so that no posted work is lost silently.
  RunPendingFunctors();
  quit_.store(false, std::memory_order_release);
}

void EventLoop::Quit() {
  if (IsInLoopThread()) {
    quit_.store(true, std::memory_order_release);
    return;
  }
  absl::MutexLock lock(&mu_);
  quit_.store(true, std::memory_order_release);
  Wakeup();
}

void EventLoop::RunInLoop(Functor fn) {
  if (IsInLoopThread()) {
    fn();
  } else {
    QueueInLoop(std::move(fn));
  }
}

void EventLoop::QueueInLoop(Functor fn) {
  absl::MutexLock lock(&mu_);
  pending_.push_back(std::move(fn));
  // The loop thread drains pending_ after its I/O batch, so it needs no
  // wake-up unless it is already draining (it would then block in epoll).
  // The write happens under mu_ so the destructor can wait it out.
  if (!wakeup_pending_ && (!IsInLoopThread() || running_functors_)) {
    wakeup_pending_ = true;
    Wakeup();
  }
}

size_t EventLoop::queue_size() const {
  absl::MutexLock lock(&mu_);
  return pending_.size();
}

void EventLoop::Wakeup() {
  uint64_t one = 1;
  ssize_t n = ::write(wakeup_fd_, &one, sizeof(one));
  if (n != sizeof(one) && errno != EAGAIN) TAO_PLOG(ERROR) << "eventfd write";
}

void EventLoop::HandleWakeup() {
  uint64_t value;
  ssize_t n = ::read(wakeup_fd_, &value, sizeof(value));
  if (n != sizeof(value) && errno != EAGAIN) TAO_PLOG(ERROR) << "eventfd read";
}

void EventLoop::RunPendingFunctors() {
  {
    absl::MutexLock lock(&mu_);
    running_.swap(pending_);  // pending_ gets running_'s empty capacity
    wakeup_pending_ = false;
  }
  running_functors_ = true;
  for (Functor& fn : running_) fn();
  running_functors_ = false;
  // Keep the capacity (no allocation per turn in steady state), unless a
  // burst made it large.
  if (running_.capacity() > kMaxRetainedFunctors) {
    std::vector<Functor>().swap(running_);
  } else {
    running_.clear();
  }
}

void EventLoop::UpdateChannel(Channel* channel) {
  AssertInLoopThread();
  poller_->UpdateChannel(channel);
}

void EventLoop::RemoveChannel(Channel* channel) {
  AssertInLoopThread();
  poller_->RemoveChannel(channel);
}

TimerId EventLoop::RunAt(MonoTime deadline, Functor fn) {
  return AddTimer(deadline, absl::ZeroDuration(), std::move(fn));
}

TimerId EventLoop::RunAfter(absl::Duration delay, Functor fn) {
  return AddTimer(AddDuration(Now(), std::max(delay, absl::ZeroDuration())),
                  absl::ZeroDuration(), std::move(fn));
}

TimerId EventLoop::RunEvery(absl::Duration interval, Functor fn) {
  TAO_CHECK(interval > absl::ZeroDuration()) << "RunEvery needs interval > 0";
  return AddTimer(AddDuration(Now(), interval), interval, std::move(fn));
}

TimerId EventLoop::AddTimer(MonoTime deadline, absl::Duration interval,
                            Functor fn) {
  uint64_t id = next_timer_id_.fetch_add(1, std::memory_order_relaxed);
  if (IsInLoopThread()) {
    AddTimerInLoop(id, deadline, interval, std::move(fn));
  } else {
    QueueInLoop([this, id, deadline, interval, fn = std::move(fn)]() mutable {
      AddTimerInLoop(id, deadline, interval, std::move(fn));
    });
  }
  return TimerId{id};
}

void EventLoop::AddTimerInLoop(uint64_t id, MonoTime deadline,
                               absl::Duration interval, Functor fn) {
  const bool periodic = interval > absl::ZeroDuration();
  TimerId queue_id = timers_.Add(
      deadline, interval, [this, id, periodic, fn = std::move(fn)]() mutable {
        if (!periodic) timer_ids_.erase(id);
        fn();
      });
  timer_ids_.emplace(id, queue_id);
}

void EventLoop::Cancel(TimerId id) {
  if (!id.valid()) return;
  RunInLoop([this, id] { CancelInLoop(id.value); });
}

void EventLoop::CancelInLoop(uint64_t id) {
  auto it = timer_ids_.find(id);
  if (it == timer_ids_.end()) return;
  timers_.Cancel(it->second);
  timer_ids_.erase(it);
}

void EventLoop::ArmTimerFd() {
  std::optional<MonoTime> next = timers_.NextDeadline();
  if (!next.has_value()) return;  // a stale arming only causes a no-op wake
  if (timer_armed_ && armed_deadline_ == *next) return;
  auto delay = std::chrono::duration_cast<std::chrono::nanoseconds>(
      *next - clock_->Now());
  // timerfd treats zero as "disarm"; fire due timers as soon as possible.
  int64_t ns = std::max<int64_t>(delay.count(), 1000);
  struct itimerspec spec = {};
  spec.it_value.tv_sec = ns / 1000000000;
  spec.it_value.tv_nsec = ns % 1000000000;
  if (::timerfd_settime(timer_fd_, 0, &spec, nullptr) < 0) {
    TAO_PLOG(ERROR) << "timerfd_settime";
    return;
  }
  timer_armed_ = true;
  armed_deadline_ = *next;
}

void EventLoop::HandleTimerFd() {
  uint64_t expirations;
  ssize_t n = ::read(timer_fd_, &expirations, sizeof(expirations));
  (void)n;  // EAGAIN after a re-arm is harmless
  timer_armed_ = false;
  timers_.RunExpired();
}

}  // namespace tao
