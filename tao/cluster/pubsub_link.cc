#include "tao/cluster/pubsub_link.h"

#include <hiredis/hiredis.h>

#include <utility>

#include "tao/base/logging.h"
#include "tao/cluster/channels.h"

namespace tao {
namespace {

absl::string_view Str(const redisReply* r) {
  return absl::string_view(r->str, r->len);
}

bool IsString(const redisReply* r) {
  return r != nullptr &&
         (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

}  // namespace

PubSubLink::PubSubLink(EventLoop* loop, const RedisConnectionOptions& redis,
                       std::string channel_prefix, ClusterCounters* counters,
                       MessageCallback on_message)
    : loop_(loop),
      prefix_(std::move(channel_prefix)),
      all_channel_(AllChannel(prefix_)),
      group_pattern_(GroupPattern(prefix_)),
      counters_(counters),
      on_message_(std::move(on_message)),
      publisher_(loop, redis, {}),
      subscriber_(loop, redis,
                  {.on_connected = [this] { Subscribe(); },
                   .on_disconnected =
                       [this](const absl::Status&) {
                         confirmations_ = 0;
                         subscribed_.store(false, std::memory_order_release);
                       }}) {}

PubSubLink::~PubSubLink() { Stop(); }

void PubSubLink::Start() {
  loop_->AssertInLoopThread();
  publisher_.Start();
  subscriber_.Start();
}

void PubSubLink::Stop() {
  publisher_.Stop();  // answers the queued PUBLISHes with nullptr
  subscriber_.Stop();
  subscribed_.store(false, std::memory_order_release);
}

void PubSubLink::Publish(absl::string_view channel, absl::string_view payload,
                         size_t charge) {
  if (!publisher_.Command({"PUBLISH", channel, payload}, &publish_replies_)
           .ok()) {
    counters_->Release(charge);
    counters_->CountDropped(DropReason::kDisconnected);
    return;
  }
  in_flight_.push_back(charge);
}

void PubSubLink::PublishReplies::OnReply(const redisReply* reply) {
  if (link->in_flight_.empty()) return;  // not ours (cannot happen)
  link->counters_->Release(link->in_flight_.front());
  link->in_flight_.pop_front();
  if (reply == nullptr) {
    link->counters_->CountDropped(DropReason::kDisconnected);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    TAO_LOG_RATE_LIMITED(WARNING) << "Redis PUBLISH failed: " << Str(reply);
    link->counters_->CountDropped(DropReason::kRedisError);
  } else {
    link->counters_->CountPublished();
  }
}

void PubSubLink::Subscribe() {
  confirmations_ = 0;
  // Both are answered on this connection; a failure here means it is
  // already ending, and the next connect subscribes again.
  (void)subscriber_.Command({"SUBSCRIBE", all_channel_}, &subscription_);
  (void)subscriber_.Command({"PSUBSCRIBE", group_pattern_}, &subscription_);
}

void PubSubLink::Subscription::OnReply(const redisReply* reply) {
  // nullptr: the connection ended (on_disconnected resets the state).
  if (reply == nullptr) return;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 3 ||
      !IsString(reply->element[0])) {
    if (reply->type == REDIS_REPLY_ERROR) {
      TAO_LOG_RATE_LIMITED(WARNING) << "Redis subscribe failed: " << Str(reply);
    }
    return;
  }
  const absl::string_view kind = Str(reply->element[0]);
  if (kind == "subscribe" || kind == "psubscribe") {
    if (++link->confirmations_ == 2) {
      link->subscribed_.store(true, std::memory_order_release);
    }
  } else if (kind == "message" && IsString(reply->element[1]) &&
             reply->element[2]->type == REDIS_REPLY_STRING) {
    link->on_message_(Str(reply->element[1]), Str(reply->element[2]));
  } else if (kind == "pmessage" && reply->elements >= 4 &&
             IsString(reply->element[2]) &&
             reply->element[3]->type == REDIS_REPLY_STRING) {
    link->on_message_(Str(reply->element[2]), Str(reply->element[3]));
  }
}

}  // namespace tao
