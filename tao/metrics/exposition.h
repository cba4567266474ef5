// ExpositionWriter: gathers samples and writes them in the Prometheus text
// exposition format (version 0.0.4): families sorted by name, each with one
// HELP and one TYPE line, label values and help text escaped, numbers in
// their shortest exact form (+Inf, -Inf, NaN spelled as Prometheus does).
// A sample that breaks a naming rule (MetricRegistry's), or disagrees with
// its family's type or help, is dropped and counted.
//
// Thread safety: none (one writer per scrape, on one thread).
#ifndef TAO_METRICS_EXPOSITION_H_
#define TAO_METRICS_EXPOSITION_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_sink.h"

namespace tao {

// The content type of what ExpositionWriter::Finish returns.
inline constexpr absl::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// `value` as Prometheus writes floats.
std::string FormatMetricValue(double value);

class ExpositionWriter final : public MetricSink {
 public:
  void AddCounter(absl::string_view name, absl::string_view help,
                  const MetricLabels& labels, uint64_t value) override;
  void AddGauge(absl::string_view name, absl::string_view help,
                const MetricLabels& labels, double value) override;
  void AddHistogram(absl::string_view name, absl::string_view help,
                    const MetricLabels& labels,
                    const HistogramSnapshot& value) override;

  // The text of every family added so far.
  std::string Finish() const;
  uint64_t dropped() const { return dropped_; }

 private:
  struct Family {
    const char* type;
    std::string help;
    std::string samples;  // whole lines
  };
  // The family `name` of `type`, or null (and counted) when the sample may
  // not be added.
  Family* Accept(absl::string_view name, absl::string_view help,
                 const MetricLabels& labels, const char* type);

  std::map<std::string, Family, std::less<>> families_;
  uint64_t dropped_ = 0;
};

}  // namespace tao

#endif  // TAO_METRICS_EXPOSITION_H_
