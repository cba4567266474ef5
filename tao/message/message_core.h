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
#include "codec/codec.h"
#include "tao/message/dispatcher.h"
#include "tao/message/endpoint.h"
#include "tao/message/heartbeat.h"
#include "tao/message/options.h"
#include "tao/net/callbacks.h"
#include "tao/net/connection_handler.h"

namespace tao {

class Endpoint;
class Registry;

// The message layer's counters; a snapshot.
struct MessageStats : DispatchStats {
  uint64_t closed_idle = 0;  // closed by the heartbeat timeout
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

 private:
  const std::shared_ptr<const Codec> codec_;
  const Endpoint* const endpoint_;
  MessageCallbacks callbacks_;
  Dispatcher dispatcher_;
  HeartbeatMonitor heartbeat_;
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

 protected:
  MessageEndpoint(const MessageOptions& options, const Registry* registry)
      : core_(options, registry, this) {}

  MessageCore core_;
};

}  // namespace tao

#endif  // TAO_MESSAGE_MESSAGE_CORE_H_
