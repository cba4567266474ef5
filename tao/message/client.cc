#include "tao/message/client.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/base/status_macros.h"
#include "tao/message/metrics_export.h"

namespace tao {
namespace {

absl::Status NotConnected() {
  return absl::UnavailableError("client is not connected");
}

}  // namespace

Client::Client(ClientOptions options, const Registry* registry,
               EventLoopThreadPool* loops)
    : MessageEndpoint(options, registry),
      options_(std::move(options)),
      tcp_(options_, core_.factory(), loops) {
  // Starting the workers cannot fail but for a bad handler_threads, which
  // Connect reports.
  start_status_ = core_.Start();
  collector_ = metrics_.AddCollector([this](MetricSink& sink) {
    sink.AddGauge("tao_connections_open", "Connections open now.", {},
                  static_cast<double>(connection_count()));
    EmitMessageMetrics(core_.stats(), core_.dispatcher(), sink);
    EmitHandshakeMetrics(options_.tls.get(), sink);
  });
}

Client::~Client() {
  Stop();
  metrics_.RemoveCollector(collector_);
}

absl::Status Client::Connect(absl::string_view address) {
  if (!start_status_.ok()) return start_status_;
  TAO_RETURN_IF_ERROR(tcp_.Connect(address));
  return StartMetrics();
}

void Client::Stop() {
  DrainMetrics();
  tcp_.Stop();
  core_.Shutdown();
  StopMetrics();
}

absl::Status Client::Send(const google::protobuf::Message& message) {
  ConnectionPtr current = connection();
  if (current == nullptr) return NotConnected();
  return Endpoint::Send(*current, message);
}

absl::Status Client::SendRaw(int32_t type, absl::string_view payload) {
  ConnectionPtr current = connection();
  if (current == nullptr) return NotConnected();
  return Endpoint::SendRaw(*current, type, payload);
}

ConnectionPtr Client::Find(uint64_t id) const {
  ConnectionPtr current = connection();
  return current != nullptr && current->id() == id ? current : nullptr;
}

void Client::ForEach(
    const std::function<void(const ConnectionPtr&)>& fn) const {
  if (ConnectionPtr current = connection()) fn(current);
}

size_t Client::connection_count() const {
  return connection() != nullptr ? 1 : 0;
}

}  // namespace tao
