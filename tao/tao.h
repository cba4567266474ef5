// tao: a light-weight asynchronous TCP framework. This umbrella header is
// everything a typical user needs; depend on //tao (or @tao//tao).
//
//   tao::Registry registry;
//   (void)registry.Register<chat::ChatMessage>(
//       [](tao::Context& ctx, const chat::ChatMessage& msg) {
//         (void)ctx.endpoint().Broadcast(msg);
//       });
//   tao::ServerOptions options;
//   options.io_threads = 2;
//   tao::Server server(options, &registry);
//   absl::Status listening = server.Listen("0.0.0.0:12345");
//   absl::Status ran = server.Run();
//
// Layers (each uses only those below it): the message endpoints
// (tao::Server, tao::Client, Registry, Context) over codec/ (framing) over
// tao/net (bytes: TcpServer, TcpClient, Connection, ConnectionHandler).
#ifndef TAO_TAO_H_
#define TAO_TAO_H_

#include "codec/codec.h"
#include "codec/envelope_codec.h"
#include "codec/tlv_codec.h"
#include "tao/base/cxx20.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/base/thread_count.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/endpoint.h"
#include "tao/message/heartbeat.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_registry.h"
#include "tao/metrics/metrics_server.h"
#include "tao/net/buffer.h"
#include "tao/net/connection.h"
#include "tao/net/connection_handler.h"
#include "tao/net/event_loop_thread_pool.h"
#include "tao/net/inet_address.h"
#include "tao/net/options.h"
#include "tao/net/tcp_client.h"
#include "tao/net/tcp_server.h"
#include "tao/version.h"

#endif  // TAO_TAO_H_
