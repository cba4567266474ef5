#include "benchmarks/load/histogram.h"

#include <cstdint>
#include <random>

#include "gtest/gtest.h"

namespace tao::bench {
namespace {

TEST(HistogramLayoutTest, IndexAndLowerAreInverse) {
  for (size_t i = 0; i < HistogramLayout::kBuckets; ++i) {
    EXPECT_EQ(HistogramLayout::Index(HistogramLayout::Lower(i)), i) << i;
  }
}

TEST(HistogramLayoutTest, RelativeErrorBelowOnePercent) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (24 + rng() % 40);
    const size_t index = HistogramLayout::Index(v);
    ASSERT_LE(HistogramLayout::Lower(index), v);
    const uint64_t mid = HistogramLayout::Mid(index);
    const double error = v == 0 ? 0 : std::abs(double(mid) - double(v)) / v;
    ASSERT_LT(error, 0.01) << v;
  }
}

TEST(HistogramLayoutTest, HugeValuesLandInTheLastBucket) {
  EXPECT_EQ(HistogramLayout::Index(~uint64_t{0}),
            HistogramLayout::kBuckets - 1);
}

TEST(HistogramSnapshotTest, Percentiles) {
  HistogramSnapshot h;
  EXPECT_EQ(h.Percentile(0.5), 0u);
  for (uint64_t v = 1; v <= 1000; ++v) h.Add(v * 1000);  // 1..1000 us
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_NEAR(h.Percentile(0.5), 500000, 5000);
  EXPECT_NEAR(h.Percentile(0.99), 990000, 9900);
  EXPECT_NEAR(h.Percentile(0.999), 999000, 9990);
  EXPECT_EQ(h.Percentile(1.0), 1000000u);  // clamped to the max
  EXPECT_EQ(h.max(), 1000000u);
  EXPECT_NEAR(h.MeanNs(), 500500, 5000);
}

TEST(LatencyHistogramTest, SnapshotMergeSubtract) {
  LatencyHistogram live;
  for (int i = 0; i < 100; ++i) live.Record(10);
  HistogramSnapshot before;
  live.SnapshotInto(&before);
  for (int i = 0; i < 50; ++i) live.Record(1000);
  HistogramSnapshot after;
  live.SnapshotInto(&after);
  EXPECT_EQ(after.count(), 150u);
  EXPECT_EQ(after.max(), 1000u);
  HistogramSnapshot interval = after;
  interval.Subtract(before);
  EXPECT_EQ(interval.count(), 50u);
  EXPECT_EQ(interval.Percentile(0.01), 1000u);
  HistogramSnapshot merged = before;
  merged.Merge(interval);
  EXPECT_EQ(merged.count(), 150u);
  EXPECT_EQ(merged.Percentile(0.5), 10u);
}

}  // namespace
}  // namespace tao::bench
