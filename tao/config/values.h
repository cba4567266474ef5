// How config values convert between protobuf and C++ and how errors show
// them: the shared vocabulary of convert.cc, validate.cc, json.cc and
// tao/message/config.cc.
//
// Free functions without state: callable from any thread.
#ifndef TAO_CONFIG_VALUES_H_
#define TAO_CONFIG_VALUES_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"

namespace tao::config_internal {

absl::Duration ToAbsl(const google::protobuf::Duration& d);
google::protobuf::Duration ToProto(absl::Duration d);

// Sizes are int64 in config.proto (so that a negative one is reported by
// name); validation has refused negative ones before a conversion matters.
inline size_t ToSize(int64_t size) { return static_cast<size_t>(size); }
inline int64_t ToProtoSize(size_t size) { return static_cast<int64_t>(size); }

// As JSON writes them: "5s", "-0.250s".
std::string DurationText(const google::protobuf::Duration& d);
std::string DurationText(absl::Duration d);

// "\"text\"", escaped.
std::string Quote(absl::string_view text);

// "DISCONNECT, DROP_NEWEST, PAUSE_READING": the values one may write (all
// but the zero value, which stands for "not set").
std::string EnumChoices(const google::protobuf::EnumDescriptor* type);

}  // namespace tao::config_internal

#endif  // TAO_CONFIG_VALUES_H_
