// The metrics of a message Server and Client over loopback, scraped the way
// a monitoring system does: what /metrics reports matches the traffic the
// test made (connections, frames, messages per type, bytes, decode errors,
// close reasons), Prometheus' own checker accepts a real server's output as
// fetched by curl, /healthz turns 503 while Stop drains, a user's counters
// appear beside tao's, and a client serves its own.
#include <stdio.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "codec/proto/test_messages.pb.h"
#include "gtest/gtest.h"
#include "tao/message/client.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/metrics/counter.h"
#include "tao/net/connection.h"
#include "tao/net/inet_address.h"
#include "tao/testing/loopback.h"
#include "tao/testing/message_server.h"

namespace tao {
namespace {

using ::tao::testing::TestPeer;
using ::tao::testing::TlvFrame;

constexpr int32_t kRawType = 9;

struct HttpResponse {
  std::string status_line;
  std::string head;
  std::string body;
};

// One GET over a raw socket; the server closes after answering.
absl::StatusOr<HttpResponse> Get(const InetAddress& address,
                                 absl::string_view path) {
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(address);
  if (!peer.ok()) return peer.status();
  absl::Status wrote = peer->WriteAll(
      absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: test\r\n\r\n"));
  if (!wrote.ok()) return wrote;
  absl::StatusOr<std::string> all = peer->ReadUntilEof();
  if (!all.ok()) return all.status();
  const size_t end = all->find("\r\n\r\n");
  if (end == std::string::npos) {
    return absl::DataLossError(absl::StrCat("no HTTP head in: ", *all));
  }
  HttpResponse response;
  response.head = all->substr(0, end);
  response.status_line = response.head.substr(0, response.head.find("\r\n"));
  response.body = all->substr(end + 4);
  return response;
}

// The samples of an exposition: "name{labels}" -> value.
std::map<std::string, double> Samples(absl::string_view text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

absl::StatusOr<std::map<std::string, double>> Scrape(
    const InetAddress& address) {
  absl::StatusOr<HttpResponse> response = Get(address, "/metrics");
  if (!response.ok()) return response.status();
  if (response->status_line != "HTTP/1.1 200 OK") {
    return absl::InternalError(response->status_line);
  }
  return Samples(response->body);
}

// Runs `command` through the shell; its exit status and output.
int RunShell(const std::string& command, std::string* output) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class MetricsE2eTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        registry_
            .Register<test::Chat>([](Context& ctx, const test::Chat& chat) {
              (void)ctx.Reply(chat);
            })
            .ok());
    ASSERT_TRUE(testing::RegisterRawEcho(registry_, kRawType).ok());
    ServerOptions options;
    options.io_threads = 2;
    options.handler_threads = GetParam();
    server_ = std::make_unique<Server>(options, &registry_);
    server_->OnClose([this](Connection&) { closed_.DecrementCount(); });
    ASSERT_TRUE(server_->Listen("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->ListenMetrics("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_ != nullptr) {
      server_->Stop(absl::Seconds(5));
      server_->Join();
    }
  }

  // Three peers send `kEach` chats and two raw frames each and read every
  // reply, a fourth sends an oversized length and is closed; returns the
  // bytes the peers wrote.
  size_t MakeTraffic() {
    size_t written = 0;
    std::vector<TestPeer> peers;
    test::Chat chat;
    chat.set_text("hello");
    const std::string chat_frame = TlvFrame(1, chat.SerializeAsString());
    const std::string raw_frame = TlvFrame(kRawType, "raw!");
    for (int p = 0; p < 3; ++p) {
      absl::StatusOr<TestPeer> peer =
          TestPeer::Connect(server_->listen_address());
      EXPECT_TRUE(peer.ok()) << peer.status();
      std::string burst;
      for (int i = 0; i < kEach; ++i) burst += chat_frame;
      burst += raw_frame + raw_frame;
      EXPECT_TRUE(peer->WriteAll(burst).ok());
      written += burst.size();
      absl::StatusOr<std::string> replies = peer->ReadExactly(burst.size());
      EXPECT_TRUE(replies.ok()) << replies.status();
      peers.push_back(*std::move(peer));
    }
    absl::StatusOr<TestPeer> bad = TestPeer::Connect(server_->listen_address());
    EXPECT_TRUE(bad.ok());
    std::string header(8, '\0');
    header[0] = 1;
    header[7] = '\x7f';  // length 2 GiB: over the 8 MiB limit
    EXPECT_TRUE(bad->WriteAll(header).ok());
    written += header.size();
    EXPECT_TRUE(bad->ExpectEof().ok());
    for (TestPeer& peer : peers) peer.Close();
    closed_.Wait();  // all four closes counted
    // OnClose runs before the server forgets the connection: wait for that
    // too, so tao_connections_open is 0 in the scrape.
    EXPECT_TRUE(testing::WaitFor([&] {
      return server_->connection_count() == 0;
    })) << server_->connection_count()
        << " connections still known";
    return written;
  }

  static constexpr int kEach = 10;
  Registry registry_;
  std::unique_ptr<Server> server_;
  absl::BlockingCounter closed_{4};
};

TEST_P(MetricsE2eTest, ScrapeMatchesTheTraffic) {
  const size_t written = MakeTraffic();
  absl::StatusOr<std::map<std::string, double>> samples =
      Scrape(server_->metrics_address());
  ASSERT_TRUE(samples.ok()) << samples.status();
  std::map<std::string, double>& s = *samples;
  EXPECT_EQ(s["tao_connections_accepted_total"], 4);
  EXPECT_EQ(s["tao_connections_open"], 0);
  EXPECT_EQ(s["tao_connections_closed_total{code=\"ok\"}"], 3);
  EXPECT_EQ(s["tao_connections_closed_total{code=\"invalid_argument\"}"] +
                s["tao_connections_closed_total{code=\"resource_exhausted\"}"] +
                s["tao_connections_closed_total{code=\"data_loss\"}"],
            1);
  EXPECT_EQ(s["tao_decode_errors_total{kind=\"bad_frame\"}"], 1);
  EXPECT_EQ(s["tao_messages_handled_total{type=\"1\",name=\"tao.test.Chat\"}"],
            3 * kEach);
  EXPECT_EQ(s["tao_messages_handled_total{type=\"9\",name=\"raw\"}"], 6);
  EXPECT_EQ(s["tao_frames_received_total"], 3 * kEach + 6);
  EXPECT_EQ(s["tao_frames_sent_total"], 3 * kEach + 6);
  EXPECT_EQ(s["tao_received_bytes_total"], written);
  EXPECT_EQ(s["tao_sent_bytes_total"], written - 8);  // all but the bad one
  EXPECT_EQ(s["tao_handler_latency_seconds_count"] > 0, true);
  EXPECT_EQ(s["tao_handler_latency_seconds_bucket{le=\"+Inf\"}"],
            s["tao_handler_latency_seconds_count"]);
  EXPECT_EQ(s["tao_worker_queue_messages"], 0);
  EXPECT_EQ(s["tao_connections_refused_total{reason=\"max_connections\"}"], 0);
  EXPECT_EQ(s.count("tao_tls_handshakes_total{result=\"full\"}"), 0u);
}

TEST_P(MetricsE2eTest, PromtoolAcceptsWhatCurlFetches) {
  MakeTraffic();
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string file =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/metrics.txt");
  std::string output;
  ASSERT_EQ(RunShell("command -v curl && command -v promtool", &output), 0)
      << "curl and promtool (Debian packages curl, prometheus) are needed; "
         "./bazelw installs them";
  output.clear();
  ASSERT_EQ(
      RunShell(
          absl::StrCat("curl -sS --fail --max-time 10 -o ", file, " http://",
                       server_->metrics_address().ToString(), "/metrics 2>&1"),
          &output),
      0)
      << output;
  output.clear();
  EXPECT_EQ(RunShell(absl::StrCat("promtool check metrics < ", file, " 2>&1"),
                     &output),
            0)
      << output;
  EXPECT_EQ(output, "") << "promtool's lint findings";
}

TEST_P(MetricsE2eTest, HealthzTurnsUnavailableWhileStopDrains) {
  absl::StatusOr<HttpResponse> serving =
      Get(server_->metrics_address(), "/healthz");
  ASSERT_TRUE(serving.ok()) << serving.status();
  EXPECT_EQ(serving->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(serving->body, "serving\n");

  // A peer that keeps its side open holds the drain until it closes.
  absl::StatusOr<TestPeer> peer = TestPeer::Connect(server_->listen_address());
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(peer->WriteAll(TlvFrame(kRawType, "x")).ok());
  ASSERT_TRUE(peer->ReadExactly(9).ok());
  server_->Stop(absl::Seconds(30));
  absl::StatusOr<HttpResponse> draining =
      Get(server_->metrics_address(), "/healthz");
  ASSERT_TRUE(draining.ok()) << draining.status();
  EXPECT_EQ(draining->status_line, "HTTP/1.1 503 Service Unavailable");
  EXPECT_EQ(draining->body, "draining\n");
  // Still scrapable while draining.
  absl::StatusOr<std::map<std::string, double>> samples =
      Scrape(server_->metrics_address());
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ((*samples)["tao_connections_open"], 1);
  ASSERT_TRUE(peer->ExpectEof().ok());  // the server's side of the drain
  peer->Close();
  server_->Join();
  // Gone with the server.
  EXPECT_FALSE(TestPeer::Connect(server_->metrics_address()).ok());
}

TEST_P(MetricsE2eTest, UserCountersShareTheEndpoint) {
  absl::StatusOr<Counter*> orders = server_->metrics().AddCounter(
      "shop_orders_total", "Orders placed.", {{"kind", "retail"}});
  ASSERT_TRUE(orders.ok()) << orders.status();
  (*orders)->Increment(3);
  absl::StatusOr<std::map<std::string, double>> samples =
      Scrape(server_->metrics_address());
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ((*samples)["shop_orders_total{kind=\"retail\"}"], 3);
  EXPECT_EQ(samples->count("tao_connections_open"), 1u);
}

INSTANTIATE_TEST_SUITE_P(Handlers, MetricsE2eTest, ::testing::Values(0, 2),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 0 ? std::string("Inline")
                                                  : std::string("Pool");
                         });

TEST(ClientMetricsTest, AClientServesItsOwnNumbers) {
  Registry registry;
  ASSERT_TRUE(testing::RegisterRawEcho(registry, kRawType).ok());
  ServerOptions server_options;
  server_options.io_threads = 1;
  server_options.handler_threads = 0;
  Server server(server_options, &registry);
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  ASSERT_TRUE(server.Start().ok());

  absl::BlockingCounter replies(5);
  Registry client_registry;
  ASSERT_TRUE(client_registry
                  .RegisterRaw(kRawType,
                               [&](Context&, absl::string_view) {
                                 replies.DecrementCount();
                               })
                  .ok());
  Client client(ClientOptions(), &client_registry);
  ASSERT_TRUE(client.ListenMetrics("127.0.0.1:0").ok());
  ASSERT_TRUE(client.Connect(server.listen_address().ToString()).ok());
  ASSERT_TRUE(client.WaitConnected(absl::Seconds(10)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.SendRaw(kRawType, "hi").ok());
  replies.Wait();
  absl::StatusOr<std::map<std::string, double>> samples =
      Scrape(client.metrics_address());
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_EQ((*samples)["tao_connections_open"], 1);
  EXPECT_EQ((*samples)["tao_frames_sent_total"], 5);
  EXPECT_EQ((*samples)["tao_messages_handled_total{type=\"9\",name=\"raw\"}"],
            5);
  client.Stop();
  server.Stop(absl::Seconds(5));
  server.Join();
}

}  // namespace
}  // namespace tao
