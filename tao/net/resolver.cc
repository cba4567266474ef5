#include "tao/net/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <deque>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tao/net/event_loop.h"

namespace tao {
namespace {

// The process's resolver thread and its queue. Leaked on purpose: a request
// may be in flight while static destructors run.
class ResolverThread {
 public:
  struct Job {
    std::string host;
    uint16_t port;
    std::shared_ptr<ResolveRequest> request;
  };

  static ResolverThread& Get() {
    static ResolverThread* const instance = new ResolverThread();
    return *instance;
  }

  void Post(Job job) {
    absl::MutexLock lock(&mu_);
    jobs_.push_back(std::move(job));
  }

 private:
  ResolverThread() {
    std::thread([this] { Run(); }).detach();
  }

  void Run() {
    for (;;) {
      Job job;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](std::deque<Job>* jobs) { return !jobs->empty(); }, &jobs_));
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job.request->Deliver(ResolveBlocking(job.host, job.port));
    }
  }

  absl::Mutex mu_;
  std::deque<Job> jobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::optional<HostPort> ParseHostName(absl::string_view address) {
  if (address.empty() || address.front() == '[' ||
      absl::StartsWith(address, "unix:")) {
    return std::nullopt;
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return std::nullopt;
  HostPort result;
  result.host = std::string(address.substr(0, colon));
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return std::nullopt;
  }
  result.port = static_cast<uint16_t>(port);
  if (absl::EqualsIgnoreCase(result.host, "localhost")) return std::nullopt;
  // A name has a letter or a '-' somewhere; dotted digits are an address.
  bool name = false;
  for (char c : result.host) {
    if (c == ':' || c == '[' || c == ']' || c == '/' ||
        absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
    if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '-') {
      name = true;
    }
  }
  if (!name) return std::nullopt;
  return result;
}

absl::StatusOr<InetAddress> ResolveBlocking(const std::string& host,
                                            uint16_t port) {
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  struct addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    const std::string message = absl::StrCat(
        "cannot resolve host '", host, "': ",
        rc == EAI_SYSTEM ? std::string("system error") : gai_strerror(rc));
    if (rc == EAI_AGAIN) return absl::UnavailableError(message);
    return absl::NotFoundError(message);
  }
  absl::StatusOr<InetAddress> address = absl::NotFoundError(
      absl::StrCat("cannot resolve host '", host, "': no stream address"));
  for (struct addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    address = InetAddress::FromSockaddr(ai->ai_addr, ai->ai_addrlen);
    if (address.ok()) break;
  }
  freeaddrinfo(found);
  return address;
}

void ResolveRequest::Cancel() {
  absl::MutexLock lock(&mu_);
  loop_ = nullptr;
  cancelled_->store(true, std::memory_order_release);
}

void ResolveRequest::Deliver(absl::StatusOr<InetAddress> result) {
  // Under mu_, so a Cancel() that returned has either stopped this or waited
  // for the handover to the loop to finish (and then the answer sees the
  // flag there).
  absl::MutexLock lock(&mu_);
  if (loop_ == nullptr) return;
  loop_->QueueInLoop([cancelled = cancelled_, done = std::move(done_),
                      result = std::move(result)]() mutable {
    if (cancelled->load(std::memory_order_acquire)) return;
    done(std::move(result));
  });
  loop_ = nullptr;
}

std::shared_ptr<ResolveRequest> ResolveOnLoop(EventLoop* loop, std::string host,
                                              uint16_t port,
                                              ResolveRequest::Callback done) {
  auto request = std::make_shared<ResolveRequest>(loop, std::move(done));
  ResolverThread::Get().Post({std::move(host), port, request});
  return request;
}

}  // namespace tao
