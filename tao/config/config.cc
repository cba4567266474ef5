#include "tao/config/config.h"

#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/base/status_macros.h"
#include "tao/config/config.pb.h"
#include "tao/config/convert.h"
#include "tao/config/json.h"
#include "tao/config/validate.h"

namespace tao {
namespace {

// The whole file, or the errno of the failed open or read. A config file
// is small: a 1 MiB one is a mistake (a wrong path), refused.
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  constexpr size_t kMaxBytes = size_t{1} << 20;
  const auto failed = [&path](int error) {
    return absl::ErrnoToStatus(error,
                               absl::StrCat("cannot read config file ", path));
  };
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return failed(errno);
  std::string text(kMaxBytes + 1, '\0');
  const size_t n = std::fread(text.data(), 1, text.size(), file);
  const int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) return failed(error);
  if (n > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than 1 MiB; not a config file?"));
  }
  text.resize(n);
  return text;
}

template <typename Config>
absl::StatusOr<Config> Parse(absl::string_view json, absl::string_view root,
                             absl::Status (*validate)(const Config&)) {
  Config config;
  TAO_RETURN_IF_ERROR(ParseConfigJson(json, root, &config));
  TAO_RETURN_IF_ERROR(validate(config));
  return config;
}

// `parsed` with "PATH: " before its message.
template <typename T>
absl::StatusOr<T> InFile(const std::string& path, absl::StatusOr<T> parsed) {
  if (parsed.ok()) return parsed;
  return absl::Status(parsed.status().code(),
                      absl::StrCat(path, ": ", parsed.status().message()));
}

// settings.options, validated, with options.tls built by `new_tls`.
template <typename Settings>
auto MakeOptions(
    const Settings& settings, absl::Status (*validate)(const Settings&),
    absl::StatusOr<std::shared_ptr<TlsContext>> (*new_tls)(TlsOptions))
    -> absl::StatusOr<decltype(settings.options)> {
  TAO_RETURN_IF_ERROR(validate(settings));
  auto options = settings.options;
  if (settings.tls.has_value()) {
    TAO_ASSIGN_OR_RETURN(options.tls, new_tls(*settings.tls));
  }
  return options;
}

}  // namespace

absl::StatusOr<ServerSettings> ParseServerConfig(absl::string_view json) {
  TAO_ASSIGN_OR_RETURN(
      config::ServerConfig config,
      Parse<config::ServerConfig>(json, "server", ValidateServerConfig));
  return FromConfig(config);
}

absl::StatusOr<ClientSettings> ParseClientConfig(absl::string_view json) {
  TAO_ASSIGN_OR_RETURN(
      config::ClientConfig config,
      Parse<config::ClientConfig>(json, "client", ValidateClientConfig));
  return FromConfig(config);
}

absl::StatusOr<ServerSettings> LoadServerConfig(const std::string& path) {
  TAO_ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  return InFile(path, ParseServerConfig(json));
}

absl::StatusOr<ClientSettings> LoadClientConfig(const std::string& path) {
  TAO_ASSIGN_OR_RETURN(std::string json, ReadFile(path));
  return InFile(path, ParseClientConfig(json));
}

absl::StatusOr<ServerOptions> MakeServerOptions(
    const ServerSettings& settings) {
  return MakeOptions(settings, ValidateServerSettings, TlsContext::NewServer);
}

absl::StatusOr<ClientOptions> MakeClientOptions(
    const ClientSettings& settings) {
  return MakeOptions(settings, ValidateClientSettings, TlsContext::NewClient);
}

}  // namespace tao
