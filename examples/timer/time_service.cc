#include "examples/timer/time_service.h"

#include <memory>
#include <string>

namespace timer_example {

std::unique_ptr<tao::Server> NewTimeServer(tao::ServerOptions options,
                                           absl::Duration interval, int ticks) {
  // No registry: the server only talks (what a client sends is skipped).
  auto server = std::make_unique<tao::Server>(std::move(options), nullptr);
  const tao::Server* endpoint = server.get();
  server->OnConnect([endpoint, interval, ticks](tao::Connection& c) {
    auto sent = std::make_shared<int>(0);
    c.RunEvery(interval, [endpoint, sent, ticks](tao::Connection& conn) {
      const std::string now = absl::FormatTime(
          "%Y-%m-%d %H:%M:%E3S UTC", absl::Now(), absl::UTCTimeZone());
      (void)endpoint->SendRaw(conn, kTimeMessage, now);
      if (++*sent == ticks) conn.Shutdown();  // flush, then FIN
    });
    return true;
  });
  return server;
}

}  // namespace timer_example
