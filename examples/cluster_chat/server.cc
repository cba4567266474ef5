// One server of a cluster chat: the rooms chat, with each room's lines
// reaching its members on every server that shares the Redis.
//   ./bazelw run //examples/cluster_chat:server -- --redis=127.0.0.1:6379
//   (--address=127.0.0.1:12350 by default; --metrics_address=host:port)
// Behind HAProxy (send-proxy-v2), --proxy_from=127.0.0.1 makes the server
// read the PROXY header from that address and see the clients' own
// addresses. The rooms client talks to it (or to HAProxy in front):
//   ./bazelw run //examples/rooms:client -- --address=127.0.0.1:12350
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "examples/cluster_chat/cluster_chat_server.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12350", "address to listen on");
ABSL_FLAG(std::string, redis, "127.0.0.1:6379",
          "the Redis server the cluster shares (host:port)");
ABSL_FLAG(std::string, channel_prefix, "cluster_chat",
          "Redis channel prefix: servers that share rooms share it");
ABSL_FLAG(std::string, proxy_from, "",
          "comma-separated addresses or CIDRs of load balancers whose "
          "connections start with a PROXY protocol header");

int main(int argc, char** argv) {
  tao::examples::ShutdownSignal shutdown;  // before any thread starts
  tao::examples::ParseFlags(
      argc, argv,
      "cluster chat server: --address=host:port --redis=host:port "
      "[--proxy_from=127.0.0.1] [--config=server.json]");
  tao::ServerSettings settings = tao::examples::ServerSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  tao::examples::CheckAddressFlag("address", settings.address);
  tao::ServerOptions options = tao::examples::ServerOptionsOrExit(settings);
  const std::string proxy_from = absl::GetFlag(FLAGS_proxy_from);
  if (!proxy_from.empty()) {
    options.proxy_protocol.trusted_sources =
        absl::StrSplit(proxy_from, ',', absl::SkipEmpty());
  }
  tao::ClusterBridgeOptions bridge;
  bridge.redis_address = absl::GetFlag(FLAGS_redis);
  bridge.channel_prefix = absl::GetFlag(FLAGS_channel_prefix);
  cluster_chat::ClusterChatServer server(std::move(options), bridge);
  return tao::examples::ServeUntilSignal(
      "cluster chat server", server.server(), settings, shutdown,
      {.after_start = [&] { return server.StartBridge(); },
       .before_join = [&] { server.StopBridge(); }});
}
