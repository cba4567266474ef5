// The relay demo: a back server (envelope codec, a worker pool), a front
// server relaying to it over an envelope-codec tao::Client link, and two
// clients of the front sending SumRequests and UpperRequests interleaved. Exits
// 0 when each client got its own answers, right and in order.
//   ./bazelw run //examples/relay:demo
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "examples/common/timeline.h"
#include "examples/common/transcripts.h"
#include "examples/relay/backend.h"
#include "examples/relay/relay.h"
#include "examples/relay/relay.pb.h"
#include "examples/relay/relay_client.h"

namespace {

constexpr absl::Duration kPatience = absl::Seconds(10);

int Fail(const std::string& why) {
  std::fprintf(stderr, "relay demo failed: %s\n", why.c_str());
  return 1;
}

// "0a 08 01": each byte in hex.
std::string Hex(absl::string_view bytes) {
  std::string hex;
  for (char c : bytes) {
    absl::StrAppendFormat(&hex, hex.empty() ? "%02x" : " %02x",
                          static_cast<unsigned char>(c));
  }
  return hex;
}

// How the link frames `message`: envelope header, then the payload.
std::string OnTheLink(const google::protobuf::Message& message, int32_t type) {
  const std::string payload = message.SerializeAsString();
  char header[tao::EnvelopeCodec::kMaxHeaderSize];
  absl::StatusOr<size_t> n =
      tao::EnvelopeCodec::Default().EncodeHeader(type, payload.size(), header);
  TAO_CHECK(n.ok()) << n.status();
  return absl::StrCat(Hex(absl::string_view(header, *n)), " | ", Hex(payload));
}

// A started server on 127.0.0.1:0.
void Start(tao::Server& server) {
  TAO_CHECK(server.Listen("127.0.0.1:0").ok());
  TAO_CHECK(server.Start().ok());
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);
  tao::examples::Timeline timeline;
  tao::Registry back_registry;
  TAO_CHECK(relay::RegisterBackend(&back_registry).ok());
  tao::ServerOptions back_options;
  back_options.io_threads = 1;
  back_options.handler_threads = 2;  // still one answer at a time, in order
  back_options.codec = relay::LinkCodec();
  auto back = std::make_unique<tao::Server>(back_options, &back_registry);
  Start(*back);
  timeline.Say(absl::StrCat("back server on ",
                            back->listen_address().ToString(),
                            ", codec: ", back->codec().name()));

  tao::Registry front_registry;
  relay::Relay link(tao::ClientOptions(), relay::AnswerTypes());
  TAO_CHECK(link.RegisterRequests(&front_registry, relay::RequestTypes()).ok());
  tao::ServerOptions front_options;
  front_options.io_threads = 1;
  front_options.handler_threads = 0;
  auto front = std::make_unique<tao::Server>(front_options, &front_registry);
  if (absl::Status up =
          link.Connect(back->listen_address().ToString(), kPatience);
      !up.ok()) {
    return Fail(up.ToString());
  }
  Start(*front);
  timeline.Say(absl::StrCat("front server on ",
                            front->listen_address().ToString(),
                            ", codec: ", front->codec().name(),
                            "; relay link codec: ", link.link_codec().name()));

  relay::SumRequest sample;
  for (int n : {1, 2, 3, 4}) sample.add_numbers(n);
  timeline.Say(absl::StrCat(
      "on the link, \"sum 1 2 3 4\" is the envelope frame ",
      OnTheLink(sample, relay::RequestTypes()[0]),
      " (varint length, type_id field, payload field | SumRequest)"));

  // Two clients ask at the same time; each must hear exactly its answers.
  struct Asker {
    std::string name;
    std::vector<std::string> asks;
    std::vector<std::string> expected;
  };
  const std::vector<Asker> askers = {
      {"ann",
       {"sum 1 2 3 4", "hello relay", "sum -5 100"},
       {"sum = 10", "upper = HELLO RELAY", "sum = 95"}},
      {"bob",
       {"envelopes all the way", "sum 7", "two types"},
       {"upper = ENVELOPES ALL THE WAY", "sum = 7", "upper = TWO TYPES"}}};
  tao::examples::Transcripts heard;  // outlives the clients
  std::vector<std::unique_ptr<relay::RelayClient>> clients;
  for (const Asker& asker : askers) {
    clients.push_back(std::make_unique<relay::RelayClient>(
        tao::ClientOptions(),
        [&heard, &timeline, name = asker.name](const std::string& answer) {
          timeline.Say(absl::StrCat(name, ": answer ", answer));
          heard.Heard(name, answer);
        }));
    if (absl::Status up =
            clients.back()->Connect(front->listen_address().ToString());
        !up.ok()) {
      return Fail(up.ToString());
    }
  }
  for (size_t i = 0; i < askers[0].asks.size(); ++i) {
    for (size_t c = 0; c < askers.size(); ++c) {
      timeline.Say(
          absl::StrCat(askers[c].name, ": asks \"", askers[c].asks[i], "\""));
      TAO_CHECK(clients[c]->Ask(askers[c].asks[i]).ok());
    }
  }
  const bool all = heard.WaitForAll({"ann", "bob"}, 3, kPatience);
  for (auto& client : clients) client->Stop();
  front->Stop(absl::Seconds(1));
  front->Join();
  link.Stop();
  back->Stop(absl::Seconds(1));
  back->Join();
  std::map<std::string, std::vector<std::string>> got = heard.Snapshot();
  size_t answers = 0;
  for (const Asker& asker : askers) {
    if (!all || got[asker.name] != asker.expected) {
      return Fail(absl::StrCat(asker.name, " heard ", got[asker.name].size(),
                               " of ", asker.expected.size(),
                               " answers, or not its own"));
    }
    answers += asker.expected.size();
  }
  std::printf(
      "relay demo: %zu answers of two message types came back, in order, "
      "each to its asker, through the front server (%llu relayed) and the "
      "back server's "
      "envelope-codec link (%llu messages handled there)\n",
      answers, static_cast<unsigned long long>(link.relayed()),
      static_cast<unsigned long long>(back->stats().messages));
  return 0;
}
