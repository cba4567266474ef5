#include "tao/net/proxy_header_reader.h"

#include <errno.h>
#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/net/event_loop.h"

namespace tao {

ProxyHeaderReader::ProxyHeaderReader(EventLoop* loop, Socket socket,
                                     absl::Duration timeout, DoneCallback done)
    : loop_(loop),
      socket_(std::move(socket)),
      channel_(loop, socket_.fd(), this),
      timeout_(timeout),
      done_(std::move(done)) {}

ProxyHeaderReader::~ProxyHeaderReader() {
  if (channel_.registered()) channel_.Remove();
}

void ProxyHeaderReader::Start() {
  loop_->AssertInLoopThread();
  if (started_ || finished_) return;
  started_ = true;
  channel_.Tie(shared_from_this());
  std::weak_ptr<ProxyHeaderReader> weak = weak_from_this();
  timer_ = loop_->RunAfter(timeout_, [weak] {
    std::shared_ptr<ProxyHeaderReader> self = weak.lock();
    if (self == nullptr) return;
    self->Finish(absl::DeadlineExceededError(
        absl::StrCat("no complete PROXY header within ",
                     absl::FormatDuration(self->timeout_), " (",
                     self->received_.size(), " bytes of one so far)")));
  });
  channel_.EnableReading();
}

void ProxyHeaderReader::Cancel(absl::Status why) {
  loop_->AssertInLoopThread();
  Finish(std::move(why));
}

void ProxyHeaderReader::OnReadable() {
  char peeked[kProxyMaxLength];
  const size_t room = kProxyMaxLength - received_.size();
  ssize_t n;
  do {
    n = ::recv(socket_.fd(), peeked, room, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    Finish(absl::ErrnoToStatus(errno, "reading the PROXY header"));
    return;
  }
  if (n == 0) {
    Finish(absl::UnavailableError(
        absl::StrCat("the peer closed before its PROXY header ended (",
                     received_.size(), " bytes of it)")));
    return;
  }
  std::string bytes = received_;
  bytes.append(peeked, static_cast<size_t>(n));
  absl::StatusOr<std::optional<ProxyHeader>> parsed = ParseProxyHeader(bytes);
  if (!parsed.ok()) {
    Finish(parsed.status());
    return;
  }
  // Incomplete: every byte seen is the header's. Complete: only the rest
  // of it.
  const size_t take = parsed->has_value() ? (*parsed)->length - received_.size()
                                          : static_cast<size_t>(n);
  ssize_t got;
  do {
    got = ::recv(socket_.fd(), peeked, take, 0);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(take)) {
    // Peeked bytes are queued; reading fewer of them is not expected.
    Finish(got < 0 ? absl::ErrnoToStatus(errno, "reading the PROXY header")
                   : absl::InternalError(absl::StrCat("read ", got, " of ",
                                                      take, " peeked bytes")));
    return;
  }
  if (parsed->has_value()) {
    Finish(**std::move(parsed));
    return;
  }
  received_ = std::move(bytes);
}

void ProxyHeaderReader::OnHangUp() {
  Finish(absl::UnavailableError(
      absl::StrCat("the peer hung up before its PROXY header ended (",
                   received_.size(), " bytes of it)")));
}

void ProxyHeaderReader::OnError() {
  absl::Status error = socket_.TakeError();
  if (error.ok()) error = absl::UnknownError("socket error");
  Finish(std::move(error));
}

void ProxyHeaderReader::Finish(absl::StatusOr<ProxyHeader> result) {
  if (finished_) return;
  finished_ = true;
  loop_->Cancel(timer_);
  if (channel_.registered()) channel_.Remove();
  DoneCallback done = std::move(done_);
  // May destroy this reader: nothing may touch a member afterwards.
  done(this, std::move(result), std::move(socket_));
}

}  // namespace tao
