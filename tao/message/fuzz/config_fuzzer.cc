// Fuzzes the JSON configuration parser (protobuf's JSON utilities, tao's
// error rewriting and the validation behind ParseServerConfig /
// ParseClientConfig): the first input byte picks the server (even) or the
// client (odd) config, the rest is the JSON text. Whatever the text, the
// result is settings that validate and survive ToConfig + FromConfig, or an
// INVALID_ARGUMENT naming a path under "server" / "client".
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "tao/message/config.h"
#include "tao/testing/fuzz.h"

namespace tao {
namespace {

template <typename Settings>
void Check(const absl::StatusOr<Settings>& settings, absl::string_view root,
           absl::Status (*validate)(const Settings&)) {
  if (!settings.ok()) {
    const absl::Status& error = settings.status();
    TAO_FUZZ_CHECK(absl::IsInvalidArgument(error), error.ToString());
    TAO_FUZZ_CHECK(absl::StartsWith(error.message(), root), error.ToString());
    return;
  }
  const absl::Status valid = validate(*settings);
  TAO_FUZZ_CHECK(valid.ok(), valid.ToString());
  const std::string once = ToConfig(*settings).SerializeAsString();
  const std::string twice =
      ToConfig(FromConfig(ToConfig(*settings))).SerializeAsString();
  TAO_FUZZ_CHECK(once == twice, "settings changed on a ToConfig round trip");
}

}  // namespace
}  // namespace tao

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view json(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  if (data[0] % 2 == 0) {
    tao::Check(tao::ParseServerConfig(json), "server",
               &tao::ValidateServerSettings);
  } else {
    tao::Check(tao::ParseClientConfig(json), "client",
               &tao::ValidateClientSettings);
  }
  return 0;
}
