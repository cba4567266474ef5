#include "tao/metrics/exposition.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace tao {
namespace {

constexpr const char* kCounterType = "counter";
constexpr const char* kGaugeType = "gauge";
constexpr const char* kHistogramType = "histogram";

void AppendEscaped(std::string* out, absl::string_view text,
                   bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// `name{a="x",b="y"<extra>}` (braces only when there is a label).
void AppendSeries(std::string* out, absl::string_view name,
                  const MetricLabels& labels, absl::string_view extra_name,
                  absl::string_view extra_value) {
  out->append(name.data(), name.size());
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  auto add = [&](absl::string_view k, absl::string_view v) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, k, "=\"");
    AppendEscaped(out, v, /*escape_quote=*/true);
    out->push_back('"');
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_name.empty()) add(extra_name, extra_value);
  out->push_back('}');
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, end);
}

ExpositionWriter::Family* ExpositionWriter::Accept(absl::string_view name,
                                                   absl::string_view help,
                                                   const MetricLabels& labels,
                                                   const char* type) {
  if (!ValidateMetricName(name).ok() || !ValidateMetricLabels(labels).ok() ||
      (type == kCounterType) != absl::EndsWith(name, "_total")) {
    ++dropped_;
    return nullptr;
  }
  if (type == kHistogramType) {
    for (const auto& label : labels) {
      if (label.first == "le") {
        ++dropped_;
        return nullptr;
      }
    }
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_
             .emplace(std::string(name), Family{type, std::string(help), {}})
             .first;
  } else if (it->second.type != type || it->second.help != help) {
    ++dropped_;
    return nullptr;
  }
  return &it->second;
}

void ExpositionWriter::AddCounter(absl::string_view name,
                                  absl::string_view help,
                                  const MetricLabels& labels, uint64_t value) {
  Family* family = Accept(name, help, labels, kCounterType);
  if (family == nullptr) return;
  AppendSeries(&family->samples, name, labels, "", "");
  absl::StrAppend(&family->samples, " ", value, "\n");
}

void ExpositionWriter::AddGauge(absl::string_view name, absl::string_view help,
                                const MetricLabels& labels, double value) {
  Family* family = Accept(name, help, labels, kGaugeType);
  if (family == nullptr) return;
  AppendSeries(&family->samples, name, labels, "", "");
  absl::StrAppend(&family->samples, " ", FormatMetricValue(value), "\n");
}

void ExpositionWriter::AddHistogram(absl::string_view name,
                                    absl::string_view help,
                                    const MetricLabels& labels,
                                    const HistogramSnapshot& value) {
  Family* family = Accept(name, help, labels, kHistogramType);
  if (family == nullptr) return;
  std::string* out = &family->samples;
  const std::string bucket = absl::StrCat(name, "_bucket");
  for (size_t i = 0; i < value.cumulative.size(); ++i) {
    AppendSeries(
        out, bucket, labels, "le",
        i < value.bounds.size() ? FormatMetricValue(value.bounds[i]) : "+Inf");
    absl::StrAppend(out, " ", value.cumulative[i], "\n");
  }
  AppendSeries(out, absl::StrCat(name, "_sum"), labels, "", "");
  absl::StrAppend(out, " ", FormatMetricValue(value.sum), "\n");
  AppendSeries(out, absl::StrCat(name, "_count"), labels, "", "");
  absl::StrAppend(out, " ", value.count(), "\n");
}

std::string ExpositionWriter::Finish() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ");
    AppendEscaped(&out, family.help, /*escape_quote=*/false);
    absl::StrAppend(&out, "\n# TYPE ", name, " ", family.type, "\n",
                    family.samples);
  }
  return out;
}

}  // namespace tao
