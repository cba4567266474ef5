#include "tao/metrics/metric_registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tao/metrics/exposition.h"

namespace tao {
MetricRegistry::~MetricRegistry() = default;

absl::Status MetricRegistry::CheckNew(absl::string_view name,
                                      absl::string_view help,
                                      const MetricLabels& labels,
                                      Type type) const {
  if (absl::Status s = ValidateMetricName(name); !s.ok()) return s;
  if (absl::Status s = ValidateMetricLabels(labels); !s.ok()) return s;
  if ((type == Type::kCounter) != absl::EndsWith(name, "_total")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric \"", name, "\": counter names end in _total, others do not"));
  }
  if (type == Type::kHistogram) {
    for (const auto& label : labels) {
      if (label.first == "le") {
        return absl::InvalidArgumentError(absl::StrCat(
            "histogram \"", name, "\": the label \"le\" is reserved"));
      }
    }
  }
  for (const Owned& o : owned_) {
    if (o.name != name) continue;
    if (o.type != type || o.help != help) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metric \"", name, "\" exists with another type or help text"));
    }
    if (o.labels == labels) {
      return absl::AlreadyExistsError(
          absl::StrCat("metric \"", name, "\" with these labels exists"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<MetricRegistry::Owned*> MetricRegistry::Insert(
    absl::string_view name, absl::string_view help, MetricLabels labels,
    Type type) {
  if (absl::Status s = CheckNew(name, help, labels, type); !s.ok()) return s;
  Owned& o = owned_.emplace_back();
  o.name = std::string(name);
  o.help = std::string(help);
  o.labels = std::move(labels);
  o.type = type;
  return &o;
}

absl::StatusOr<Counter*> MetricRegistry::AddCounter(absl::string_view name,
                                                    absl::string_view help,
                                                    MetricLabels labels) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Owned*> o =
      Insert(name, help, std::move(labels), Type::kCounter);
  if (!o.ok()) return o.status();
  (*o)->counter = std::make_unique<Counter>();
  return (*o)->counter.get();
}

absl::StatusOr<Gauge*> MetricRegistry::AddGauge(absl::string_view name,
                                                absl::string_view help,
                                                MetricLabels labels) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Owned*> o =
      Insert(name, help, std::move(labels), Type::kGauge);
  if (!o.ok()) return o.status();
  (*o)->gauge = std::make_unique<Gauge>();
  return (*o)->gauge.get();
}

absl::StatusOr<Histogram*> MetricRegistry::AddHistogram(
    absl::string_view name, absl::string_view help, std::vector<double> bounds,
    MetricLabels labels) {
  absl::StatusOr<std::unique_ptr<Histogram>> histogram =
      Histogram::Create(std::move(bounds));
  if (!histogram.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "histogram \"", name, "\": ", histogram.status().message()));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Owned*> o =
      Insert(name, help, std::move(labels), Type::kHistogram);
  if (!o.ok()) return o.status();
  (*o)->histogram = *std::move(histogram);
  return (*o)->histogram.get();
}

uint64_t MetricRegistry::AddCollector(Collector collector) {
  absl::MutexLock lock(&mu_);
  const uint64_t id = next_collector_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void MetricRegistry::RemoveCollector(uint64_t id) {
  absl::MutexLock lock(&mu_);
  collectors_.erase(
      std::remove_if(collectors_.begin(), collectors_.end(),
                     [id](const auto& entry) { return entry.first == id; }),
      collectors_.end());
}

std::string MetricRegistry::Render() const {
  ExpositionWriter writer;
  absl::MutexLock lock(&mu_);
  for (const Owned& o : owned_) {
    switch (o.type) {
      case Type::kCounter:
        writer.AddCounter(o.name, o.help, o.labels, o.counter->Value());
        break;
      case Type::kGauge:
        writer.AddGauge(o.name, o.help, o.labels,
                        static_cast<double>(o.gauge->Value()));
        break;
      case Type::kHistogram:
        writer.AddHistogram(o.name, o.help, o.labels, o.histogram->Snapshot());
        break;
    }
  }
  for (const auto& [id, collector] : collectors_) collector(writer);
  dropped_samples_ += writer.dropped();
  return writer.Finish();
}

uint64_t MetricRegistry::dropped_samples() const {
  absl::MutexLock lock(&mu_);
  return dropped_samples_;
}

}  // namespace tao
