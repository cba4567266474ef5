// MessageCore: what a message Server or Client adds on top of its byte
// endpoint, in one place for both: the user's connection callbacks, the
// Dispatcher (frames -> handlers, inline or on the worker pool) and the
// HeartbeatMonitor. It makes one MessageHandler (message_handler.h) per
// connection; all per-connection state lives in that handler.
//
// Thread safety: callbacks() before the endpoint starts (not thread safe).
// Start and Shutdown from the endpoint's controlling thread; the factory
// from any loop thread; stats from any thread.
#ifndef TAO_MESSAGE_MESSAGE_CORE_H_
#define TAO_MESSAGE_MESSAGE_CORE_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "codec/codec.h"
#include "tao/message/dispatcher.h"
#include "tao/message/endpoint.h"
#include "tao/message/heartbeat.h"
#include "tao/message/options.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/metric_registry.h"
#include "tao/metrics/metrics_server.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection_handler.h"

namespace tao {

class Endpoint;
class Registry;

// The message layer's counters; a snapshot.
struct MessageStats : DispatchStats {
  uint64_t closed_idle = 0;  // closed by the heartbeat timeout
  // Connections whose queued output crossed the high water mark going up
  // (once per crossing).
  uint64_t high_water_crossings = 0;
  uint64_t frames_sent = 0;  // Endpoint::frames_sent()
};

// The user's callbacks for connection events of a message endpoint.
struct MessageCallbacks {
  ConnectCallback on_connect;
  CloseCallback on_close;
  ErrorCallback on_error;
  HighWaterMarkCallback on_high_water_mark;
  LowWaterMarkCallback on_low_water_mark;
  IdleCallback on_idle;
};

class MessageCore {
 public:
  // `registry` may be null (no handlers); it and `endpoint` must outlive
  // the core.
  MessageCore(const MessageOptions& options, const Registry* registry,
              const Endpoint* endpoint);
  ~MessageCore();  // Shutdown()
  MessageCore(const MessageCore&) = delete;
  MessageCore& operator=(const MessageCore&) = delete;

  MessageCallbacks& callbacks() { return callbacks_; }
  const MessageCallbacks& callbacks() const { return callbacks_; }

  // Starts the handler workers. INVALID_ARGUMENT for a bad handler_threads.
  // Before the first connection.
  absl::Status Start();
  // Runs the handlers still queued, then stops the workers. Idempotent.
  void Shutdown();

  // Makes the MessageHandler of each new connection.
  ConnectionHandlerFactory factory();

  const Codec& codec() const { return *codec_; }
  const Endpoint& endpoint() const { return *endpoint_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  HeartbeatMonitor& heartbeat() { return heartbeat_; }
  MessageStats stats() const;
  // A connection's output crossed its high water mark (any loop thread).
  void CountHighWaterCrossing() { high_water_crossings_.Increment(); }

 private:
  const std::shared_ptr<const Codec> codec_;
  const Endpoint* const endpoint_;
  MessageCallbacks callbacks_;
  Dispatcher dispatcher_;
  HeartbeatMonitor heartbeat_;
  Counter high_water_crossings_;
};

// What the message Server and Client share on top of Endpoint: their core
// and the setters of the user's callbacks (before the endpoint starts; not
// thread safe). The callbacks run on the connection's loop thread (OnIdle
// where the connection's handlers run).
class MessageEndpoint : public Endpoint {
 public:
  void OnConnect(ConnectCallback cb) { core_.callbacks().on_connect = cb; }
  void OnClose(CloseCallback cb) { core_.callbacks().on_close = cb; }
  void OnError(ErrorCallback cb) { core_.callbacks().on_error = cb; }
  void OnHighWaterMark(HighWaterMarkCallback cb) {
    core_.callbacks().on_high_water_mark = cb;
  }
  void OnLowWaterMark(LowWaterMarkCallback cb) {
    core_.callbacks().on_low_water_mark = cb;
  }
  // Reader/writer idle per HeartbeatOptions.
  void OnIdle(IdleCallback cb) { core_.callbacks().on_idle = cb; }

  const Codec& codec() const override { return core_.codec(); }

  // This endpoint's metrics: its own numbers (metrics_export.h; read when
  // scraped) and any the user adds. Any thread.
  MetricRegistry& metrics() { return metrics_; }
  const MetricRegistry& metrics() const { return metrics_; }
  // Serves metrics() over HTTP at `address` (GET /metrics, and /healthz:
  // 200 while serving, 503 once Stop began; see MetricsServer) from Start
  // (a Server) or Connect (a Client) until Join / Stop, on a loop of its
  // own. Binds now, so metrics_address() tells the port chosen for ":0".
  // Before Start / Connect; once.
  absl::Status ListenMetrics(absl::string_view address,
                             MetricsServerOptions options = {});
  // Where the metrics are served; an empty InetAddress when they are not.
  InetAddress metrics_address() const;

 protected:
  MessageEndpoint(const MessageOptions& options, const Registry* registry)
      : core_(options, registry, this) {}
  ~MessageEndpoint() override;

  // The endpoint's lifecycle, for the metrics listener (no-ops without
  // one): serving from Start, draining from Stop, gone at Join.
  absl::Status StartMetrics();
  void DrainMetrics();
  void StopMetrics();

  MessageCore core_;
  // After core_ (collectors read it), and destroyed first of the two.
  MetricRegistry metrics_;
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_MESSAGE_CORE_H_
