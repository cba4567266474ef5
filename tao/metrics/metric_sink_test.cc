// Unit tests for the naming rules of tao/metrics/metric_sink.h:
// ValidateMetricName ([a-zA-Z_:][a-zA-Z0-9_:]*) and ValidateMetricLabels
// ([a-zA-Z_][a-zA-Z0-9_]*, no leading "__", each name once).
#include "tao/metrics/metric_sink.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;

TEST(ValidateMetricNameTest, AcceptsPrometheusNames) {
  for (const char* name :
       {"a", "A", "_", ":", "_a", ":a", "a:b", "http_requests_total",
        "job:rate5m", "a0", "Z9_:z", "__name"}) {
    EXPECT_TRUE(ValidateMetricName(name).ok()) << name;
  }
}

TEST(ValidateMetricNameTest, RejectsOtherNames) {
  for (const char* name :
       {"", "0", "9abc", "1_total", "a-b", "a b", " a", "a ", "a.b", "a/b",
        "a{b}", "a\"", "a\n", "caf\xc3\xa9", "a\tb"}) {
    const absl::Status s = ValidateMetricName(name);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
  }
  // The message names the offender.
  EXPECT_THAT(ValidateMetricName("9abc").message(), HasSubstr("\"9abc\""));
}

TEST(ValidateMetricNameTest, RejectsEmbeddedNul) {
  EXPECT_FALSE(ValidateMetricName(absl::string_view("a\0b", 3)).ok());
}

TEST(ValidateMetricLabelsTest, AcceptsValidLabels) {
  const std::vector<MetricLabels> good = {
      {},
      {{"a", "x"}},
      {{"_b", ""}},  // an empty value is allowed
      {{"a9", "1"}, {"B_c", "2"}},
      {{"_", "x"}},
      {{"le", "1"}},  // reserved only for histograms
      {{"method", "GET"}, {"code", "200"}, {"path", "/a b\"c\\\n"}},
  };
  for (const MetricLabels& labels : good) {
    EXPECT_TRUE(ValidateMetricLabels(labels).ok())
        << (labels.empty() ? "{}" : labels[0].first);
  }
}

TEST(ValidateMetricLabelsTest, RejectsBadLabelNames) {
  for (const char* name : {"", "9a", "0", "a-b", "a:b", ":", "a b", "a.b",
                           "__x", "__", "___a", "caf\xc3\xa9"}) {
    const absl::Status s = ValidateMetricLabels({{"ok", "1"}, {name, "v"}});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
  }
  EXPECT_THAT(ValidateMetricLabels({{"a:b", "v"}}).message(),
              HasSubstr("\"a:b\""));
  EXPECT_THAT(ValidateMetricLabels({{"__x", "v"}}).message(),
              HasSubstr("\"__x\""));
}

TEST(ValidateMetricLabelsTest, RejectsDuplicateLabel) {
  const absl::Status s =
      ValidateMetricLabels({{"a", "1"}, {"b", "2"}, {"a", "3"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"a\""));
  EXPECT_THAT(s.message(), HasSubstr("twice"));
  // Same name with the same value is a duplicate too.
  EXPECT_FALSE(ValidateMetricLabels({{"x", "1"}, {"x", "1"}}).ok());
  // Names differing in case are different names.
  EXPECT_TRUE(ValidateMetricLabels({{"x", "1"}, {"X", "1"}}).ok());
}

}  // namespace
}  // namespace tao
