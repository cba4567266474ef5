// Unit tests for tao::Histogram: Create's validation of the bounds, which
// bucket an observation lands in (le is inclusive, above the last bound is
// +Inf only), cumulative counts, sum and count, exact totals of concurrent
// observations, and the bucket layouts LatencyBuckets / ExponentialBuckets.
#include "tao/metrics/histogram.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::unique_ptr<Histogram> MustCreate(std::vector<double> bounds) {
  absl::StatusOr<std::unique_ptr<Histogram>> h =
      Histogram::Create(std::move(bounds));
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *std::move(h) : nullptr;
}

TEST(HistogramCreateTest, RejectsBadBounds) {
  const std::vector<std::vector<double>> bad = {
      {},                 // none
      {1, 1},             // not strictly ascending
      {1, 2, 2},          //
      {2, 1},             // descending
      {1, 3, 2},          //
      {kNaN},             // not finite
      {1, kNaN},          //
      {1, kInf},          // +Inf is implicit
      {-kInf, 1},         //
      {0, 1, kInf, 100},  //
  };
  for (const std::vector<double>& bounds : bad) {
    absl::StatusOr<std::unique_ptr<Histogram>> h = Histogram::Create(bounds);
    EXPECT_EQ(h.status().code(), absl::StatusCode::kInvalidArgument)
        << "bounds of size " << bounds.size() << ": " << h.status();
  }
}

TEST(HistogramCreateTest, AcceptsAscendingFiniteBounds) {
  for (const std::vector<double>& bounds : std::vector<std::vector<double>>{
           {0}, {-5, -1, 0, 1}, {1e-300, 1e300}, {0.1, 0.2, 0.30000000001}}) {
    std::unique_ptr<Histogram> h = MustCreate(bounds);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(std::vector<double>(h->bounds().begin(), h->bounds().end()),
              bounds);
  }
}

TEST(HistogramTest, EmptySnapshot) {
  std::unique_ptr<Histogram> h = MustCreate({1, 2});
  ASSERT_NE(h, nullptr);
  const HistogramSnapshot s = h->Snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{1, 2}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 0, 0}));
  EXPECT_EQ(s.sum, 0);
  EXPECT_EQ(s.count(), 0u);
  EXPECT_EQ(HistogramSnapshot().count(), 0u);
}

// A bucket counts values <= its bound: a value equal to a bound is in that
// bound's bucket, not the next one.
TEST(HistogramTest, ValueEqualToBoundIsInThatBucket) {
  std::unique_ptr<Histogram> h = MustCreate({1, 2, 5});
  ASSERT_NE(h, nullptr);
  h->Observe(1);
  EXPECT_EQ(h->Snapshot().cumulative, (std::vector<uint64_t>{1, 1, 1, 1}));
  h->Observe(2);
  EXPECT_EQ(h->Snapshot().cumulative, (std::vector<uint64_t>{1, 2, 2, 2}));
  h->Observe(5);
  EXPECT_EQ(h->Snapshot().cumulative, (std::vector<uint64_t>{1, 2, 3, 3}));
  // Just above a bound: the next bucket.
  h->Observe(std::nextafter(1.0, 2.0));
  EXPECT_EQ(h->Snapshot().cumulative, (std::vector<uint64_t>{1, 3, 4, 4}));
}

TEST(HistogramTest, AboveLastBoundIsOnlyInInf) {
  std::unique_ptr<Histogram> h = MustCreate({1, 2, 5});
  ASSERT_NE(h, nullptr);
  h->Observe(std::nextafter(5.0, 6.0));
  h->Observe(1e12);
  h->Observe(kInf);
  const HistogramSnapshot s = h->Snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 0, 0, 3}));
  EXPECT_EQ(s.count(), 3u);
}

TEST(HistogramTest, BelowFirstBoundIsInFirstBucket) {
  std::unique_ptr<Histogram> h = MustCreate({1, 2});
  ASSERT_NE(h, nullptr);
  h->Observe(0);
  h->Observe(-100);
  h->Observe(-kInf);
  EXPECT_EQ(h->Snapshot().cumulative, (std::vector<uint64_t>{3, 3, 3}));
}

// NaN is <= no bound: it is counted in +Inf (and count) only.
TEST(HistogramTest, NaNIsOnlyInInf) {
  std::unique_ptr<Histogram> h = MustCreate({1, 2});
  ASSERT_NE(h, nullptr);
  h->Observe(kNaN);
  const HistogramSnapshot s = h->Snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 0, 1}));
  EXPECT_TRUE(std::isnan(s.sum));
}

TEST(HistogramTest, CumulativeCountsSumAndCount) {
  std::unique_ptr<Histogram> h = MustCreate({0.5, 1, 2.5, 10});
  ASSERT_NE(h, nullptr);
  // Per bucket: le=0.5: 3, le=1: 1, le=2.5: 0, le=10: 2, +Inf: 1.
  for (double v : {0.25, 0.5, -1.0, 0.75, 5.0, 10.0, 11.0}) h->Observe(v);
  const HistogramSnapshot s = h->Snapshot();
  EXPECT_EQ(s.bounds, (std::vector<double>{0.5, 1, 2.5, 10}));
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{3, 4, 4, 6, 7}));
  EXPECT_EQ(s.sum, 0.25 + 0.5 - 1.0 + 0.75 + 5.0 + 10.0 + 11.0);
  EXPECT_EQ(s.count(), 7u);
}

// Bucket counts are packed 8 to a cache line: histograms whose bucket count
// (bounds + 1) is just under, at and over a multiple of 8 count every
// bucket separately.
TEST(HistogramTest, EveryBucketCountsSeparatelyAcrossCacheLines) {
  for (size_t n : {1u, 6u, 7u, 8u, 9u, 15u, 16u, 17u, 40u}) {
    std::vector<double> bounds;
    for (size_t i = 0; i < n; ++i) bounds.push_back(static_cast<double>(i));
    std::unique_ptr<Histogram> h = MustCreate(bounds);
    ASSERT_NE(h, nullptr);
    // i + 1 observations of bound i, and n + 1 above the last.
    for (size_t i = 0; i <= n; ++i) {
      const double v = i < n ? bounds[i] : 1e9;
      for (size_t k = 0; k <= i; ++k) h->Observe(v);
    }
    const HistogramSnapshot s = h->Snapshot();
    ASSERT_EQ(s.cumulative.size(), n + 1) << n;
    uint64_t expected = 0;
    for (size_t i = 0; i <= n; ++i) {
      expected += i + 1;
      EXPECT_EQ(s.cumulative[i], expected)
          << "bounds " << n << ", bucket " << i;
    }
  }
}

// Observations from several threads (several shards) sum exactly: every
// value is a small multiple of 1/4, so the double sum has no rounding.
TEST(HistogramTest, ConcurrentObservationsSumExactly) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  const std::vector<double> values = {0.25, 1.5, 2.5, 100};
  std::unique_ptr<Histogram> h = MustCreate({1, 2, 3});
  ASSERT_NE(h, nullptr);
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      for (int i = 0; i < kPerThread; ++i) h->Observe(values[i % 4]);
    });
  }
  go.Notify();
  for (std::thread& t : threads) t.join();
  const HistogramSnapshot s = h->Snapshot();
  constexpr uint64_t kEach = kThreads * kPerThread / 4;
  EXPECT_EQ(s.cumulative,
            (std::vector<uint64_t>{kEach, 2 * kEach, 3 * kEach, 4 * kEach}));
  EXPECT_EQ(s.count(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.sum, kEach * (0.25 + 1.5 + 2.5 + 100));
}

TEST(LatencyBucketsTest, OneMicrosecondToTenSecondsIn125Steps) {
  const std::vector<double> bounds = LatencyBuckets();
  // The doubles of the decimal literals, exactly: a bound of
  // 9.999999999999999e-06 would put an observation of 10 us above "1e-05".
  const std::vector<double> expected = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                        1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                        1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   0.5,
                                        1,    2.5,    5,    10};
  EXPECT_EQ(bounds, expected);
  ASSERT_FALSE(bounds.empty());
  EXPECT_EQ(bounds.front(), 1e-6);
  EXPECT_EQ(bounds.back(), 10);
  for (size_t i = 1; i < bounds.size(); ++i) {
    EXPECT_LT(bounds[i - 1], bounds[i]) << i;
  }
  EXPECT_TRUE(Histogram::Create(bounds).ok());
}

TEST(LatencyBucketsTest, DecimalObservationLandsInItsBucket) {
  std::unique_ptr<Histogram> h = MustCreate(LatencyBuckets());
  ASSERT_NE(h, nullptr);
  h->Observe(1e-5);  // 10 us: the bucket le=1e-05 (index 3)
  const HistogramSnapshot s = h->Snapshot();
  EXPECT_EQ(s.cumulative[2], 0u);
  EXPECT_EQ(s.cumulative[3], 1u);
}

TEST(ExponentialBucketsTest, MultipliesByFactor) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 5), (std::vector<double>{1, 2, 4, 8, 16}));
  EXPECT_EQ(ExponentialBuckets(0.5, 10, 3), (std::vector<double>{0.5, 5, 50}));
  EXPECT_TRUE(ExponentialBuckets(1, 2, 0).empty());
  EXPECT_TRUE(Histogram::Create(ExponentialBuckets(1e-3, 1.5, 30)).ok());
}

}  // namespace
}  // namespace tao
