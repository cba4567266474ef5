#include "tao/net/acceptor.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/net/channel.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace {

// Accepts per readiness event, so one busy listener cannot starve the
// loop's other connections.
constexpr int kMaxAcceptsPerEvent = 64;

int OpenSpareFd() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

}  // namespace

absl::StatusOr<Socket> Acceptor::Listen(const InetAddress& address,
                                        bool reuse_port) {
  TAO_ASSIGN_OR_RETURN(Socket socket, Socket::Create(address.family()));
  if (address.is_ip()) {
    TAO_RETURN_IF_ERROR(socket.SetReuseAddr(true));
    if (reuse_port) TAO_RETURN_IF_ERROR(socket.SetReusePort(true));
  }
  TAO_RETURN_IF_ERROR(socket.Bind(address));
  TAO_RETURN_IF_ERROR(socket.Listen());
  return socket;
}

Acceptor::Acceptor(EventLoop* loop, Socket listener)
    : loop_(loop), listener_(std::move(listener)), spare_fd_(OpenSpareFd()) {
  absl::StatusOr<InetAddress> local = listener_.LocalAddress();
  if (local.ok()) local_address_ = *local;
}

Acceptor::~Acceptor() {
  if (channel_ != nullptr && channel_->registered()) channel_->Remove();
  if (spare_fd_ >= 0) ::close(spare_fd_);
}

void Acceptor::Start(NewConnectionCallback callback) {
  loop_->AssertInLoopThread();
  callback_ = std::move(callback);
  channel_ = std::make_unique<Channel>(loop_, listener_.fd(), AsHandler());
  channel_->EnableReading();
}

void Acceptor::Stop() {
  loop_->AssertInLoopThread();
  if (stopped_) return;
  stopped_ = true;
  loop_->Cancel(resume_timer_);
  if (channel_ != nullptr) channel_->Remove();
  listener_.Close();
}

void Acceptor::HandleRead() {
  for (int i = 0; i < kMaxAcceptsPerEvent && !stopped_; ++i) {
    InetAddress peer;
    absl::StatusOr<Socket> accepted = listener_.Accept(&peer);
    if (accepted.ok()) {
      callback_(*std::move(accepted), peer);
      continue;
    }
    if (absl::IsUnavailable(accepted.status())) return;  // drained
    if (absl::IsResourceExhausted(accepted.status())) {
      if (DropOnePending()) continue;
      // Not even the spare helps: stop listening for a while instead of
      // spinning on a listener that stays readable.
      accept_errors_.fetch_add(1, std::memory_order_relaxed);
      TAO_LOG_RATE_LIMITED(ERROR)
          << "accept on " << local_address_.ToString() << ": "
          << accepted.status() << "; pausing accepts for " << kEmfileBackoff;
      channel_->DisableReading();
      resume_timer_ = loop_->RunAfter(kEmfileBackoff, [this] {
        resume_timer_ = TimerId{};
        if (spare_fd_ < 0) spare_fd_ = OpenSpareFd();
        if (!stopped_) channel_->EnableReading();
      });
      return;
    }
    accept_errors_.fetch_add(1, std::memory_order_relaxed);
    TAO_LOG_RATE_LIMITED(ERROR) << "accept on " << local_address_.ToString()
                                << ": " << accepted.status();
    return;
  }
}

bool Acceptor::DropOnePending() {
  if (spare_fd_ < 0) return false;
  ::close(spare_fd_);
  spare_fd_ = -1;
  int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    dropped_for_fd_limit_.fetch_add(1, std::memory_order_relaxed);
    TAO_LOG_RATE_LIMITED(WARNING)
        << "out of file descriptors: dropped a connection on "
        << local_address_.ToString();
  }
  spare_fd_ = OpenSpareFd();
  return fd >= 0 && spare_fd_ >= 0;
}

}  // namespace tao
