// EventLoopThread: a thread running its own EventLoop.
// EventLoopThreadPool: N of them, handed out round-robin.
//
// Thread safety: Start/Stop from the owner's thread (not from one of the
// pool's loops). GetNextLoop, loop(i) and size() are safe from any thread
// after Start(). Stop() quits every loop after the functors already queued
// to it have run, then joins.
#ifndef TAO_NET_EVENT_LOOP_THREAD_POOL_H_
#define TAO_NET_EVENT_LOOP_THREAD_POOL_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "tao/base/clock.h"
#include "tao/net/event_loop.h"

namespace tao {

class EventLoopThread {
 public:
  explicit EventLoopThread(const Clock* clock = Clock::Real());
  ~EventLoopThread();  // Stop()
  EventLoopThread(const EventLoopThread&) = delete;
  EventLoopThread& operator=(const EventLoopThread&) = delete;

  // Starts the thread; returns once its loop exists and is about to run.
  EventLoop* Start();
  // Quits the loop and joins the thread. Idempotent.
  void Stop();
  EventLoop* loop() const { return loop_; }

 private:
  const Clock* const clock_;
  std::thread thread_;
  EventLoop* loop_ = nullptr;  // owned by the thread's stack
};

class EventLoopThreadPool {
 public:
  explicit EventLoopThreadPool(int num_threads,
                               const Clock* clock = Clock::Real());
  ~EventLoopThreadPool();
  EventLoopThreadPool(const EventLoopThreadPool&) = delete;
  EventLoopThreadPool& operator=(const EventLoopThreadPool&) = delete;

  void Start();
  void Stop();

  EventLoop* GetNextLoop();
  EventLoop* loop(size_t i) const { return loops_[i]; }
  const std::vector<EventLoop*>& loops() const { return loops_; }
  size_t size() const { return loops_.size(); }

 private:
  const int num_threads_;
  const Clock* const clock_;
  std::vector<std::unique_ptr<EventLoopThread>> threads_;
  std::vector<EventLoop*> loops_;
  std::atomic<size_t> next_{0};
};

}  // namespace tao

#endif  // TAO_NET_EVENT_LOOP_THREAD_POOL_H_
