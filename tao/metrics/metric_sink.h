// MetricSink: where samples go at a scrape (ExpositionWriter writes them as
// text; MetricRegistry's collectors emit into one), and the naming rules
// every sample follows (Prometheus'): metric names
// [a-zA-Z_:][a-zA-Z0-9_:]*, counters and only counters ending in "_total",
// label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__", each once.
//
// Thread safety: the functions are pure; a sink is used by one thread.
#ifndef TAO_METRICS_METRIC_SINK_H_
#define TAO_METRICS_METRIC_SINK_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/metrics/histogram.h"

namespace tao {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Where a collector puts its samples. A sample whose name, labels or type
// do not fit the rules (ValidateMetricName, ValidateMetricLabels) (or its
// family's earlier samples) is dropped and counted in
// MetricRegistry::dropped_samples().
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void AddCounter(absl::string_view name, absl::string_view help,
                          const MetricLabels& labels, uint64_t value) = 0;
  virtual void AddGauge(absl::string_view name, absl::string_view help,
                        const MetricLabels& labels, double value) = 0;
  virtual void AddHistogram(absl::string_view name, absl::string_view help,
                            const MetricLabels& labels,
                            const HistogramSnapshot& value) = 0;
};

// INVALID_ARGUMENT naming the name or label that breaks a rule.
absl::Status ValidateMetricName(absl::string_view name);
absl::Status ValidateMetricLabels(const MetricLabels& labels);

}  // namespace tao

#endif  // TAO_METRICS_METRIC_SINK_H_
