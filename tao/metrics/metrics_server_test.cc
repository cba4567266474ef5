// Loopback tests for tao::MetricsServer: every answer of the endpoint
// (200 /metrics and /healthz, 503 while draining, HEAD, 405, 404, 400, 431,
// 408) as raw bytes from a TestPeer, with exact headers and the close after
// the response; stats() per outcome; concurrent scrapes; and the real tools
// a deployment meets: a scrape with /usr/bin/curl, and the exposition checked
// by Prometheus' own `promtool check metrics`. Every server listens on
// 127.0.0.1:0 and every wait is bounded (tao/testing/loopback.h).
#include "tao/metrics/metrics_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tao/metrics/counter.h"
#include "tao/metrics/exposition.h"
#include "tao/metrics/histogram.h"
#include "tao/metrics/metric_registry.h"
#include "tao/metrics/metric_sink.h"
#include "tao/testing/loopback.h"

namespace tao {
namespace {

using ::tao::testing::kTimeout;
using ::tao::testing::TestPeer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kCurl[] = "/usr/bin/curl";
constexpr char kPromtool[] = "/usr/bin/promtool";

// ---------------------------------------------------------------------------
// HTTP responses as bytes

struct Response {
  std::string status_line;  // "HTTP/1.1 200 OK"
  int code = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // everything after the blank line

  // The values of header `name` (case-insensitive), in order.
  std::vector<std::string> All(absl::string_view name) const {
    std::vector<std::string> values;
    for (const auto& [k, v] : headers) {
      if (absl::EqualsIgnoreCase(k, name)) values.push_back(v);
    }
    return values;
  }
  // The value of header `name`, "" (and a test failure) unless it appears
  // exactly once.
  std::string Header(absl::string_view name) const {
    const std::vector<std::string> values = All(name);
    EXPECT_EQ(values.size(), 1u) << "header " << name << " in " << status_line;
    return values.empty() ? "" : values[0];
  }
};

absl::StatusOr<Response> ParseResponse(absl::string_view raw) {
  const size_t end = raw.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return absl::DataLossError(
        absl::StrCat("no complete response head in: \"", raw, "\""));
  }
  Response r;
  r.body = std::string(raw.substr(end + 4));
  const std::vector<absl::string_view> lines =
      absl::StrSplit(raw.substr(0, end), "\r\n");
  r.status_line = std::string(lines[0]);
  const std::vector<absl::string_view> parts =
      absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (parts.size() != 3 || parts[0] != "HTTP/1.1" ||
      !absl::SimpleAtoi(parts[1], &r.code)) {
    return absl::DataLossError(
        absl::StrCat("bad status line \"", lines[0], "\""));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      return absl::DataLossError(
          absl::StrCat("bad header line \"", lines[i], "\""));
    }
    r.headers.emplace_back(
        std::string(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return r;
}

// The checks every answer passes: Content-Length is the length of the body
// sent (or, for HEAD, would be sent), the connection closes, nothing cached.
void ExpectWellFormed(const Response& r, bool head_only = false,
                      size_t head_length = 0) {
  EXPECT_EQ(r.Header("Connection"), "close") << r.status_line;
  EXPECT_EQ(r.Header("Cache-Control"), "no-store") << r.status_line;
  size_t length = 0;
  ASSERT_TRUE(absl::SimpleAtoi(r.Header("Content-Length"), &length))
      << r.status_line;
  if (head_only) {
    EXPECT_EQ(r.body, "") << r.status_line;
    EXPECT_EQ(length, head_length) << r.status_line;
  } else {
    EXPECT_EQ(length, r.body.size()) << r.status_line;
  }
}

// ---------------------------------------------------------------------------
// Child processes (curl, promtool), bounded in time

struct ProcessResult {
  int exit_code = -1;  // -1 when a signal ended it
  std::string out;
  std::string err;
};

absl::Status ErrnoError(absl::string_view what) {
  return absl::ErrnoToStatus(errno, what);
}

// Runs argv (argv[0] an absolute path) with `input` on its stdin and returns
// its exit code, stdout and stderr. FAILED_PRECONDITION when argv[0] is not
// an executable; DEADLINE_EXCEEDED (the child killed) after `timeout`.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         absl::string_view input,
                                         absl::Duration timeout = kTimeout) {
  if (::access(argv[0].c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        argv[0], " is not an executable (", std::strerror(errno),
        "); this test needs it: install its Debian package (",
        absl::EndsWith(argv[0], "promtool") ? "prometheus" : "curl", ")"));
  }
  // A child that exits before reading all of its stdin must not kill the
  // test: writes to its pipe fail with EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) return ErrnoError("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (std::string& a : storage) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return absl::ErrnoToStatus(rc, absl::StrCat("posix_spawn ", argv[0]));
  }
  int to_child = in[1];
  int from_out = out[0];
  int from_err = err[0];
  for (int fd : {to_child, from_out, from_err}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  if (input.empty()) {
    ::close(to_child);
    to_child = -1;
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const std::string command = absl::StrJoin(argv, " ");
  const absl::Time deadline = absl::Now() + timeout;
  ProcessResult result;
  absl::Status status;
  auto wait_ms = [&] {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return 0;
    return static_cast<int>(
        std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
  };
  // Feed stdin, drain stdout and stderr until both close.
  while (status.ok() && (from_out >= 0 || from_err >= 0)) {
    struct pollfd fds[3];
    int n = 0;
    if (to_child >= 0) fds[n++] = {to_child, POLLOUT, 0};
    if (from_out >= 0) fds[n++] = {from_out, POLLIN, 0};
    if (from_err >= 0) fds[n++] = {from_err, POLLIN, 0};
    const int ready = ::poll(fds, n, wait_ms());
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      status = ErrnoError("poll");
      break;
    }
    if (ready == 0) {
      status = absl::DeadlineExceededError(absl::StrCat(
          command, " did not finish within ", absl::FormatDuration(timeout)));
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == to_child) {
        const ssize_t w = ::write(to_child, input.data(), input.size());
        if (w > 0) input.remove_prefix(static_cast<size_t>(w));
        if (input.empty() || (w < 0 && errno != EAGAIN && errno != EINTR)) {
          ::close(to_child);  // done, or the child stopped reading
          to_child = -1;
        }
        continue;
      }
      int& fd = fds[i].fd == from_out ? from_out : from_err;
      std::string& sink = fds[i].fd == from_out ? result.out : result.err;
      char buf[16384];
      const ssize_t r = ::read(fd, buf, sizeof(buf));
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  for (int fd : {to_child, from_out, from_err}) {
    if (fd >= 0) ::close(fd);
  }
  // The child has closed its output; wait (bounded) for it to exit.
  if (status.ok() && pidfd >= 0) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&pfd, 1, wait_ms());
    } while (ready < 0 && errno == EINTR);
    if (ready <= 0) {
      status = absl::DeadlineExceededError(absl::StrCat(
          command, " did not exit within ", absl::FormatDuration(timeout)));
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (!status.ok()) ::kill(pid, SIGKILL);  // our own child, by its pid
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (!status.ok()) return status;
  result.exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
  return result;
}

// `promtool check metrics` on `exposition`.
absl::StatusOr<ProcessResult> Promtool(absl::string_view exposition) {
  return RunProcess({kPromtool, "check", "metrics"}, exposition);
}

// curl with no config file, no proxy, and its own time limit (below ours).
absl::StatusOr<ProcessResult> Curl(std::vector<std::string> args) {
  std::vector<std::string> argv = {kCurl, "-q",         "-sS", "--noproxy",
                                   "*",   "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "");
}

// ---------------------------------------------------------------------------
// The fixture: a registry with one counter, a MetricsServer on it.

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<Counter*> counter = registry_.AddCounter(
        "app_requests_total", "Requests handled.", {{"kind", "test"}});
    ASSERT_TRUE(counter.ok()) << counter.status();
    counter_ = *counter;
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  absl::Status StartServer(MetricsServerOptions options = {}) {
    server_ = std::make_unique<MetricsServer>(&registry_, options);
    if (absl::Status s = server_->Listen("127.0.0.1:0"); !s.ok()) return s;
    return server_->Start();
  }
  const InetAddress& address() const { return server_->listen_address(); }
  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", address().port(), path);
  }

  // Connects, writes `request`, and reads until the server closes (an
  // orderly FIN: ReadUntilEof fails on a reset).
  absl::StatusOr<Response> Exchange(absl::string_view request) {
    absl::StatusOr<TestPeer> peer = TestPeer::Connect(address());
    if (!peer.ok()) return peer.status();
    if (absl::Status s = peer->WriteAll(request); !s.ok()) return s;
    absl::StatusOr<std::string> raw = peer->ReadUntilEof();
    if (!raw.ok()) return raw.status();
    return ParseResponse(*raw);
  }
  static std::string Get(absl::string_view path,
                         absl::string_view method = "GET") {
    return absl::StrCat(method, " ", path,
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "User-Agent: metrics_server_test\r\n\r\n");
  }

  MetricRegistry registry_;  // outlives server_
  Counter* counter_ = nullptr;
  std::unique_ptr<MetricsServer> server_;
};

TEST_F(MetricsServerTest, GetMetricsReturnsTheRegistry) {
  ASSERT_TRUE(StartServer().ok());
  counter_->Increment(3);
  absl::StatusOr<Response> r = Exchange(Get("/metrics"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->Header("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  ExpectWellFormed(*r);
  EXPECT_THAT(r->body, HasSubstr("\napp_requests_total{kind=\"test\"} 3\n"));
  EXPECT_EQ(r->body, registry_.Render());
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_EQ(stats.ok, 1u);
}

// Each scrape renders anew.
TEST_F(MetricsServerTest, EachScrapeSeesCurrentValues) {
  ASSERT_TRUE(StartServer().ok());
  for (int i = 1; i <= 3; ++i) {
    counter_->Increment();
    absl::StatusOr<Response> r = Exchange(Get("/metrics"));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_THAT(r->body, HasSubstr(absl::StrCat(
                             "app_requests_total{kind=\"test\"} ", i, "\n")));
  }
}

// The server closes after its response even though the client keeps its
// side open, and sends nothing more.
TEST_F(MetricsServerTest, ClosesConnectionAfterResponse) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  ASSERT_TRUE(peer->WriteAll(Get("/healthz")).ok());
  absl::StatusOr<std::string> raw = peer->ReadUntilEof();
  ASSERT_TRUE(raw.ok()) << raw.status();
  absl::StatusOr<Response> r = ParseResponse(*raw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  // Exactly one response.
  EXPECT_EQ(r->body, "serving\n");
}

// Pipelined requests get one answer (to the first): Connection: close.
TEST_F(MetricsServerTest, AnswersOnlyTheFirstOfPipelinedRequests) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<Response> r =
      Exchange(absl::StrCat(Get("/healthz"), Get("/metrics"), Get("/nope")));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  EXPECT_EQ(r->body, "serving\n");
  EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(MetricsServerTest, QueryIsIgnored) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<Response> r = Exchange(Get("/metrics?name[]=x"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  EXPECT_THAT(r->body, HasSubstr("app_requests_total"));
}

// A request head that arrives in pieces is answered once complete.
TEST_F(MetricsServerTest, RequestInPieces) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(address());
  ASSERT_TRUE(peer.ok()) << peer.status();
  const std::string request = Get("/healthz");
  for (size_t i = 0; i < request.size(); i += 7) {
    ASSERT_TRUE(peer->WriteAll(request.substr(i, 7)).ok());
  }
  absl::StatusOr<std::string> raw = peer->ReadUntilEof();
  ASSERT_TRUE(raw.ok()) << raw.status();
  absl::StatusOr<Response> r = ParseResponse(*raw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
}

TEST_F(MetricsServerTest, HealthzFollowsServing) {
  ASSERT_TRUE(StartServer().ok());
  EXPECT_TRUE(server_->serving());
  absl::StatusOr<Response> r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->body, "serving\n");
  ExpectWellFormed(*r);

  server_->set_serving(false);
  EXPECT_FALSE(server_->serving());
  r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(r->body, "draining\n");
  ExpectWellFormed(*r);
  // /metrics still answers while draining.
  r = Exchange(Get("/metrics"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);

  server_->set_serving(true);
  r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.requests, 4u);
  EXPECT_EQ(stats.ok, 3u);
  EXPECT_EQ(stats.unavailable, 1u);
}

TEST_F(MetricsServerTest, HeadHasHeadersButNoBody) {
  ASSERT_TRUE(StartServer().ok());
  counter_->Increment(5);
  const size_t metrics_length = registry_.Render().size();
  absl::StatusOr<Response> r = Exchange(Get("/metrics", "HEAD"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->Header("Content-Type"), kExpositionContentType);
  ExpectWellFormed(*r, /*head_only=*/true, metrics_length);

  r = Exchange(Get("/healthz", "HEAD"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  ExpectWellFormed(*r, /*head_only=*/true, std::strlen("serving\n"));

  server_->set_serving(false);
  r = Exchange(Get("/healthz", "HEAD"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 503);
  ExpectWellFormed(*r, /*head_only=*/true, std::strlen("draining\n"));
}

TEST_F(MetricsServerTest, OtherMethodsAre405) {
  ASSERT_TRUE(StartServer().ok());
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    absl::StatusOr<Response> r = Exchange(Get("/metrics", method));
    ASSERT_TRUE(r.ok()) << method << ": " << r.status();
    EXPECT_EQ(r->status_line, "HTTP/1.1 405 Method Not Allowed") << method;
    EXPECT_EQ(r->Header("Allow"), "GET, HEAD") << method;
    ExpectWellFormed(*r);
  }
  // A request body is not read, and does not get in the way.
  absl::StatusOr<Response> r =
      Exchange("POST /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 405);
  EXPECT_EQ(server_->stats().method_not_allowed, 6u);
}

TEST_F(MetricsServerTest, UnknownPathIs404) {
  ASSERT_TRUE(StartServer().ok());
  for (const char* path :
       {"/nope", "/", "/metrics/", "/Metrics", "/healthz2"}) {
    absl::StatusOr<Response> r = Exchange(Get(path));
    ASSERT_TRUE(r.ok()) << path << ": " << r.status();
    EXPECT_EQ(r->status_line, "HTTP/1.1 404 Not Found") << path;
    ExpectWellFormed(*r);
  }
  // 404 wins over 405: the path is unknown whatever the method.
  absl::StatusOr<Response> r = Exchange(Get("/nope", "POST"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 404);
  EXPECT_EQ(server_->stats().not_found, 6u);
}

TEST_F(MetricsServerTest, MalformedRequestIs400) {
  ASSERT_TRUE(StartServer().ok());
  for (const char* request :
       {"garbage\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n", "GET /metrics\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET /met\x01rics HTTP/1.1\r\n\r\n"}) {
    absl::StatusOr<Response> r = Exchange(request);
    ASSERT_TRUE(r.ok()) << request << ": " << r.status();
    EXPECT_EQ(r->status_line, "HTTP/1.1 400 Bad Request") << request;
    EXPECT_THAT(r->body, HasSubstr("malformed")) << request;
    ExpectWellFormed(*r);
  }
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.bad_requests, 6u);
  EXPECT_EQ(stats.requests, 0u);  // none parsed
}

// A head that does not fit in max_request_bytes is answered 431 as soon as
// the limit is reached (the client need not finish, nor wait for 408).
TEST_F(MetricsServerTest, HeadOverLimitIs431) {
  MetricsServerOptions options;
  options.max_request_bytes = 256;
  ASSERT_TRUE(StartServer(options).ok());
  // Never completed: no blank line.
  const std::string endless = absl::StrCat(
      "GET /metrics HTTP/1.1\r\nX-Pad: ", std::string(400, 'a'), "\r\n");
  absl::StatusOr<Response> r = Exchange(endless);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 431 Request Header Fields Too Large");
  ExpectWellFormed(*r);
  // Complete, but one byte over.
  const std::string prefix = "GET /metrics HTTP/1.1\r\nX-Pad: ";
  const std::string over = absl::StrCat(
      prefix, std::string(257 - prefix.size() - 4, 'a'), "\r\n\r\n");
  ASSERT_EQ(over.size(), 257u);
  r = Exchange(over);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 431);
  // Exactly at the limit: served.
  const std::string at_limit = absl::StrCat(
      prefix, std::string(256 - prefix.size() - 4, 'a'), "\r\n\r\n");
  ASSERT_EQ(at_limit.size(), 256u);
  r = Exchange(at_limit);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.too_large, 2u);
  EXPECT_EQ(stats.ok, 1u);
  EXPECT_EQ(stats.requests, 1u);
}

// A connection that sends half a request (or nothing) and waits is answered
// 408 once request_timeout has passed, then closed.
TEST_F(MetricsServerTest, IncompleteRequestTimesOutWith408) {
  MetricsServerOptions options;
  options.request_timeout = absl::Milliseconds(200);
  ASSERT_TRUE(StartServer(options).ok());
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<TestPeer> half = TestPeer::Connect(address());
  absl::StatusOr<TestPeer> silent = TestPeer::Connect(address());
  ASSERT_TRUE(half.ok()) << half.status();
  ASSERT_TRUE(silent.ok()) << silent.status();
  ASSERT_TRUE(half->WriteAll("GET /metrics HTTP/1.1\r\nHost: x\r\n").ok());
  for (TestPeer* peer : {&*half, &*silent}) {
    absl::StatusOr<std::string> raw = peer->ReadUntilEof(kTimeout);
    ASSERT_TRUE(raw.ok()) << raw.status();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    // Not before the timeout (a few ms of slack for timer rounding).
    EXPECT_GE(elapsed, std::chrono::milliseconds(190));
    absl::StatusOr<Response> r = ParseResponse(*raw);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->status_line, "HTTP/1.1 408 Request Timeout");
    ExpectWellFormed(*r);
  }
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.timeouts, 2u);
  EXPECT_EQ(stats.requests, 0u);
}

// A request answered before the timeout is not answered again by it.
TEST_F(MetricsServerTest, AnsweredRequestIsNotTimedOut) {
  MetricsServerOptions options;
  options.request_timeout = absl::Milliseconds(200);
  ASSERT_TRUE(StartServer(options).ok());
  absl::StatusOr<Response> r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  // A later connection that times out: by the time its 408 is read, the
  // first connection's timer would have fired too.
  absl::StatusOr<TestPeer> silent = TestPeer::Connect(address());
  ASSERT_TRUE(silent.ok()) << silent.status();
  absl::StatusOr<std::string> raw = silent->ReadUntilEof();
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_THAT(*raw, StartsWith("HTTP/1.1 408 "));
  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.ok, 1u);
}

// A slow client does not hold up the others (one loop, no blocking).
TEST_F(MetricsServerTest, SlowClientDoesNotBlockOthers) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<TestPeer> slow = TestPeer::Connect(address());
  ASSERT_TRUE(slow.ok()) << slow.status();
  ASSERT_TRUE(slow->WriteAll("GET /metr").ok());
  absl::StatusOr<Response> r = Exchange(Get("/metrics"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  // The slow one finishes later and is served too.
  ASSERT_TRUE(slow->WriteAll("ics HTTP/1.1\r\n\r\n").ok());
  absl::StatusOr<std::string> raw = slow->ReadUntilEof();
  ASSERT_TRUE(raw.ok()) << raw.status();
  EXPECT_THAT(*raw, StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, StatsCountEachOutcome) {
  MetricsServerOptions options;
  options.max_request_bytes = 256;
  options.request_timeout = absl::Milliseconds(200);
  ASSERT_TRUE(StartServer(options).ok());
  const MetricsServerStats zero = server_->stats();
  EXPECT_EQ(zero.requests + zero.ok + zero.not_found + zero.method_not_allowed +
                zero.bad_requests + zero.too_large + zero.timeouts +
                zero.unavailable,
            0u);
  const std::vector<std::pair<std::string, int>> exchanges = {
      {Get("/metrics"), 200},
      {Get("/healthz"), 200},
      {Get("/metrics", "HEAD"), 200},
      {Get("/nope"), 404},
      {Get("/metrics", "POST"), 405},
      {Get("/healthz", "PUT"), 405},
      {"bad\r\n\r\n", 400},
      {absl::StrCat("GET / HTTP/1.1\r\nX: ", std::string(300, 'x')), 431},
      {"GET /metrics HTTP/1.1\r\n", 408},
  };
  for (const auto& [request, code] : exchanges) {
    absl::StatusOr<Response> r = Exchange(request);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->code, code) << request;
  }
  server_->set_serving(false);
  absl::StatusOr<Response> r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 503);

  const MetricsServerStats stats = server_->stats();
  EXPECT_EQ(stats.requests, 7u);  // the parsed ones: 200s, 404, 405s, 503
  EXPECT_EQ(stats.ok, 3u);
  EXPECT_EQ(stats.not_found, 1u);
  EXPECT_EQ(stats.method_not_allowed, 2u);
  EXPECT_EQ(stats.bad_requests, 1u);
  EXPECT_EQ(stats.too_large, 1u);
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.unavailable, 1u);
}

// Several scrapers at once while the counter moves: every one is served,
// with a value no lower than the count before it connected.
TEST_F(MetricsServerTest, ConcurrentScrapes) {
  ASSERT_TRUE(StartServer().ok());
  constexpr int kScrapers = 8;
  constexpr int kRounds = 5;
  std::atomic<bool> done{false};
  std::thread incrementer([&] {
    while (!done.load()) counter_->Increment();
  });
  std::vector<std::thread> scrapers;
  for (int s = 0; s < kScrapers; ++s) {
    scrapers.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        absl::StatusOr<Response> r = Exchange(Get("/metrics"));
        ASSERT_TRUE(r.ok()) << r.status();
        EXPECT_EQ(r->code, 200);
        EXPECT_THAT(r->body, HasSubstr("app_requests_total{kind=\"test\"} "));
      }
    });
  }
  for (std::thread& t : scrapers) t.join();
  done.store(true);
  incrementer.join();
  EXPECT_EQ(server_->stats().ok, uint64_t{kScrapers} * kRounds);
}

// Stop closes the connections still open (here one that never finished
// its request, with the default 5 s request_timeout) and is idempotent.
TEST_F(MetricsServerTest, StopClosesOpenConnectionsAndIsIdempotent) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<TestPeer> idle = TestPeer::Connect(address());
  ASSERT_TRUE(idle.ok()) << idle.status();
  ASSERT_TRUE(idle->WriteAll("GET /metrics HTTP/1.1\r\n").ok());
  // The server has the connection once a request on another is answered
  // (one loop, connections accepted in order).
  absl::StatusOr<Response> r = Exchange(Get("/healthz"));
  ASSERT_TRUE(r.ok()) << r.status();
  server_->Stop();
  EXPECT_TRUE(idle->WaitClosed(kTimeout).ok());
  server_->Stop();
  EXPECT_EQ(server_->stats().timeouts, 0u);
}

TEST_F(MetricsServerTest, StopWithoutStartAndListenError) {
  MetricsServer never_started(&registry_);
  never_started.Stop();  // not started: nothing to do
  MetricsServer bad(&registry_);
  EXPECT_FALSE(bad.Listen("not an address").ok());
}

// ---------------------------------------------------------------------------
// Real clients and checkers

TEST_F(MetricsServerTest, CurlScrapesMetrics) {
  ASSERT_TRUE(StartServer().ok());
  counter_->Increment(7);
  absl::StatusOr<ProcessResult> curl = Curl({"-i", Url("/metrics")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_code, 0) << curl->err;
  EXPECT_EQ(curl->err, "");
  absl::StatusOr<Response> r = ParseResponse(curl->out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(r->Header("Content-Type"), kExpositionContentType);
  ExpectWellFormed(*r);
  EXPECT_THAT(r->body, HasSubstr("app_requests_total{kind=\"test\"} 7\n"));
  EXPECT_EQ(r->body, registry_.Render());
  EXPECT_EQ(server_->stats().ok, 1u);
}

TEST_F(MetricsServerTest, CurlSeesHealthzAndHead) {
  ASSERT_TRUE(StartServer().ok());
  absl::StatusOr<ProcessResult> curl = Curl({"-i", Url("/healthz")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_code, 0) << curl->err;
  EXPECT_THAT(curl->out, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(curl->out, ::testing::EndsWith("\r\n\r\nserving\n"));

  // HEAD (-I): curl must not wait for the body Content-Length announces.
  curl = Curl({"-I", Url("/metrics")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_code, 0) << curl->err;
  absl::StatusOr<Response> r = ParseResponse(curl->out);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  ExpectWellFormed(*r, /*head_only=*/true, registry_.Render().size());

  server_->set_serving(false);
  curl = Curl({"-o", "/dev/null", "-w", "%{http_code}", Url("/healthz")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_code, 0) << curl->err;
  EXPECT_EQ(curl->out, "503");
  // --fail turns it into curl's exit code 22.
  curl = Curl({"--fail", "-o", "/dev/null", Url("/healthz")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  EXPECT_EQ(curl->exit_code, 22) << curl->err;
}

// A registry with every kind of sample: counters with labels (values to
// escape), gauges (negative, fractional), histograms with and without
// labels, and a collector's samples.
void Populate(MetricRegistry& registry) {
  for (const char* method : {"GET", "POST"}) {
    for (const char* code : {"200", "404"}) {
      absl::StatusOr<Counter*> c = registry.AddCounter(
          "app_http_requests_total", "HTTP requests by method and code.",
          {{"method", method}, {"code", code}});
      ASSERT_TRUE(c.ok()) << c.status();
      (*c)->Increment(std::strlen(method) * std::strlen(code));
    }
  }
  absl::StatusOr<Counter*> odd = registry.AddCounter(
      "app_errors_total", "Errors, with a \\ backslash\nand a newline.",
      {{"reason", "quote \" backslash \\ newline \n end"}});
  ASSERT_TRUE(odd.ok()) << odd.status();
  (*odd)->Increment();
  absl::StatusOr<Gauge*> open = registry.AddGauge(
      "app_open_connections", "Connections open now.", {{"side", "server"}});
  ASSERT_TRUE(open.ok()) << open.status();
  (*open)->Set(-3);
  absl::StatusOr<Histogram*> latency =
      registry.AddHistogram("app_request_duration_seconds", "Request latency.",
                            LatencyBuckets(), {{"method", "GET"}});
  ASSERT_TRUE(latency.ok()) << latency.status();
  for (double v : {1e-6, 3e-5, 0.02, 0.5, 1.0, 42.0}) (*latency)->Observe(v);
  absl::StatusOr<Histogram*> sizes =
      registry.AddHistogram("app_response_size_bytes", "Response sizes.",
                            ExponentialBuckets(64, 4, 6));
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  (*sizes)->Observe(100);
  (*sizes)->Observe(1e6);
  registry.AddCollector([](MetricSink& sink) {
    sink.AddGauge("app_queue_depth_ratio", "Queue fill.", {{"queue", "a"}},
                  0.25);
    sink.AddCounter("app_collected_events_total", "Collected.", {}, 12);
    HistogramSnapshot s;
    s.bounds = {0.1, 1};
    s.cumulative = {1, 2, 3};
    s.sum = 10.5;
    sink.AddHistogram("app_batch_duration_seconds", "Batches.",
                      {{"stage", "x"}}, s);
  });
}

TEST(PromtoolTest, AcceptsRenderedRegistry) {
  MetricRegistry registry;
  Populate(registry);
  const std::string text = registry.Render();
  ASSERT_EQ(registry.dropped_samples(), 0u);
  absl::StatusOr<ProcessResult> promtool = Promtool(text);
  ASSERT_TRUE(promtool.ok()) << promtool.status();
  EXPECT_EQ(promtool->exit_code, 0)
      << promtool->out << promtool->err << "\nfor:\n"
      << text;
  EXPECT_EQ(promtool->out, "") << text;
  EXPECT_EQ(promtool->err, "") << text;
}

// What a scraper receives (the body of GET /metrics) passes too.
TEST(PromtoolTest, AcceptsScrapedBody) {
  MetricRegistry registry;
  Populate(registry);
  MetricsServer server(&registry);
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());
  absl::StatusOr<ProcessResult> curl = Curl({absl::StrCat(
      "http://127.0.0.1:", server.listen_address().port(), "/metrics")});
  ASSERT_TRUE(curl.ok()) << curl.status();
  ASSERT_EQ(curl->exit_code, 0) << curl->err;
  server.Stop();
  ASSERT_THAT(curl->out, HasSubstr("app_request_duration_seconds_bucket"));
  absl::StatusOr<ProcessResult> promtool = Promtool(curl->out);
  ASSERT_TRUE(promtool.ok()) << promtool.status();
  EXPECT_EQ(promtool->exit_code, 0) << promtool->out << promtool->err;
  EXPECT_EQ(promtool->out + promtool->err, "");
}

// The checker is really consulted: it rejects what it should.
TEST(PromtoolTest, RejectsBadExposition) {
  absl::StatusOr<ProcessResult> lint = Promtool(
      "# HELP app_requests Requests.\n# TYPE app_requests counter\n"
      "app_requests 1\n");
  ASSERT_TRUE(lint.ok()) << lint.status();
  EXPECT_NE(lint->exit_code, 0);
  EXPECT_THAT(lint->out + lint->err, HasSubstr("_total"));

  absl::StatusOr<ProcessResult> parse =
      Promtool("# TYPE app_x gauge\napp_x{a=\"unterminated} 1\n");
  ASSERT_TRUE(parse.ok()) << parse.status();
  EXPECT_NE(parse->exit_code, 0);
}

}  // namespace
}  // namespace tao
