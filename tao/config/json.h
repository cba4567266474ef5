// ParseConfigJson: JSON text -> a config message (config.proto), with
// protobuf's own JSON parser (google::protobuf::util::JsonStringToMessage)
// and errors that name the field path and the value:
//
//   INVALID_ARGUMENT: server.connection.lo_water_mark is not a field of
//       tao.config.ConnectionConfig
//   INVALID_ARGUMENT: server.io_threads ("two") is not an int32
//   INVALID_ARGUMENT: server: not JSON (Unexpected token.)
//
// Field names may be written as in the .proto (low_water_mark) or in
// lowerCamelCase (lowWaterMark); paths in errors use the .proto names.
// Parsing only: the values are checked by validate.h.
//
// A free function without state: callable from any thread.
#ifndef TAO_CONFIG_JSON_H_
#define TAO_CONFIG_JSON_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace tao {

// Replaces *config with the message `json` describes. `root` is the name
// errors give the whole message ("server"). INVALID_ARGUMENT when `json`
// is not JSON, not an object, names an unknown field or has a value of the
// wrong type for its field; *config is then unspecified.
absl::Status ParseConfigJson(absl::string_view json, absl::string_view root,
                             google::protobuf::Message* config);

}  // namespace tao

#endif  // TAO_CONFIG_JSON_H_
