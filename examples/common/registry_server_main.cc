#include "examples/common/registry_server_main.h"

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/serve.h"
#include "examples/common/shutdown_signal.h"
#include "tao/message/options.h"
#include "tao/message/server.h"

ABSL_FLAG(std::string, address, "", "address to listen on");
ABSL_FLAG(int, io_threads, tao::kOneThreadPerCore,
          "I/O loops (-1: one per core)");
ABSL_FLAG(int, handler_threads, 0,
          "handler workers (0: inline on the I/O loops, -1: one per core)");

namespace tao::examples {

int RegistryServerMain(int argc, char** argv, const RegistryServer& spec,
                       absl::FunctionRef<absl::Status(Registry*)> handlers,
                       const RegistryServerHooks& hooks) {
  ShutdownSignal shutdown;  // before any thread starts
  absl::SetFlag(&FLAGS_address, std::string(spec.address));
  ParseFlags(
      argc, argv,
      absl::StrCat(spec.program, ": --address=host:port [--config=FILE.json]"));
  ServerSettings settings = ServerSettingsFromConfigFlag();
  ApplyAddressFlag(FLAGS_address, &settings.address);
  CheckAddressFlag("address", settings.address);
  ApplyFlag(FLAGS_io_threads, &settings.options.io_threads);
  ApplyFlag(FLAGS_handler_threads, &settings.options.handler_threads);
  if (hooks.adjust_settings) hooks.adjust_settings(settings);
  ServerOptions options = ServerOptionsOrExit(settings);
  if (hooks.adjust_options) hooks.adjust_options(options);
  Registry registry;
  if (absl::Status registered = handlers(&registry); !registered.ok()) {
    std::fprintf(stderr, "%s\n", registered.ToString().c_str());
    return 1;
  }
  Server server(options, &registry);
  if (hooks.prepare) hooks.prepare(server);
  return ServeUntilSignal(spec.program, server, settings, shutdown);
}

}  // namespace tao::examples
