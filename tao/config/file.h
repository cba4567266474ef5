// Reading a config file: its whole text for ParseConfigJson (json.h), and
// errors that start with the file's path. tao/message/config.h's
// LoadServerConfig / LoadClientConfig are built on these.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_FILE_H_
#define TAO_CONFIG_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tao {

// The text of the file at `path`. NOT_FOUND, PERMISSION_DENIED, ... (from
// errno) when it cannot be read; INVALID_ARGUMENT when it is larger than
// 1 MiB (a config file is small: a big one is a wrong path).
absl::StatusOr<std::string> ReadConfigFile(const std::string& path);

// `status` with "PATH: " before its message; OK stays OK.
absl::Status InConfigFile(const std::string& path, const absl::Status& status);

}  // namespace tao

#endif  // TAO_CONFIG_FILE_H_
