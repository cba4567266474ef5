#include "tao/message/metrics_export.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace tao {
namespace {

// A counter family with one label: a sample per (label value, count).
void AddLabelled(
    MetricSink& sink, absl::string_view name, absl::string_view help,
    absl::string_view label,
    std::initializer_list<std::pair<absl::string_view, uint64_t>> samples) {
  for (const auto& [value, count] : samples) {
    sink.AddCounter(name, help, {{std::string(label), std::string(value)}},
                    count);
  }
}

std::string CodeLabel(size_t code) {
  return absl::AsciiStrToLower(
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
}

constexpr absl::string_view kClosedLocally =
    "tao_connections_closed_locally_total";
constexpr absl::string_view kClosedLocallyHelp =
    "Connections this endpoint closed to protect itself or the others, by "
    "cause.";

}  // namespace

void EmitTcpServerMetrics(const TcpServerStats& s, MetricSink& sink) {
  sink.AddGauge("tao_connections_open", "Connections open now.", {},
                static_cast<double>(s.connections));
  sink.AddCounter("tao_connections_accepted_total",
                  "Connections accepted (before any refusal).", {}, s.accepted);
  AddLabelled(sink, "tao_connections_refused_total",
              "Connections refused or dropped at accept, by reason.", "reason",
              {{"max_connections", s.refused_max_connections},
               {"per_ip", s.refused_per_ip},
               {"transport", s.refused_transport},
               {"fd_limit", s.dropped_fd_limit},
               {"proxy_untrusted", s.proxy_untrusted_refused}});
  AddLabelled(sink, "tao_proxy_headers_total",
              "PROXY protocol headers from trusted peers, by result (error "
              "and timeout closed the connection).",
              "result",
              {{"ok", s.proxy_headers},
               {"error", s.proxy_header_errors},
               {"timeout", s.proxy_header_timeouts}});
  sink.AddGauge("tao_proxy_headers_pending",
                "Connections from trusted peers waiting for their PROXY "
                "header.",
                {}, static_cast<double>(s.proxy_headers_pending));
  sink.AddCounter("tao_accept_errors_total",
                  "accept(2) calls that failed (EMFILE, ENOBUFS, ...).", {},
                  s.accept_errors);
  for (size_t code = 0; code < s.closed_by_code.size(); ++code) {
    if (s.closed_by_code[code] == 0 && code != 0) continue;
    const std::string label = CodeLabel(code);
    AddLabelled(sink, "tao_connections_closed_total",
                "Connections closed, by the status code of the reason (ok: "
                "an orderly close).",
                "code", {{label, s.closed_by_code[code]}});
  }
  AddLabelled(sink, kClosedLocally, kClosedLocallyHelp, "cause",
              {{"output_budget", s.closed_over_budget},
               {"evicted_idle", s.evicted_idle},
               {"input_bound", s.closed_over_input_bound}});
  sink.AddCounter("tao_received_bytes_total", "Bytes read from connections.",
                  {}, s.bytes_received);
  sink.AddCounter("tao_sent_bytes_total", "Bytes written to connections.", {},
                  s.bytes_sent);
  sink.AddGauge("tao_output_queued_bytes",
                "Output queued on all connections (shared bytes once).", {},
                static_cast<double>(s.queued_output_bytes));
  sink.AddGauge("tao_input_held_bytes",
                "Input held between reads on all connections.", {},
                static_cast<double>(s.held_input_bytes));
}

void EmitMessageMetrics(const MessageStats& s, const Dispatcher& dispatcher,
                        MetricSink& sink) {
  sink.AddCounter("tao_frames_received_total",
                  "Whole frames decoded (messages, heartbeats, unknown).", {},
                  s.messages + s.heartbeats + s.unknown_types);
  sink.AddCounter("tao_frames_sent_total",
                  "Frames queued by Send, Unicast and Broadcast.", {},
                  s.frames_sent);
  constexpr absl::string_view kHandled = "tao_messages_handled_total";
  constexpr absl::string_view kHandledHelp =
      "Messages handed to handlers, by type id.";
  dispatcher.handled_by_type().ForEach([&](int32_t type, absl::string_view name,
                                           uint64_t count) {
    sink.AddCounter(kHandled, kHandledHelp,
                    {{"type", absl::StrCat(type)}, {"name", std::string(name)}},
                    count);
  });
  if (const uint64_t others = dispatcher.handled_by_type().others();
      others > 0) {
    sink.AddCounter(kHandled, kHandledHelp,
                    {{"type", "other"}, {"name", "catch_all"}}, others);
  }
  sink.AddCounter("tao_heartbeats_received_total",
                  "Heartbeat frames (type 0) received.", {}, s.heartbeats);
  AddLabelled(sink, "tao_decode_errors_total",
              "Input that could not be handled, by kind (each closed its "
              "connection, except unknown types under the skip policy).",
              "kind",
              {{"bad_frame", s.bad_frames},
               {"bad_payload", s.bad_payloads},
               {"unknown_type", s.unknown_types},
               {"frame_timeout", s.frame_timeouts},
               {"truncated_frame", s.truncated_frames}});
  sink.AddCounter("tao_handler_exceptions_total",
                  "Handlers or connection timers that threw.", {},
                  s.handler_exceptions);
  sink.AddCounter("tao_handled_after_close_total",
                  "Messages handled after their connection could no longer "
                  "send (replies lost).",
                  {}, s.handled_after_close);
  sink.AddHistogram("tao_handler_latency_seconds",
                    "Time handlers took (one call in 32 per thread timed).", {},
                    dispatcher.handler_latency());
  sink.AddGauge("tao_worker_queue_messages",
                "Messages waiting for a worker (handler pool).", {},
                static_cast<double>(s.queued_messages));
  sink.AddGauge("tao_worker_queue_bytes",
                "Payload bytes waiting for a worker (handler pool).", {},
                static_cast<double>(s.queued_bytes));
  sink.AddGauge("tao_worker_queue_peak_bytes",
                "The most payload bytes that ever waited for workers.", {},
                static_cast<double>(s.peak_queued_bytes));
  sink.AddCounter("tao_worker_queue_full_pauses_total",
                  "Times reading paused because a backlog was full.", {},
                  s.queue_full_pauses);
  sink.AddCounter("tao_high_water_crossings_total",
                  "Times a connection's queued output crossed its high "
                  "water mark.",
                  {}, s.high_water_crossings);
  AddLabelled(sink, kClosedLocally, kClosedLocallyHelp, "cause",
              {{"heartbeat_timeout", s.closed_idle}});
}

void EmitHandshakeMetrics(const TransportFactory* transport, MetricSink& sink) {
  if (transport == nullptr) return;
  const std::optional<HandshakeStats> handshakes = transport->handshake_stats();
  if (!handshakes.has_value()) return;
  constexpr absl::string_view kName = "tao_tls_handshakes_total";
  constexpr absl::string_view kHelp = "TLS handshakes, by result.";
  AddLabelled(sink, kName, kHelp, "result",
              {{"full", handshakes->completed - handshakes->resumed},
               {"resumed", handshakes->resumed},
               {"failed", handshakes->failed}});
}

}  // namespace tao
