#include "tao/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace tao {
std::vector<double> LatencyBuckets() {
  std::vector<double> bounds;
  // step / 10^k, both exact, rounds once to the decimal's own double
  // (1e-05, where multiplying decades gave 9.999999999999999e-06).
  for (double divisor = 1e6; divisor >= 1; divisor /= 10) {
    for (double step : {1.0, 2.5, 5.0}) bounds.push_back(step / divisor);
  }
  bounds.push_back(10);
  return bounds;
}

std::vector<double> ExponentialBuckets(double start, double factor,
                                       size_t count) {
  std::vector<double> bounds;
  double bound = start;
  for (size_t i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

absl::StatusOr<std::unique_ptr<Histogram>> Histogram::Create(
    std::vector<double> bounds) {
  if (bounds.empty()) {
    return absl::InvalidArgumentError("a histogram needs at least one bound");
  }
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram bound ", i, " (", bounds[i],
                       ") is not finite and above the previous one"));
    }
  }
  return std::unique_ptr<Histogram>(new Histogram(std::move(bounds)));
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      lines_per_shard_((bounds_.size() + kCountsPerLine) / kCountsPerLine),
      lines_(new Line[lines_per_shard_ * kCounterShards]),
      sums_(new Sum[kCounterShards]) {}

void Histogram::Observe(double value) {
  // NaN is not <= any bound (lower_bound would put it in the first bucket):
  // only +Inf counts it, as Prometheus' own clients do.
  const size_t i = std::isnan(value) ? bounds_.size()
                                     : std::lower_bound(bounds_.begin(),
                                                        bounds_.end(), value) -
                                           bounds_.begin();
  const size_t shard = ThisThreadShard();
  AddToShard(bucket(shard, i), shard, uint64_t{1});
  AddToShard(sums_[shard].value, shard, value);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.bounds = bounds_;
  snapshot.cumulative.assign(bounds_.size() + 1, 0);
  for (size_t shard = 0; shard < kCounterShards; ++shard) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      snapshot.cumulative[i] +=
          bucket(shard, i).load(std::memory_order_relaxed);
    }
    snapshot.sum += sums_[shard].value.load(std::memory_order_relaxed);
  }
  for (size_t i = 1; i < snapshot.cumulative.size(); ++i) {
    snapshot.cumulative[i] += snapshot.cumulative[i - 1];
  }
  return snapshot;
}

}  // namespace tao
