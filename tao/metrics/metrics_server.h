// MetricsServer: a small, strict HTTP/1.x endpoint for monitoring, on a tao
// TcpServer with one I/O loop of its own (so a scrape, which walks every
// connection of the endpoint it reports on, never runs on that endpoint's
// loops):
//   GET /metrics  -> 200, the registry in the Prometheus text format
//   GET /healthz  -> 200 "serving" while serving, 503 "draining" otherwise
//   HEAD of both; another method -> 405; another path -> 404;
//   a malformed request -> 400; a head over max_request_bytes -> 431;
//   no complete head within request_timeout -> 408.
// Every response carries "Connection: close" and the connection closes once
// it is sent; request bodies are never read.
//
//   tao::MetricsServer metrics(&server.metrics());
//   absl::Status listening = metrics.Listen("127.0.0.1:0");
//   absl::Status started = metrics.Start();
//   ... metrics.set_serving(false);  // draining: /healthz says 503
//   metrics.Stop();
//
// Thread safety: Listen, Start and Stop from one controlling thread (not a
// loop thread); set_serving, serving, stats and listen_address from any.
#ifndef TAO_METRICS_METRICS_SERVER_H_
#define TAO_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/metrics/metric_registry.h"
#include "tao/net/inet_address.h"
#include "tao/net/tcp_server.h"

namespace tao {

struct MetricsServerOptions {
  // The request line and headers together may not be longer.
  size_t max_request_bytes = 8192;
  // A connection that has not sent a whole request head by then is
  // answered 408 and closed.
  absl::Duration request_timeout = absl::Seconds(5);
  // Connections at once (scrapers are few).
  size_t max_connections = 64;
};

struct MetricsServerStats {
  uint64_t requests = 0;            // heads parsed, whatever the answer
  uint64_t ok = 0;                  // 200
  uint64_t not_found = 0;           // 404
  uint64_t method_not_allowed = 0;  // 405
  uint64_t bad_requests = 0;        // 400
  uint64_t too_large = 0;           // 431
  uint64_t timeouts = 0;            // 408
  uint64_t unavailable = 0;         // 503 from /healthz
};

class MetricsServer {
 public:
  // `registry` must outlive the server.
  explicit MetricsServer(const MetricRegistry* registry,
                         MetricsServerOptions options = {});
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds now ("127.0.0.1:0" picks a port: see listen_address()).
  absl::Status Listen(absl::string_view address);
  const InetAddress& listen_address() const { return tcp_.listen_address(); }
  absl::Status Start();
  // Closes every connection and joins the loop. Idempotent.
  void Stop();

  void set_serving(bool serving) {
    serving_.store(serving, std::memory_order_relaxed);
  }
  bool serving() const { return serving_.load(std::memory_order_relaxed); }
  MetricsServerStats stats() const;

 private:
  class Handler;
  friend class Handler;
  enum Outcome {
    kOk,
    kNotFound,
    kNotAllowed,
    kBad,
    kTooLarge,
    kTimeout,
    kUnavailable,
    kNumOutcomes
  };
  void Count(Outcome outcome, bool parsed);

  const MetricRegistry* const registry_;
  const MetricsServerOptions options_;
  std::atomic<bool> serving_{true};
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> outcomes_[kNumOutcomes] = {};
  TcpServer tcp_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace tao

#endif  // TAO_METRICS_METRICS_SERVER_H_
