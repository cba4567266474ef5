// Unit tests for tao::MetricRegistry: the errors of AddCounter / AddGauge /
// AddHistogram, Render's exact text for owned metrics and collectors,
// RemoveCollector, dropped_samples, pointer stability, and concurrent
// Render / Increment / Add* (run under TSan by --config=tsan).
#include "tao/metrics/metric_registry.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_sink.h"

namespace tao {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// The value of the line starting with `series` + " " in `text`, or -1.
int64_t ValueOf(absl::string_view text, absl::string_view series) {
  const std::string prefix = absl::StrCat(series, " ");
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == absl::string_view::npos) end = text.size();
    const absl::string_view line = text.substr(pos, end - pos);
    if (absl::StartsWith(line, prefix)) {
      int64_t v = -1;
      if (!absl::SimpleAtoi(line.substr(prefix.size()), &v)) return -1;
      return v;
    }
    pos = end + 1;
  }
  return -1;
}

TEST(MetricRegistryTest, EmptyRegistryRendersNothing) {
  MetricRegistry registry;
  EXPECT_EQ(registry.Render(), "");
  EXPECT_EQ(registry.dropped_samples(), 0u);
}

TEST(MetricRegistryTest, RendersOwnedMetricsExactly) {
  MetricRegistry registry;
  absl::StatusOr<Counter*> get = registry.AddCounter(
      "app_requests_total", "Requests.", {{"method", "GET"}});
  absl::StatusOr<Counter*> put = registry.AddCounter(
      "app_requests_total", "Requests.", {{"method", "PUT"}});
  absl::StatusOr<Gauge*> open = registry.AddGauge("app_open", "Open.");
  absl::StatusOr<Histogram*> latency = registry.AddHistogram(
      "app_latency_seconds", "Latency.", {0.5, 1}, {{"op", "read"}});
  ASSERT_TRUE(get.ok()) << get.status();
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_TRUE(open.ok()) << open.status();
  ASSERT_TRUE(latency.ok()) << latency.status();
  (*get)->Increment(3);
  (*put)->Increment();
  (*open)->Set(-2);
  (*latency)->Observe(0.25);
  (*latency)->Observe(1);
  (*latency)->Observe(4);
  EXPECT_EQ(registry.Render(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n"
            "app_latency_seconds_bucket{op=\"read\",le=\"1\"} 2\n"
            "app_latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 3\n"
            "app_latency_seconds_sum{op=\"read\"} 5.25\n"
            "app_latency_seconds_count{op=\"read\"} 3\n"
            "# HELP app_open Open.\n"
            "# TYPE app_open gauge\n"
            "app_open -2\n"
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\"} 3\n"
            "app_requests_total{method=\"PUT\"} 1\n");
  EXPECT_EQ(registry.dropped_samples(), 0u);
}

TEST(MetricRegistryTest, RejectsBadNames) {
  MetricRegistry registry;
  EXPECT_EQ(registry.AddCounter("9bad_total", "h").status().code(), kInvalid);
  EXPECT_EQ(registry.AddCounter("bad-name_total", "h").status().code(),
            kInvalid);
  EXPECT_EQ(registry.AddCounter("", "h").status().code(), kInvalid);
  EXPECT_EQ(registry.AddGauge("a b", "h").status().code(), kInvalid);
  EXPECT_EQ(registry.AddHistogram("a.b", "h", {1}).status().code(), kInvalid);
  EXPECT_EQ(registry.Render(), "");
}

TEST(MetricRegistryTest, CountersAndOnlyCountersEndInTotal) {
  MetricRegistry registry;
  const absl::Status counter =
      registry.AddCounter("app_requests", "h").status();
  EXPECT_EQ(counter.code(), kInvalid);
  EXPECT_THAT(counter.message(), HasSubstr("_total"));
  EXPECT_EQ(registry.AddGauge("app_open_total", "h").status().code(), kInvalid);
  EXPECT_EQ(registry.AddHistogram("app_h_total", "h", {1}).status().code(),
            kInvalid);
  EXPECT_TRUE(registry.AddCounter("app_requests_total", "h").ok());
  EXPECT_TRUE(registry.AddGauge("app_open", "h").ok());
  EXPECT_TRUE(registry.AddHistogram("app_h", "h", {1}).ok());
}

TEST(MetricRegistryTest, RejectsBadLabels) {
  MetricRegistry registry;
  EXPECT_EQ(registry.AddCounter("a_total", "h", {{"a-b", "1"}}).status().code(),
            kInvalid);
  EXPECT_EQ(registry.AddGauge("g", "h", {{"__x", "1"}}).status().code(),
            kInvalid);
  EXPECT_EQ(
      registry.AddGauge("g", "h", {{"a", "1"}, {"a", "2"}}).status().code(),
      kInvalid);
  EXPECT_EQ(registry.AddGauge("g", "h", {{"a:b", "1"}}).status().code(),
            kInvalid);
  // A failed Add leaves no trace: the same name is free afterwards.
  EXPECT_TRUE(registry.AddGauge("g", "h", {{"a", "1"}}).ok());
}

TEST(MetricRegistryTest, DuplicateNameAndLabelsIsAlreadyExists) {
  MetricRegistry registry;
  ASSERT_TRUE(registry.AddCounter("a_total", "h", {{"k", "1"}}).ok());
  EXPECT_EQ(registry.AddCounter("a_total", "h", {{"k", "1"}}).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Other labels (or none) under the same name are another series.
  EXPECT_TRUE(registry.AddCounter("a_total", "h", {{"k", "2"}}).ok());
  EXPECT_TRUE(registry.AddCounter("a_total", "h").ok());
  EXPECT_EQ(registry.AddCounter("a_total", "h").status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddGauge("g", "h").ok());
  EXPECT_EQ(registry.AddGauge("g", "h").status().code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddHistogram("hist", "h", {1}).ok());
  EXPECT_EQ(registry.AddHistogram("hist", "h", {1}).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(MetricRegistryTest, SameNameOtherTypeOrHelpIsInvalid) {
  MetricRegistry registry;
  ASSERT_TRUE(registry.AddGauge("app_x", "X.", {{"k", "1"}}).ok());
  EXPECT_EQ(
      registry.AddHistogram("app_x", "X.", {1}, {{"k", "2"}}).status().code(),
      kInvalid);
  EXPECT_EQ(registry.AddGauge("app_x", "Other.", {{"k", "2"}}).status().code(),
            kInvalid);
  ASSERT_TRUE(registry.AddHistogram("app_y", "Y.", {1}).ok());
  EXPECT_EQ(registry.AddGauge("app_y", "Y.", {{"k", "1"}}).status().code(),
            kInvalid);
  // Even with the same labels: the type conflict is reported, not the
  // duplicate.
  EXPECT_EQ(registry.AddGauge("app_y", "Y.").status().code(), kInvalid);
}

TEST(MetricRegistryTest, HistogramLabelLeIsReserved) {
  MetricRegistry registry;
  const absl::Status s =
      registry.AddHistogram("app_h", "h", {1}, {{"le", "1"}}).status();
  EXPECT_EQ(s.code(), kInvalid);
  EXPECT_THAT(s.message(), HasSubstr("le"));
  // Only for histograms.
  EXPECT_TRUE(registry.AddGauge("app_g", "h", {{"le", "1"}}).ok());
}

TEST(MetricRegistryTest, HistogramRejectsBadBounds) {
  MetricRegistry registry;
  EXPECT_EQ(registry.AddHistogram("app_h", "h", {}).status().code(), kInvalid);
  EXPECT_EQ(registry.AddHistogram("app_h", "h", {2, 1}).status().code(),
            kInvalid);
  const absl::Status s = registry.AddHistogram("app_h", "h", {1, 1}).status();
  EXPECT_EQ(s.code(), kInvalid);
  EXPECT_THAT(s.message(), HasSubstr("app_h"));
  EXPECT_TRUE(registry.AddHistogram("app_h", "h", LatencyBuckets()).ok());
}

// Pointers stay valid however many metrics are added after them.
TEST(MetricRegistryTest, PointersStayValidAcrossAdds) {
  MetricRegistry registry;
  std::vector<Counter*> counters;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<Counter*> c =
        registry.AddCounter("app_n_total", "N.", {{"i", absl::StrCat(i)}});
    ASSERT_TRUE(c.ok()) << c.status();
    counters.push_back(*c);
  }
  for (int i = 0; i < 200; ++i) counters[i]->Increment(i);
  const std::string text = registry.Render();
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(ValueOf(text, absl::StrCat("app_n_total{i=\"", i, "\"}")), i);
  }
}

TEST(MetricRegistryTest, CollectorsRunAtEveryRenderUntilRemoved) {
  MetricRegistry registry;
  ASSERT_TRUE(registry.AddGauge("app_owned", "Owned.").ok());
  int runs_a = 0;
  int runs_b = 0;
  const uint64_t a = registry.AddCollector([&](MetricSink& sink) {
    ++runs_a;
    sink.AddCounter("app_a_total", "A.", {{"src", "a"}}, 7);
  });
  const uint64_t b = registry.AddCollector([&](MetricSink& sink) {
    ++runs_b;
    sink.AddGauge("app_b", "B.", {}, 0.5);
  });
  EXPECT_NE(a, b);
  EXPECT_EQ(runs_a, 0);  // not at AddCollector
  EXPECT_EQ(registry.Render(),
            "# HELP app_a_total A.\n"
            "# TYPE app_a_total counter\n"
            "app_a_total{src=\"a\"} 7\n"
            "# HELP app_b B.\n"
            "# TYPE app_b gauge\n"
            "app_b 0.5\n"
            "# HELP app_owned Owned.\n"
            "# TYPE app_owned gauge\n"
            "app_owned 0\n");
  EXPECT_EQ(runs_a, 1);
  EXPECT_EQ(runs_b, 1);
  registry.Render();
  EXPECT_EQ(runs_a, 2);
  EXPECT_EQ(runs_b, 2);

  registry.RemoveCollector(a);
  const std::string text = registry.Render();
  EXPECT_EQ(runs_a, 2);
  EXPECT_EQ(runs_b, 3);
  EXPECT_THAT(text, Not(HasSubstr("app_a_total")));
  EXPECT_THAT(text, HasSubstr("app_b 0.5\n"));

  registry.RemoveCollector(a);      // again: no-op
  registry.RemoveCollector(12345);  // unknown: no-op
  registry.RemoveCollector(b);
  EXPECT_EQ(registry.Render(),
            "# HELP app_owned Owned.\n"
            "# TYPE app_owned gauge\n"
            "app_owned 0\n");
  EXPECT_EQ(runs_b, 3);
  // Ids are not reused.
  const uint64_t c = registry.AddCollector([](MetricSink&) {});
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
}

// Samples of a collector and of owned metrics share families.
TEST(MetricRegistryTest, CollectorSamplesJoinOwnedFamilies) {
  MetricRegistry registry;
  absl::StatusOr<Counter*> owned =
      registry.AddCounter("app_msgs_total", "Messages.", {{"type", "a"}});
  ASSERT_TRUE(owned.ok());
  (*owned)->Increment(2);
  registry.AddCollector([](MetricSink& sink) {
    sink.AddCounter("app_msgs_total", "Messages.", {{"type", "b"}}, 5);
  });
  EXPECT_EQ(registry.Render(),
            "# HELP app_msgs_total Messages.\n"
            "# TYPE app_msgs_total counter\n"
            "app_msgs_total{type=\"a\"} 2\n"
            "app_msgs_total{type=\"b\"} 5\n");
}

TEST(MetricRegistryTest, DroppedSamplesCountsBadCollectorSamples) {
  MetricRegistry registry;
  ASSERT_TRUE(registry.AddGauge("app_g", "G.").ok());
  registry.AddCollector([](MetricSink& sink) {
    sink.AddCounter("app_no_suffix", "Bad.", {}, 1);  // counter without _total
    sink.AddGauge("app_g", "Other help.", {}, 1);     // disagrees with family
    sink.AddGauge("app_ok", "Good.", {}, 3);
  });
  const std::string text = registry.Render();
  EXPECT_EQ(registry.dropped_samples(), 2u);
  EXPECT_THAT(text, HasSubstr("app_ok 3\n"));
  EXPECT_THAT(text, HasSubstr("app_g 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("app_no_suffix")));
  EXPECT_THAT(text, Not(HasSubstr("Other help.")));
  registry.Render();
  EXPECT_EQ(registry.dropped_samples(), 4u);  // accumulates per scrape
}

// Render from one thread while others increment, observe, add metrics and
// add/remove collectors: under TSan no race is reported; every Render sees
// the counter no lower than the previous one; the last sees every increment.
TEST(MetricRegistryTest, ConcurrentRenderAndIncrement) {
  constexpr int kIncrementers = 4;
  constexpr uint64_t kPerThread = 20000;
  MetricRegistry registry;
  absl::StatusOr<Counter*> counter =
      registry.AddCounter("app_hits_total", "Hits.");
  absl::StatusOr<Histogram*> histogram =
      registry.AddHistogram("app_h_seconds", "H.", LatencyBuckets());
  ASSERT_TRUE(counter.ok());
  ASSERT_TRUE(histogram.ok());

  absl::Notification go;
  std::atomic<int> running{kIncrementers};
  std::vector<std::thread> threads;
  for (int t = 0; t < kIncrementers; ++t) {
    threads.emplace_back([&] {
      go.WaitForNotification();
      for (uint64_t i = 0; i < kPerThread; ++i) {
        (*counter)->Increment();
        if (i % 16 == 0) (*histogram)->Observe(1e-3);
      }
      running.fetch_sub(1);
    });
  }
  // A thread adding metrics and collectors while Render runs.
  threads.emplace_back([&] {
    go.WaitForNotification();
    for (int i = 0; i < 200; ++i) {
      EXPECT_TRUE(
          registry.AddGauge("app_added", "Added.", {{"i", absl::StrCat(i)}})
              .ok());
      const uint64_t id = registry.AddCollector([i](MetricSink& sink) {
        sink.AddGauge("app_collected", "C.", {{"i", absl::StrCat(i)}}, i);
      });
      if (i % 2 == 0) registry.RemoveCollector(id);
    }
  });
  go.Notify();
  int64_t last = 0;
  int renders = 0;
  while (running.load() > 0 || renders == 0) {
    const std::string text = registry.Render();
    const int64_t now = ValueOf(text, "app_hits_total");
    ASSERT_GE(now, last) << text.substr(0, 200);
    last = now;
    ++renders;
  }
  for (std::thread& t : threads) t.join();
  const std::string text = registry.Render();
  EXPECT_EQ(ValueOf(text, "app_hits_total"),
            static_cast<int64_t>(kIncrementers * kPerThread));
  EXPECT_EQ(ValueOf(text, "app_h_seconds_count"),
            static_cast<int64_t>(kIncrementers * (kPerThread / 16)));
  EXPECT_EQ(ValueOf(text, "app_added{i=\"199\"}"), 0);
  EXPECT_EQ(ValueOf(text, "app_collected{i=\"199\"}"), 199);
  EXPECT_EQ(ValueOf(text, "app_collected{i=\"198\"}"), -1);  // removed
  EXPECT_EQ(registry.dropped_samples(), 0u);
}

// RemoveCollector waits for a scrape in progress: once it returns, the
// collector never runs again (and may be destroyed).
TEST(MetricRegistryTest, RemoveCollectorWaitsForScrapeInProgress) {
  MetricRegistry registry;
  absl::Notification in_collector;
  absl::Notification release;
  std::atomic<bool> removed{false};
  std::atomic<bool> ran_after_remove{false};
  std::atomic<bool> removed_during_scrape{false};
  const uint64_t id = registry.AddCollector([&](MetricSink&) {
    if (removed.load()) ran_after_remove.store(true);
    if (!in_collector.HasBeenNotified()) {
      in_collector.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
      // Whether or not the remover has called RemoveCollector yet, it
      // cannot have returned while this scrape runs.
      if (removed.load()) removed_during_scrape.store(true);
    }
  });
  std::thread scraper([&] { registry.Render(); });
  ASSERT_TRUE(in_collector.WaitForNotificationWithTimeout(absl::Seconds(30)));
  std::thread remover([&] {
    registry.RemoveCollector(id);
    removed.store(true);
  });
  // The remover blocks on the scrape; let the scrape finish.
  release.Notify();
  remover.join();
  scraper.join();
  EXPECT_TRUE(removed.load());
  EXPECT_FALSE(removed_during_scrape.load());
  registry.Render();
  EXPECT_FALSE(ran_after_remove.load());
}

}  // namespace
}  // namespace tao
