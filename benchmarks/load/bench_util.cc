#include "benchmarks/load/bench_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tao/base/open_file_limit.h"

namespace tao::bench {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<sockaddr_in> ParseIpv4(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\" is not host:port"));
  }
  std::string host(text.substr(0, colon));
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\" has a bad port"));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", text, "\": \"", host, "\" is not an IPv4 address"));
  }
  return addr;
}

std::string FormatIpv4(const sockaddr_in& addr) {
  char host[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, host, sizeof(host));
  return absl::StrCat(host, ":", ntohs(addr.sin_port));
}

absl::StatusOr<int> ListenTcp(const sockaddr_in& addr, bool reuse_port,
                              sockaddr_in* bound) {
  const int fd =
      ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (reuse_port &&
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    absl::Status s = Errno("setsockopt(SO_REUSEPORT)");
    ::close(fd);
    return s;
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    absl::Status s = Errno(absl::StrCat("bind ", FormatIpv4(addr)));
    ::close(fd);
    return s;
  }
  if (::listen(fd, SOMAXCONN) != 0) {
    absl::Status s = Errno("listen");
    ::close(fd);
    return s;
  }
  socklen_t len = sizeof(*bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(bound), &len);
  return fd;
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return Errno(absl::StrCat("open ", tmp));
  std::fprintf(f, "%d\n", port);
  if (std::fclose(f) != 0) return Errno(absl::StrCat("write ", tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Errno(absl::StrCat("rename to ", path));
  }
  return absl::OkStatus();
}

uint64_t RaiseFdLimit() {
  absl::StatusOr<OpenFileLimit> limit = RaiseOpenFileLimit();
  return limit.ok() ? limit->soft : 0;
}

ShutdownSignal::ShutdownSignal() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int ShutdownSignal::Wait() {
  int signal = 0;
  sigwait(&set_, &signal);
  return signal;
}

bool SleepUntil(const ShutdownSignal& signals, int64_t deadline_ns) {
  for (;;) {
    const int64_t left = deadline_ns - NowNs();
    if (left <= 0) return false;
    timespec ts{left / 1000000000, left % 1000000000};
    const int s = ::sigtimedwait(&signals.set(), nullptr, &ts);
    if (s > 0) return true;
    if (s < 0 && errno == EAGAIN) return false;
  }
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += absl::StrFormat("\\u%04x", ch);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return absl::OkStatus();
  }
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return Errno(absl::StrCat("open ", path));
  std::fputs(text.c_str(), f);
  if (std::fclose(f) != 0) return Errno(absl::StrCat("write ", path));
  return absl::OkStatus();
}

}  // namespace tao::bench
