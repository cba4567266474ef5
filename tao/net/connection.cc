#include "tao/net/connection.h"

#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/base/logging.h"
#include "tao/net/channel.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace {

// Chunks gathered into one sendmsg. With ~4 KiB Cord flats this is up to
// 256 KiB per syscall.
constexpr int kMaxIovecs = 64;

// Input/output buffer capacity kept once drained (reused by the next read or
// write, so steady traffic allocates nothing); bursts above it give memory
// back.
constexpr size_t kMaxRetainedBuffer = size_t{64} << 10;

}  // namespace

Connection::Connection(EventLoop* loop, uint64_t id,
                       std::unique_ptr<Transport> transport,
                       InetAddress local_address, InetAddress peer_address,
                       std::shared_ptr<const ConnectionOptions> options,
                       std::unique_ptr<ConnectionHandler> handler,
                       std::shared_ptr<OutputBudget> budget,
                       ConnectionOwner* owner)
    : loop_(loop),
      id_(id),
      transport_(std::move(transport)),
      local_address_(local_address),
      peer_address_(peer_address),
      options_(std::move(options)),
      handler_(std::move(handler)),
      budget_(std::move(budget)),
      owner_(owner),
      input_(0) {
  const int64_t now = ToNanos(loop_->Now());
  last_read_ns_.store(now, kRelaxed);
  last_write_ns_.store(now, kRelaxed);
}

Connection::~Connection() {
  TAO_DCHECK(state() == State::kClosed || !established_)
      << "connection " << id_ << " destroyed while open";
  if (channel_ != nullptr && channel_->registered()) channel_->Remove();
  ReleaseBudget();
}

std::string Connection::name() const {
  absl::MutexLock lock(&mu_);
  // Built on demand: an idle connection should not carry the string.
  if (extras_ == nullptr || extras_->name.empty()) {
    return absl::StrCat(peer_address().ToString(), "#", id_);
  }
  return extras_->name;
}

void Connection::set_name(std::string name) {
  absl::MutexLock lock(&mu_);
  ExtrasLocked().name = std::move(name);
}

absl::Status Connection::close_reason() const {
  absl::MutexLock lock(&mu_);
  return close_reason_;
}

MonoTime Connection::last_read_time() const {
  return FromNanos(last_read_ns_.load(kRelaxed));
}

MonoTime Connection::last_write_time() const {
  return FromNanos(last_write_ns_.load(kRelaxed));
}

// ---------------------------------------------------------------------------
// Establishing

void Connection::Establish() {
  loop_->AssertInLoopThread();
  // Closed before it started (e.g. a server Stop racing the accept): its
  // owner already saw the close; there is nothing to start.
  if (state() != State::kConnecting) return;
  channel_ = std::make_unique<Channel>(loop_, transport_->fd(), AsHandler());
  channel_->Tie(shared_from_this());
  ContinueHandshake();
}

void Connection::ContinueHandshake() {
  absl::StatusOr<bool> done = transport_->Handshake();
  if (!done.ok()) {
    CloseInLoop(done.status(), /*report_error=*/true);
    return;
  }
  if (!*done) {
    if (!channel_->IsReading()) channel_->EnableReading();
    if (transport_->WantsWrite() != channel_->IsWriting()) {
      if (transport_->WantsWrite()) {
        channel_->EnableWriting();
      } else {
        channel_->DisableWriting();
      }
    }
    if (!handshake_timer_.valid()) {
      std::weak_ptr<Connection> weak = weak_from_this();
      handshake_timer_ = loop_->RunAfter(options_->handshake_timeout, [weak] {
        std::shared_ptr<Connection> self = weak.lock();
        if (self == nullptr || self->state() != State::kConnecting) return;
        self->handshake_timer_ = TimerId{};
        self->CloseInLoop(
            absl::DeadlineExceededError(absl::StrCat(
                "handshake with ", self->peer_address().ToString(),
                " not finished within ",
                absl::FormatDuration(self->options_->handshake_timeout))),
            /*report_error=*/true);
      });
    }
    return;
  }
  if (handshake_timer_.valid()) {
    loop_->Cancel(handshake_timer_);
    handshake_timer_ = TimerId{};
  }
  FinishEstablish();
}

void Connection::FinishEstablish() {
  if (channel_->IsWriting()) channel_->DisableWriting();
  SetState(State::kConnected);
  established_ = true;
  if (!handler_->OnConnected(*this)) {
    CloseInLoop(absl::CancelledError("refused by OnConnected"),
                /*report_error=*/false);
    return;
  }
  if (state() == State::kClosed) return;  // closed inside OnConnected
  if (owner_ != nullptr) owner_->OnEstablished(*this);
  UpdateReading();
  // Output sent before or inside OnConnect goes out at the end of this
  // event; application data that arrived with the handshake is read now.
  if (!output_.empty()) ScheduleFlush();
  if (transport_->HasBufferedInput() && channel_->IsReading()) HandleRead();
}

// ---------------------------------------------------------------------------
// Sending

absl::Status Connection::Send(absl::string_view bytes) {
  return SendImpl(bytes, /*charge_budget=*/true);
}

absl::Status Connection::Send(const absl::Cord& bytes) {
  return SendImpl(bytes, /*charge_budget=*/true);
}

namespace {

// A frame's header and payload, queued as one.
struct HeaderAndPayload {
  absl::string_view header;
  absl::string_view payload;
  size_t size() const { return header.size() + payload.size(); }
};

template <typename Bytes>
void AppendTo(OutputQueue& queue, const Bytes& bytes) {
  queue.Append(bytes);
}
void AppendTo(OutputQueue& queue, const HeaderAndPayload& bytes) {
  queue.Append(bytes.header);
  queue.Append(bytes.payload);
}

}  // namespace

absl::Status Connection::Send(absl::string_view header,
                              absl::string_view payload) {
  return SendImpl(HeaderAndPayload{header, payload}, /*charge_budget=*/true);
}

absl::Status Connection::Send(const SharedOutput& bytes) {
  return SendImpl(bytes.bytes(), /*charge_budget=*/bytes.budget() == nullptr ||
                                     bytes.budget() != budget_.get());
}

template <typename Bytes>
absl::Status Connection::SendImpl(const Bytes& bytes, bool charge_budget) {
  const State state = this->state();
  if (state != State::kConnected && state != State::kConnecting) {
    return absl::FailedPreconditionError(
        absl::StrCat("connection ", id_, " is ",
                     state == State::kClosed ? "closed" : "shutting down"));
  }
  const size_t n = bytes.size();
  if (n == 0) return absl::OkStatus();
  if (!Reserve(n, charge_budget)) return Overflow(n);
  if (loop_->IsInLoopThread()) {
    // Bytes another thread sent before this Send returned go first, so a
    // reply never overtakes what caused it.
    if (has_pending_.load(std::memory_order_acquire)) MovePendingToOutput();
    if (!charge_budget) uncharged_.emplace_back(appended_, appended_ + n);
    AppendTo(output_, bytes);
    appended_ += n;
    CheckHighWaterMark();
    ScheduleFlush();
    return absl::OkStatus();
  }
  bool queue_drain;
  {
    absl::MutexLock lock(&pending_mu_);
    if (!charge_budget) {
      pending_uncharged_.emplace_back(pending_.size(), pending_.size() + n);
    }
    AppendTo(pending_, bytes);
    has_pending_.store(true, std::memory_order_release);
    queue_drain = !drain_queued_;
    drain_queued_ = true;
  }
  if (queue_drain) {
    loop_->QueueInLoop([self = shared_from_this()] { self->DrainPending(); });
  }
  return absl::OkStatus();
}

bool Connection::Reserve(size_t n, bool charge_budget) {
  const size_t before = queued_bytes_.fetch_add(n, kRelaxed);
  if (before + n > options_->max_output_bytes) {
    queued_bytes_.fetch_sub(n, kRelaxed);
    return false;
  }
  if (budget_ == nullptr || !charge_budget) return true;
  if (!budget_->TryCharge(n)) {
    // Unless sends are to be refused (kDropNewest), the owner may close
    // the connections holding the most instead of failing this one.
    if (options_->overflow_policy == OverflowPolicy::kDropNewest ||
        owner_ == nullptr || !owner_->ReclaimOutputBudget(*this, n)) {
      queued_bytes_.fetch_sub(n, kRelaxed);
      return false;
    }
    budget_->ForceCharge(n);
  }
  budget_held_.fetch_add(n, kRelaxed);
  return true;
}

void Connection::ReleaseBytes(size_t n, size_t charged) {
  if (n == 0) return;
  queued_bytes_.fetch_sub(n, kRelaxed);
  if (budget_ != nullptr && charged > 0) {
    budget_held_.fetch_sub(charged, kRelaxed);
    budget_->Release(charged);
  }
}

void Connection::ReleaseBudget() {
  const size_t held = budget_held_.exchange(0, kRelaxed);
  if (budget_ != nullptr && held > 0) budget_->Release(held);
}

size_t Connection::ConsumeUncharged(size_t n) {
  const uint64_t begin = consumed_;
  const uint64_t end = consumed_ + n;
  consumed_ = end;
  size_t uncharged = 0;
  size_t done = 0;  // ranges fully written
  for (const auto& [first, last] : uncharged_) {
    if (first >= end) break;
    uncharged += std::min(last, end) - std::max(first, begin);
    if (last > end) break;
    ++done;
  }
  uncharged_.erase(uncharged_.begin(), uncharged_.begin() + done);
  return uncharged;
}

absl::Status Connection::Overflow(size_t n) {
  const bool budget_full =
      budget_ != nullptr && n > budget_->limit() - budget_->used();
  absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
      "connection ", id_, ": sending ", n, " bytes would exceed ",
      budget_full
          ? absl::StrCat("the server-wide output budget of ", budget_->limit())
          : absl::StrCat("its output cap of ", options_->max_output_bytes),
      " bytes (", queued_bytes_.load(kRelaxed), " queued; peer not reading?)"));
  if (options_->overflow_policy == OverflowPolicy::kDropNewest) {
    dropped_sends_.fetch_add(1, kRelaxed);
    return status;
  }
  // Never close inline: Send may be running inside this connection's
  // handler.
  loop_->QueueInLoop([self = shared_from_this(), status] {
    self->CloseInLoop(status, /*report_error=*/true);
  });
  return status;
}

void Connection::ScheduleFlush() {
  if (channel_ == nullptr || channel_->IsWriting()) return;  // EPOLLOUT will
  if (in_read_handler_) {
    flush_after_read_ = true;
  } else if (!flush_queued_) {
    flush_queued_ = true;
    loop_->QueueInLoop([self = shared_from_this()] {
      self->flush_queued_ = false;
      self->FlushOutput();
    });
  }
}

void Connection::DrainPending() {
  {
    absl::MutexLock lock(&pending_mu_);
    drain_queued_ = false;
  }
  if (!MovePendingToOutput()) return;
  CheckHighWaterMark();
  if (channel_ != nullptr && !channel_->IsWriting()) FlushOutput();
}

bool Connection::MovePendingToOutput() {
  // Only this (the loop) thread closes: the state cannot change below.
  const bool closed = state() == State::kClosed;
  std::vector<std::pair<size_t, size_t>> uncharged;
  size_t moved = 0;
  {
    absl::MutexLock lock(&pending_mu_);
    moved = pending_.size();
    // Moved under the lock, not swapped out: pending_ keeps its copy
    // buffer, so a worker's reply allocates nothing in steady state.
    if (closed) {
      pending_.Clear();
    } else {
      pending_.MoveTo(output_);
      pending_.Trim(kMaxRetainedBuffer);
    }
    uncharged.swap(pending_uncharged_);
    has_pending_.store(false, std::memory_order_relaxed);
  }
  if (closed) {
    // A Send that raced the close: its bytes (and charge) go.
    queued_bytes_.fetch_sub(moved, kRelaxed);
    ReleaseBudget();
    return false;
  }
  for (const auto& [first, last] : uncharged) {
    uncharged_.emplace_back(appended_ + first, appended_ + last);
  }
  appended_ += moved;
  return true;
}

void Connection::FlushOutput() {
  const State current = state();
  if (current == State::kClosed || current == State::kConnecting ||
      channel_ == nullptr) {
    return;  // closed, or output waits for the handshake
  }
  while (!output_.empty()) {
    struct iovec iov[kMaxIovecs];
    size_t offered = 0;
    const int count = output_.Gather(iov, kMaxIovecs, &offered);
    absl::StatusOr<size_t> written =
        transport_->Write(absl::MakeConstSpan(iov, count));
    if (!written.ok()) {
      CloseInLoop(written.status(), /*report_error=*/true);
      return;
    }
    if (*written == 0) break;
    output_.Consume(*written);
    ReleaseBytes(*written, *written - ConsumeUncharged(*written));
    EventLoop::AddOnOwnerThread(bytes_written_, *written);
    loop_->CountWritten(*written);
    last_write_ns_.store(ToNanos(loop_->Now()), kRelaxed);
    if (*written < offered) break;  // the socket is full
  }
  if (output_.empty()) {
    output_.Trim(kMaxRetainedBuffer);
    if (channel_->IsWriting()) channel_->DisableWriting();
    CheckLowWaterMark();
    if (state() == State::kClosed) return;
    handler_->OnWriteDrained(*this);
    if (state() == State::kClosed) return;
    if (state() == State::kDisconnecting) FinishShutdown();
  } else {
    if (!channel_->IsWriting()) channel_->EnableWriting();
  }
}

void Connection::CheckHighWaterMark() {
  const size_t queued = queued_bytes_.load(kRelaxed);
  if (above_high_water_ || queued <= options_->high_water_mark) return;
  above_high_water_ = true;
  if (options_->overflow_policy == OverflowPolicy::kPauseReading) {
    paused_by_backpressure_ = true;
    UpdateReading();
  }
  handler_->OnHighWater(*this, queued);
}

void Connection::CheckLowWaterMark() {
  const size_t queued = queued_bytes_.load(kRelaxed);
  if (!above_high_water_ || queued > options_->low_water_mark) return;
  above_high_water_ = false;
  if (paused_by_backpressure_) {
    paused_by_backpressure_ = false;
    UpdateReading();
  }
  handler_->OnLowWater(*this, queued);
}

// ---------------------------------------------------------------------------
// Connection-bound timers

TimerId Connection::RunAt(MonoTime deadline, TimerCallback fn) {
  return AddTimer(deadline, absl::ZeroDuration(), std::move(fn));
}

TimerId Connection::RunAfter(absl::Duration delay, TimerCallback fn) {
  return AddTimer(AddDuration(loop_->Now(), delay), absl::ZeroDuration(),
                  std::move(fn));
}

TimerId Connection::RunEvery(absl::Duration interval, TimerCallback fn) {
  return AddTimer(MonoTime{}, interval, std::move(fn));
}

TimerId Connection::AddTimer(MonoTime deadline, absl::Duration interval,
                             TimerCallback fn) {
  const bool periodic = interval > absl::ZeroDuration();
  // The loop's id is known only after scheduling; the callback reads it to
  // forget (one-shot) or cancel (periodic, after close) itself.
  auto id_slot = std::make_shared<std::atomic<uint64_t>>(0);
  EventLoop* loop = loop_;
  // Shared: a periodic timer may have several runs queued on a strand.
  auto task = [weak = weak_from_this(),
               fn = std::make_shared<TimerCallback>(std::move(fn)), id_slot,
               periodic, loop]() mutable {
    std::shared_ptr<Connection> self = weak.lock();
    const TimerId id{id_slot->load(std::memory_order_acquire)};
    if (self == nullptr || self->state() == State::kClosed) {
      if (periodic) loop->Cancel(id);
      return;
    }
    if (!periodic && id.valid()) {
      absl::MutexLock lock(&self->mu_);
      if (self->extras_ != nullptr) self->extras_->timers.erase(id.value);
    }
    // The handler decides where the callback runs (its strand, or here);
    // it may run after the connection closed there, so check again.
    self->handler_->Execute(*self, [self, fn] {
      if (self->state() != State::kClosed) (*fn)(*self);
    });
  };
  // Scheduled and recorded under mu_: a one-shot firing at once (from
  // another thread) waits for its id to be recorded before forgetting it,
  // and a close (which sets kClosed under mu_) either comes first or finds
  // the id to cancel.
  absl::MutexLock lock(&mu_);
  if (state() == State::kClosed) return TimerId{};
  const TimerId id = periodic ? loop_->RunEvery(interval, std::move(task))
                              : loop_->RunAt(deadline, std::move(task));
  id_slot->store(id.value, std::memory_order_release);
  ExtrasLocked().timers.insert(id.value);
  return id;
}

void Connection::CancelTimer(TimerId id) {
  if (!id.valid()) return;
  {
    absl::MutexLock lock(&mu_);
    // Not ours, or already fired: nothing to cancel.
    if (extras_ == nullptr || extras_->timers.erase(id.value) == 0) return;
  }
  loop_->Cancel(id);
}

// ---------------------------------------------------------------------------
// Reading

void Connection::HandleWrite() {
  if (state() == State::kConnecting) {
    ContinueHandshake();
  } else {
    FlushOutput();
  }
}

void Connection::HandleRead() {
  if (state() == State::kConnecting) {
    ContinueHandshake();
    return;
  }
  absl::StatusOr<Transport::ReadResult> result = transport_->Read(input_);
  if (!result.ok()) {
    CloseInLoop(result.status(), /*report_error=*/true);
    return;
  }
  if (result->bytes > 0) {
    EventLoop::AddOnOwnerThread(bytes_read_, result->bytes);
    loop_->CountRead(result->bytes);
    last_read_ns_.store(ToNanos(loop_->Now()), kRelaxed);
    DeliverInput();
    if (state() == State::kClosed) return;
  }
  if (result->eof) {
    HandlePeerEof();
    return;
  }
  ScheduleBufferedRead();
}

void Connection::DeliverInput() {
  in_read_handler_ = true;
  handler_->OnData(*this, input_);
  in_read_handler_ = false;
  if (state() == State::kClosed) return;
  // Give a burst's big buffer back once drained; small ones stay for the
  // next read (no allocation per read in steady state).
  if (input_.readable_bytes() == 0 && input_.capacity() > kMaxRetainedBuffer) {
    input_.ReleaseMemory();
  }
  UpdateHeldInput(input_.readable_bytes());
  if (flush_after_read_) {
    flush_after_read_ = false;
    FlushOutput();
  }
}

void Connection::UpdateHeldInput(size_t after) {
  const size_t before = held_input_.load(kRelaxed);
  if (after == before) return;
  held_input_.store(after, kRelaxed);
  if (owner_ != nullptr) owner_->OnHeldInputChanged(*this, before, after);
}

void Connection::DeliverHeldInput() {
  if (state() == State::kClosed || paused_by_user_) return;
  if (input_.readable_bytes() > 0) {
    DeliverInput();
    if (state() == State::kClosed || paused_by_user_) return;
  }
  if (peer_eof_ && !peer_eof_handled_) HandlePeerEof();
}

void Connection::HandlePeerEof() {
  peer_eof_ = true;
  UpdateReading();
  // The handler paused with input left: it gets that first
  // (DeliverHeldInput), then the EOF.
  if (paused_by_user_ && input_.readable_bytes() > 0) return;
  peer_eof_handled_ = true;
  eof_reason_ = handler_->OnPeerEof(*this, input_);
  if (state() == State::kClosed) return;
  // The peer may only have half-closed and still be waiting for replies:
  // close once the handler answered what it was given and that went out.
  StartLingerTimer();
  AfterHandlerWork(&Connection::FinishPeerEof);
}

void Connection::FinishPeerEof() {
  DrainPending();
  if (state() == State::kClosed) return;
  if (output_.empty()) {
    CloseAfterPeerEof();
    return;
  }
  if (state() == State::kConnected) SetState(State::kDisconnecting);
}

void Connection::AfterHandlerWork(void (Connection::*step)()) {
  handler_->Execute(*this, [self = shared_from_this(), step] {
    // Closed meanwhile: nothing to finish (and the loop may be gone).
    if (self->state() == State::kClosed) return;
    self->loop_->RunInLoop([self, step] {
      if (self->state() != State::kClosed) ((*self).*step)();
    });
  });
}

void Connection::HandleHangUp() {
  if (output_.empty()) {
    CloseInLoop(absl::OkStatus(), /*report_error=*/false);
  } else {
    CloseInLoop(absl::UnavailableError(absl::StrCat(
                    "peer hung up with ", output_.size(), " bytes unsent")),
                /*report_error=*/true);
  }
}

void Connection::HandleSocketError() {
  absl::Status error = transport_->socket().TakeError();
  if (error.ok()) return;  // spurious
  CloseInLoop(std::move(error), /*report_error=*/true);
}

void Connection::UpdateReading() {
  if (channel_ == nullptr || state() == State::kClosed) return;
  const bool want = !peer_eof_ && !paused_by_backpressure_ &&
                    !paused_by_user_ && !paused_for_shutdown_;
  if (want && !channel_->IsReading()) {
    channel_->EnableReading();
  } else if (!want && channel_->IsReading()) {
    channel_->DisableReading();
  }
  if (want) ScheduleBufferedRead();
}

void Connection::ScheduleBufferedRead() {
  if (read_queued_ || !established_ || state() == State::kClosed ||
      !channel_->IsReading() || !transport_->HasBufferedInput()) {
    return;
  }
  // Queued, not run now: the loop's other ready channels go first.
  read_queued_ = true;
  loop_->QueueInLoop([self = shared_from_this()] {
    self->read_queued_ = false;
    if (self->state() != State::kClosed && self->channel_->IsReading() &&
        self->transport_->HasBufferedInput()) {
      self->HandleRead();
    }
  });
}

void Connection::PauseReading() {
  if (state() == State::kClosed) return;
  loop_->RunInLoop([self = shared_from_this()] {
    self->paused_by_user_ = true;
    self->UpdateReading();
  });
}

void Connection::ResumeReading() {
  if (state() == State::kClosed) return;
  loop_->RunInLoop([self = shared_from_this()] {
    if (!self->paused_by_user_) return;
    self->paused_by_user_ = false;
    self->UpdateReading();
    if (self->input_.readable_bytes() > 0 ||
        (self->peer_eof_ && !self->peer_eof_handled_)) {
      // Queued, not inline: ResumeReading may run inside OnData.
      self->loop_->QueueInLoop([self] { self->DeliverHeldInput(); });
    }
  });
}

// ---------------------------------------------------------------------------
// Closing

void Connection::Shutdown() {
  if (state() == State::kClosed) return;
  loop_->RunInLoop([self = shared_from_this()] { self->ShutdownInLoop(); });
}

void Connection::ShutdownInLoop() {
  if (state() == State::kConnecting) {
    CloseInLoop(absl::OkStatus(), /*report_error=*/false);
    return;
  }
  if (state() != State::kConnected || shutdown_requested_) return;
  shutdown_requested_ = true;
  // What the handler was given is answered; nothing new is taken meanwhile.
  paused_for_shutdown_ = true;
  UpdateReading();
  StartLingerTimer();
  AfterHandlerWork(&Connection::FinishShutdownRequest);
}

void Connection::FinishShutdownRequest() {
  if (state() != State::kConnected) return;
  // Bytes other threads sent before this point are delivered too.
  DrainPending();
  if (state() != State::kConnected) return;
  SetState(State::kDisconnecting);
  // Read on, to see the peer's EOF (closing with unread input would send
  // RST).
  paused_for_shutdown_ = false;
  UpdateReading();
  if (output_.empty()) FinishShutdown();
}

void Connection::CloseAfterPeerEof() {
  const bool truncated = !eof_reason_.ok();
  CloseInLoop(std::move(eof_reason_), /*report_error=*/truncated);
}

void Connection::FinishShutdown() {
  if (peer_eof_) {
    CloseAfterPeerEof();
    return;
  }
  if (write_shut_down_) return;
  write_shut_down_ = true;
  absl::Status shut = transport_->ShutdownWrite();
  if (!shut.ok()) CloseInLoop(std::move(shut), /*report_error=*/true);
  // Otherwise keep reading until the peer's EOF closes the connection (so
  // close() never discards unread input, which would send RST).
}

void Connection::StartLingerTimer() {
  if (linger_timer_.valid()) return;
  std::weak_ptr<Connection> weak = weak_from_this();
  linger_timer_ = loop_->RunAfter(options_->linger, [weak] {
    std::shared_ptr<Connection> self = weak.lock();
    if (self == nullptr || self->state() == State::kClosed) return;
    self->linger_timer_ = TimerId{};
    self->CloseInLoop(
        absl::DeadlineExceededError(absl::StrCat(
            "connection ", self->id_, " did not finish closing within ",
            absl::FormatDuration(self->options_->linger),
            " of its shutdown or the peer's EOF (", self->output_.size(),
            " bytes unsent)")),
        /*report_error=*/true);
  });
}

void Connection::Close() {
  if (state() == State::kClosed) return;
  loop_->RunInLoop([self = shared_from_this()] {
    self->CloseInLoop(absl::OkStatus(), /*report_error=*/false);
  });
}

void Connection::CloseWithError(absl::Status reason) {
  if (state() == State::kClosed) return;
  loop_->RunInLoop([self = shared_from_this(), reason = std::move(reason)] {
    self->CloseInLoop(reason, /*report_error=*/true);
  });
}

void Connection::CloseInLoop(absl::Status reason, bool report_error) {
  loop_->AssertInLoopThread();
  if (state() == State::kClosed) return;
  std::shared_ptr<Connection> self = shared_from_this();  // survive the hooks
  absl::flat_hash_set<uint64_t> timers;
  {
    absl::MutexLock lock(&mu_);
    close_reason_ = reason;
    // Under mu_, so AddTimer either sees kClosed or has its id here.
    SetState(State::kClosed);
    if (extras_ != nullptr) timers.swap(extras_->timers);
  }
  for (uint64_t id : timers) loop_->Cancel(TimerId{id});
  for (TimerId* timer : {&linger_timer_, &handshake_timer_}) {
    if (timer->valid()) loop_->Cancel(*timer);
    *timer = TimerId{};
  }
  if (channel_ != nullptr) channel_->Remove();
  transport_->Close();

  UpdateHeldInput(0);
  queued_bytes_.fetch_sub(output_.size(), kRelaxed);
  output_.Clear();
  uncharged_.clear();
  {
    absl::MutexLock lock(&pending_mu_);
    // A DrainPending may still be queued; it releases what arrives later.
    queued_bytes_.fetch_sub(pending_.size(), kRelaxed);
    pending_.Clear();
    pending_uncharged_.clear();
  }
  ReleaseBudget();

  if (report_error && !reason.ok()) handler_->OnError(*this, reason);
  if (owner_ != nullptr) owner_->OnClosing(*this, reason);
  if (established_) handler_->OnClosed(*this, reason);
  if (owner_ != nullptr) owner_->OnClosed(*this);
  // The channel may still be in this iteration's ready list: keep the
  // connection (and its channel) alive until the batch is over.
  loop_->QueueInLoop([self] {});
}

}  // namespace tao
