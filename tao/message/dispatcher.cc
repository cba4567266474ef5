#include "tao/message/dispatcher.h"

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "codec/tlv_codec.h"
#include "tao/base/logging.h"

namespace tao {
namespace {

constexpr int32_t kHeartbeatType = 0;
constexpr auto kRelaxed = std::memory_order_relaxed;

int ResolveHandlerThreads(int requested) {
  if (requested >= 0) return requested;
  unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

}  // namespace

std::shared_ptr<const Codec> CodecOrDefault(
    std::shared_ptr<const Codec> codec) {
  if (codec != nullptr) return codec;
  // The process-wide TLV codec is never destroyed: alias it, don't own it.
  return std::shared_ptr<const Codec>(std::shared_ptr<const Codec>(),
                                      &TlvCodec::Default());
}

// Per-connection dispatch state, kept in the connection's protocol slot.
// Loop-thread only, except the strand (thread-safe itself).
struct Dispatcher::ConnectionState {
  std::shared_ptr<WorkerPool::Strand> strand;
};

Dispatcher::Dispatcher(const Registry* registry, const Codec* codec,
                       const EndpointOptions& options, Server* server,
                       Client* client, ErrorCallback on_error)
    : registry_(registry),
      codec_(codec),
      unknown_type_policy_(options.unknown_type_policy),
      max_queued_messages_(std::max<size_t>(options.max_queued_messages, 2)),
      server_(server),
      client_(client),
      on_error_(std::move(on_error)) {
  const int threads = ResolveHandlerThreads(options.handler_threads);
  if (threads > 0) pool_ = std::make_unique<WorkerPool>(threads);
}

Dispatcher::~Dispatcher() { Shutdown(); }

void Dispatcher::Shutdown() {
  if (pool_ != nullptr) pool_->Shutdown();
}

DispatchStats Dispatcher::stats() const {
  DispatchStats stats;
  stats.messages = messages_.load(kRelaxed);
  stats.heartbeats = heartbeats_.load(kRelaxed);
  stats.unknown_types = unknown_types_.load(kRelaxed);
  stats.bad_frames = bad_frames_.load(kRelaxed);
  stats.bad_payloads = bad_payloads_.load(kRelaxed);
  return stats;
}

void Dispatcher::OnData(Connection& connection, Buffer& input) {
  while (connection.state() != Connection::State::kClosed) {
    absl::StatusOr<std::optional<Frame>> frame = codec_->Decode(input.view());
    if (!frame.ok()) {
      bad_frames_.fetch_add(1, kRelaxed);
      input.RetrieveAll();
      connection.CloseWithError(
          absl::Status(frame.status().code(),
                       absl::StrCat("bad ", codec_->name(), " frame from ",
                                    connection.peer_address().ToString(), ": ",
                                    frame.status().message())));
      return;
    }
    if (!frame->has_value()) return;  // wait for more bytes
    const Frame& f = **frame;
    HandleFrame(connection, f);
    input.Retrieve(f.size);
  }
  input.RetrieveAll();  // closed by a handler: nothing more to deliver
}

void Dispatcher::HandleFrame(Connection& connection, const Frame& frame) {
  if (!registry_->Contains(frame.type)) {
    if (frame.type == kHeartbeatType) {
      // Go tao's heartbeat: receiving it is the point (it refreshed the
      // connection's last-read time).
      heartbeats_.fetch_add(1, kRelaxed);
      return;
    }
    unknown_types_.fetch_add(1, kRelaxed);
    absl::Status unknown = absl::NotFoundError(absl::StrCat(
        "unknown message type ", frame.type, " (", frame.payload.size(),
        " bytes) from ", connection.peer_address().ToString()));
    if (unknown_type_policy_ == UnknownTypePolicy::kClose) {
      connection.CloseWithError(std::move(unknown));
    } else if (on_error_) {
      on_error_(connection, unknown);
    }
    return;
  }
  messages_.fetch_add(1, kRelaxed);
  if (pool_ == nullptr) {
    RunHandler(connection, frame.type, frame.payload);
  } else {
    Enqueue(connection, frame.type, frame.payload);
  }
}

void Dispatcher::RunHandler(Connection& connection, int32_t type,
                            absl::string_view payload) {
  Context context(connection, server_, client_, type);
  absl::Status status = registry_->Dispatch(context, type, payload);
  if (!status.ok()) {
    bad_payloads_.fetch_add(1, kRelaxed);
    connection.CloseWithError(std::move(status));
  }
}

void Dispatcher::Enqueue(Connection& connection, int32_t type,
                         absl::string_view payload) {
  auto* state = static_cast<ConnectionState*>(connection.protocol_state());
  if (state == nullptr) {
    auto fresh = std::make_shared<ConnectionState>();
    fresh->strand = pool_->NewStrand();
    state = fresh.get();
    connection.set_protocol_state(std::move(fresh));
  }
  ConnectionPtr keep_alive = connection.shared_from_this();
  const size_t queued = state->strand->Post(
      [this, keep_alive, type, payload = std::string(payload)] {
        RunHandler(*keep_alive, type, payload);
      });
  if (queued >= max_queued_messages_) {
    connection.PauseReading();
    std::weak_ptr<Connection> weak = keep_alive;
    state->strand->NotifyWhenAtMost(max_queued_messages_ / 2, [weak] {
      if (ConnectionPtr c = weak.lock()) c->ResumeReading();
    });
  }
}

}  // namespace tao
