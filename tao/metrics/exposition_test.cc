// Unit tests for tao::ExpositionWriter and FormatMetricValue: the exact text
// of counters, gauges and histograms in the Prometheus text format 0.0.4,
// escaping, family order and grouping, and the samples it drops (and
// counts) for breaking a naming rule or disagreeing with their family.
#include "tao/metrics/exposition.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_sink.h"

namespace tao {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

HistogramSnapshot Snapshot(std::vector<double> bounds,
                           std::vector<uint64_t> cumulative, double sum) {
  HistogramSnapshot s;
  s.bounds = std::move(bounds);
  s.cumulative = std::move(cumulative);
  s.sum = sum;
  return s;
}

TEST(ExpositionContentTypeTest, IsTextFormat004) {
  EXPECT_EQ(kExpositionContentType, "text/plain; version=0.0.4; charset=utf-8");
}

TEST(FormatMetricValueTest, ShortestForm) {
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(1e-06), "1e-06");
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-2.5), "-2.5");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(1234567), "1234567");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatMetricValue(kInf), "+Inf");
  EXPECT_EQ(FormatMetricValue(-kInf), "-Inf");
}

TEST(ExpositionWriterTest, EmptyWriterWritesNothing) {
  ExpositionWriter w;
  EXPECT_EQ(w.Finish(), "");
  EXPECT_EQ(w.dropped(), 0u);
}

TEST(ExpositionWriterTest, CounterWithLabels) {
  ExpositionWriter w;
  w.AddCounter("app_requests_total", "Requests handled.",
               {{"method", "GET"}, {"code", "200"}}, 42);
  EXPECT_EQ(w.Finish(),
            "# HELP app_requests_total Requests handled.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\",code=\"200\"} 42\n");
  EXPECT_EQ(w.dropped(), 0u);
}

TEST(ExpositionWriterTest, CounterWithoutLabelsAndLargeValue) {
  ExpositionWriter w;
  w.AddCounter("app_bytes_total", "Bytes.", {},
               std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(w.Finish(),
            "# HELP app_bytes_total Bytes.\n"
            "# TYPE app_bytes_total counter\n"
            "app_bytes_total 18446744073709551615\n");
}

TEST(ExpositionWriterTest, Gauge) {
  ExpositionWriter w;
  w.AddGauge("app_temperature_celsius", "Temperature.", {}, -21.5);
  w.AddGauge("app_ratio", "Ratio.", {{"kind", "a"}}, 0.1);
  w.AddGauge("app_ratio", "Ratio.", {{"kind", "b"}}, kInf);
  EXPECT_EQ(w.Finish(),
            "# HELP app_ratio Ratio.\n"
            "# TYPE app_ratio gauge\n"
            "app_ratio{kind=\"a\"} 0.1\n"
            "app_ratio{kind=\"b\"} +Inf\n"
            "# HELP app_temperature_celsius Temperature.\n"
            "# TYPE app_temperature_celsius gauge\n"
            "app_temperature_celsius -21.5\n");
}

TEST(ExpositionWriterTest, HistogramWithLabels) {
  ExpositionWriter w;
  w.AddHistogram("app_latency_seconds", "Latency.", {{"path", "/a"}},
                 Snapshot({0.1, 1}, {1, 3, 4}, 5.5));
  EXPECT_EQ(w.Finish(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{path=\"/a\",le=\"0.1\"} 1\n"
            "app_latency_seconds_bucket{path=\"/a\",le=\"1\"} 3\n"
            "app_latency_seconds_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum{path=\"/a\"} 5.5\n"
            "app_latency_seconds_count{path=\"/a\"} 4\n");
}

TEST(ExpositionWriterTest, HistogramWithoutLabels) {
  ExpositionWriter w;
  w.AddHistogram("app_size_bytes", "Sizes.", {},
                 Snapshot({1e-06, 2.5, 1000}, {0, 2, 2, 3}, 2003));
  EXPECT_EQ(w.Finish(),
            "# HELP app_size_bytes Sizes.\n"
            "# TYPE app_size_bytes histogram\n"
            "app_size_bytes_bucket{le=\"1e-06\"} 0\n"
            "app_size_bytes_bucket{le=\"2.5\"} 2\n"
            "app_size_bytes_bucket{le=\"1000\"} 2\n"
            "app_size_bytes_bucket{le=\"+Inf\"} 3\n"
            "app_size_bytes_sum 2003\n"
            "app_size_bytes_count 3\n");
}

TEST(ExpositionWriterTest, HistogramFromRealSnapshot) {
  absl::StatusOr<std::unique_ptr<Histogram>> h = Histogram::Create({1, 2});
  ASSERT_TRUE(h.ok()) << h.status();
  (*h)->Observe(1);
  (*h)->Observe(1.5);
  (*h)->Observe(3);
  ExpositionWriter w;
  w.AddHistogram("app_x_seconds", "X.", {}, (*h)->Snapshot());
  EXPECT_EQ(w.Finish(),
            "# HELP app_x_seconds X.\n"
            "# TYPE app_x_seconds histogram\n"
            "app_x_seconds_bucket{le=\"1\"} 1\n"
            "app_x_seconds_bucket{le=\"2\"} 2\n"
            "app_x_seconds_bucket{le=\"+Inf\"} 3\n"
            "app_x_seconds_sum 5.5\n"
            "app_x_seconds_count 3\n");
}

TEST(ExpositionWriterTest, EscapesLabelValues) {
  ExpositionWriter w;
  w.AddGauge("app_g", "G.", {{"v", "a\\b\"c\nd"}, {"w", "tab\there"}}, 1);
  EXPECT_EQ(w.Finish(),
            "# HELP app_g G.\n"
            "# TYPE app_g gauge\n"
            "app_g{v=\"a\\\\b\\\"c\\nd\",w=\"tab\there\"} 1\n");
}

// HELP escapes backslash and newline only (a quote stays as it is).
TEST(ExpositionWriterTest, EscapesHelp) {
  ExpositionWriter w;
  w.AddGauge("app_g", "Path C:\\x\nnext \"line\".", {}, 1);
  EXPECT_EQ(w.Finish(),
            "# HELP app_g Path C:\\\\x\\nnext \"line\".\n"
            "# TYPE app_g gauge\n"
            "app_g 1\n");
}

TEST(ExpositionWriterTest, FamiliesSortedByNameWithHelpAndTypeOnce) {
  ExpositionWriter w;
  w.AddCounter("zeta_total", "Z.", {{"k", "1"}}, 1);
  w.AddGauge("beta", "B.", {}, 2);
  w.AddCounter("alpha_total", "A.", {}, 3);
  w.AddCounter("zeta_total", "Z.", {{"k", "2"}}, 4);
  EXPECT_EQ(w.Finish(),
            "# HELP alpha_total A.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total 3\n"
            "# HELP beta B.\n"
            "# TYPE beta gauge\n"
            "beta 2\n"
            "# HELP zeta_total Z.\n"
            "# TYPE zeta_total counter\n"
            "zeta_total{k=\"1\"} 1\n"
            "zeta_total{k=\"2\"} 4\n");
  EXPECT_EQ(w.dropped(), 0u);
}

TEST(ExpositionWriterTest, DropsSampleDisagreeingWithFamily) {
  ExpositionWriter w;
  w.AddGauge("app_g", "G.", {{"k", "1"}}, 1);
  w.AddGauge("app_g", "Other help.", {{"k", "2"}}, 2);  // help differs
  w.AddHistogram("app_g", "G.", {{"k", "3"}},           // type differs
                 Snapshot({1}, {0, 0}, 0));
  w.AddCounter("app_c_total", "C.", {}, 1);
  w.AddCounter("app_c_total", "", {{"k", "2"}}, 2);  // help differs
  EXPECT_EQ(w.dropped(), 3u);
  EXPECT_EQ(w.Finish(),
            "# HELP app_c_total C.\n"
            "# TYPE app_c_total counter\n"
            "app_c_total 1\n"
            "# HELP app_g G.\n"
            "# TYPE app_g gauge\n"
            "app_g{k=\"1\"} 1\n");
}

TEST(ExpositionWriterTest, DropsSampleBreakingNamingRules) {
  ExpositionWriter w;
  w.AddCounter("app_requests", "No _total.", {}, 1);
  w.AddGauge("app_open_total", "A gauge with _total.", {}, 1);
  w.AddHistogram("app_h_total", "A histogram with _total.", {},
                 Snapshot({1}, {0, 0}, 0));
  w.AddGauge("9bad", "Bad name.", {}, 1);
  w.AddCounter("bad-name_total", "Bad name.", {}, 1);
  w.AddGauge("app_g", "Bad label.", {{"a-b", "x"}}, 1);
  w.AddGauge("app_g", "Reserved label.", {{"__x", "x"}}, 1);
  w.AddGauge("app_g", "Duplicate label.", {{"a", "1"}, {"a", "2"}}, 1);
  w.AddHistogram("app_h", "le is reserved.", {{"le", "1"}},
                 Snapshot({1}, {0, 0}, 0));
  EXPECT_EQ(w.dropped(), 9u);
  EXPECT_EQ(w.Finish(), "");
  // A dropped sample does not claim its family: a good one after it
  // defines it.
  w.AddGauge("app_g", "Good.", {}, 5);
  EXPECT_EQ(w.dropped(), 9u);
  EXPECT_EQ(w.Finish(),
            "# HELP app_g Good.\n"
            "# TYPE app_g gauge\n"
            "app_g 5\n");
}

TEST(ExpositionWriterTest, LeIsAnOrdinaryLabelOutsideHistograms) {
  ExpositionWriter w;
  w.AddGauge("app_g", "G.", {{"le", "x"}}, 1);
  EXPECT_EQ(w.dropped(), 0u);
  EXPECT_EQ(w.Finish(),
            "# HELP app_g G.\n"
            "# TYPE app_g gauge\n"
            "app_g{le=\"x\"} 1\n");
}

}  // namespace
}  // namespace tao
