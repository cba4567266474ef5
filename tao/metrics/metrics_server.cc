#include "tao/metrics/metrics_server.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/metrics/exposition.h"
#include "tao/metrics/http_request.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"

namespace tao {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

TcpServerOptions MakeTcpOptions(const MetricsServerOptions& options) {
  TcpServerOptions tcp;
  tcp.io_threads = 1;
  tcp.max_connections = options.max_connections;
  tcp.evict_idle_after = absl::ZeroDuration();
  tcp.connection.linger = absl::Seconds(1);
  return tcp;
}

}  // namespace

// One HTTP exchange: a request head, one response, then the connection
// closes. On the metrics loop thread only.
class MetricsServer::Handler final : public ConnectionHandler {
 public:
  explicit Handler(MetricsServer* server) : server_(server) {}

  bool OnConnected(Connection& connection) override {
    connection.RunAfter(server_->options_.request_timeout,
                        [this](Connection& c) {
                          if (answered_) return;
                          Answer(c, "408 Request Timeout", "no request\n",
                                 kTimeout, /*parsed=*/false);
                        });
    return true;
  }

  void OnData(Connection& connection, Buffer& input) override {
    if (answered_) {
      input.RetrieveAll();
      return;
    }
    const size_t max = server_->options_.max_request_bytes;
    absl::StatusOr<std::optional<HttpRequestHead>> head =
        ParseHttpRequestHead(input.view().substr(0, max));
    if (!head.ok()) {
      Answer(connection, "400 Bad Request",
             absl::StrCat(head.status().message(), "\n"), kBad,
             /*parsed=*/false);
    } else if (!head->has_value()) {
      if (input.readable_bytes() < max) return;  // wait for the rest
      Answer(connection, "431 Request Header Fields Too Large",
             absl::StrCat("the request head exceeds ", max, " bytes\n"),
             kTooLarge, /*parsed=*/false);
    } else {
      Route(connection, **head);
    }
    input.RetrieveAll();
  }

  // A peer that closes before (or after) its request: nothing is lost.
  absl::Status OnPeerEof(Connection&, const Buffer&) override {
    return absl::OkStatus();
  }

 private:
  void Route(Connection& connection, const HttpRequestHead& head) {
    const bool head_only = head.method == "HEAD";
    const bool known = head.path == "/metrics" || head.path == "/healthz";
    if (!known) {
      Answer(connection, "404 Not Found", "try /metrics or /healthz\n",
             kNotFound, true);
    } else if (head.method != "GET" && !head_only) {
      Answer(connection, "405 Method Not Allowed", "GET or HEAD only\n",
             kNotAllowed, true, "Allow: GET, HEAD\r\n");
    } else if (head.path == "/metrics") {
      Answer(connection, "200 OK", server_->registry_->Render(), kOk, true, "",
             kExpositionContentType, head_only);
    } else if (server_->serving()) {
      Answer(connection, "200 OK", "serving\n", kOk, true, "", kPlain,
             head_only);
    } else {
      Answer(connection, "503 Service Unavailable", "draining\n", kUnavailable,
             true, "", kPlain, head_only);
    }
  }

  void Answer(Connection& connection, absl::string_view status,
              const std::string& body, Outcome outcome, bool parsed,
              absl::string_view extra_headers = "",
              absl::string_view content_type = kPlain, bool head_only = false) {
    answered_ = true;
    server_->Count(outcome, parsed);
    std::string response =
        absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                     "\r\nContent-Length: ", body.size(), "\r\n", extra_headers,
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
    if (!head_only) response += body;
    (void)connection.Send(response);  // fails only if already closing
    connection.Shutdown();
  }

  static constexpr absl::string_view kPlain = "text/plain; charset=utf-8";

  MetricsServer* const server_;
  bool answered_ = false;
};

MetricsServer::MetricsServer(const MetricRegistry* registry,
                             MetricsServerOptions options)
    : registry_(registry),
      options_(options),
      tcp_(MakeTcpOptions(options),
           [this] { return std::make_unique<Handler>(this); }) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Listen(absl::string_view address) {
  return tcp_.Listen(address);
}

absl::Status MetricsServer::Start() {
  absl::Status started = tcp_.Start();
  started_ = started.ok();
  return started;
}

void MetricsServer::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  tcp_.Stop(absl::ZeroDuration());
  tcp_.Join();
}

void MetricsServer::Count(Outcome outcome, bool parsed) {
  if (parsed) requests_.fetch_add(1, kRelaxed);
  outcomes_[outcome].fetch_add(1, kRelaxed);
}

MetricsServerStats MetricsServer::stats() const {
  MetricsServerStats s;
  s.requests = requests_.load(kRelaxed);
  s.ok = outcomes_[kOk].load(kRelaxed);
  s.not_found = outcomes_[kNotFound].load(kRelaxed);
  s.method_not_allowed = outcomes_[kNotAllowed].load(kRelaxed);
  s.bad_requests = outcomes_[kBad].load(kRelaxed);
  s.too_large = outcomes_[kTooLarge].load(kRelaxed);
  s.timeouts = outcomes_[kTimeout].load(kRelaxed);
  s.unavailable = outcomes_[kUnavailable].load(kRelaxed);
  return s;
}

}  // namespace tao
