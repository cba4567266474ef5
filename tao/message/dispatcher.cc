#include "tao/message/dispatcher.h"

#include <time.h>

#include <algorithm>
#include <exception>
#include <string>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "codec/tlv_codec.h"
#include "tao/base/freed_memory.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/base/thread_count.h"
#include "tao/message/context.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// One handler call in this many is timed for the latency histogram (per
// thread), so timing costs two clock reads per 32 messages.
constexpr uint32_t kLatencySampleEvery = 32;

int64_t MonotonicNanos() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

std::shared_ptr<const Codec> CodecOrDefault(
    std::shared_ptr<const Codec> codec) {
  if (codec != nullptr) return codec;
  // The process-wide TLV codec is never destroyed: alias it, don't own it.
  return std::shared_ptr<const Codec>(std::shared_ptr<const Codec>(),
                                      &TlvCodec::Default());
}

Dispatcher::Dispatcher(const Registry* registry, const Codec* codec,
                       const MessageOptions& options, const Endpoint* endpoint,
                       ErrorCallback on_error)
    : registry_(registry),
      codec_(codec),
      endpoint_(endpoint),
      handler_threads_(options.handler_threads),
      unknown_type_policy_(options.unknown_type_policy),
      frame_timeout_(options.frame_timeout),
      max_queued_messages_(std::max<size_t>(options.max_queued_messages, 2)),
      max_queued_bytes_(std::max<size_t>(options.max_queued_bytes, 2)),
      max_total_queued_bytes_(
          std::max<size_t>(options.max_total_queued_bytes, 2)),
      on_error_(std::move(on_error)),
      handled_(std::make_unique<TypeCounters>(registry)),
      handler_latency_(*Histogram::Create(LatencyBuckets())) {}

Dispatcher::~Dispatcher() { Shutdown(); }

absl::Status Dispatcher::Start() {
  if (pool_ != nullptr) return absl::OkStatus();
  // Every handler is registered by now (no connection exists yet).
  handled_ = std::make_unique<TypeCounters>(registry_);
  TAO_ASSIGN_OR_RETURN(const int threads,
                       ResolveThreadCount(handler_threads_, "handler_threads"));
  if (threads > 0) pool_ = std::make_unique<WorkerPool>(threads);
  return absl::OkStatus();
}

void Dispatcher::Shutdown() {
  if (pool_ != nullptr) pool_->Shutdown();
}

DispatchStats Dispatcher::stats() const {
  DispatchStats stats;
  stats.messages = handled_->total();
  stats.heartbeats = heartbeats_.Value();
  stats.unknown_types = unknown_types_.load(kRelaxed);
  stats.bad_frames = bad_frames_.load(kRelaxed);
  stats.bad_payloads = bad_payloads_.load(kRelaxed);
  stats.handler_exceptions = handler_exceptions_.load(kRelaxed);
  stats.handled_after_close = handled_after_close_.load(kRelaxed);
  stats.queued_bytes = total_queued_bytes_.load(kRelaxed);
  // Done after enqueued: never below zero.
  const uint64_t done = dequeued_.Value();
  const uint64_t posted = enqueued_.Value();
  stats.queued_messages = posted > done ? posted - done : 0;
  stats.peak_queued_bytes = peak_queued_bytes_.load(kRelaxed);
  stats.queue_full_pauses = queue_full_pauses_.load(kRelaxed);
  stats.frame_timeouts = frame_timeouts_.load(kRelaxed);
  stats.truncated_frames = truncated_frames_.load(kRelaxed);
  return stats;
}

void Dispatcher::OnData(Connection& connection, Buffer& input,
                        ConnectionState& state) {
  // Every exit posts what was decoded: no batch stays open between calls,
  // so nothing posted to the strand later (Execute) can overtake it.
  absl::Cleanup post = [&] { PostBatch(connection, state); };
  bool decoded = false;
  while (connection.state() != Connection::State::kClosed) {
    if (pool_ != nullptr && input.readable_bytes() > 0 &&
        PauseIfBacklogFull(connection, state)) {
      // The rest stays in `input` until reading resumes; the peer is not
      // the one holding it up.
      state.partial_since_ns = 0;
      return;
    }
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
    if (!frame->has_value()) {  // wait for more bytes
      TrackPartialFrame(connection, state, input, decoded);
      return;
    }
    const Frame& f = **frame;
    HandleFrame(connection, f, state);
    input.Retrieve(f.size);
    decoded = true;
  }
  input.RetrieveAll();  // closed by a handler: nothing more to deliver
}

absl::Status Dispatcher::OnPeerEof(Connection& connection,
                                   const Buffer& unconsumed,
                                   ConnectionState& state) {
  state.partial_since_ns = 0;  // no deadline for a frame that cannot end
  if (unconsumed.readable_bytes() == 0) return absl::OkStatus();
  truncated_frames_.fetch_add(1, kRelaxed);
  return absl::DataLossError(absl::StrCat(
      connection.peer_address().ToString(), " closed its side in the middle ",
      "of a ", codec_->name(), " frame (", unconsumed.readable_bytes(),
      " bytes of it received)"));
}

void Dispatcher::TrackPartialFrame(Connection& connection,
                                   ConnectionState& state, const Buffer& input,
                                   bool decoded) {
  if (input.readable_bytes() == 0 || frame_timeout_ <= absl::ZeroDuration()) {
    state.partial_since_ns = 0;
    return;
  }
  // A frame completed in this call: the one left is a new one.
  if (decoded || state.partial_since_ns == 0) {
    state.partial_since_ns = ToNanos(connection.loop()->Now());
  }
  if (!state.deadline_armed)
    ArmFrameDeadline(connection, state, frame_timeout_);
}

void Dispatcher::ArmFrameDeadline(Connection& connection,
                                  ConnectionState& state,
                                  absl::Duration delay) {
  state.deadline_armed = true;
  // On the loop (where `state`'s deadline fields live); the connection,
  // while it exists, keeps its handler and so `state` alive.
  connection.loop()->RunAfter(
      delay, [this, weak = connection.weak_from_this(), &state] {
        ConnectionPtr self = weak.lock();
        if (self == nullptr || self->state() == Connection::State::kClosed)
          return;
        state.deadline_armed = false;
        if (state.partial_since_ns == 0) return;
        const absl::Duration elapsed =
            ToDuration(self->loop()->Now() - FromNanos(state.partial_since_ns));
        if (elapsed < frame_timeout_) {
          ArmFrameDeadline(*self, state, frame_timeout_ - elapsed);
          return;
        }
        frame_timeouts_.fetch_add(1, kRelaxed);
        self->CloseWithError(absl::DeadlineExceededError(absl::StrCat(
            "a frame from ", self->peer_address().ToString(),
            " stayed incomplete for ", absl::FormatDuration(elapsed),
            " (frame_timeout ", absl::FormatDuration(frame_timeout_), ")")));
      });
}

void Dispatcher::HandleFrame(Connection& connection, const Frame& frame,
                             ConnectionState& state) {
  const Registry::DispatchFn* dispatch =
      registry_ != nullptr ? registry_->Find(frame.type) : nullptr;
  if (dispatch == nullptr) {
    if (frame.type == kHeartbeatType) {
      // Go tao's heartbeat: receiving it is the point (it refreshed the
      // connection's last-read time). Its payload is an int64; Go tao
      // closes on anything else, and so does tao.
      if (frame.payload.size() != sizeof(int64_t)) {
        bad_payloads_.fetch_add(1, kRelaxed);
        connection.CloseWithError(absl::InvalidArgumentError(absl::StrCat(
            "heartbeat from ", connection.peer_address().ToString(), " has ",
            frame.payload.size(),
            " payload bytes, not 8 (an int64 timestamp)")));
        return;
      }
      heartbeats_.Increment();
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
  // Counted before the handler runs: whoever sees its effects sees it
  // counted.
  handled_->Count(frame.type);
  if (pool_ == nullptr) {
    RunHandler(connection, *dispatch, frame.type, frame.payload);
  } else {
    Enqueue(connection, state, *dispatch, frame.type, frame.payload);
  }
}

void Dispatcher::RunHandler(Connection& connection,
                            const Registry::DispatchFn& dispatch, int32_t type,
                            absl::string_view payload) {
  if (connection.state() == Connection::State::kClosed) {
    handled_after_close_.fetch_add(1, kRelaxed);
  }
  Context context(connection, *endpoint_, type);
  // Counts down to the next timed call (the first call of a thread is).
  thread_local uint32_t until_timed = 0;
  const bool timed = until_timed-- == 0;
  if (timed) [[unlikely]]
    until_timed = kLatencySampleEvery - 1;
  const int64_t start_ns = timed ? MonotonicNanos() : 0;
  bool threw = false;
  absl::Status status = Contain(
      [&] { return dispatch(context, payload); },
      [type] { return absl::StrCat("the handler of message type ", type); },
      &threw);
  if (timed) handler_latency_->Observe((MonotonicNanos() - start_ns) * 1e-9);
  if (!status.ok()) {
    (threw ? handler_exceptions_ : bad_payloads_).fetch_add(1, kRelaxed);
    connection.CloseWithError(std::move(status));
  }
}

absl::Status Dispatcher::Threw(const std::string& what, const char* exception) {
  return absl::InternalError(
      exception != nullptr ? absl::StrCat(what, " threw: ", exception)
                           : absl::StrCat(what, " threw a non-std::exception"));
}

WorkerPool::Strand& Dispatcher::StrandOf(ConnectionState& state) {
  if (state.strand == nullptr) state.strand = pool_->NewStrand();
  return *state.strand;
}

void Dispatcher::Enqueue(Connection& connection, ConnectionState& state,
                         const Registry::DispatchFn& dispatch, int32_t type,
                         absl::string_view payload) {
  const size_t bytes = payload.size();
  enqueued_.Increment();
  state.queued_messages.fetch_add(1);
  state.queued_bytes.fetch_add(bytes);
  const size_t total = total_queued_bytes_.fetch_add(bytes) + bytes;
  size_t peak = peak_queued_bytes_.load(kRelaxed);
  while (total > peak &&
         !peak_queued_bytes_.compare_exchange_weak(peak, total, kRelaxed)) {
  }
  if (state.batch == nullptr) {
    state.batch.reset(state.spare.exchange(nullptr));
    if (state.batch == nullptr) state.batch = std::make_unique<Batch>();
  }
  Batch& batch = *state.batch;
  batch.items.push_back({&dispatch, type, bytes});
  batch.payloads.append(payload.data(), payload.size());
  // Workers need not wait for the end of a large read.
  if (batch.payloads.size() >= kPostBatchBytes) PostBatch(connection, state);
}

void Dispatcher::PostBatch(Connection& connection, ConnectionState& state) {
  if (state.batch == nullptr) return;
  state.batch->connection = connection.shared_from_this();
  state.batch->state = &state;
  // Two pointers: the task fits in AnyInvocable's inline storage.
  StrandOf(state).Post([this, batch = std::move(state.batch)]() mutable {
    RunBatch(std::move(batch));
  });
}

void Dispatcher::RunBatch(std::unique_ptr<Batch> batch) {
  Connection& connection = *batch->connection;
  ConnectionState& state = *batch->state;
  const char* payload = batch->payloads.data();
  for (const Batch::Item& item : batch->items) {
    RunHandler(connection, *item.dispatch, item.type,
               absl::string_view(payload, item.size));
    payload += item.size;
    OnHandlerDone(connection, state, item.size);
  }
  // `state` lives as long as the connection: release it last.
  ConnectionPtr keep_alive = std::move(batch->connection);
  batch->items.clear();
  if (const size_t capacity = batch->payloads.capacity();
      capacity > kRetainedBatchBytes) {
    std::string().swap(batch->payloads);
    if (capacity >= kLargeAllocation) NoteLargeFree(capacity);
  } else {
    batch->payloads.clear();
  }
  Batch* expected = nullptr;
  if (state.spare.compare_exchange_strong(expected, batch.get())) {
    (void)batch.release();  // owned by state.spare now
  }
}

bool Dispatcher::OwnBacklogFull(const ConnectionState& state) const {
  return state.queued_messages.load() >= max_queued_messages_ ||
         state.queued_bytes.load() >= max_queued_bytes_;
}

bool Dispatcher::TotalBacklogFull() const {
  return total_queued_bytes_.load() >= max_total_queued_bytes_;
}

bool Dispatcher::PauseIfBacklogFull(Connection& connection,
                                    ConnectionState& state) {
  // Announce the wait first, then look again: a worker that shrinks the
  // backlog meanwhile either sees the announcement or is seen here.
  if (OwnBacklogFull(state)) {
    state.waiting.store(true);
    if (!OwnBacklogFull(state)) {
      state.waiting.store(false);
      return false;
    }
  } else if (TotalBacklogFull()) {
    {
      absl::MutexLock lock(&waiters_mu_);
      total_waiters_.push_back(connection.weak_from_this());
      has_total_waiters_.store(true);
    }
    if (!TotalBacklogFull()) return false;  // a spurious resume is harmless
  } else {
    return false;
  }
  queue_full_pauses_.fetch_add(1, kRelaxed);
  // Inline (loop thread): paused before any worker's resume, which is
  // queued to the loop, can run.
  connection.PauseReading();
  return true;
}

void Dispatcher::OnHandlerDone(Connection& connection, ConnectionState& state,
                               size_t bytes) {
  dequeued_.Increment();
  const size_t messages = state.queued_messages.fetch_sub(1) - 1;
  const size_t own_bytes = state.queued_bytes.fetch_sub(bytes) - bytes;
  const size_t total = total_queued_bytes_.fetch_sub(bytes) - bytes;
  if (state.waiting.load() && messages <= max_queued_messages_ / 2 &&
      own_bytes <= max_queued_bytes_ / 2 && state.waiting.exchange(false)) {
    connection.ResumeReading();
  }
  if (has_total_waiters_.load() && total <= max_total_queued_bytes_ / 2) {
    ResumeTotalWaiters();
  }
}

void Dispatcher::ResumeTotalWaiters() {
  std::vector<std::weak_ptr<Connection>> waiters;
  {
    absl::MutexLock lock(&waiters_mu_);
    waiters.swap(total_waiters_);
    has_total_waiters_.store(false);
  }
  for (const std::weak_ptr<Connection>& weak : waiters) {
    if (ConnectionPtr connection = weak.lock()) connection->ResumeReading();
  }
}

void Dispatcher::Execute(Connection& connection, ConnectionState& state,
                         absl::AnyInvocable<void()> work) {
  // A throwing timer or idle callback closes its connection, not the
  // process.
  auto contained = [this, self = connection.shared_from_this(),
                    work = std::move(work)]() mutable {
    bool threw = false;
    absl::Status status = Contain(
        [&] {
          work();
          return absl::OkStatus();
        },
        [] { return std::string("a connection timer"); }, &threw);
    if (threw) {
      handler_exceptions_.fetch_add(1, kRelaxed);
      self->CloseWithError(std::move(status));
    }
  };
  if (pool_ == nullptr) {
    contained();
    return;
  }
  StrandOf(state).Post(std::move(contained));
}

}  // namespace tao
