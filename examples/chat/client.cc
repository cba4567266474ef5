// The interactive chat client: lines typed are said to the room; everything
// the room says is printed.
//   ./bazelw run //examples/chat:client -- --address=127.0.0.1:12345 --name=ann
// Over TLS: --address=localhost:12345 --tls_ca=ca.pem (and --tls_cert,
// --tls_key for mutual TLS).
// From a file: --config=examples/chat/client.json (a ClientConfig; flags
// given explicitly override it).
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "examples/chat/chat_client.h"
#include "examples/common/config_flags.h"
#include "examples/common/flags.h"
#include "examples/common/tls_flags.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345", "chat server address");
ABSL_FLAG(std::string, name, "guest", "your name in the room");

int main(int argc, char** argv) {
  tao::examples::ParseFlags(
      argc, argv,
      "chat client: --address=host:port --name=NAME [--config=client.json]");
  tao::ClientSettings settings = tao::examples::ClientSettingsFromConfigFlag();
  tao::examples::ApplyAddressFlag(FLAGS_address, &settings.address);
  if (absl::GetFlag(FLAGS_name).empty()) {
    tao::examples::UsageError("--name must not be empty");
  }
  tao::examples::ApplyTlsFlags(tao::examples::TlsRole::kClient, &settings.tls);
  const tao::ClientOptions options =
      tao::examples::ClientOptionsOrExit(settings);
  chat::ChatClient client(
      absl::GetFlag(FLAGS_name),
      [](const chat::ChatMessage& message) {
        std::printf("[%s] %s\n", message.from().c_str(),
                    message.text().c_str());
        std::fflush(stdout);
      },
      options);
  absl::Status joined = client.Join(settings.address);
  if (!joined.ok()) {
    std::fprintf(stderr, "chat client: %s\n", joined.ToString().c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    absl::Status said = client.Say(line);
    if (!said.ok()) {
      std::fprintf(stderr, "chat client: %s\n", said.ToString().c_str());
      return 1;
    }
  }
  client.Leave();
  return 0;
}
