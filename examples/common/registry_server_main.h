// The whole main() of an example server that is a Registry of handlers
// (echo, pingpong, heartbeat, reconnect, the relay's back server): flags
// --config, --address, --io_threads and --handler_threads (config_flags.h:
// flags given override the file), the handlers, then ServeUntilSignal. The
// optional hooks add what a file cannot say (a codec, callbacks) or the
// example's own flags.
//
//   int main(int argc, char** argv) {
//     return tao::examples::RegistryServerMain(
//         argc, argv, {.program = "echo server", .address = "127.0.0.1:12345"},
//         echo::RegisterEchoServer);
//   }
#ifndef EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_
#define EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_

#include <functional>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/message/config.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"

namespace tao::examples {

struct RegistryServer {
  absl::string_view program;  // "echo server": usage and log lines
  absl::string_view address;  // the --address default
};

// Optional steps of RegistryServerMain, each called once on main()'s
// thread, in this order:
struct RegistryServerHooks {
  // after the common flags were applied (the example's own flags);
  std::function<void(ServerSettings&)> adjust_settings;
  // on the options made from the settings (a codec: not configurable);
  std::function<void(ServerOptions&)> adjust_options;
  // on the server before it listens (OnConnect, OnClose, OnError).
  std::function<void(Server&)> prepare;
};

// Returns main()'s exit status (see ServeUntilSignal); exits with a usage
// error for bad flags and with status 1 when registering fails.
int RegistryServerMain(int argc, char** argv, const RegistryServer& server,
                       absl::FunctionRef<absl::Status(Registry*)> handlers,
                       const RegistryServerHooks& hooks = {});

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_
