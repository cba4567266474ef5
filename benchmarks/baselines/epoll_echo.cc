// epoll_echo: the smallest correct TLV echo server we could write with raw
// edge-triggered epoll and no framework: this machine's ceiling for the
// protocol that tao and asio are measured on.
//
//   epoll_echo --address=127.0.0.1:0 --port_file=/tmp/port [--threads=1]
//
// Per readiness event it reads everything available (one recv while the
// buffer fills up; a short read means the socket is drained and edge
// triggering reports the next arrival) and answers all complete frames of
// the read with one send. Frames are echoed byte for byte, whatever their
// type; a length above 8 MiB (Go tao's limit) closes the connection. With
// --threads=N, N loops each own a SO_REUSEPORT listener on the same port.
// Runs until SIGINT/SIGTERM.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "benchmarks/load/bench_util.h"

ABSL_FLAG(std::string, address, "127.0.0.1:0", "address to listen on");
ABSL_FLAG(std::string, port_file, "",
          "write the port listened on to this file");
ABSL_FLAG(int, threads, 1, "event loops, each with its own listener");

namespace {

constexpr uint32_t kMaxPayload = 8 << 20;
constexpr size_t kReadSize = 256 << 10;
constexpr size_t kMaxQueued = 16 << 20;  // stop reading above this

struct Conn {
  int fd;
  std::string in;   // a partial frame carried to the next read
  std::string out;  // echoes the socket did not take yet
};

class Loop {
 public:
  Loop(int listener, int stop_fd) : listener_(listener), stop_fd_(stop_fd) {}

  void Run() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;  // level-triggered: accept a batch per wake-up
    ev.data.ptr = &listener_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, listener_, &ev);
    ev.data.ptr = &stop_fd_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, stop_fd_, &ev);
    std::unique_ptr<char[]> buffer(new char[kReadSize]);
    buffer_ = buffer.get();
    epoll_event events[256];
    for (;;) {
      const int n = ::epoll_wait(ep_, events, 256, -1);
      for (int i = 0; i < n; ++i) {
        void* p = events[i].data.ptr;
        if (p == &stop_fd_) {
          Shutdown();
          return;
        }
        if (p == &listener_) {
          Accept();
          continue;
        }
        Conn* c = static_cast<Conn*>(p);
        if (c->fd < 0) continue;  // closed earlier in this batch
        if (events[i].events & EPOLLERR) {
          Close(c);
          continue;
        }
        if ((events[i].events & EPOLLOUT) && !c->out.empty() && !Flush(c)) {
          continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLHUP)) Read(c);
      }
      for (Conn* c : closed_) {
        conns_.erase(c);
        delete c;
      }
      closed_.clear();
    }
  }

 private:
  void Accept() {
    for (;;) {
      const int fd =
          ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // EAGAIN, or out of fds: try again on the next wake-up
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      Conn* c = new Conn{fd, {}, {}};
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
      ev.data.ptr = c;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      conns_.insert(c);
    }
  }

  void Read(Conn* c) {
    for (;;) {
      if (c->out.size() > kMaxQueued) return;  // resumed by Flush
      const ssize_t r = ::recv(c->fd, buffer_, kReadSize, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        Close(c);
        return;
      }
      if (r < 0) {
        if (errno == EINTR) continue;
        return;  // EAGAIN: drained
      }
      // The bytes to frame: the fresh read, after any carried partial frame.
      const char* data = buffer_;
      size_t size = static_cast<size_t>(r);
      if (!c->in.empty()) {
        c->in.append(buffer_, size);
        data = c->in.data();
        size = c->in.size();
      }
      size_t complete = 0;
      while (size - complete >= 8) {
        uint32_t length;
        std::memcpy(&length, data + complete + 4, 4);  // little-endian host
        if (length > kMaxPayload) {
          Close(c);
          return;
        }
        if (size - complete - 8 < length) break;
        complete += 8 + length;
      }
      if (complete > 0 && !Send(c, data, complete)) return;
      if (data == buffer_) {
        c->in.assign(data + complete, size - complete);
      } else {
        c->in.erase(0, complete);
      }
      if (static_cast<size_t>(r) < kReadSize) return;  // drained
    }
  }

  // Sends at once when nothing is queued; queues what the socket refuses.
  bool Send(Conn* c, const char* data, size_t size) {
    if (c->out.empty()) {
      const ssize_t w = ::send(c->fd, data, size, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        Close(c);
        return false;
      }
      const size_t sent = w > 0 ? static_cast<size_t>(w) : 0;
      data += sent;
      size -= sent;
    }
    c->out.append(data, size);
    return true;
  }

  // Writes queued output; resumes reading when it drained. False if closed.
  bool Flush(Conn* c) {
    while (!c->out.empty()) {
      const ssize_t w =
          ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        Close(c);
        return false;
      }
      const bool was_blocked = c->out.size() > kMaxQueued;
      c->out.erase(0, static_cast<size_t>(w));
      if (was_blocked && c->out.size() <= kMaxQueued) {
        Read(c);  // edge-triggered: input may be waiting since we stopped
        return true;
      }
    }
    return true;
  }

  // Closes now; freed after the current batch of events, which may still
  // name it. epoll forgets a closed fd by itself.
  void Close(Conn* c) {
    ::close(c->fd);
    c->fd = -1;
    closed_.push_back(c);
  }

  void Shutdown() {
    for (Conn* c : conns_) {
      if (c->fd >= 0) ::close(c->fd);
      delete c;
    }
    conns_.clear();
    closed_.clear();
    ::close(ep_);
  }

  int listener_;
  int stop_fd_;
  int ep_ = -1;
  char* buffer_ = nullptr;
  absl::flat_hash_set<Conn*> conns_;
  std::vector<Conn*> closed_;
};

}  // namespace

int main(int argc, char** argv) {
  tao::bench::ShutdownSignal shutdown;  // before any thread starts
  absl::SetProgramUsageMessage(
      "minimal epoll TLV echo server: --address=127.0.0.1:0 --port_file=PATH");
  absl::ParseCommandLine(argc, argv);
  tao::bench::RaiseFdLimit();
  absl::StatusOr<sockaddr_in> address =
      tao::bench::ParseIpv4(absl::GetFlag(FLAGS_address));
  if (!address.ok()) {
    std::fprintf(stderr, "epoll_echo: %s\n",
                 address.status().ToString().c_str());
    return 2;
  }
  const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
  std::vector<int> listeners;
  sockaddr_in bound = *address;
  for (int i = 0; i < threads; ++i) {
    absl::StatusOr<int> fd = tao::bench::ListenTcp(bound, threads > 1, &bound);
    if (!fd.ok()) {
      std::fprintf(stderr, "epoll_echo: %s\n", fd.status().ToString().c_str());
      return 1;
    }
    listeners.push_back(*fd);
  }
  absl::Status written = tao::bench::WritePortFile(
      absl::GetFlag(FLAGS_port_file), ntohs(bound.sin_port));
  if (!written.ok()) {
    std::fprintf(stderr, "epoll_echo: %s\n", written.ToString().c_str());
    return 1;
  }
  std::printf("epoll_echo: listening on %s (%d threads)\n",
              tao::bench::FormatIpv4(bound).c_str(), threads);
  std::fflush(stdout);
  const int stop_fd = ::eventfd(0, EFD_CLOEXEC);
  std::vector<std::unique_ptr<Loop>> loops;
  std::vector<std::thread> workers;
  for (int fd : listeners) {
    loops.push_back(std::make_unique<Loop>(fd, stop_fd));
    workers.emplace_back([loop = loops.back().get()] { loop->Run(); });
  }
  shutdown.Wait();
  const uint64_t one = 1;
  if (::write(stop_fd, &one, sizeof(one)) < 0) return 1;  // wakes every loop
  for (std::thread& t : workers) t.join();
  for (int fd : listeners) ::close(fd);
  ::close(stop_fd);
  return 0;
}
