#include "tao/cluster/bridge.h"

#include <atomic>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "codec/frame_encoder.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/cluster/channels.h"
#include "tao/cluster/payload.h"
#include "tao/cluster/pubsub_link.h"
#include "tao/cluster/redis_connection.h"
#include "tao/cluster/remote_delivery.h"
#include "tao/metrics/metric_sink.h"
#include "tao/net/event_loop.h"

namespace tao {

// What the loop's queued work and the metrics collector share with the
// bridge. Written by Start before `started` is set (release); the link runs
// on `loop`.
struct ClusterBridge::State {
  ClusterCounters counters;
  std::atomic<bool> started{false};
  std::atomic<bool> running{false};  // between Start and Stop
  EventLoop* loop = nullptr;
  std::unique_ptr<RemoteDelivery> delivery;
  std::unique_ptr<PubSubLink> link;

  bool connected() const {
    return running.load(std::memory_order_acquire) && link->publishing() &&
           link->subscribed();
  }
  ClusterBridgeStats Snapshot() const {
    return counters.Snapshot(
        started.load(std::memory_order_acquire) ? link->reconnects() : 0);
  }
  void OnMessage(absl::string_view channel, absl::string_view payload) {
    switch (delivery->Deliver(channel, payload).outcome) {
      case RemoteDelivery::Outcome::kDelivered:
        counters.CountReceived();
        return;
      case RemoteDelivery::Outcome::kOwnEcho:
        counters.CountOwnEcho();
        return;
      case RemoteDelivery::Outcome::kBadChannel:
      case RemoteDelivery::Outcome::kBadPayload:
      case RemoteDelivery::Outcome::kBadFrame:
        TAO_LOG_RATE_LIMITED(WARNING)
            << "ClusterBridge: ignored a malformed message on Redis channel "
            << channel;
        counters.CountDropped(DropReason::kBadPayload);
        return;
    }
  }
};

namespace {

uint64_t RandomId() {
  absl::BitGen random;
  uint64_t id = 0;
  while (id == 0) id = absl::Uniform<uint64_t>(random);
  return id;
}

void EmitBridgeMetrics(const ClusterBridgeStats& s, bool connected,
                       MetricSink& sink) {
  sink.AddCounter("tao_cluster_published_total",
                  "Messages published to Redis (acknowledged PUBLISH).", {},
                  s.published);
  sink.AddCounter("tao_cluster_received_total",
                  "Messages from other servers delivered to local members.", {},
                  s.received);
  constexpr absl::string_view kDropped = "tao_cluster_dropped_total";
  constexpr absl::string_view kDroppedHelp =
      "Messages not sent to (or bad ones received from) Redis, by reason.";
  for (const auto& [reason, count] :
       {std::pair<const char*, uint64_t>{"disconnected",
                                         s.dropped_disconnected},
        {"backlog", s.dropped_backlog},
        {"redis_error", s.dropped_redis_error},
        {"bad_payload", s.dropped_bad_payload},
        {"stopped", s.dropped_stopped}}) {
    sink.AddCounter(kDropped, kDroppedHelp, {{"reason", reason}}, count);
  }
  sink.AddCounter("tao_cluster_reconnects_total",
                  "Redis connections re-established after a loss.", {},
                  s.reconnects);
  sink.AddGauge("tao_cluster_connected",
                "1 when both Redis connections are up and subscribed.", {},
                connected ? 1.0 : 0.0);
  sink.AddGauge("tao_cluster_pending_bytes",
                "Bytes of PUBLISH commands Redis has not answered yet.", {},
                static_cast<double>(s.pending_bytes));
}

absl::Status Validate(const ClusterBridgeOptions& options) {
  TAO_RETURN_IF_ERROR(ValidateChannelPrefix(options.channel_prefix));
  if (options.connect_timeout <= absl::ZeroDuration() ||
      options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return absl::InvalidArgumentError(
        "ClusterBridgeOptions: connect_timeout and initial_backoff must be "
        "positive, max_backoff at least initial_backoff");
  }
  if (options.max_pending_bytes == 0) {
    return absl::InvalidArgumentError(
        "ClusterBridgeOptions: max_pending_bytes must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

ClusterBridge::ClusterBridge(Server& server, ClusterBridgeOptions options)
    : server_(server),
      options_(std::move(options)),
      id_(RandomId()),
      state_(std::make_shared<State>()) {}

ClusterBridge::~ClusterBridge() {
  Stop();
  absl::MutexLock lock(&mu_);
  if (collector_ != 0) server_.metrics().RemoveCollector(collector_);
}

absl::Status ClusterBridge::Start() {
  absl::MutexLock lock(&mu_);
  if (started_ || stopped_) {
    return absl::FailedPreconditionError(
        "ClusterBridge started already (or stopped: a bridge runs once)");
  }
  TAO_RETURN_IF_ERROR(Validate(options_));
  RedisConnectionOptions redis;
  TAO_RETURN_IF_ERROR(ParseRedisAddress(options_.redis_address, &redis));
  redis.connect_timeout = options_.connect_timeout;
  redis.initial_backoff = options_.initial_backoff;
  redis.max_backoff = options_.max_backoff;
  EventLoop* loop = server_.tcp().loop(0);
  if (loop == nullptr) {
    return absl::FailedPreconditionError(
        "ClusterBridge::Start needs a started server (after server.Start())");
  }
  State* state = state_.get();
  state->loop = loop;
  state->delivery =
      std::make_unique<RemoteDelivery>(server_, id_, options_.channel_prefix);
  state->link = std::make_unique<PubSubLink>(
      loop, redis, options_.channel_prefix, &state->counters,
      [state](absl::string_view channel, absl::string_view payload) {
        state->OnMessage(channel, payload);
      });
  started_ = true;
  state->running.store(true, std::memory_order_release);
  state->started.store(true, std::memory_order_release);
  loop->RunInLoop([state = state_] {
    if (state->running.load(std::memory_order_acquire)) state->link->Start();
  });
  collector_ =
      server_.metrics().AddCollector([state = state_](MetricSink& sink) {
        EmitBridgeMetrics(state->Snapshot(), state->connected(), sink);
      });
  return absl::OkStatus();
}

void ClusterBridge::Stop() {
  absl::MutexLock lock(&mu_);
  if (!started_ || stopped_) {
    stopped_ = true;
    return;
  }
  stopped_ = true;
  state_->running.store(false, std::memory_order_release);
  EventLoop* loop = server_.tcp().loop(0);
  if (loop == nullptr) {
    // The loops are gone (server.Join() came first): the connections'
    // channels cannot be removed any more; leave them be.
    TAO_LOG(ERROR) << "ClusterBridge::Stop after server.Join(): the Redis "
                      "connections are leaked (call Stop before Join)";
    (void)new std::shared_ptr<State>(state_);
    return;
  }
  auto stop = [state = state_] { state->link->Stop(); };
  if (loop->IsInLoopThread()) {
    stop();
    return;
  }
  absl::Notification done;
  loop->RunInLoop([&] {
    stop();
    done.Notify();
  });
  done.WaitForNotification();
}

absl::Status ClusterBridge::Publish(const google::protobuf::Message& message) {
  TAO_ASSIGN_OR_RETURN(absl::Cord frame,
                       EncodeMessageFrame(server_.codec(), message));
  return PublishFrame(frame);
}

absl::Status ClusterBridge::PublishToGroup(
    absl::string_view group, const google::protobuf::Message& message) {
  TAO_ASSIGN_OR_RETURN(absl::Cord frame,
                       EncodeMessageFrame(server_.codec(), message));
  return PublishFrameToGroup(group, frame);
}

absl::Status ClusterBridge::PublishRawToGroup(absl::string_view group,
                                              int32_t type,
                                              absl::string_view payload) {
  TAO_ASSIGN_OR_RETURN(absl::Cord frame,
                       EncodeRawFrame(server_.codec(), type, payload));
  return PublishFrameToGroup(group, frame);
}

absl::Status ClusterBridge::PublishFrame(const absl::Cord& frame) {
  if (!state_->started.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ClusterBridge::Start first");
  }
  if (server_.connection_count() > 0) (void)server_.BroadcastFrame(frame);
  PublishRemote(AllChannel(options_.channel_prefix), frame);
  return absl::OkStatus();
}

absl::Status ClusterBridge::PublishFrameToGroup(absl::string_view group,
                                                const absl::Cord& frame) {
  if (!state_->started.load(std::memory_order_acquire)) {
    return absl::FailedPreconditionError("ClusterBridge::Start first");
  }
  std::vector<ConnectionPtr> members = server_.groups().Members(group);
  if (!members.empty()) (void)server_.MulticastFrame(members, frame);
  PublishRemote(GroupChannel(options_.channel_prefix, group), frame);
  return absl::OkStatus();
}

void ClusterBridge::PublishRemote(std::string channel,
                                  const absl::Cord& frame) {
  State& state = *state_;
  if (!state.running.load(std::memory_order_acquire)) {
    state.counters.CountDropped(DropReason::kStopped);
    return;
  }
  if (!state.link->publishing()) {
    state.counters.CountDropped(DropReason::kDisconnected);
    return;
  }
  std::string payload = EncodeClusterPayload(id_, frame);
  const size_t charge = channel.size() + payload.size();
  if (!state.counters.TryReserve(charge, options_.max_pending_bytes)) {
    state.counters.CountDropped(DropReason::kBacklog);
    return;
  }
  state.loop->RunInLoop([state = state_, channel = std::move(channel),
                         payload = std::move(payload), charge] {
    if (!state->running.load(std::memory_order_acquire)) {
      state->counters.Release(charge);
      state->counters.CountDropped(DropReason::kStopped);
      return;
    }
    state->link->Publish(channel, payload, charge);
  });
}

bool ClusterBridge::connected() const { return state_->connected(); }

ClusterBridgeStats ClusterBridge::stats() const { return state_->Snapshot(); }

}  // namespace tao
