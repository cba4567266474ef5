#include "tao/cluster/redis_loop_adapter.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

#include "tao/net/channel.h"

namespace tao {
namespace {

// One per attached context; see the header for who deletes it.
class RedisLoopAdapter final : private Channel::Handler {
 public:
  RedisLoopAdapter(EventLoop* loop, redisAsyncContext* ac)
      : loop_(loop), ac_(ac), channel_(loop, ac->c.fd, this) {}

  // hiredis asks again with every command; only changes reach epoll.
  static void AddRead(void* self) {
    Channel& channel = Self(self)->channel_;
    if (!channel.IsReading()) channel.EnableReading();
  }
  static void DelRead(void* self) {
    Channel& channel = Self(self)->channel_;
    if (channel.IsReading()) channel.DisableReading();
  }
  static void AddWrite(void* self) {
    Channel& channel = Self(self)->channel_;
    if (!channel.IsWriting()) channel.EnableWriting();
  }
  static void DelWrite(void* self) {
    Channel& channel = Self(self)->channel_;
    if (channel.IsWriting()) channel.DisableWriting();
  }
  // hiredis is freeing the context (it closes the socket right after).
  static void Cleanup(void* self) {
    RedisLoopAdapter* adapter = Self(self);
    adapter->ac_ = nullptr;
    adapter->channel_.Remove();
    // Not `delete` here: we may be inside channel_.HandleEvent.
    adapter->loop_->QueueInLoop(
        [doomed = std::unique_ptr<RedisLoopAdapter>(adapter)] {});
  }

 private:
  static RedisLoopAdapter* Self(void* self) {
    return static_cast<RedisLoopAdapter*>(self);
  }

  // Channel::Handler. A removed channel gets no further events, so ac_ is
  // valid in each (Cleanup removes the channel before the context goes).
  void OnReadable() override { redisAsyncHandleRead(ac_); }
  void OnWritable() override { redisAsyncHandleWrite(ac_); }
  // The read sees the end of stream or the socket's error and disconnects;
  // a connect in progress learns its failure from the write side.
  void OnHangUp() override { OnReadOrConnectFailure(); }
  void OnError() override { OnReadOrConnectFailure(); }
  void OnReadOrConnectFailure() {
    if (ac_->c.flags & REDIS_CONNECTED) {
      redisAsyncHandleRead(ac_);
    } else {
      redisAsyncHandleWrite(ac_);
    }
  }

  EventLoop* const loop_;
  redisAsyncContext* ac_;
  Channel channel_;
};

}  // namespace

absl::Status AttachRedisToLoop(EventLoop* loop, redisAsyncContext* ac) {
  loop->AssertInLoopThread();
  if (ac->ev.data != nullptr) {
    return absl::FailedPreconditionError(
        "the Redis context already has an event adapter");
  }
  auto* adapter = new RedisLoopAdapter(loop, ac);
  ac->ev.addRead = &RedisLoopAdapter::AddRead;
  ac->ev.delRead = &RedisLoopAdapter::DelRead;
  ac->ev.addWrite = &RedisLoopAdapter::AddWrite;
  ac->ev.delWrite = &RedisLoopAdapter::DelWrite;
  ac->ev.cleanup = &RedisLoopAdapter::Cleanup;
  ac->ev.data = adapter;
  return absl::OkStatus();
}

}  // namespace tao
