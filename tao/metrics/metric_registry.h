// MetricRegistry: the metrics of one endpoint (or of a whole process), and
// their rendering in the Prometheus text exposition format (version 0.0.4).
// Two kinds of entries:
// - metrics it owns (Counter, Gauge, Histogram), added by name and labels,
//   which live as long as the registry (pointers stay valid);
// - collectors: functions run at every scrape that emit samples of numbers
//   kept elsewhere (a server's stats, counts per message type).
//
//   tao::MetricRegistry& metrics = server.metrics();
//   absl::StatusOr<tao::Counter*> orders = metrics.AddCounter(
//       "shop_orders_total", "Orders placed.", {{"kind", "retail"}});
//   if (orders.ok()) (*orders)->Increment();
//   std::string text = metrics.Render();  // what GET /metrics returns
//
// Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in
// "_total", label names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__"
// ("le" is reserved for histograms). Families are rendered sorted by name,
// each with its HELP and TYPE once.
//
// Thread safety: every method is safe from any thread. Collectors run on the
// thread that calls Render, one scrape at a time, and must not call back
// into the registry.
#ifndef TAO_METRICS_METRIC_REGISTRY_H_
#define TAO_METRICS_METRIC_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_sink.h"

namespace tao {

class MetricRegistry {
 public:
  using Collector = std::function<void(MetricSink&)>;

  MetricRegistry() = default;
  ~MetricRegistry();
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;

  // INVALID_ARGUMENT for a bad name or label, or a name already used with
  // another type or help text; ALREADY_EXISTS for the same name and labels
  // twice.
  absl::StatusOr<Counter*> AddCounter(absl::string_view name,
                                      absl::string_view help,
                                      MetricLabels labels = {});
  absl::StatusOr<Gauge*> AddGauge(absl::string_view name,
                                  absl::string_view help,
                                  MetricLabels labels = {});
  absl::StatusOr<Histogram*> AddHistogram(absl::string_view name,
                                          absl::string_view help,
                                          std::vector<double> bounds,
                                          MetricLabels labels = {});

  // `collector` runs at every Render until RemoveCollector(id) returns
  // (which waits for a scrape in progress).
  uint64_t AddCollector(Collector collector);
  void RemoveCollector(uint64_t id);

  // Every metric and every collector's samples, in the text format.
  std::string Render() const;
  // Samples collectors emitted that broke the rules (see MetricSink).
  uint64_t dropped_samples() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Owned {
    std::string name;
    std::string help;
    MetricLabels labels;
    Type type;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  absl::Status CheckNew(absl::string_view name, absl::string_view help,
                        const MetricLabels& labels, Type type) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // CheckNew, then a new entry without its metric.
  absl::StatusOr<Owned*> Insert(absl::string_view name, absl::string_view help,
                                MetricLabels labels, Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Owned> owned_ ABSL_GUARDED_BY(mu_);
  uint64_t next_collector_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::pair<uint64_t, Collector>> collectors_ ABSL_GUARDED_BY(mu_);
  mutable uint64_t dropped_samples_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tao

#endif  // TAO_METRICS_METRIC_REGISTRY_H_
