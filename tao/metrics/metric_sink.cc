#include "tao/metrics/metric_sink.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tao {
namespace {

bool IsNameStart(char c, bool colon_ok) {
  return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         (colon_ok && c == ':');
}

bool IsValidName(absl::string_view name, bool colon_ok) {
  if (name.empty() || !IsNameStart(name[0], colon_ok)) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) {
    return IsNameStart(c, colon_ok) ||
           absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
}

}  // namespace

absl::Status ValidateMetricName(absl::string_view name) {
  if (!IsValidName(name, /*colon_ok=*/true)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric name \"", name, "\" is not [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  return absl::OkStatus();
}

absl::Status ValidateMetricLabels(const MetricLabels& labels) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& label = labels[i].first;
    if (!IsValidName(label, /*colon_ok=*/false) ||
        absl::StartsWith(label, "__")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label name \"", label,
          "\" is not [a-zA-Z_][a-zA-Z0-9_]* without a leading __"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == label) {
        return absl::InvalidArgumentError(
            absl::StrCat("label \"", label, "\" appears twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace tao
