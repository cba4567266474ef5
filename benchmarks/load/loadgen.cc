// loadgen: a TLV echo load generator (Go tao's wire format: int32 LE type,
// uint32 LE length, payload). Every frame sent must come back unchanged.
//
//   loadgen --address=127.0.0.1:12345 --connections=100 --depth=16
//           --payload=32 --seconds=10 [--rate=50000] [--json=out.json]
//   loadgen --address=127.0.0.1:12345 --idle=10000 --seconds=0  # until ^C
//
// Closed loop (default): each connection keeps --depth frames in flight and
// sends one new frame per echo received; latency is measured from when a
// frame was queued to when its echo was complete.
//
// Open loop (--rate > 0): frames are offered at a fixed total rate spread
// evenly over the connections (still at most --depth in flight per
// connection). Latency is measured from each frame's *intended* send time,
// so a server that stalls is charged for every frame it delayed, not only
// for the one that waited (coordinated omission, as in wrk2/HdrHistogram).
//
// Idle (--idle N): opens N connections, sends nothing and holds them for
// --seconds (0: until SIGINT/SIGTERM); prints "idle: N connections open"
// once all are up. For measuring a server's memory per connection.
// With --burst B, it then waits for a line on stdin, sends one frame of B
// payload bytes on every connection (--burst_concurrency at a time, so the
// server's bound on partial input, 256 MiB by default, is not what is
// measured), reads every echo back, prints "burst: N echoed (S s)" and goes
// idle again: what a server keeps after a burst (its RSS should return to
// about its idle size).
//
// Efficiency: one epoll loop per --threads over raw non-blocking sockets;
// all frames completed by a read are answered with one send() of the next
// frames (taken from one prebuilt block, no copying); every read is parsed
// completely; send timestamps sit in a per-connection ring and latencies go
// into a log-linear histogram, so steady state allocates nothing.
//
// Checking: every byte of the echoed header, the first and the last 16
// payload bytes are compared (the whole frame when it is at most 128
// bytes). Every error (connect, read, write, early close, bad header, bad
// payload, an echo nobody asked for) is counted, its first occurrence
// described, and the exit status is 1 when any occurred.
//
// Lost echoes (--drain S): after the measured time every connection stops
// sending and waits up to S seconds for the echoes of the frames it still
// has in flight; those that never come are reported as "lost" (and the
// exit status is 1). A TCP echo cannot show a dropped frame otherwise: the
// closed loop just carries on one frame short.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
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
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/load/bench_util.h"
#include "benchmarks/load/histogram.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345",
          "echo server, IPv4 host:port");
ABSL_FLAG(int, connections, 1, "connections carrying load");
ABSL_FLAG(int, depth, 1,
          "frames in flight per connection (with --rate: at most this many)");
ABSL_FLAG(int, payload, 32, "payload bytes per frame");
ABSL_FLAG(double, seconds, 5,
          "measured duration; with --idle, how long to hold (0: until killed)");
ABSL_FLAG(double, warmup, 0,
          "seconds of load before measuring starts; the warmup lasts at "
          "least until the first echo (at most --connect_timeout longer), "
          "so a server slow to start is not measured as idle");
ABSL_FLAG(double, rate, 0,
          "open loop: frames per second offered across all connections, "
          "latency from the intended send time (0: closed loop)");
ABSL_FLAG(int, threads, 1, "epoll loops (threads) sharing the connections");
ABSL_FLAG(std::string, json, "",
          "write the summary as JSON to this path (- for stdout)");
ABSL_FLAG(int, idle, 0,
          "open and hold this many idle connections instead of load");
ABSL_FLAG(int, burst, 0,
          "with --idle: on a line from stdin, echo one frame of this many "
          "payload bytes on every connection, then idle again");
ABSL_FLAG(int, burst_concurrency, 1000,
          "with --burst: connections echoing their burst frame at once");
ABSL_FLAG(int, type, 1, "frame type id sent (the echo servers answer type 1)");
ABSL_FLAG(bool, progress, true, "print a progress line every second (stderr)");
ABSL_FLAG(double, connect_timeout, 10,
          "seconds allowed to open all connections");
ABSL_FLAG(std::string, label, "", "free text copied into the JSON output");
ABSL_FLAG(double, drain, 0,
          "at the end, stop sending and wait up to this many seconds for "
          "every echo still in flight; the missing ones are \"lost\" "
          "(0: stop at once, nothing counted as lost)");

namespace tao::bench {
namespace {

enum ErrorKind {
  kConnect,
  kRead,
  kWrite,
  kClosedByPeer,
  kBadHeader,
  kBadPayload,
  kUnexpectedFrame,
  kNumErrorKinds
};
constexpr std::array<const char*, kNumErrorKinds> kErrorNames = {
    "connect",    "read",        "write",           "closed_by_peer",
    "bad_header", "bad_payload", "unexpected_frame"};

// A counter with one writer: a relaxed load and store, no locked RMW.
class Counter {
 public:
  void Add(uint64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct Config {
  sockaddr_in address{};
  int connections = 1;
  int depth = 1;
  uint32_t payload = 32;
  int32_t type = 1;
  double rate = 0;
  int threads = 1;
};

// The byte stream every connection sends: the same frame over and over. The
// block holds depth + 1 copies (fewer when that would exceed 1 MiB, but at
// least two), so all pending bytes, starting at any offset within a frame,
// usually go out in one send() straight from the block.
class FrameStream {
 public:
  explicit FrameStream(const Config& config)
      : frame_size_(8 + config.payload),
        copies_(static_cast<int>(std::clamp<int64_t>(
            std::min<int64_t>(config.depth + 1, (1 << 20) / frame_size_), 2,
            config.depth + 1))) {
    block_.resize(static_cast<size_t>(frame_size_) * copies_);
    std::string frame(frame_size_, '\0');
    const uint32_t type = static_cast<uint32_t>(config.type);
    for (int i = 0; i < 4; ++i) {
      frame[i] = static_cast<char>((type >> (8 * i)) & 0xff);
      frame[4 + i] = static_cast<char>((config.payload >> (8 * i)) & 0xff);
    }
    for (uint32_t i = 0; i < config.payload; ++i) {
      frame[8 + i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    }
    for (int i = 0; i < copies_; ++i) {
      std::memcpy(block_.data() + static_cast<size_t>(i) * frame_size_,
                  frame.data(), frame_size_);
    }
    // Checked windows: all of a small frame; else the header, the first and
    // the last 16 payload bytes.
    if (frame_size_ <= 128) {
      windows_.push_back({0, frame_size_});
    } else {
      windows_.push_back({0, 8 + 16});
      windows_.push_back({frame_size_ - 16, frame_size_});
    }
  }

  uint32_t frame_size() const { return frame_size_; }
  const char* frame() const { return block_.data(); }
  const char* block() const { return block_.data(); }
  size_t block_size() const { return block_.size(); }

  // Compares `n` received bytes that sit at offset `pos` of a frame (pos + n
  // <= frame_size) with what was sent. Returns 0 when they match, else the
  // ErrorKind of the first mismatch.
  int Check(uint32_t pos, const char* data, uint32_t n) const {
    for (const auto& [lo_w, hi_w] : windows_) {
      const uint32_t lo = std::max(lo_w, pos);
      const uint32_t hi = std::min(hi_w, pos + n);
      if (lo >= hi) continue;
      if (std::memcmp(data + (lo - pos), frame() + lo, hi - lo) != 0) {
        for (uint32_t i = lo; i < hi; ++i) {
          if (data[i - pos] != frame()[i]) {
            return i < 8 ? kBadHeader : kBadPayload;
          }
        }
      }
    }
    return 0;
  }

 private:
  const uint32_t frame_size_;
  const int copies_;
  std::string block_;
  std::vector<std::pair<uint32_t, uint32_t>> windows_;
};

struct Conn {
  int fd = -1;
  bool open = false;
  bool want_out = false;     // EPOLLOUT registered
  uint32_t in_pos = 0;       // offset within the frame being received
  uint32_t out_offset = 0;   // offset within a frame of the next byte to send
  uint64_t out_pending = 0;  // bytes queued, not yet sent
  // Timestamps (ns) of frames in flight, oldest first: a ring of
  // ring_mask + 1 entries at `ring`.
  uint64_t* ring = nullptr;
  uint32_t head = 0, tail = 0;  // pop at head, push at tail
  // Open loop: the index of the next frame to send and the connection's
  // first intended send time.
  uint64_t next_k = 0;
  int64_t start_ns = 0;

  uint32_t inflight() const { return tail - head; }
};

class Worker {
 public:
  Worker(const Config& config, const FrameStream& stream, std::vector<int> fds,
         int64_t start_ns, int first_index)
      : config_(config), stream_(stream) {
    ring_mask_ = 1;
    while (ring_mask_ < static_cast<uint32_t>(config.depth)) ring_mask_ <<= 1;
    ring_storage_.reset(new uint64_t[static_cast<size_t>(ring_mask_) *
                                     std::max<size_t>(fds.size(), 1)]);
    ring_mask_ -= 1;
    conns_.resize(fds.size());
    interval_ns_ = config.rate > 0 ? 1e9 * config.connections / config.rate : 0;
    for (size_t i = 0; i < fds.size(); ++i) {
      Conn& c = conns_[i];
      c.fd = fds[i];
      c.open = true;
      c.ring = ring_storage_.get() + i * (ring_mask_ + 1);
      // Stagger the connections' schedules evenly over one interval.
      c.start_ns =
          start_ns + static_cast<int64_t>(interval_ns_ * (first_index + i) /
                                          std::max(config.connections, 1));
    }
    read_buffer_.reset(new char[kReadBuffer]);
  }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    const uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof(one)) < 0) {
      // The loop also stops at its next wake-up; nothing else to do.
    }
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  // Any thread: from now on no new frame is sent (echoes still complete).
  void Drain() { draining_.store(true, std::memory_order_relaxed); }
  absl::Status Init() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || stop_fd_ < 0) {
      return absl::InternalError(
          absl::StrCat("epoll/eventfd: ", std::strerror(errno)));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStopToken;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd_, &ev);
    for (size_t i = 0; i < conns_.size(); ++i) {
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, conns_[i].fd, &ev) != 0) {
        return absl::InternalError(
            absl::StrCat("epoll_ctl: ", std::strerror(errno)));
      }
    }
    return absl::OkStatus();
  }
  ~Worker() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
  }

  // Read by the main thread at any time.
  const LatencyHistogram& histogram() const { return histogram_; }
  uint64_t messages() const { return messages_.Get(); }
  uint64_t payload_bytes() const { return payload_bytes_.Get(); }
  uint64_t errors(int kind) const { return errors_[kind].Get(); }
  uint64_t open_connections() const { return open_.Get(); }
  // Frames sent (or queued) on open connections and not echoed yet.
  uint64_t inflight() const { return inflight_.Get(); }
  // After Join().
  const std::string& first_error(int kind) const { return first_error_[kind]; }
  uint64_t inflight_at_end() const {
    uint64_t n = 0;
    for (const Conn& c : conns_) n += c.open ? c.inflight() : 0;
    return n;
  }

 private:
  static constexpr uint64_t kStopToken = ~uint64_t{0};
  static constexpr size_t kReadBuffer = 256 << 10;

  void Run() {
    if (config_.rate > 0) ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    open_.Add(conns_.size());
    int64_t now = NowNs();
    if (config_.rate > 0) {
      next_due_ns_ = 0;  // scan at once
    } else {
      for (Conn& c : conns_) {
        Queue(c, static_cast<uint32_t>(config_.depth), now);
        Flush(c);
      }
    }
    std::array<epoll_event, 256> events;
    bool stop = false;
    while (!stop) {
      timespec timeout{};
      timespec* timeout_ptr = nullptr;  // closed loop: wait for I/O or stop
      if (config_.rate > 0) {
        const int64_t wait = std::max<int64_t>(0, next_due_ns_ - NowNs());
        timeout.tv_sec = wait / 1000000000;
        timeout.tv_nsec = wait % 1000000000;
        timeout_ptr = &timeout;
      }
      const int n =
          ::epoll_pwait2(epoll_fd_, events.data(),
                         static_cast<int>(events.size()), timeout_ptr, nullptr);
      if (n < 0 && errno != EINTR) {
        std::perror("loadgen: epoll_pwait2");
        break;
      }
      now = NowNs();
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kStopToken) {
          stop = true;
          continue;
        }
        Conn& c = conns_[events[i].data.u64];
        if (!c.open) continue;
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
          HandleRead(c, now);
        if (c.open && (events[i].events & EPOLLOUT)) Flush(c);
      }
      if (config_.rate > 0 && now >= next_due_ns_) ScanDue(now);
    }
  }

  // Appends `frames` frames to the output, timestamped `stamp_ns`.
  void Queue(Conn& c, uint32_t frames, int64_t stamp_ns) {
    if (draining_.load(std::memory_order_relaxed)) return;
    inflight_.Add(frames);
    for (uint32_t i = 0; i < frames; ++i) {
      c.ring[c.tail++ & ring_mask_] = static_cast<uint64_t>(stamp_ns);
    }
    c.out_pending += static_cast<uint64_t>(frames) * stream_.frame_size();
  }

  void Flush(Conn& c) {
    while (c.out_pending > 0) {
      const size_t n = std::min<uint64_t>(c.out_pending,
                                          stream_.block_size() - c.out_offset);
      const ssize_t w =
          ::send(c.fd, stream_.block() + c.out_offset, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          if (!c.want_out) SetWantOut(c, true);
          return;
        }
        Fail(c, kWrite, absl::StrCat("send: ", std::strerror(errno)));
        return;
      }
      c.out_pending -= static_cast<uint64_t>(w);
      c.out_offset = static_cast<uint32_t>(
          (c.out_offset + static_cast<uint64_t>(w)) % stream_.frame_size());
    }
    if (c.want_out) SetWantOut(c, false);
  }

  void SetWantOut(Conn& c, bool on) {
    epoll_event ev{};
    ev.events = on ? EPOLLIN | EPOLLOUT : EPOLLIN;
    ev.data.u64 = static_cast<uint64_t>(&c - conns_.data());
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = on;
  }

  void HandleRead(Conn& c, int64_t now) {
    uint32_t completed = 0;
    for (;;) {
      const ssize_t r = ::recv(c.fd, read_buffer_.get(), kReadBuffer, 0);
      if (r > 0) {
        if (!Consume(c, read_buffer_.get(), static_cast<uint32_t>(r), now,
                     &completed)) {
          return;
        }
        if (static_cast<size_t>(r) < kReadBuffer) break;
        continue;
      }
      if (r == 0) {
        Fail(c, kClosedByPeer, "the server closed the connection");
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      Fail(c, kRead, absl::StrCat("recv: ", std::strerror(errno)));
      return;
    }
    if (completed == 0) return;
    messages_.Add(completed);
    inflight_.Add(-uint64_t{completed});
    payload_bytes_.Add(static_cast<uint64_t>(completed) * config_.payload);
    if (config_.rate > 0) {
      IssueDue(c, now);
    } else {
      Queue(c, completed, now);
      Flush(c);
    }
  }

  // Parses `n` received bytes; false when the connection failed.
  bool Consume(Conn& c, const char* data, uint32_t n, int64_t now,
               uint32_t* completed) {
    const uint32_t frame = stream_.frame_size();
    while (n > 0) {
      const uint32_t take = std::min(n, frame - c.in_pos);
      if (const int bad = stream_.Check(c.in_pos, data, take); bad != 0) {
        Fail(c, static_cast<ErrorKind>(bad),
             bad == kBadHeader
                 ? "an echoed header differs from the one sent (type or length)"
                 : "an echoed payload differs from the one sent");
        return false;
      }
      c.in_pos += take;
      data += take;
      n -= take;
      if (c.in_pos == frame) {
        c.in_pos = 0;
        if (c.inflight() == 0) {
          Fail(c, kUnexpectedFrame, "an echo arrived for a frame never sent");
          return false;
        }
        const int64_t sent =
            static_cast<int64_t>(c.ring[c.head++ & ring_mask_]);
        histogram_.Record(
            static_cast<uint64_t>(std::max<int64_t>(0, now - sent)));
        ++*completed;
      }
    }
    return true;
  }

  int64_t Intended(const Conn& c, uint64_t k) const {
    return c.start_ns +
           static_cast<int64_t>(interval_ns_ * static_cast<double>(k));
  }

  // Open loop: queues every frame of `c` whose intended time has come, as
  // far as the depth allows, stamped with its intended time.
  void IssueDue(Conn& c, int64_t now) {
    if (draining_.load(std::memory_order_relaxed)) return;
    uint32_t queued = 0;
    const uint32_t depth = static_cast<uint32_t>(config_.depth);
    while (c.inflight() < depth) {
      const int64_t due = Intended(c, c.next_k);
      if (due > now) {
        next_due_ns_ = std::min(next_due_ns_, due);
        break;
      }
      Queue(c, 1, due);
      ++c.next_k;
      ++queued;
    }
    if (queued > 0) Flush(c);
  }

  void ScanDue(int64_t now) {
    next_due_ns_ = now + 100'000'000;  // at least every 100 ms
    for (Conn& c : conns_) {
      if (c.open) IssueDue(c, now);
    }
  }

  void Fail(Conn& c, ErrorKind kind, std::string message) {
    if (errors_[kind].Get() == 0) first_error_[kind] = std::move(message);
    errors_[kind].Add(1);
    inflight_.Add(-uint64_t{c.inflight()});  // counted as errors instead
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.open = false;
    open_.Add(~uint64_t{0});  // -1
  }

  const Config& config_;
  const FrameStream& stream_;
  std::vector<Conn> conns_;
  std::unique_ptr<uint64_t[]> ring_storage_;
  uint32_t ring_mask_ = 0;
  double interval_ns_ = 0;
  int64_t next_due_ns_ = 0;
  std::unique_ptr<char[]> read_buffer_;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;
  std::thread thread_;

  LatencyHistogram histogram_;
  Counter messages_;
  Counter payload_bytes_;
  Counter open_;
  Counter inflight_;
  std::atomic<bool> draining_{false};
  std::array<Counter, kNumErrorKinds> errors_;
  std::array<std::string, kNumErrorKinds> first_error_;
};

// Opens `n` TCP connections to `addr` with non-blocking connects, at most
// 256 under way at once (so a slow accept queue does not stall on SYN
// retransmits). Failed attempts are counted in *failures.
std::vector<int> ConnectAll(const sockaddr_in& addr, int n, double timeout_s,
                            uint64_t* failures, std::string* first_failure) {
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(n));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  const int64_t deadline = NowNs() + static_cast<int64_t>(timeout_s * 1e9);
  auto fail = [&](const std::string& why) {
    if (*failures == 0) *first_failure = why;
    ++*failures;
  };
  int started = 0, pending = 0;
  absl::flat_hash_set<int> in_progress;
  std::array<epoll_event, 256> events;
  while (started < n || pending > 0) {
    while (started < n && pending < 256) {
      ++started;
      const int fd =
          ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        fail(absl::StrCat("socket: ", std::strerror(errno)));
        continue;
      }
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr),
                    sizeof(addr)) == 0) {
        fds.push_back(fd);
        continue;
      }
      if (errno != EINPROGRESS) {
        fail(absl::StrCat("connect ", FormatIpv4(addr), ": ",
                          std::strerror(errno)));
        ::close(fd);
        continue;
      }
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.fd = fd;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      in_progress.insert(fd);
      ++pending;
    }
    if (pending == 0) continue;
    const int64_t left_ms = (deadline - NowNs()) / 1000000;
    if (left_ms <= 0) break;
    const int k =
        ::epoll_wait(ep, events.data(), static_cast<int>(events.size()),
                     static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    for (int i = 0; i < k; ++i) {
      const int fd = events[i].data.fd;
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      in_progress.erase(fd);
      --pending;
      if (err == 0) {
        fds.push_back(fd);
      } else {
        fail(absl::StrCat("connect ", FormatIpv4(addr), ": ",
                          std::strerror(err)));
        ::close(fd);
      }
    }
  }
  if (pending > 0 || started < n) {
    // Timed out: whatever is still under way or never started failed.
    const int lost = pending + (n - started);
    for (int i = 0; i < lost; ++i)
      fail("connect timed out (--connect_timeout)");
    for (int fd : in_progress) ::close(fd);
  }
  ::close(ep);
  return fds;
}

// CPU time (user + system) this process used so far, in seconds.
double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string Us(uint64_t ns) { return absl::StrFormat("%.1f", ns / 1000.0); }

struct Totals {
  uint64_t messages = 0;
  uint64_t payload_bytes = 0;
  std::array<uint64_t, kNumErrorKinds> errors{};
  uint64_t error_total = 0;
  uint64_t open = 0;
  HistogramSnapshot histogram;
};

Totals Collect(const std::vector<std::unique_ptr<Worker>>& workers) {
  Totals t;
  HistogramSnapshot one;
  for (const auto& w : workers) {
    t.messages += w->messages();
    t.payload_bytes += w->payload_bytes();
    t.open += w->open_connections();
    for (int k = 0; k < kNumErrorKinds; ++k) t.errors[k] += w->errors(k);
    w->histogram().SnapshotInto(&one);
    t.histogram.Merge(one);
  }
  for (uint64_t e : t.errors) t.error_total += e;
  return t;
}

// Sends one frame of `payload` bytes on every connection (all before any
// echo is read, so the server holds every connection's burst at once),
// then reads every echo. Returns the connections whose echo came back
// whole, or an error.
absl::StatusOr<size_t> EchoBurst(const std::vector<int>& fds, int type,
                                 uint32_t payload, double timeout_s) {
  constexpr size_t kHeaderSize = 8;  // int32 LE type, uint32 LE length
  std::string frame(kHeaderSize + payload, 'b');
  for (int i = 0; i < 4; ++i) {
    frame[i] = static_cast<char>((type >> (8 * i)) & 0xff);
    frame[4 + i] = static_cast<char>((payload >> (8 * i)) & 0xff);
  }
  const int64_t deadline = NowNs() + static_cast<int64_t>(timeout_s * 1e9);
  std::vector<size_t> sent(fds.size(), 0), received(fds.size(), 0);
  std::string scratch(1 << 16, '\0');
  size_t done = 0;
  while (done < fds.size()) {
    if (NowNs() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          done, " of ", fds.size(), " echoes back within ", timeout_s, " s"));
    }
    bool progress = false;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (sent[i] < frame.size()) {
        const ssize_t w = ::send(fds[i], frame.data() + sent[i],
                                 frame.size() - sent[i], MSG_NOSIGNAL);
        if (w > 0) {
          sent[i] += static_cast<size_t>(w);
          progress = true;
        } else if (w < 0 && errno != EAGAIN) {
          return absl::ErrnoToStatus(errno, "burst send");
        }
      }
      if (received[i] < frame.size()) {
        const ssize_t r =
            ::recv(fds[i], scratch.data(),
                   std::min(scratch.size(), frame.size() - received[i]), 0);
        if (r > 0) {
          if (received[i] == 0 &&
              (static_cast<size_t>(r) < kHeaderSize ||
               std::memcmp(scratch.data(), frame.data(), kHeaderSize) != 0)) {
            return absl::DataLossError("burst: a bad echo header");
          }
          received[i] += static_cast<size_t>(r);
          if (received[i] == frame.size()) ++done;
          progress = true;
        } else if (r == 0) {
          return absl::UnavailableError(
              "burst: the server closed a connection");
        } else if (errno != EAGAIN) {
          return absl::ErrnoToStatus(errno, "burst recv");
        }
      }
    }
    if (!progress) std::this_thread::yield();
  }
  return done;
}

int RunIdle(const Config& config, int n, double seconds,
            const std::string& json, const ShutdownSignal& signals) {
  const uint64_t limit = RaiseFdLimit();
  if (static_cast<uint64_t>(n) + 16 > limit) {
    std::fprintf(stderr,
                 "loadgen: --idle=%d needs more file descriptors than the "
                 "limit %" PRIu64 " (ulimit -Hn)\n",
                 n, limit);
    return 2;
  }
  uint64_t failures = 0;
  std::string first_failure;
  const int64_t t0 = NowNs();
  std::vector<int> fds =
      ConnectAll(config.address, n, absl::GetFlag(FLAGS_connect_timeout),
                 &failures, &first_failure);
  std::printf("idle: %zu connections open (%.2f s to connect)\n", fds.size(),
              (NowNs() - t0) / 1e9);
  std::fflush(stdout);
  if (failures > 0) {
    std::fprintf(stderr, "loadgen: %" PRIu64 " connects failed; first: %s\n",
                 failures, first_failure.c_str());
  }
  if (const int burst = absl::GetFlag(FLAGS_burst); burst > 0) {
    char go[16];
    if (std::fgets(go, sizeof(go), stdin) == nullptr) return 1;
    const int64_t b0 = NowNs();
    const size_t wave = static_cast<size_t>(
        std::max(1, absl::GetFlag(FLAGS_burst_concurrency)));
    size_t echoed = 0;
    for (size_t first = 0; first < fds.size(); first += wave) {
      const std::vector<int> some(
          fds.begin() + first,
          fds.begin() + std::min(fds.size(), first + wave));
      absl::StatusOr<size_t> n =
          EchoBurst(some, config.type, static_cast<uint32_t>(burst), 120);
      if (!n.ok()) {
        std::fprintf(stderr, "loadgen: %s\n", n.status().ToString().c_str());
        return 1;
      }
      echoed += *n;
    }
    std::printf("burst: %zu echoed (%.2f s)\n", echoed, (NowNs() - b0) / 1e9);
    std::fflush(stdout);
  }
  if (seconds > 0) {
    SleepUntil(signals, NowNs() + static_cast<int64_t>(seconds * 1e9));
  } else {
    while (!SleepUntil(signals, NowNs() + 3600'000'000'000)) {
    }
  }
  // Any connection the server closed meanwhile is readable (EOF) now.
  uint64_t closed = 0;
  for (int fd : fds) {
    char byte;
    const ssize_t r = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    if (r == 0 || (r < 0 && errno != EAGAIN)) ++closed;
    ::close(fd);
  }
  if (closed > 0) {
    std::fprintf(stderr,
                 "loadgen: the server closed %" PRIu64 " idle connections\n",
                 closed);
  }
  if (!json.empty()) {
    const std::string text = absl::StrFormat(
        "{\"mode\": \"idle\", \"requested\": %d, \"opened\": %zu, "
        "\"connect_errors\": %d, \"closed_by_peer\": %d}\n",
        n, fds.size(), failures, closed);
    (void)WriteText(json, text);
  }
  return failures == 0 && closed == 0 ? 0 : 1;
}

int RunLoad(const Config& config, double seconds, double warmup,
            const std::string& json, const ShutdownSignal& signals) {
  RaiseFdLimit();
  uint64_t connect_failures = 0;
  std::string first_connect_failure;
  std::vector<int> fds = ConnectAll(config.address, config.connections,
                                    absl::GetFlag(FLAGS_connect_timeout),
                                    &connect_failures, &first_connect_failure);
  if (fds.empty()) {
    std::fprintf(stderr, "loadgen: no connection could be opened: %s\n",
                 first_connect_failure.c_str());
    return 1;
  }
  const FrameStream stream(config);
  const int threads =
      std::max(1, std::min<int>(config.threads, static_cast<int>(fds.size())));
  std::vector<std::unique_ptr<Worker>> workers;
  const int64_t start_ns = NowNs();
  size_t next = 0;
  for (int t = 0; t < threads; ++t) {
    const size_t count =
        fds.size() / threads + (static_cast<size_t>(t) < fds.size() % threads);
    std::vector<int> mine(fds.begin() + next, fds.begin() + next + count);
    workers.push_back(std::make_unique<Worker>(
        config, stream, std::move(mine), start_ns, static_cast<int>(next)));
    next += count;
    if (absl::Status s = workers.back()->Init(); !s.ok()) {
      std::fprintf(stderr, "loadgen: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  for (auto& w : workers) w->Start();

  const bool progress = absl::GetFlag(FLAGS_progress);
  int64_t measure_start = start_ns + static_cast<int64_t>(warmup * 1e9);
  int64_t end = measure_start + static_cast<int64_t>(seconds * 1e9);
  // Until the first echo the warmup goes on, but not past this.
  const int64_t first_echo_deadline =
      measure_start +
      static_cast<int64_t>(absl::GetFlag(FLAGS_connect_timeout) * 1e9);
  Totals previous;  // at the last progress line
  Totals baseline;  // at the end of the warmup
  bool baseline_taken = warmup <= 0;
  double cpu_baseline = CpuSeconds();
  int64_t previous_ns = start_ns;
  int64_t tick = start_ns + 1000000000;
  int64_t measured_end = end;
  bool interrupted = false;
  bool all_failed = false;
  for (;;) {
    int64_t wake = std::min(tick, end);
    if (!baseline_taken) wake = std::min(wake, measure_start);
    if (SleepUntil(signals, wake)) {
      interrupted = true;
      measured_end = NowNs();
      break;
    }
    const int64_t now = NowNs();
    if (!baseline_taken && now >= measure_start) {
      baseline = Collect(workers);
      if (baseline.messages == 0 && baseline.open > 0 &&
          now < first_echo_deadline) {
        measure_start = now + 10'000'000;  // look again in 10 ms
        end = measure_start + static_cast<int64_t>(seconds * 1e9);
        continue;
      }
      cpu_baseline = CpuSeconds();
      baseline_taken = true;
    }
    if (now >= tick) {
      Totals current = Collect(workers);
      if (progress) {
        const double dt = (now - previous_ns) / 1e9;
        HistogramSnapshot interval = current.histogram;
        interval.Subtract(previous.histogram);
        std::fprintf(
            stderr,
            "[%6.1fs]%s %10.0f msgs/s %9.2f MB/s  p99 %8s us  "
            "errors %" PRIu64 "  open %" PRIu64 "\n",
            (now - start_ns) / 1e9, now <= measure_start ? " warmup" : "",
            (current.messages - previous.messages) / dt,
            (current.payload_bytes - previous.payload_bytes) / dt / 1e6,
            Us(interval.Percentile(0.99)).c_str(),
            current.error_total + connect_failures, current.open);
      }
      all_failed = current.open == 0;
      previous = std::move(current);
      previous_ns = now;
      tick += 1000000000;
    }
    if (now >= end) {
      measured_end = now;
      break;
    }
    if (all_failed) {
      // Every connection failed (counted and reported below): stop early.
      measured_end = now;
      break;
    }
  }
  Totals final_totals = Collect(workers);
  const double cpu_used = CpuSeconds() - cpu_baseline;
  // --drain: no new frames; wait for the echoes still in flight.
  const double drain = absl::GetFlag(FLAGS_drain);
  uint64_t lost = 0;
  double drain_s = 0;
  if (drain > 0 && !interrupted) {
    for (auto& w : workers) w->Drain();
    const int64_t drain_start = NowNs();
    const int64_t drain_end = drain_start + static_cast<int64_t>(drain * 1e9);
    for (;;) {
      lost = 0;
      for (const auto& w : workers) lost += w->inflight();
      if (lost == 0 || NowNs() >= drain_end) break;
      if (SleepUntil(signals, std::min(drain_end, NowNs() + 10'000'000))) {
        break;
      }
    }
    drain_s = (NowNs() - drain_start) / 1e9;
  }
  const Totals drained_totals = Collect(workers);  // errors while draining
  for (auto& w : workers) w->Stop();
  for (auto& w : workers) w->Join();
  if (!baseline_taken) baseline = Totals{};  // stopped during the warmup

  HistogramSnapshot latency = final_totals.histogram;
  latency.Subtract(baseline.histogram);
  const double elapsed =
      std::max(1e-9, (measured_end - std::max(measure_start, start_ns)) / 1e9);
  warmup = std::max(0.0, (measure_start - start_ns) / 1e9);  // as it ran
  const uint64_t messages = final_totals.messages - baseline.messages;
  const uint64_t bytes = final_totals.payload_bytes - baseline.payload_bytes;
  std::array<uint64_t, kNumErrorKinds> errors = drained_totals.errors;
  errors[kConnect] += connect_failures;
  uint64_t error_total = 0;
  for (uint64_t e : errors) error_total += e;
  uint64_t inflight = 0;
  for (const auto& w : workers) inflight += w->inflight_at_end();

  const double msgs_per_s = messages / elapsed;
  const double mb_per_s = bytes / elapsed / 1e6;
  std::printf(
      "loadgen: %s  connections %zu  depth %d  payload %u B  threads %d  %s\n",
      FormatIpv4(config.address).c_str(), fds.size(), config.depth,
      config.payload, threads,
      config.rate > 0
          ? absl::StrFormat("open loop %.0f msgs/s offered", config.rate)
                .c_str()
          : "closed loop");
  std::printf("  measured   %.2f s%s (after %.2f s warmup)\n", elapsed,
              interrupted ? " (interrupted)" : "", warmup);
  std::printf("  messages   %" PRIu64 "  (%.0f msgs/s)\n", messages,
              msgs_per_s);
  std::printf("  payload    %.2f MB/s echoed\n", mb_per_s);
  std::printf("  latency us p50 %s  p90 %s  p99 %s  p99.9 %s  max %s%s\n",
              Us(latency.Percentile(0.5)).c_str(),
              Us(latency.Percentile(0.9)).c_str(),
              Us(latency.Percentile(0.99)).c_str(),
              Us(latency.Percentile(0.999)).c_str(), Us(latency.max()).c_str(),
              config.rate > 0 ? "  (from intended send times)" : "");
  std::printf("  loadgen    %.0f%% CPU (of one core)\n",
              100 * cpu_used / elapsed);
  if (drain > 0) {
    std::printf("  drained    %" PRIu64 " echoes in %.2f s; lost %" PRIu64
                "%s\n",
                drained_totals.messages - final_totals.messages, drain_s, lost,
                lost > 0 ? "  (in flight after --drain)" : "");
  }
  std::printf("  errors     %" PRIu64 "\n", error_total);
  for (int k = 0; k < kNumErrorKinds; ++k) {
    if (errors[k] == 0) continue;
    std::string first = k == kConnect && connect_failures > 0
                            ? first_connect_failure
                            : std::string();
    for (const auto& w : workers) {
      if (first.empty()) first = w->first_error(k);
    }
    std::printf("    %-16s %" PRIu64 "  first: %s\n", kErrorNames[k], errors[k],
                first.c_str());
  }
  std::fflush(stdout);

  if (!json.empty()) {
    std::string errors_json;
    for (int k = 0; k < kNumErrorKinds; ++k) {
      absl::StrAppend(&errors_json, k == 0 ? "" : ", ", "\"", kErrorNames[k],
                      "\": ", errors[k]);
    }
    const std::string text = absl::StrFormat(
        "{\"mode\": \"%s\", \"label\": %s, \"address\": \"%s\", "
        "\"connections\": %zu, \"depth\": %d, \"payload\": %u, "
        "\"threads\": %d, \"rate\": %.1f, \"warmup_s\": %.3f, "
        "\"seconds\": %.3f, \"messages\": %u, \"msgs_per_s\": %.1f, "
        "\"mb_per_s\": %.3f, \"latency_us\": {\"p50\": %.2f, \"p90\": %.2f, "
        "\"p99\": %.2f, \"p999\": %.2f, \"max\": %.2f, \"mean\": %.2f}, "
        "\"cpu_percent\": %.1f, \"errors\": {%s}, \"error_total\": %u, "
        "\"inflight_at_end\": %u, \"drain_s\": %.3f, \"drained\": %u, "
        "\"lost\": %u}\n",
        config.rate > 0 ? "open_loop" : "closed_loop",
        JsonString(absl::GetFlag(FLAGS_label)), FormatIpv4(config.address),
        fds.size(), config.depth, config.payload, threads, config.rate, warmup,
        elapsed, messages, msgs_per_s, mb_per_s, latency.Percentile(0.5) / 1e3,
        latency.Percentile(0.9) / 1e3, latency.Percentile(0.99) / 1e3,
        latency.Percentile(0.999) / 1e3, latency.max() / 1e3,
        latency.MeanNs() / 1e3, 100 * cpu_used / elapsed, errors_json,
        error_total, inflight, drain_s,
        drained_totals.messages - final_totals.messages, lost);
    // GCC cannot check StrFormat's arguments at compile time; an empty
    // result means they did not match the format.
    if (text.empty()) {
      std::fprintf(stderr, "loadgen: internal error formatting the JSON\n");
      return 1;
    }
    if (absl::Status s = WriteText(json, text); !s.ok()) {
      std::fprintf(stderr, "loadgen: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return error_total == 0 && lost == 0 && messages > 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  ShutdownSignal signals;  // before any thread starts
  absl::SetProgramUsageMessage(
      "TLV echo load generator: --address=127.0.0.1:PORT --connections=N "
      "--depth=D --payload=BYTES --seconds=S [--rate=R] [--json=PATH] | "
      "--idle=N");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "loadgen: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }
  Config config;
  absl::StatusOr<sockaddr_in> address = ParseIpv4(absl::GetFlag(FLAGS_address));
  if (!address.ok()) {
    std::fprintf(stderr, "loadgen: --address: %s\n",
                 std::string(address.status().message()).c_str());
    return 2;
  }
  config.address = *address;
  config.connections = absl::GetFlag(FLAGS_connections);
  config.depth = absl::GetFlag(FLAGS_depth);
  config.type = absl::GetFlag(FLAGS_type);
  config.rate = absl::GetFlag(FLAGS_rate);
  config.threads = absl::GetFlag(FLAGS_threads);
  const int payload = absl::GetFlag(FLAGS_payload);
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const double warmup = absl::GetFlag(FLAGS_warmup);
  const int idle = absl::GetFlag(FLAGS_idle);
  auto usage = [](const char* what) {
    std::fprintf(stderr, "loadgen: %s (see --help)\n", what);
    return 2;
  };
  if (payload < 0 || payload > (8 << 20))
    return usage("--payload must be 0..8 MiB");
  config.payload = static_cast<uint32_t>(payload);
  if (idle < 0) return usage("--idle must be >= 0");
  if (idle > 0) {
    return RunIdle(config, idle, seconds, absl::GetFlag(FLAGS_json), signals);
  }
  if (config.connections < 1) return usage("--connections must be >= 1");
  if (config.depth < 1 || config.depth > 65536)
    return usage("--depth must be 1..65536");
  if (config.threads < 1) return usage("--threads must be >= 1");
  if (config.rate < 0) return usage("--rate must be >= 0");
  if (!(seconds > 0)) return usage("--seconds must be > 0");
  if (warmup < 0) return usage("--warmup must be >= 0");
  if (absl::GetFlag(FLAGS_drain) < 0) return usage("--drain must be >= 0");
  return RunLoad(config, seconds, warmup, absl::GetFlag(FLAGS_json), signals);
}

}  // namespace
}  // namespace tao::bench

int main(int argc, char** argv) { return tao::bench::Main(argc, argv); }
