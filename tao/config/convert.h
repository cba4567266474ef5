// Conversions between the config messages (config.proto) and the settings
// they describe (settings.h), in both directions, field by field.
//
// FromConfig copies every field that is set and leaves the others at the
// C++ defaults; it does not validate (ValidateServerConfig, validate.h,
// does). ToConfig sets every field, so ToConfig(ServerSettings()) is the
// complete configuration of the defaults, and FromConfig(ToConfig(s))
// equals s for every field config.proto carries. config_drift_test.cc
// keeps the two sides from drifting apart.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_CONVERT_H_
#define TAO_CONFIG_CONVERT_H_

#include "tao/config/config.pb.h"
#include "tao/config/settings.h"

namespace tao {

ServerSettings FromConfig(const config::ServerConfig& config);
ClientSettings FromConfig(const config::ClientConfig& config);

config::ServerConfig ToConfig(const ServerSettings& settings);
config::ClientConfig ToConfig(const ClientSettings& settings);

}  // namespace tao

#endif  // TAO_CONFIG_CONVERT_H_
