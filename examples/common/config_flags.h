// --config=PATH for the example servers and clients: a JSON ServerConfig /
// ClientConfig (tao/config/config.proto; samples beside each example, e.g.
// examples/chat/server.json).
//
// The override rule: without --config, the flags (with their defaults)
// configure the program as they always did. With --config, the file does
// (what it leaves out keeps tao's defaults), and only flags given on the
// command line override it:
//
//   chat_server --config=examples/chat/server.json --io_threads=1
//
// takes everything from the file but io_threads. An address left out of the
// file comes from the --address flag's default.
//
// Called from main() only, after ParseFlags (examples/common/flags.h).
#ifndef EXAMPLES_COMMON_CONFIG_FLAGS_H_
#define EXAMPLES_COMMON_CONFIG_FLAGS_H_

#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "tao/message/config.h"

ABSL_DECLARE_FLAG(std::string, config);

namespace tao::examples {

// What --config names, or the defaults without it. Exits with a usage
// error naming the field when the file does not load.
ServerSettings ServerSettingsFromConfigFlag();
ClientSettings ClientSettingsFromConfigFlag();

// Whether `flag` sets its option: always without --config; with it, only
// when the flag was given on the command line.
bool FlagApplies(const absl::CommandLineFlag& flag);

// *target = the flag's value, when it applies.
template <typename T, typename U>
void ApplyFlag(const absl::Flag<T>& flag, U* target) {
  if (FlagApplies(absl::GetFlagReflectionHandle(flag))) {
    *target = absl::GetFlag(flag);
  }
}

// The --address flag, when it applies or the file named no address.
void ApplyAddressFlag(const absl::Flag<std::string>& flag,
                      std::string* address);

// The endpoint's options (validated again after the overrides; TLS context
// built); exits with a usage error when they are invalid.
ServerOptions ServerOptionsOrExit(const ServerSettings& settings);
ClientOptions ClientOptionsOrExit(const ClientSettings& settings);

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_CONFIG_FLAGS_H_
