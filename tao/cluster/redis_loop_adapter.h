// AttachRedisToLoop: drives a hiredis asynchronous context (redisAsyncContext)
// from a tao EventLoop. hiredis asks for read/write interest through the hooks
// of `ac->ev` (addRead, delRead, addWrite, delWrite, cleanup); the adapter
// turns them into a Channel on the context's socket and hands readiness back
// to redisAsyncHandleRead / redisAsyncHandleWrite. No thread, no timer
// (hiredis 0.14 has no timer hook; RedisConnection times connects out).
//
// Lifetime: hiredis owns the adapter once attached. When it frees the
// context (redisAsyncFree, or after a disconnect) it calls `cleanup`, which
// removes the channel before hiredis closes the socket; the adapter itself
// is deleted from the loop's queue, because cleanup may run inside the
// channel's own event handler.
//
// Thread safety: the loop thread only, like the context itself.
#ifndef TAO_CLUSTER_REDIS_LOOP_ADAPTER_H_
#define TAO_CLUSTER_REDIS_LOOP_ADAPTER_H_

#include "absl/status/status.h"
#include "tao/net/event_loop.h"

struct redisAsyncContext;

namespace tao {

// FAILED_PRECONDITION if `ac` already has an adapter. REQUIRES: the loop
// thread; `ac` has a socket (redisAsyncConnect succeeded).
absl::Status AttachRedisToLoop(EventLoop* loop, redisAsyncContext* ac);

}  // namespace tao

#endif  // TAO_CLUSTER_REDIS_LOOP_ADAPTER_H_
