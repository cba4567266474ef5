#include "examples/common/serve.h"

#include <cstdio>

namespace tao::examples {

int ServeUntilSignal(absl::string_view program, Server& server,
                     const std::string& address, ShutdownSignal& shutdown) {
  absl::Status started = server.Listen(address);
  if (started.ok()) started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()),
                 program.data(), started.ToString().c_str());
    return 1;
  }
  std::printf("%.*s listening on %s (Ctrl-C stops)\n",
              static_cast<int>(program.size()), program.data(),
              server.listen_address().ToString().c_str());
  std::fflush(stdout);
  shutdown.Wait();
  server.Stop(absl::Seconds(2));
  server.Join();
  return 0;
}

}  // namespace tao::examples
