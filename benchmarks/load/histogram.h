// LatencyHistogram: a fixed-size log-linear histogram of nanosecond values
// (HdrHistogram's bucket layout with 7 significant bits: relative error below
// 1%, values up to 2^42 ns, about 73 minutes). Recording is a shift, a
// count-leading-zeros and an increment; nothing is allocated after
// construction.
//
// Thread safety: one thread records (Record is a relaxed load and store of
// its own counters, no read-modify-write instruction); any thread may read a
// consistent-enough Snapshot concurrently (each counter is atomic, so a
// reader sees every bucket at some recent value, never a torn one).
#ifndef BENCHMARKS_LOAD_HISTOGRAM_H_
#define BENCHMARKS_LOAD_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace tao::bench {

// Bucket index <-> value mapping, shared by the live histogram and snapshots.
struct HistogramLayout {
  static constexpr int kSubBits = 7;  // 128 sub-buckets
  static constexpr uint64_t kSubCount = 1 << kSubBits;
  static constexpr uint64_t kHalf = kSubCount / 2;
  static constexpr int kMaxBits = 42;  // values < 2^42 ns
  static constexpr size_t kBuckets =
      kSubCount + (kMaxBits - kSubBits) * kHalf;  // 2368

  static size_t Index(uint64_t value) {
    if (value < kSubCount) return static_cast<size_t>(value);
    if (value >= (uint64_t{1} << kMaxBits)) return kBuckets - 1;
    const int msb = 63 - __builtin_clzll(value);  // >= kSubBits
    const int shift = msb - (kSubBits - 1);       // >= 1
    const uint64_t sub = value >> shift;          // in [kHalf, kSubCount)
    return static_cast<size_t>(kSubCount + (shift - 1) * kHalf + (sub - kHalf));
  }
  // The smallest value that maps to bucket `index`.
  static uint64_t Lower(size_t index) {
    if (index < kSubCount) return index;
    const uint64_t i = index - kSubCount;
    const int shift = static_cast<int>(i / kHalf) + 1;
    const uint64_t sub = i % kHalf + kHalf;
    return sub << shift;
  }
  // A representative value of bucket `index` (its midpoint).
  static uint64_t Mid(size_t index) {
    if (index < kSubCount) return index;
    const uint64_t lower = Lower(index);
    const int shift = static_cast<int>((index - kSubCount) / kHalf) + 1;
    return lower + ((uint64_t{1} << shift) >> 1);
  }
};

// A plain (non-atomic) copy of a histogram; what percentiles are read from.
class HistogramSnapshot {
 public:
  HistogramSnapshot() : counts_(new uint64_t[HistogramLayout::kBuckets]()) {}
  HistogramSnapshot(const HistogramSnapshot& other) : HistogramSnapshot() {
    *this = other;
  }
  HistogramSnapshot& operator=(const HistogramSnapshot& other);

  void Add(uint64_t value_ns, uint64_t count = 1);
  // this += other (merging threads).
  void Merge(const HistogramSnapshot& other);
  // this -= other, where `other` is an earlier snapshot of the same
  // histogram (an interval). The max is kept from `this` (an upper bound
  // of the interval's), or 0 when the interval is empty.
  void Subtract(const HistogramSnapshot& other);

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  void set_max(uint64_t max) { max_ = max; }
  // The value at quantile q in [0, 1] (bucket midpoint, clamped to max);
  // 0 when empty.
  uint64_t Percentile(double q) const;
  double MeanNs() const;

  uint64_t bucket(size_t i) const { return counts_[i]; }
  void set_bucket(size_t i, uint64_t n);

 private:
  std::unique_ptr<uint64_t[]> counts_;
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

// The live histogram one thread records into.
class LatencyHistogram {
 public:
  LatencyHistogram();
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Owner thread only.
  void Record(uint64_t value_ns) {
    auto& c = counts_[HistogramLayout::Index(value_ns)];
    c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (value_ns > max_.load(std::memory_order_relaxed)) {
      max_.store(value_ns, std::memory_order_relaxed);
    }
  }

  // Any thread.
  void SnapshotInto(HistogramSnapshot* out) const;

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<uint64_t> max_{0};
};

}  // namespace tao::bench

#endif  // BENCHMARKS_LOAD_HISTOGRAM_H_
