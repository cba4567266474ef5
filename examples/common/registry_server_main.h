// The whole main() of an example server that is a Registry of handlers and
// nothing else (echo, pingpong): flags --config, --address, --io_threads
// and --handler_threads (config_flags.h: flags given override the file),
// the handlers, then ServeUntilSignal.
//
//   int main(int argc, char** argv) {
//     return tao::examples::RegistryServerMain(
//         argc, argv, {.program = "echo server", .address = "127.0.0.1:12345"},
//         echo::RegisterEchoServer);
//   }
#ifndef EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_
#define EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/message/registry.h"

namespace tao::examples {

struct RegistryServer {
  absl::string_view program;  // "echo server": usage and log lines
  absl::string_view address;  // the --address default
};

// Returns main()'s exit status (see ServeUntilSignal); exits with a usage
// error for bad flags and with status 1 when registering fails.
int RegistryServerMain(int argc, char** argv, const RegistryServer& server,
                       absl::FunctionRef<absl::Status(Registry*)> handlers);

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_REGISTRY_SERVER_MAIN_H_
