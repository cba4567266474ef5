// control: the soak benchmark's control connection (issue 12). One
// well-behaved TLV connection that sends one small echo request every
// --interval_ms (depth 1: the next goes out at its tick once the previous
// echo is back) and records each round trip in a latency histogram, so it
// measures how promptly the server's loop answers while other clients load
// or attack it.
//
//   control --address=127.0.0.1:12345 --seconds=600 --window=60
//           [--json=out.json]
//
// Each request carries its sequence number and a fixed tag (--payload
// bytes in all); its echo must come back byte-exact. Counted: sent,
// received, mismatched (an echo that differs from the request in flight, or
// one nobody asked for), lost (a request still unanswered --drain seconds
// after the end, or when the server closed the connection), ticks skipped
// because the previous echo was late. Latency p50/p99/p99.9/max over the
// whole run and per --window seconds. Exit status 1 on any lost or
// mismatched reply, a closed connection or a failed connect.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmarks/load/bench_util.h"
#include "benchmarks/load/histogram.h"
#include "benchmarks/load/raw_peer.h"

ABSL_FLAG(std::string, address, "127.0.0.1:12345",
          "echo server, IPv4 host:port");
ABSL_FLAG(double, seconds, 10, "how long to measure");
ABSL_FLAG(int, interval_ms, 100, "one request per this many milliseconds");
ABSL_FLAG(int, payload, 32, "payload bytes per request (>= 16)");
ABSL_FLAG(double, window, 60, "seconds per latency window in the report");
ABSL_FLAG(double, drain, 5,
          "seconds to wait at the end for the last echo before it is lost");
ABSL_FLAG(std::string, json, "",
          "write the summary as JSON to this path (- for stdout)");

namespace tao::bench {
namespace {

constexpr int32_t kEcho = 1;

// The request with sequence number `seq`: the number (8 bytes LE), then a
// tag repeated to `payload` bytes.
std::string Request(uint64_t seq, size_t payload) {
  std::string p(payload, '\0');
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((seq >> (8 * i)) & 0xff);
  static constexpr char kTag[] = "tao-soak-control";
  for (size_t i = 8; i < payload; ++i)
    p[i] = kTag[(i - 8) % (sizeof(kTag) - 1)];
  return TlvFrame(kEcho, p);
}

std::string Us(uint64_t ns) { return absl::StrFormat("%.1f", ns / 1000.0); }

std::string LatencyJson(const HistogramSnapshot& h) {
  return absl::StrFormat(
      "{\"count\": %u, \"p50\": %.1f, \"p99\": %.1f, \"p999\": %.1f, "
      "\"max\": %.1f, \"mean\": %.1f}",
      h.count(), h.Percentile(0.5) / 1e3, h.Percentile(0.99) / 1e3,
      h.Percentile(0.999) / 1e3, h.max() / 1e3, h.MeanNs() / 1e3);
}

struct Counts {
  uint64_t sent = 0;
  uint64_t received = 0;
  uint64_t mismatched = 0;
  uint64_t lost = 0;
  uint64_t skipped_ticks = 0;
  bool closed_by_server = false;
  std::string first_problem;
  void Problem(std::string what) {
    if (first_problem.empty()) first_problem = std::move(what);
  }
};

int Main(int argc, char** argv) {
  ShutdownSignal signals;  // blocks SIGINT/SIGTERM; polled between ticks
  absl::SetProgramUsageMessage(
      "control connection: --address=127.0.0.1:PORT --seconds=S "
      "[--interval_ms=100] [--json=PATH]");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    std::fprintf(stderr, "control: unexpected argument \"%s\"\n", rest[1]);
    return 2;
  }
  absl::StatusOr<sockaddr_in> address = ParseIpv4(absl::GetFlag(FLAGS_address));
  const double seconds = absl::GetFlag(FLAGS_seconds);
  const int interval_ms = absl::GetFlag(FLAGS_interval_ms);
  const int payload = absl::GetFlag(FLAGS_payload);
  const double window_s = absl::GetFlag(FLAGS_window);
  if (!address.ok() || !(seconds > 0) || interval_ms < 1 || payload < 16 ||
      payload > (1 << 20) || !(window_s > 0)) {
    std::fprintf(stderr,
                 "control: needs --address=host:port, --seconds > 0, "
                 "--interval_ms >= 1, --payload 16..1 MiB, --window > 0\n");
    return 2;
  }
  absl::StatusOr<int> connected = ConnectTcp(*address, 10);
  if (!connected.ok()) {
    std::fprintf(stderr, "control: %s\n",
                 std::string(connected.status().message()).c_str());
    return 1;
  }
  const int fd = *connected;
  const int64_t interval_ns = int64_t{interval_ms} * 1000000;
  const int64_t start = NowNs();
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  const int64_t window_ns = static_cast<int64_t>(window_s * 1e9);

  Counts c;
  HistogramSnapshot total;
  std::vector<HistogramSnapshot> windows(
      static_cast<size_t>((end - start + window_ns - 1) / window_ns));
  std::string expected;  // the request in flight ("" when none)
  int64_t sent_ns = 0;
  int64_t next_ns = start;
  std::string in;
  char buffer[4096];
  bool interrupted = false;
  int64_t drain_end = 0;  // set once the run is over
  for (;;) {
    int64_t now = NowNs();
    if (drain_end == 0 && now >= end) {
      drain_end = now + static_cast<int64_t>(absl::GetFlag(FLAGS_drain) * 1e9);
    }
    if (drain_end != 0 && (expected.empty() || now >= drain_end)) break;
    if (drain_end == 0 && expected.empty() && now >= next_ns) {
      expected = Request(c.sent, static_cast<size_t>(payload));
      if (int err = SendAll(fd, expected); err != 0) {
        c.Problem(absl::StrCat("send: ", std::strerror(err)));
        c.closed_by_server = true;
        break;
      }
      ++c.sent;
      sent_ns = now;
      next_ns += interval_ns;
      if (next_ns <= now) {  // the previous echo took longer than a tick
        const int64_t behind = (now - next_ns) / interval_ns + 1;
        c.skipped_ticks += static_cast<uint64_t>(behind);
        next_ns += behind * interval_ns;
      }
    }
    // Wait for the echo, the next tick, or the end; at most 100 ms so a
    // signal is noticed.
    int64_t wake =
        drain_end != 0 ? drain_end : (expected.empty() ? next_ns : end);
    wake = std::min(wake, now + 100'000'000);
    pollfd p{fd, POLLIN, 0};
    const int64_t wait_ms =
        (std::max<int64_t>(0, wake - now) + 999999) / 1000000;
    const int n = ::poll(&p, 1, static_cast<int>(wait_ms));
    timespec zero{0, 0};
    if (::sigtimedwait(&signals.set(), nullptr, &zero) > 0) {
      interrupted = true;
      break;
    }
    if (n <= 0) continue;
    const ssize_t r = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    now = NowNs();
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
      c.Problem(r == 0 ? "the server closed the connection"
                       : absl::StrCat("recv: ", std::strerror(errno)));
      c.closed_by_server = true;
      break;
    }
    if (r < 0) continue;
    in.append(buffer, static_cast<size_t>(r));
    const size_t frame = 8 + static_cast<size_t>(payload);
    while (in.size() >= frame) {
      if (expected.empty() || in.compare(0, frame, expected) != 0) {
        ++c.mismatched;
        c.Problem(expected.empty()
                      ? "an echo arrived with no request in flight"
                      : "an echo differs from the request in flight");
      } else {
        const uint64_t rtt = static_cast<uint64_t>(now - sent_ns);
        total.Add(rtt);
        windows[std::min(windows.size() - 1,
                         static_cast<size_t>((sent_ns - start) / window_ns))]
            .Add(rtt);
        ++c.received;
      }
      expected.clear();
      in.erase(0, frame);
    }
  }
  if (!expected.empty()) {
    ++c.lost;
    c.Problem(c.closed_by_server || interrupted
                  ? "a request was in flight at the end"
                  : "no echo within --drain seconds of the end");
  }
  ::close(fd);
  const double elapsed = (NowNs() - start) / 1e9;

  std::printf("control: %s  every %d ms  %.1f s%s\n",
              FormatIpv4(*address).c_str(), interval_ms, elapsed,
              interrupted ? " (interrupted)" : "");
  std::printf("  sent %" PRIu64 "  received %" PRIu64 "  lost %" PRIu64
              "  mismatched %" PRIu64 "  skipped ticks %" PRIu64 "%s\n",
              c.sent, c.received, c.lost, c.mismatched, c.skipped_ticks,
              c.closed_by_server ? "  (closed by the server)" : "");
  std::printf("  latency us p50 %s  p99 %s  p99.9 %s  max %s\n",
              Us(total.Percentile(0.5)).c_str(),
              Us(total.Percentile(0.99)).c_str(),
              Us(total.Percentile(0.999)).c_str(), Us(total.max()).c_str());
  std::string windows_json;
  for (size_t i = 0; i < windows.size(); ++i) {
    const HistogramSnapshot& w = windows[i];
    std::printf("  [%5.0f s] n %5" PRIu64 "  p50 %8s  p99 %8s  max %8s us\n",
                i * window_s, w.count(), Us(w.Percentile(0.5)).c_str(),
                Us(w.Percentile(0.99)).c_str(), Us(w.max()).c_str());
    absl::StrAppend(&windows_json, i == 0 ? "" : ", ",
                    absl::StrFormat("{\"start_s\": %.1f, \"latency_us\": %s}",
                                    i * window_s, LatencyJson(w)));
  }
  if (!c.first_problem.empty()) {
    std::printf("  first problem: %s\n", c.first_problem.c_str());
  }
  std::fflush(stdout);
  const std::string json = absl::GetFlag(FLAGS_json);
  if (!json.empty()) {
    const std::string text = absl::StrFormat(
        "{\"address\": \"%s\", \"interval_ms\": %d, \"payload\": %d, "
        "\"seconds\": %.3f, \"interrupted\": %s, \"sent\": %u, "
        "\"received\": %u, \"lost\": %u, \"mismatched\": %u, "
        "\"skipped_ticks\": %u, \"closed_by_server\": %s, "
        "\"first_problem\": %s, \"latency_us\": %s, \"window_s\": %.1f, "
        "\"windows\": [%s]}\n",
        FormatIpv4(*address), interval_ms, payload, elapsed,
        interrupted ? "true" : "false", c.sent, c.received, c.lost,
        c.mismatched, c.skipped_ticks, c.closed_by_server ? "true" : "false",
        JsonString(c.first_problem), LatencyJson(total), window_s,
        windows_json);
    if (absl::Status s = WriteText(json, text); !s.ok()) {
      std::fprintf(stderr, "control: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const bool ok =
      c.lost == 0 && c.mismatched == 0 && !c.closed_by_server && c.received > 0;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace tao::bench

int main(int argc, char** argv) { return tao::bench::Main(argc, argv); }
