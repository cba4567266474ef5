// Histogram: counts observations into buckets with fixed upper bounds (as
// Prometheus histograms do: a bucket counts values <= its bound, the last
// one, +Inf, everything), plus their sum. Sharded like Counter: each thread
// adds to its own shard, Snapshot() sums them.
//
//   tao::Histogram& latency = *registry.AddHistogram(
//       "app_query_seconds", "...", tao::LatencyBuckets());
//   latency.Observe(absl::ToDoubleSeconds(elapsed));
//
// Thread safety: every method is safe from any thread.
#ifndef TAO_METRICS_HISTOGRAM_H_
#define TAO_METRICS_HISTOGRAM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tao/metrics/counter.h"

namespace tao {

// Bounds for latencies in seconds: 1 us to 10 s in 1-2.5-5 steps.
std::vector<double> LatencyBuckets();
// `count` bounds: start, start * factor, ...
std::vector<double> ExponentialBuckets(double start, double factor,
                                       size_t count);

struct HistogramSnapshot {
  std::vector<double> bounds;        // finite upper bounds, ascending
  std::vector<uint64_t> cumulative;  // per bound, then +Inf (= count)
  double sum = 0;
  uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

class Histogram {
 public:
  // INVALID_ARGUMENT unless `bounds` are finite and strictly ascending (and
  // at least one).
  static absl::StatusOr<std::unique_ptr<Histogram>> Create(
      std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void Observe(double value);
  HistogramSnapshot Snapshot() const;
  absl::Span<const double> bounds() const { return bounds_; }

 private:
  explicit Histogram(std::vector<double> bounds);

  static constexpr size_t kCountsPerLine = 8;
  struct alignas(64) Line {
    std::atomic<uint64_t> counts[kCountsPerLine] = {};
  };
  struct alignas(64) Sum {
    std::atomic<double> value{0};
  };
  // A shard's bucket counts (bounds_.size() + 1) fill whole cache lines.
  std::atomic<uint64_t>& bucket(size_t shard, size_t i) const {
    return lines_[shard * lines_per_shard_ + i / kCountsPerLine]
        .counts[i % kCountsPerLine];
  }

  const std::vector<double> bounds_;
  const size_t lines_per_shard_;
  const std::unique_ptr<Line[]> lines_;
  const std::unique_ptr<Sum[]> sums_;  // one per shard
};

}  // namespace tao

#endif  // TAO_METRICS_HISTOGRAM_H_
