// PubSubLink: a ClusterBridge's two Redis connections on its loop. One
// PUBLISHes; the other is in subscriber mode (Redis takes no other command
// on it) and, after every (re)connect, SUBSCRIBEs to <prefix>:all and
// PSUBSCRIBEs to <prefix>:group:* (channels.h), handing each message to
// `on_message`. Each queued PUBLISH holds its `charge` of the bridge's
// pending bytes (ClusterCounters) until Redis answers it or the connection
// ends; a PUBLISH that cannot be sent or whose connection ends first is
// counted as dropped (never retried: pub/sub is at-most-once).
//
// Thread safety: construction on any thread; Start, Stop and Publish on the
// loop thread; destruction on the loop thread, or on any once stopped;
// publishing(), subscribed() and reconnects() from any.
#ifndef TAO_CLUSTER_PUBSUB_LINK_H_
#define TAO_CLUSTER_PUBSUB_LINK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "tao/cluster/cluster_counters.h"
#include "tao/cluster/redis_connection.h"
#include "tao/net/event_loop.h"

namespace tao {

class PubSubLink {
 public:
  using MessageCallback =
      std::function<void(absl::string_view channel, absl::string_view payload)>;

  // `counters` must outlive the link.
  PubSubLink(EventLoop* loop, const RedisConnectionOptions& redis,
             std::string channel_prefix, ClusterCounters* counters,
             MessageCallback on_message);
  ~PubSubLink();
  PubSubLink(const PubSubLink&) = delete;
  PubSubLink& operator=(const PubSubLink&) = delete;

  void Start();
  // Ends both connections; queued PUBLISHes are counted as dropped.
  void Stop();

  // PUBLISH `payload` on `channel`; `charge` bytes were reserved in the
  // counters and are released here or when Redis answers.
  void Publish(absl::string_view channel, absl::string_view payload,
               size_t charge);

  bool publishing() const { return publisher_.connected(); }
  // Both subscriptions confirmed on the current subscriber connection.
  bool subscribed() const {
    return subscribed_.load(std::memory_order_acquire);
  }
  uint64_t reconnects() const {
    return publisher_.reconnects() + subscriber_.reconnects();
  }

 private:
  // Answers to PUBLISH, in command order.
  struct PublishReplies final : RedisConnection::ReplyHandler {
    explicit PublishReplies(PubSubLink* link) : link(link) {}
    void OnReply(const redisReply* reply) override;
    PubSubLink* link;
  };
  // Subscription confirmations and messages.
  struct Subscription final : RedisConnection::ReplyHandler {
    explicit Subscription(PubSubLink* link) : link(link) {}
    void OnReply(const redisReply* reply) override;
    PubSubLink* link;
  };

  void Subscribe();

  EventLoop* const loop_;
  const std::string prefix_;
  const std::string all_channel_;
  const std::string group_pattern_;
  ClusterCounters* const counters_;
  const MessageCallback on_message_;

  // (Before the connections: they call these until they are stopped.)
  PublishReplies publish_replies_{this};
  Subscription subscription_{this};
  std::deque<size_t> in_flight_;  // charges of unanswered PUBLISHes
  int confirmations_ = 0;         // of the current subscriber connection
  std::atomic<bool> subscribed_{false};

  RedisConnection publisher_;
  RedisConnection subscriber_;
};

}  // namespace tao

#endif  // TAO_CLUSTER_PUBSUB_LINK_H_
