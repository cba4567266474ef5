// The numbers of a message Server or Client as Prometheus samples (names
// below; every one prefixed "tao_"), emitted by the collectors the endpoint
// adds to its MetricRegistry, so they are read only when scraped:
//
//   connections_open                          gauge
//   connections_accepted_total                counter
//   connections_refused_total{reason}         max_connections, per_ip,
//                                             transport, fd_limit,
//                                             proxy_untrusted (a PROXY
//                                             header from an untrusted peer)
//   proxy_headers_total{result}               ok, error, timeout (PROXY
//                                             headers from trusted peers)
//   proxy_headers_pending                     gauge
//   accept_errors_total
//   connections_closed_total{code}            the close reason's status
//                                             code: ok, cancelled, ...
//   connections_closed_locally_total{cause}   output_budget, evicted_idle,
//                                             input_bound, heartbeat_timeout
//   received_bytes_total, sent_bytes_total    (TLS: encrypted bytes)
//   output_queued_bytes, input_held_bytes     gauges
//   frames_received_total, frames_sent_total
//   messages_handled_total{type,name}         per registered type; the
//                                             catch-all's as type="other"
//   heartbeats_received_total
//   decode_errors_total{kind}                 bad_frame, bad_payload,
//                                             unknown_type, frame_timeout,
//                                             truncated_frame
//   handler_exceptions_total, handled_after_close_total
//   handler_latency_seconds                   histogram (1 call in 32 timed)
//   worker_queue_messages, worker_queue_bytes, worker_queue_peak_bytes
//   worker_queue_full_pauses_total
//   high_water_crossings_total
//   tls_handshakes_total{result}              full, resumed, failed
//
// Thread safety: the functions only read the snapshots they are given (and
// the dispatcher's thread-safe counters); any thread.
#ifndef TAO_MESSAGE_METRICS_EXPORT_H_
#define TAO_MESSAGE_METRICS_EXPORT_H_

#include "tao/message/dispatcher.h"
#include "tao/message/message_core.h"
#include "tao/metrics/metric_sink.h"
#include "tao/net/tcp_server.h"
#include "tao/net/transport.h"

namespace tao {

// The byte layer's numbers of a server.
void EmitTcpServerMetrics(const TcpServerStats& stats, MetricSink& sink);
// The message layer's numbers (both sides).
void EmitMessageMetrics(const MessageStats& stats, const Dispatcher& dispatcher,
                        MetricSink& sink);
// TLS handshakes, when `transport` (may be null) has handshakes.
void EmitHandshakeMetrics(const TransportFactory* transport, MetricSink& sink);

}  // namespace tao

#endif  // TAO_MESSAGE_METRICS_EXPORT_H_
