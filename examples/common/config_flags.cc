#include "examples/common/config_flags.h"

#include "absl/flags/commandlineflag.h"
#include "absl/flags/internal/parse.h"
#include "absl/strings/str_cat.h"
#include "examples/common/flags.h"
#include "tao/message/config.h"

ABSL_FLAG(std::string, config, "",
          "JSON config file (a ServerConfig or ClientConfig, "
          "tao/config/config.proto); flags given explicitly override it");

namespace tao::examples {
namespace {

template <typename Settings>
Settings FromConfigFlag(absl::StatusOr<Settings> (*load)(const std::string&)) {
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) return Settings();
  absl::StatusOr<Settings> settings = load(path);
  if (!settings.ok())
    UsageError(absl::StrCat("--config: ", settings.status().ToString()));
  return *std::move(settings);
}

template <typename T>
T OrExit(absl::StatusOr<T> options) {
  if (!options.ok()) UsageError(options.status().ToString());
  return *std::move(options);
}

}  // namespace

ServerSettings ServerSettingsFromConfigFlag() {
  return FromConfigFlag<ServerSettings>(LoadServerConfig);
}

ClientSettings ClientSettingsFromConfigFlag() {
  return FromConfigFlag<ClientSettings>(LoadClientConfig);
}

bool FlagApplies(const absl::CommandLineFlag& flag) {
  if (absl::GetFlag(FLAGS_config).empty()) return true;
  // Abseil 20220623 keeps CommandLineFlag::IsSpecifiedOnCommandLine
  // private; WasPresentOnCommandLine (its parse library, which the examples
  // link) answers exactly "was this flag on argv", unlike a comparison with
  // the default (an explicit --io_threads=-1 must override the file too).
  return absl::flags_internal::WasPresentOnCommandLine(flag.Name());
}

void ApplyAddressFlag(const absl::Flag<std::string>& flag,
                      std::string* address) {
  if (address->empty()) {
    *address = absl::GetFlag(flag);
  } else {
    ApplyFlag(flag, address);
  }
}

ServerOptions ServerOptionsOrExit(const ServerSettings& settings) {
  return OrExit(MakeServerOptions(settings));
}

ClientOptions ClientOptionsOrExit(const ClientSettings& settings) {
  return OrExit(MakeClientOptions(settings));
}

}  // namespace tao::examples
