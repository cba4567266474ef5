// cluster_broadcast: a room's messages across tao servers over a real
// redis-server (ClusterBridge), against the same room on one server
// (Endpoint::BroadcastRawToGroup), on this machine.
//
//   ./bazelw run --config=opt //benchmarks/cluster_broadcast --
//       --servers=3 --receivers=6 --messages=20000   (one line)
//
// One sender client on server 0 says --messages lines as fast as it can
// (throughput: lines/s it got through to every receiver, and deliveries/s),
// then --paced_messages lines one at a time, each once every receiver has
// the previous one (latency without queueing). Every line carries its send
// time; receivers (blocking clients, one thread each, spread round-robin
// over the servers) record send-to-receive latency. redis-server is started
// on a free loopback port unless --redis_address is given.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "benchmarks/load/histogram.h"
#include "tao/cluster/bridge.h"
#include "tao/message/context.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"
#include "tao/testing/redis_process.h"

ABSL_FLAG(int, servers, 3, "tao servers in the cluster run");
ABSL_FLAG(int, receivers, 6, "receiving clients, spread over the servers");
ABSL_FLAG(int, messages, 20000, "lines of the throughput run");
ABSL_FLAG(int, paced_messages, 2000, "lines of the latency run");
ABSL_FLAG(int, payload, 64, "bytes per line (at least 12)");
ABSL_FLAG(int, io_threads, 1, "I/O loops per server");
ABSL_FLAG(std::string, redis_address, "",
          "an existing Redis (host:port); empty: start redis-server");
ABSL_FLAG(std::string, mode, "both", "single, cluster or both");

namespace tao::bench {
namespace {

constexpr int32_t kJoin = 1;
constexpr int32_t kSay = 2;
constexpr int32_t kHeard = 3;
constexpr char kRoom[] = "room";

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

// A server whose kSay lines go to the room, through a bridge or not.
class Node {
 public:
  Node(int io_threads, std::atomic<ClusterBridge*>* bridge)
      : server_(Options(io_threads), &registry_) {
    (void)registry_.RegisterRaw(kJoin, [](Context& ctx, absl::string_view) {
      ctx.endpoint().groups().Join(kRoom, ctx.connection());
      (void)ctx.ReplyRaw(kJoin, "");
    });
    (void)registry_.RegisterRaw(
        kSay, [bridge](Context& ctx, absl::string_view line) {
          ClusterBridge* b = bridge->load(std::memory_order_acquire);
          if (b != nullptr) {
            (void)b->PublishRawToGroup(kRoom, kHeard, line);
          } else {
            (void)ctx.endpoint().BroadcastRawToGroup(kRoom, kHeard, line);
          }
        });
  }
  absl::Status Start() {
    absl::Status s = server_.Listen("127.0.0.1:0");
    return s.ok() ? server_.Start() : s;
  }
  Server& server() { return server_; }

 private:
  static ServerOptions Options(int io_threads) {
    ServerOptions o;
    o.io_threads = io_threads;
    o.handler_threads = 0;
    return o;
  }
  Registry registry_;
  Server server_;
};

// A blocking client that joined the room and counts what it hears.
class Receiver {
 public:
  // The peer's socket becomes blocking: this thread only reads.
  explicit Receiver(testing::TestPeer peer) : peer_(std::move(peer)) {
    ::fcntl(peer_.fd(), F_SETFL, ::fcntl(peer_.fd(), F_GETFL) & ~O_NONBLOCK);
  }
  void Run(int flood, int total, absl::Mutex* mu) {
    thread_ = std::thread([this, flood, total, mu] { Loop(flood, total, mu); });
  }
  // Ends the reading thread (at once if it still waits for lines).
  void Finish() {
    ::shutdown(peer_.fd(), SHUT_RDWR);
    thread_.join();
  }
  int count() const { return count_.load(std::memory_order_acquire); }
  const HistogramSnapshot& flood() const { return flood_; }
  const HistogramSnapshot& paced() const { return paced_; }

 private:
  void Loop(int flood, int total, absl::Mutex* mu) {
    std::string buffer(1 << 16, '\0');
    size_t have = 0;
    while (count() < total) {
      const ssize_t n =
          ::read(peer_.fd(), buffer.data() + have, buffer.size() - have);
      if (n <= 0) return;
      have += static_cast<size_t>(n);
      size_t at = 0;
      while (have - at >= 8) {
        uint32_t length = 0;
        std::memcpy(&length, buffer.data() + at + 4, 4);
        if (have - at < 8 + length) break;
        int64_t sent = 0;
        std::memcpy(&sent, buffer.data() + at + 8, 8);
        const int n_now = count_.load(std::memory_order_relaxed) + 1;
        (n_now <= flood ? flood_ : paced_)
            .Add(static_cast<uint64_t>(NowNs() - sent));
        if (n_now >= flood) {
          absl::MutexLock lock(mu);  // wakes the sender's Await
          count_.store(n_now, std::memory_order_release);
        } else {
          count_.store(n_now, std::memory_order_release);
        }
        at += 8 + length;
      }
      std::memmove(buffer.data(), buffer.data() + at, have - at);
      have -= at;
    }
  }

  testing::TestPeer peer_;
  std::thread thread_;
  std::atomic<int> count_{0};
  HistogramSnapshot flood_;  // the receiver thread's until Join
  HistogramSnapshot paced_;
};

struct Result {
  std::string mode;
  int servers = 0;
  double lines_per_s = 0;
  double deliveries_per_s = 0;
  HistogramSnapshot flood;
  HistogramSnapshot paced;
  uint64_t dropped = 0;
};

std::string Line(int64_t sent, int seq, int size) {
  std::string line(static_cast<size_t>(size), 'x');
  std::memcpy(line.data(), &sent, 8);
  std::memcpy(line.data() + 8, &seq, 4);
  return line;
}

absl::StatusOr<testing::TestPeer> JoinRoom(const InetAddress& address) {
  absl::StatusOr<testing::TestPeer> peer = testing::TestPeer::Connect(address);
  if (!peer.ok()) return peer.status();
  absl::Status s = peer->WriteAll(testing::TlvFrame(kJoin, ""));
  if (!s.ok()) return s;
  absl::StatusOr<std::string> joined = peer->ReadExactly(8);
  if (!joined.ok()) return joined.status();
  return peer;
}

absl::StatusOr<Result> RunOnce(bool cluster, const std::string& redis) {
  const int servers = cluster ? absl::GetFlag(FLAGS_servers) : 1;
  const int receivers = absl::GetFlag(FLAGS_receivers);
  const int flood = absl::GetFlag(FLAGS_messages);
  const int paced = absl::GetFlag(FLAGS_paced_messages);
  const int size = std::max(12, absl::GetFlag(FLAGS_payload));

  std::vector<std::atomic<ClusterBridge*>> bridge_ptrs(servers);
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::unique_ptr<ClusterBridge>> bridges;
  for (int s = 0; s < servers; ++s) {
    bridge_ptrs[s] = nullptr;
    nodes.push_back(std::make_unique<Node>(absl::GetFlag(FLAGS_io_threads),
                                           &bridge_ptrs[s]));
    if (absl::Status st = nodes.back()->Start(); !st.ok()) return st;
    if (cluster) {
      ClusterBridgeOptions o;
      o.redis_address = redis;
      o.channel_prefix = "bench";
      bridges.push_back(
          std::make_unique<ClusterBridge>(nodes.back()->server(), o));
      if (absl::Status st = bridges.back()->Start(); !st.ok()) return st;
      bridge_ptrs[s] = bridges.back().get();
    }
  }
  auto shutdown = [&] {
    for (auto& b : bridges) b->Stop();
    for (auto& n : nodes) {
      n->server().Stop(absl::Seconds(1));
      n->server().Join();
    }
  };
  const absl::Time connect_deadline = absl::Now() + absl::Seconds(10);
  for (auto& b : bridges) {
    while (!b->connected()) {
      if (absl::Now() > connect_deadline) {
        shutdown();
        return absl::UnavailableError("the bridges did not connect to Redis");
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
  }

  absl::Mutex mu;
  std::vector<std::unique_ptr<Receiver>> rs;
  for (int r = 0; r < receivers; ++r) {
    absl::StatusOr<testing::TestPeer> peer =
        JoinRoom(nodes[r % servers]->server().listen_address());
    if (!peer.ok()) return peer.status();
    rs.push_back(std::make_unique<Receiver>(*std::move(peer)));
  }
  absl::StatusOr<testing::TestPeer> sender =
      testing::TestPeer::Connect(nodes[0]->server().listen_address());
  if (!sender.ok()) return sender.status();
  for (auto& r : rs) r->Run(flood, flood + paced, &mu);

  auto all_have = [&](int n) {
    return [&rs, n] {
      for (const auto& r : rs) {
        if (r->count() < n) return false;
      }
      return true;
    };
  };
  const auto wait_all = [&](int n, absl::Duration timeout) {
    auto cond = all_have(n);
    absl::MutexLock lock(&mu);
    return mu.AwaitWithTimeout(absl::Condition(&cond), timeout);
  };

  // Throughput: the sender writes in batches of 64 lines.
  const absl::Time start = absl::Now();
  std::string batch;
  bool wrote = true;
  for (int i = 0; wrote && i < flood; ++i) {
    batch += testing::TlvFrame(kSay, Line(NowNs(), i, size));
    if (batch.size() >= 64 * static_cast<size_t>(8 + size) || i + 1 == flood) {
      wrote = sender->WriteAll(batch).ok();
      batch.clear();
    }
  }
  const bool flooded = wrote && wait_all(flood, absl::Seconds(30));
  const absl::Duration took = absl::Now() - start;

  // Latency: one line at a time.
  bool paced_ok = flooded;
  for (int i = 0; paced_ok && i < paced; ++i) {
    const std::string frame =
        testing::TlvFrame(kSay, Line(NowNs(), flood + i, size));
    paced_ok = sender->WriteAll(frame).ok() &&
               wait_all(flood + i + 1, absl::Seconds(10));
  }
  Result result;
  result.mode = cluster ? "cluster (Redis)" : "single server";
  result.servers = servers;
  for (auto& b : bridges) result.dropped += b->stats().dropped;
  for (auto& r : rs) {
    r->Finish();
    result.flood.Merge(r->flood());
    result.paced.Merge(r->paced());
  }
  rs.clear();
  *sender = testing::TestPeer();  // closes it
  shutdown();  // every client gone: the graceful stop is quick
  if (!flooded || !paced_ok) {
    return absl::DeadlineExceededError(absl::StrCat(
        result.mode, ": not every receiver got every line (dropped ",
        result.dropped, ")"));
  }
  result.lines_per_s = flood / absl::ToDoubleSeconds(took);
  result.deliveries_per_s = result.lines_per_s * receivers;
  return result;
}

void Print(const std::vector<Result>& results) {
  std::printf("%-16s %7s %9s %10s %12s %12s %12s %12s %12s %7s\n", "mode",
              "servers", "receivers", "lines/s", "deliveries/s", "flood p50 us",
              "flood p99 us", "paced p50 us", "paced p99 us", "dropped");
  for (const Result& r : results) {
    std::printf(
        "%-16s %7d %9d %10.0f %12.0f %12.1f %12.1f %12.1f %12.1f %7llu\n",
        r.mode.c_str(), r.servers, absl::GetFlag(FLAGS_receivers),
        r.lines_per_s, r.deliveries_per_s, r.flood.Percentile(0.50) / 1e3,
        r.flood.Percentile(0.99) / 1e3, r.paced.Percentile(0.50) / 1e3,
        r.paced.Percentile(0.99) / 1e3,
        static_cast<unsigned long long>(r.dropped));
  }
}

int Main() {
  const std::string mode = absl::GetFlag(FLAGS_mode);
  std::vector<Result> results;
  if (mode == "single" || mode == "both") {
    absl::StatusOr<Result> r = RunOnce(false, "");
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    results.push_back(*std::move(r));
  }
  if (mode == "cluster" || mode == "both") {
    testing::RedisProcess redis;
    std::string address = absl::GetFlag(FLAGS_redis_address);
    if (address.empty()) {
      if (absl::Status s = redis.Start(); !s.ok()) {
        std::fprintf(stderr, "redis-server: %s\n", s.ToString().c_str());
        return 1;
      }
      address = redis.address();
    }
    absl::StatusOr<Result> r = RunOnce(true, address);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
    results.push_back(*std::move(r));
  }
  Print(results);
  return 0;
}

}  // namespace
}  // namespace tao::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return tao::bench::Main();
}
