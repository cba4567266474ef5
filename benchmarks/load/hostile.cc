// hostile: a mix of misbehaving TLV clients for the soak benchmark (issue
// 12). For --seconds it keeps every kind below running against --address at
// once, each in its own thread, each repeated in a loop with bounded counts
// and rates, and counts what it did and how the server reacted.
//
//   hostile --address=127.0.0.1:12345 --seconds=600 [--json=out.json]
//
// Kinds (flags set their counts and rates; 0 turns a kind off):
//   slowloris    --slowloris connections, each starting a frame with a large
//                length (64 KiB, 1 MiB, 8 MiB) and then trickling one
//                payload byte every --trickle_interval seconds. Expected: the
//                server closes each after its frame_timeout (30 s).
//   non_reader   --non_readers connections pipelining 16 KiB echo requests as
//                fast as the socket takes them, and --slow_non_readers doing
//                so at --slow_rate bytes/s, none ever reading. Expected: the
//                server closes each once its queued output passes the cap
//                (64 MiB); the peer reconnects 2 s later.
//   garbage      --garbage_rate probes/s: random bytes; length prefixes of
//                2 GiB, 4 GiB - 1 and 8 MiB + 1; an unknown and a negative
//                type id (each followed by an echo request, which must
//                still be answered); a heartbeat with a bad payload.
//   truncated    --truncate_rate probes/s: half a frame then RST (SO_LINGER
//                0) or FIN; half a frame then a half-close; half a header
//                then a half-close; requests then a half-close (every one
//                must be answered); requests then RST.
//   churn        --churn_rate connections/s opened and closed at once (FIN,
//                RST, or after one echo), over --churn_threads threads.
//   idle         --idle connections opened and held, never sending.
// Each probe waits at most --reaction_timeout seconds for the server.
//
// The counters per kind: "opened", "connect_failed", then per variant
// "<variant>.<reaction>" where the reaction is closed (EOF), reset, open
// (the server still held it when the wait ended) or echoed, plus timings in
// milliseconds (*_ms_min, *_ms_max). The process never holds more than
// --max_sockets sockets at once. Exit status 0 unless the flags are bad or
// no connection at all could be opened.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/load/bench_util.h"
#include "benchmarks/load/raw_peer.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345",
          "echo server, IPv4 host:port");
ABSL_FLAG(double, seconds, 10, "how long the mix runs");
ABSL_FLAG(int, slowloris, 100, "slowloris connections held at once");
ABSL_FLAG(double, trickle_interval, 2,
          "seconds between two bytes of a slowloris connection");
ABSL_FLAG(int, non_readers, 4,
          "connections that flood echo requests and never read");
ABSL_FLAG(int, slow_non_readers, 2,
          "connections that send echo requests at --slow_rate, never reading");
ABSL_FLAG(double, slow_rate, 2e6, "bytes/s of each slow non-reader");
ABSL_FLAG(double, garbage_rate, 10,
          "garbage, oversized-length and odd-type probes per second");
ABSL_FLAG(double, truncate_rate, 10, "truncated-frame probes per second");
ABSL_FLAG(double, churn_rate, 200, "connections opened and closed per second");
ABSL_FLAG(int, churn_threads, 4,
          "threads sharing --churn_rate (an echo round trip through a busy "
          "server must not hold the rate down)");
ABSL_FLAG(int, idle, 300, "idle connections held open");
ABSL_FLAG(double, reaction_timeout, 2,
          "seconds a probe waits for the server's reaction");
ABSL_FLAG(int, max_sockets, 2000, "most sockets this process holds at once");
ABSL_FLAG(std::string, json, "",
          "write the summary as JSON to this path (- for stdout)");

namespace tao::bench {
namespace {

constexpr int32_t kEcho = 1;  // the type the echo servers answer

// What one kind did: named counters (one thread writes, main reads after
// join), and the first connect error.
class Tally {
 public:
  void Add(const std::string& name, uint64_t n = 1) { counts_[name] += n; }
  // Keeps name_min and name_max of the values seen.
  void Range(const std::string& name, uint64_t v) {
    auto [lo, fresh] = counts_.try_emplace(name + "_min", v);
    if (!fresh) lo->second = std::min(lo->second, v);
    uint64_t& hi = counts_[name + "_max"];
    hi = std::max(hi, v);
  }
  void NoteError(std::string what) {
    if (first_error_.empty()) first_error_ = std::move(what);
  }
  // Adds `other`'s counters in (keeping the extremes of *_min, *_max).
  void Merge(const Tally& other) {
    for (const auto& [name, v] : other.counts_) {
      auto [it, fresh] = counts_.try_emplace(name, v);
      if (fresh) continue;
      if (absl::EndsWith(name, "_min")) {
        it->second = std::min(it->second, v);
      } else if (absl::EndsWith(name, "_max")) {
        it->second = std::max(it->second, v);
      } else {
        it->second += v;
      }
    }
    if (first_error_.empty()) first_error_ = other.first_error_;
  }
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  const std::string& first_error() const { return first_error_; }

 private:
  std::map<std::string, uint64_t> counts_;
  std::string first_error_;
};

// Everything a kind's thread needs: where, until when, and the socket cap
// it shares with the other kinds.
class Env {
 public:
  Env(const sockaddr_in& address, int max_sockets, double reaction_timeout)
      : address_(address),
        max_sockets_(max_sockets),
        reaction_timeout_(reaction_timeout) {}

  bool Running() const { return !stop_.load(std::memory_order_relaxed); }
  void Stop() { stop_.store(true, std::memory_order_relaxed); }
  double reaction_timeout() const { return reaction_timeout_; }
  int peak_sockets() const { return peak_.load(); }

  // A connected blocking socket counted against the cap, or -1 (counted in
  // `t` as connect_failed or over_socket_cap).
  int Open(Tally* t) {
    const int now_open = open_.fetch_add(1) + 1;
    if (now_open > max_sockets_) {
      open_.fetch_sub(1);
      t->Add("over_socket_cap");
      return -1;
    }
    int peak = peak_.load();
    while (now_open > peak && !peak_.compare_exchange_weak(peak, now_open)) {
    }
    absl::StatusOr<int> fd = ConnectTcp(address_, 5);
    if (!fd.ok()) {
      open_.fetch_sub(1);
      t->Add("connect_failed");
      t->NoteError(std::string(fd.status().message()));
      return -1;
    }
    t->Add("opened");
    return *fd;
  }
  void Close(int fd) {
    ::close(fd);
    open_.fetch_sub(1);
  }
  void Reset(int fd) {
    CloseWithReset(fd);
    open_.fetch_sub(1);
  }

  // Sleeps until `until_ns` in short steps; false once stopped.
  bool SleepUntil(int64_t until_ns) const {
    while (Running()) {
      const int64_t left = until_ns - NowNs();
      if (left <= 0) return true;
      const int64_t step = std::min<int64_t>(left, 50'000'000);
      timespec ts{step / 1000000000, step % 1000000000};
      ::nanosleep(&ts, nullptr);
    }
    return false;
  }
  // Paces a loop at `rate` per second: waits for the next slot; false once
  // stopped. A loop that fell more than a second behind skips ahead.
  bool Pace(double rate, int64_t* next_ns) const {
    const int64_t now = NowNs();
    if (*next_ns < now - 1'000'000'000) *next_ns = now;
    if (!SleepUntil(*next_ns)) return false;
    *next_ns += static_cast<int64_t>(1e9 / rate);
    return true;
  }

 private:
  const sockaddr_in address_;
  const int max_sockets_;
  const double reaction_timeout_;
  std::atomic<bool> stop_{false};
  std::atomic<int> open_{0};
  std::atomic<int> peak_{0};
};

uint64_t MsSince(int64_t start_ns) {
  return static_cast<uint64_t>(std::max<int64_t>(0, NowNs() - start_ns) /
                               1000000);
}

std::string EchoPayload(size_t n) {
  std::string p(n, '\0');
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + i % 26);
  return p;
}

// How a non-blocking socket the peer does not read from ended: what recv or
// send reported (0: not ended).
int PollEnded(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return err;
  char byte;
  const ssize_t r = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
  if (r == 0) return EPIPE;  // EOF: closed by the server
  if (r < 0 && errno != EAGAIN && errno != EINTR) return errno;
  return 0;
}

// Counts the end of a connection the server closed (EOF or an error).
void CountServerClose(Tally* t, int err, int64_t opened_ns) {
  t->Add(err == ECONNRESET ? "reset_by_server" : "closed_by_server");
  t->Range("closed_after_ms", MsSince(opened_ns));
}

// (a) Slowloris.
void RunSlowloris(Env& env, int n, double trickle_s, Tally* t) {
  struct Peer {
    int fd = -1;
    int64_t opened_ns = 0;
    int64_t next_byte_ns = 0;
  };
  constexpr uint32_t kLengths[] = {64 << 10, 1 << 20, 8 << 20};
  const int64_t trickle_ns = static_cast<int64_t>(trickle_s * 1e9);
  std::vector<Peer> peers(static_cast<size_t>(n));
  std::vector<pollfd> pfds;
  std::vector<Peer*> polled;
  uint64_t variant = 0;
  while (env.Running()) {
    int opened_now = 0;  // at most 10 per round, so reopening is spread out
    for (Peer& p : peers) {
      if (p.fd >= 0 || opened_now >= 10) continue;
      const int fd = env.Open(t);
      if (fd < 0) break;
      ++opened_now;
      const int64_t now = NowNs();
      p = {fd, now, now + trickle_ns};
      if (SendAll(fd, TlvHeader(kEcho, kLengths[variant++ % 3])) != 0) {
        t->Add("header_send_failed");
      }
    }
    pfds.clear();
    polled.clear();
    for (Peer& p : peers) {
      if (p.fd < 0) continue;
      pfds.push_back({p.fd, POLLIN, 0});
      polled.push_back(&p);
    }
    ::poll(pfds.data(), pfds.size(), 100);
    const int64_t now = NowNs();
    for (size_t i = 0; i < pfds.size(); ++i) {
      Peer& p = *polled[i];
      int ended = 0;
      if (pfds[i].revents != 0) {
        char buffer[256];
        const ssize_t r = ::recv(p.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (r > 0) t->Add("unexpected_bytes", static_cast<uint64_t>(r));
        if (r == 0) ended = EPIPE;
        if (r < 0 && errno != EAGAIN && errno != EINTR) ended = errno;
      }
      if (ended == 0 && now >= p.next_byte_ns) {
        if (::send(p.fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
          t->Add("bytes_trickled");
        } else if (errno != EAGAIN) {
          ended = errno;
        }
        p.next_byte_ns = now + trickle_ns;
      }
      if (ended != 0) {
        CountServerClose(t, ended, p.opened_ns);
        env.Close(p.fd);
        p.fd = -1;
      }
    }
  }
  for (Peer& p : peers) {
    if (p.fd < 0) continue;
    t->Add("open_at_end");
    t->Range("open_at_end_age_ms", MsSince(p.opened_ns));
    env.Close(p.fd);
  }
}

// (b) Non-readers: `fast` flood, `slow` send at `slow_rate` bytes/s.
void RunNonReaders(Env& env, int fast, int slow, double slow_rate, Tally* t) {
  struct Peer {
    bool slow = false;
    int fd = -1;
    int64_t opened_ns = 0;
    int64_t reopen_ns = 0;
    int64_t progress_ns = 0;  // last time a byte went out
    bool stalled = false;
    uint64_t sent = 0;
    size_t offset = 0;  // into the block
  };
  const std::string frame = TlvFrame(kEcho, EchoPayload(16 << 10));
  std::string block;
  for (int i = 0; i < 16; ++i) block += frame;
  std::vector<Peer> peers(static_cast<size_t>(fast + slow));
  for (int i = 0; i < slow; ++i) peers[fast + i].slow = true;
  std::vector<pollfd> pfds;
  std::vector<Peer*> polled;
  auto finish = [&](Peer& p, int err) {
    CountServerClose(t, err, p.opened_ns);
    t->Range(p.slow ? "slow_sent_mib" : "fast_sent_mib", p.sent >> 20);
    env.Reset(p.fd);
    p.fd = -1;
    p.reopen_ns = NowNs() + 2'000'000'000;
  };
  while (env.Running()) {
    int64_t now = NowNs();
    pfds.clear();
    polled.clear();
    for (Peer& p : peers) {
      if (p.fd < 0 && now >= p.reopen_ns) {
        p.fd = env.Open(t);
        if (p.fd < 0) {
          p.reopen_ns = now + 1'000'000'000;
          continue;
        }
        ::fcntl(p.fd, F_SETFL, ::fcntl(p.fd, F_GETFL) | O_NONBLOCK);
        p.opened_ns = p.progress_ns = now;
        p.sent = 0;
        p.offset = 0;
        p.stalled = false;
      }
      if (p.fd < 0) continue;
      const bool may_send =
          !p.slow || static_cast<double>(p.sent) <
                         slow_rate * (now - p.opened_ns) / 1e9 + frame.size();
      pfds.push_back({p.fd, static_cast<short>(may_send ? POLLOUT : 0), 0});
      polled.push_back(&p);
    }
    ::poll(pfds.data(), pfds.size(), 50);
    now = NowNs();
    for (size_t i = 0; i < pfds.size(); ++i) {
      Peer& p = *polled[i];
      if (pfds[i].revents & (POLLERR | POLLHUP)) {
        const int err = PollEnded(p.fd);
        finish(p, err != 0 ? err : EPIPE);
        continue;
      }
      if (pfds[i].revents & POLLOUT) {
        // One chunk per wake-up: the budget of a slow one, else up to the
        // end of the block.
        size_t n = block.size() - p.offset;
        if (p.slow) {
          const double allowed =
              slow_rate * (now - p.opened_ns) / 1e9 + frame.size() - p.sent;
          n = std::min(n, static_cast<size_t>(std::max(allowed, 1.0)));
        }
        const ssize_t w = ::send(p.fd, block.data() + p.offset, n,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
          p.sent += static_cast<uint64_t>(w);
          p.offset = (p.offset + static_cast<size_t>(w)) % block.size();
          p.progress_ns = now;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          finish(p, errno);
          continue;
        }
      }
      // The server stopped reading it (its socket buffers are full) for
      // 30 s: counted once per connection; it stays open.
      const bool blocked = p.slow ? false : now - p.progress_ns > 30e9;
      if (blocked && !p.stalled) {
        p.stalled = true;
        t->Add("stalled_30s");
      }
    }
  }
  for (Peer& p : peers) {
    if (p.fd < 0) continue;
    t->Add("open_at_end");
    t->Range(p.slow ? "slow_open_at_end_sent_mib" : "fast_open_at_end_sent_mib",
             p.sent >> 20);
    env.Reset(p.fd);
  }
}

// One probe: what to send, then how to end (and judge) the connection.
struct Probe {
  const char* name;
  std::function<void(Env&, int fd, Tally*, const std::string& name)> run;
};

// Sends `bytes`, waits for the server's reaction and counts it
// ("<name>.closed", ".reset" or ".open"); closes.
void SendAndAwait(Env& env, int fd, Tally* t, const std::string& name,
                  const std::string& bytes) {
  if (SendAll(fd, bytes) != 0) t->Add(name + ".send_failed");
  std::string back;
  const Reaction r = AwaitServer(fd, env.reaction_timeout(), &back);
  t->Add(absl::StrCat(name, ".", ReactionName(r)));
  if (!back.empty()) t->Add(name + ".bytes_back", back.size());
  env.Close(fd);
}

// Sends `bytes` followed by one echo request and counts "<name>.echoed"
// when its echo comes back, else the reaction; closes.
void SendThenEcho(Env& env, int fd, Tally* t, const std::string& name,
                  const std::string& bytes) {
  const std::string echo = TlvFrame(kEcho, EchoPayload(32));
  if (SendAll(fd, bytes + echo) != 0) t->Add(name + ".send_failed");
  std::string back;
  const Reaction r =
      AwaitServer(fd, env.reaction_timeout(), &back, echo.size());
  if (back == echo) {
    t->Add(name + ".echoed");
  } else {
    t->Add(absl::StrCat(name, ".", ReactionName(r)));
    if (!back.empty()) t->Add(name + ".wrong_bytes_back", back.size());
  }
  env.Close(fd);
}

// Runs `probes` in turn at `rate` per second until stopped.
void RunProbes(Env& env, const std::vector<Probe>& probes, double rate,
               Tally* t) {
  int64_t next = NowNs();
  for (uint64_t i = 0; env.Pace(rate, &next); ++i) {
    const Probe& probe = probes[i % probes.size()];
    const int fd = env.Open(t);
    if (fd < 0) continue;
    const int64_t start = NowNs();
    probe.run(env, fd, t, probe.name);
    t->Range(absl::StrCat(probe.name, ".ms"), MsSince(start));
  }
}

// (c) Garbage bytes, oversized length prefixes, odd type ids.
std::vector<Probe> GarbageProbes() {
  auto random_bytes = std::make_shared<std::mt19937_64>(12);
  auto await = [](std::string bytes) {
    return [bytes](Env& env, int fd, Tally* t, const std::string& name) {
      SendAndAwait(env, fd, t, name, bytes);
    };
  };
  auto echo_after = [](std::string bytes) {
    return [bytes](Env& env, int fd, Tally* t, const std::string& name) {
      SendThenEcho(env, fd, t, name, bytes);
    };
  };
  const std::string x64(64, 'x');
  return {
      {"random_bytes",
       [random_bytes](Env& env, int fd, Tally* t, const std::string& name) {
         std::string bytes(4096, '\0');
         for (char& c : bytes) c = static_cast<char>((*random_bytes)() & 0xff);
         SendAndAwait(env, fd, t, name, bytes);
       }},
      {"length_2gib", await(TlvHeader(kEcho, 0x80000000u) + x64)},
      {"length_4gib", await(TlvHeader(kEcho, 0xffffffffu) + x64)},
      {"length_8mib_plus_1", await(TlvHeader(kEcho, (8u << 20) + 1) + x64)},
      {"unknown_type", echo_after(TlvFrame(999, EchoPayload(32)))},
      {"negative_type", echo_after(TlvFrame(-7, EchoPayload(32)))},
      {"bad_heartbeat", echo_after(TlvFrame(0, "abc"))},
  };
}

// Sends `bytes`, then closes with FIN, or RST when `reset`.
void SendAndDrop(Env& env, int fd, Tally* t, const std::string& name,
                 const std::string& bytes, bool reset) {
  t->Add(name + (SendAll(fd, bytes) == 0 ? ".done" : ".send_failed"));
  if (reset) {
    env.Reset(fd);
  } else {
    env.Close(fd);
  }
}

// Sends `bytes`, half-closes, and counts the server's reaction; when
// `answers` is not empty, also whether exactly it came back.
void SendHalfClose(Env& env, int fd, Tally* t, const std::string& name,
                   const std::string& bytes, const std::string& answers) {
  if (SendAll(fd, bytes) != 0) t->Add(name + ".send_failed");
  ::shutdown(fd, SHUT_WR);
  std::string back;
  const Reaction r = AwaitServer(fd, env.reaction_timeout(), &back);
  t->Add(absl::StrCat(name, ".", ReactionName(r)));
  if (!answers.empty()) {
    t->Add(name + (back == answers ? ".answered_all" : ".not_answered"));
  } else if (!back.empty()) {
    t->Add(name + ".bytes_back", back.size());
  }
  env.Close(fd);
}

// (d) Truncated frames, abrupt closes, half-closes.
std::vector<Probe> TruncatedProbes() {
  auto drop = [](std::string bytes, bool reset) {
    return [bytes, reset](Env& env, int fd, Tally* t, const std::string& name) {
      SendAndDrop(env, fd, t, name, bytes, reset);
    };
  };
  auto half_close = [](std::string bytes, std::string answers) {
    return
        [bytes, answers](Env& env, int fd, Tally* t, const std::string& name) {
          SendHalfClose(env, fd, t, name, bytes, answers);
        };
  };
  const std::string half_frame = TlvHeader(kEcho, 1000) + std::string(500, 'h');
  const std::string echo = TlvFrame(kEcho, EchoPayload(32));
  std::string three, many;
  for (int i = 0; i < 3; ++i) three += echo;
  for (int i = 0; i < 64; ++i) many += echo;
  return {
      {"half_frame_then_rst", drop(half_frame, true)},
      {"half_frame_then_fin", drop(half_frame, false)},
      {"half_frame_then_half_close", half_close(half_frame, "")},
      {"half_header_then_half_close",
       half_close(TlvHeader(kEcho, 32).substr(0, 5), "")},
      {"requests_then_half_close", half_close(three, three)},
      {"requests_then_rst", drop(many, true)},
  };
}

// (e) Churn: open and close at once (FIN, RST, or after one echo).
std::vector<Probe> ChurnProbes() {
  return {
      {"close",
       [](Env& env, int fd, Tally* t, const std::string& name) {
         t->Add(name + ".done");
         env.Close(fd);
       }},
      {"reset",
       [](Env& env, int fd, Tally* t, const std::string& name) {
         t->Add(name + ".done");
         env.Reset(fd);
       }},
      {"one_echo",
       [](Env& env, int fd, Tally* t, const std::string& name) {
         SendThenEcho(env, fd, t, name, "");
       }},
  };
}

// (f) Idle connections, held; one the server closes is counted and
// replaced.
void RunIdle(Env& env, int n, Tally* t) {
  std::vector<int> fds(static_cast<size_t>(n), -1);
  std::vector<int64_t> opened(fds.size(), 0);
  std::vector<pollfd> pfds;
  std::vector<size_t> polled;
  while (env.Running()) {
    int opened_now = 0;  // at most 50 per round
    for (size_t i = 0; i < fds.size() && opened_now < 50; ++i) {
      if (fds[i] >= 0) continue;
      fds[i] = env.Open(t);
      if (fds[i] < 0) break;
      opened[i] = NowNs();
      ++opened_now;
    }
    pfds.clear();
    polled.clear();
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i] < 0) continue;
      pfds.push_back({fds[i], POLLIN, 0});
      polled.push_back(i);
    }
    ::poll(pfds.data(), pfds.size(), opened_now > 0 ? 100 : 500);
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (pfds[k].revents == 0) continue;
      const size_t i = polled[k];
      const int ended = PollEnded(fds[i]);
      if (ended == 0) {
        t->Add("unexpected_bytes");
        continue;
      }
      CountServerClose(t, ended, opened[i]);
      env.Close(fds[i]);
      fds[i] = -1;
    }
  }
  for (int fd : fds) {
    if (fd < 0) continue;
    t->Add("open_at_end");
    env.Close(fd);
  }
}

std::string TallyJson(const Tally& t) {
  std::string out = "{";
  for (const auto& [name, value] : t.counts()) {
    absl::StrAppend(&out, out.size() > 1 ? ", " : "", JsonString(name), ": ",
                    value);
  }
  if (!t.first_error().empty()) {
    absl::StrAppend(&out, out.size() > 1 ? ", " : "",
                    "\"first_connect_error\": ", JsonString(t.first_error()));
  }
  return out + "}";
}

int Main(int argc, char** argv) {
  ShutdownSignal signals;  // before any thread starts
  absl::SetProgramUsageMessage(
      "misbehaving TLV clients: --address=127.0.0.1:PORT --seconds=S "
      "[--json=PATH]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "hostile: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }
  absl::StatusOr<sockaddr_in> address = ParseIpv4(absl::GetFlag(FLAGS_address));
  if (!address.ok()) {
    std::fprintf(stderr, "hostile: --address: %s\n",
                 std::string(address.status().message()).c_str());
    return 2;
  }
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int slowloris = absl::GetFlag(FLAGS_slowloris);
  const int fast = absl::GetFlag(FLAGS_non_readers);
  const int slow = absl::GetFlag(FLAGS_slow_non_readers);
  const int idle = absl::GetFlag(FLAGS_idle);
  const int max_sockets = absl::GetFlag(FLAGS_max_sockets);
  const int churn_threads = absl::GetFlag(FLAGS_churn_threads);
  // The sequential kinds hold one socket per thread.
  const int most = slowloris + fast + slow + idle + 2 + churn_threads;
  if (!(seconds > 0) || slowloris < 0 || fast < 0 || slow < 0 || idle < 0 ||
      churn_threads < 1) {
    std::fprintf(stderr,
                 "hostile: --seconds must be > 0, counts >= 0, "
                 "--churn_threads >= 1\n");
    return 2;
  }
  if (most > max_sockets) {
    std::fprintf(stderr,
                 "hostile: the kinds need up to %d sockets, over "
                 "--max_sockets=%d\n",
                 most, max_sockets);
    return 2;
  }
  if (RaiseFdLimit() < static_cast<uint64_t>(most) + 64) {
    std::fprintf(stderr, "hostile: the fd limit is below %d\n", most + 64);
    return 2;
  }

  Env env(*address, max_sockets, absl::GetFlag(FLAGS_reaction_timeout));
  // A kind runs on `tallies.size()` threads, each counting into its own.
  struct Kind {
    Kind(const char* n, std::function<void(Tally*)> r, int threads = 1)
        : name(n), run(std::move(r)), tallies(static_cast<size_t>(threads)) {}
    const char* name;
    std::function<void(Tally*)> run;
    std::vector<Tally> tallies;
    Tally tally;  // all of them, after the join
  };
  std::vector<Kind> kinds;
  if (slowloris > 0) {
    kinds.emplace_back("slowloris", [&](Tally* t) {
      RunSlowloris(env, slowloris, absl::GetFlag(FLAGS_trickle_interval), t);
    });
  }
  if (fast + slow > 0) {
    kinds.emplace_back("non_reader", [&](Tally* t) {
      RunNonReaders(env, fast, slow, absl::GetFlag(FLAGS_slow_rate), t);
    });
  }
  const std::pair<const char*, std::pair<double, std::vector<Probe>>>
      sequential[] = {
          {"garbage", {absl::GetFlag(FLAGS_garbage_rate), GarbageProbes()}},
          {"truncated",
           {absl::GetFlag(FLAGS_truncate_rate), TruncatedProbes()}},
          {"churn", {absl::GetFlag(FLAGS_churn_rate), ChurnProbes()}},
      };
  for (const auto& [name, spec] : sequential) {
    if (spec.first <= 0) continue;
    const int threads = std::string(name) == "churn" ? churn_threads : 1;
    const double rate = spec.first / threads;
    const std::vector<Probe>* probes = &spec.second;
    kinds.emplace_back(
        name,
        [&env, rate, probes](Tally* t) { RunProbes(env, *probes, rate, t); },
        threads);
  }
  if (idle > 0) {
    kinds.emplace_back("idle", [&](Tally* t) { RunIdle(env, idle, t); });
  }

  const int64_t start = NowNs();
  std::vector<std::thread> threads;
  for (Kind& k : kinds) {
    for (Tally& t : k.tallies) {
      threads.emplace_back([&k, &t] { k.run(&t); });
    }
  }
  const bool interrupted =
      SleepUntil(signals, start + static_cast<int64_t>(seconds * 1e9));
  env.Stop();
  for (std::thread& t : threads) t.join();
  for (Kind& k : kinds) {
    for (const Tally& t : k.tallies) k.tally.Merge(t);
  }
  const double elapsed = (NowNs() - start) / 1e9;

  std::printf("hostile: %s  %.1f s%s  peak sockets %d (cap %d)\n",
              FormatIpv4(*address).c_str(), elapsed,
              interrupted ? " (interrupted)" : "", env.peak_sockets(),
              max_sockets);
  uint64_t opened = 0;
  std::string kinds_json;
  for (const Kind& k : kinds) {
    std::printf("  %s\n", k.name);
    for (const auto& [name, value] : k.tally.counts()) {
      std::printf("    %-40s %" PRIu64 "\n", name.c_str(), value);
    }
    if (!k.tally.first_error().empty()) {
      std::printf("    first connect error: %s\n",
                  k.tally.first_error().c_str());
    }
    auto it = k.tally.counts().find("opened");
    if (it != k.tally.counts().end()) opened += it->second;
    absl::StrAppend(&kinds_json, kinds_json.empty() ? "" : ", ", "\"", k.name,
                    "\": ", TallyJson(k.tally));
  }
  std::fflush(stdout);
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) {
    const std::string text = absl::StrFormat(
        "{\"address\": \"%s\", \"seconds\": %.3f, \"interrupted\": %s, "
        "\"peak_sockets\": %d, \"max_sockets\": %d, \"kinds\": {%s}}\n",
        FormatIpv4(*address), elapsed, interrupted ? "true" : "false",
        env.peak_sockets(), max_sockets, kinds_json);
    if (absl::Status s = WriteText(json, text); !s.ok()) {
      std::fprintf(stderr, "hostile: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (opened == 0) {
    std::fprintf(stderr, "hostile: no connection could be opened\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace tao::bench

int main(int argc, char** argv) { return tao::bench::Main(argc, argv); }
