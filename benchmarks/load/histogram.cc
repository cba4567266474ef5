#include "benchmarks/load/histogram.h"

#include <algorithm>
#include <cmath>

namespace tao::bench {

HistogramSnapshot& HistogramSnapshot::operator=(
    const HistogramSnapshot& other) {
  if (this == &other) return *this;
  std::copy(other.counts_.get(),
            other.counts_.get() + HistogramLayout::kBuckets, counts_.get());
  total_ = other.total_;
  max_ = other.max_;
  return *this;
}

void HistogramSnapshot::Add(uint64_t value_ns, uint64_t count) {
  counts_[HistogramLayout::Index(value_ns)] += count;
  total_ += count;
  max_ = std::max(max_, value_ns);
}

void HistogramSnapshot::Merge(const HistogramSnapshot& other) {
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    counts_[i] += other.counts_[i];
  }
  total_ += other.total_;
  max_ = std::max(max_, other.max_);
}

void HistogramSnapshot::Subtract(const HistogramSnapshot& other) {
  total_ = 0;
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    counts_[i] -= std::min(counts_[i], other.counts_[i]);
    total_ += counts_[i];
  }
  if (total_ == 0) max_ = 0;
}

void HistogramSnapshot::set_bucket(size_t i, uint64_t n) {
  total_ -= counts_[i];
  counts_[i] = n;
  total_ += n;
}

uint64_t HistogramSnapshot::Percentile(double q) const {
  if (total_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value wanted, 1-based: at least the first value.
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      return max_ == 0 ? HistogramLayout::Mid(i)
                       : std::min(HistogramLayout::Mid(i), max_);
    }
  }
  return max_;
}

double HistogramSnapshot::MeanNs() const {
  if (total_ == 0) return 0;
  double sum = 0;
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    if (counts_[i] != 0) {
      sum += static_cast<double>(counts_[i]) *
             static_cast<double>(HistogramLayout::Mid(i));
    }
  }
  return sum / static_cast<double>(total_);
}

LatencyHistogram::LatencyHistogram()
    : counts_(new std::atomic<uint64_t>[HistogramLayout::kBuckets]) {
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    counts_[i].store(0, std::memory_order_relaxed);
  }
}

void LatencyHistogram::SnapshotInto(HistogramSnapshot* out) const {
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    out->set_bucket(i, counts_[i].load(std::memory_order_relaxed));
  }
  out->set_max(max_.load(std::memory_order_relaxed));
}

}  // namespace tao::bench
