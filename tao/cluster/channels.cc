#include "tao/cluster/channels.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tao {
namespace {

constexpr absl::string_view kAll = ":all";
constexpr absl::string_view kGroup = ":group:";

}  // namespace

absl::Status ValidateChannelPrefix(absl::string_view prefix) {
  if (prefix.empty()) {
    return absl::InvalidArgumentError("empty cluster channel prefix");
  }
  if (prefix.find_first_of("*?[]\\") != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster channel prefix \"", prefix,
        "\" has a glob character (* ? [ ] \\), which PSUBSCRIBE would expand"));
  }
  return absl::OkStatus();
}

std::string AllChannel(absl::string_view prefix) {
  return absl::StrCat(prefix, kAll);
}

std::string GroupChannel(absl::string_view prefix, absl::string_view group) {
  return absl::StrCat(prefix, kGroup, group);
}

std::string GroupPattern(absl::string_view prefix) {
  return absl::StrCat(prefix, kGroup, "*");
}

absl::StatusOr<ChannelTarget> ParseChannel(absl::string_view prefix,
                                           absl::string_view channel) {
  if (absl::ConsumePrefix(&channel, prefix)) {
    if (channel == kAll) return ChannelTarget{.all = true, .group = {}};
    if (absl::ConsumePrefix(&channel, kGroup)) {
      return ChannelTarget{.all = false, .group = channel};
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("channel is not one of prefix \"", prefix, "\"'s"));
}

}  // namespace tao
