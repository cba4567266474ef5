#include "tao/net/event_loop_thread_pool.h"

#include "tao/base/logging.h"

namespace tao {

EventLoopThread::EventLoopThread(const Clock* clock) : clock_(clock) {}

EventLoopThread::~EventLoopThread() { Stop(); }

EventLoop* EventLoopThread::Start() {
  TAO_CHECK(!thread_.joinable()) << "EventLoopThread started twice";
  absl::Notification ready;
  thread_ = std::thread([this, &ready] {
    EventLoop loop(clock_);
    loop_ = &loop;
    ready.Notify();
    loop.Run();
  });
  ready.WaitForNotification();
  return loop_;
}

void EventLoopThread::Stop() {
  if (!thread_.joinable()) return;
  loop_->Quit();
  thread_.join();
  loop_ = nullptr;
}

EventLoopThreadPool::EventLoopThreadPool(int num_threads, const Clock* clock)
    : num_threads_(num_threads > 0 ? num_threads : 1), clock_(clock) {}

EventLoopThreadPool::~EventLoopThreadPool() { Stop(); }

void EventLoopThreadPool::Start() {
  TAO_CHECK(threads_.empty()) << "EventLoopThreadPool started twice";
  for (int i = 0; i < num_threads_; ++i) {
    threads_.push_back(std::make_unique<EventLoopThread>(clock_));
    loops_.push_back(threads_.back()->Start());
  }
}

void EventLoopThreadPool::Stop() {
  for (auto& thread : threads_) thread->Stop();
  threads_.clear();
  loops_.clear();
}

EventLoop* EventLoopThreadPool::GetNextLoop() {
  size_t i = next_.fetch_add(1, std::memory_order_relaxed);
  return loops_[i % loops_.size()];
}

}  // namespace tao
