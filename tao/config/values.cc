#include "tao/config/values.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"

namespace tao::config_internal {

using google::protobuf::util::TimeUtil;

absl::Duration ToAbsl(const google::protobuf::Duration& d) {
  return absl::Nanoseconds(TimeUtil::DurationToNanoseconds(d));
}

google::protobuf::Duration ToProto(absl::Duration d) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

std::string DurationText(const google::protobuf::Duration& d) {
  return Quote(TimeUtil::ToString(d));
}

std::string DurationText(absl::Duration d) { return DurationText(ToProto(d)); }

std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CEscape(text), "\"");
}

std::string EnumChoices(const google::protobuf::EnumDescriptor* type) {
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) names.push_back(type->value(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

}  // namespace tao::config_internal
