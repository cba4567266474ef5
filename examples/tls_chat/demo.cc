// The TLS chat demo: a chat room over mutual TLS. At start it makes a
// throw-away CA and certificates with BoringSSL (the server's for
// localhost; one per member: alice, bob, carol; and two strangers). The
// server admits a client only if its certificate chains to the CA *and*
// names a member (TlsOptions::authorize), then broadcasts every line. The
// demo prints the handshakes, each member's transcript and how the
// strangers were turned away; it exits 0, or 1 with the reason.
//   ./bazelw run //examples/tls_chat:demo
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "examples/common/transcripts.h"
#include "tao/tao.h"
#include "tao/tls/test_certs.h"
#include "tao/tls/tls_context.h"

namespace {

// One chat line: TLV type 1, payload "name: text".
constexpr int32_t kSay = 1;
constexpr absl::Duration kTimeout = absl::Seconds(10);

absl::Mutex print_mu;

void Print(const std::string& line) {
  absl::MutexLock lock(&print_mu);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

// "alice" from "CN=alice,O=tao test".
std::string CommonName(absl::string_view subject) {
  if (!absl::ConsumePrefix(&subject, "CN=")) return "";
  return std::string(subject.substr(0, subject.find(',')));
}

using ::tao::examples::Transcripts;

// A chat client over TLS with its own certificate.
class Member {
 public:
  Member(std::string name, std::shared_ptr<tao::TlsContext> tls,
         Transcripts* transcripts)
      : name_(std::move(name)) {
    TAO_CHECK(registry_
                  .RegisterRaw(kSay,
                               [this, transcripts](tao::Context&,
                                                   absl::string_view line) {
                                 transcripts->Heard(name_, line);
                               })
                  .ok());
    tao::ClientOptions options;
    options.handler_threads = 1;  // one ordered stream of lines
    options.tls = std::move(tls);
    client_ = std::make_unique<tao::Client>(options, &registry_);
    client_->OnConnect([this](tao::Connection&) {
      absl::MutexLock lock(&mu_);
      connected_ = true;
      return true;
    });
    client_->OnError([this](tao::Connection&, const absl::Status& error) {
      absl::MutexLock lock(&mu_);
      if (error_.ok()) error_ = error;
    });
  }
  ~Member() { Leave(); }

  // Connects and waits for the TLS handshake (or its failure).
  absl::Status Join(const std::string& address) {
    absl::Status connecting = client_->Connect(address);
    if (!connecting.ok()) return connecting;
    absl::MutexLock lock(&mu_);
    auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return connected_ || !error_.ok();
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&settled), kTimeout)) {
      return absl::DeadlineExceededError(name_ + ": no handshake");
    }
    return error_;
  }

  // Waits until the connection failed; returns why (OK on timeout).
  absl::Status WaitRefused() {
    absl::MutexLock lock(&mu_);
    auto failed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !error_.ok();
    };
    mu_.AwaitWithTimeout(absl::Condition(&failed), kTimeout);
    return error_;
  }

  absl::Status Say(absl::string_view text) {
    return client_->SendRaw(kSay, absl::StrCat(name_, ": ", text));
  }
  void Leave() { client_->Stop(); }
  const std::string& name() const { return name_; }

 private:
  const std::string name_;
  tao::Registry registry_;
  std::unique_ptr<tao::Client> client_;
  absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
};

int Fail(const std::string& why) {
  std::fprintf(stderr, "tls chat demo failed: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() {
  tao::SetMinLogSeverity(tao::LogSeverity::kError);
  const std::vector<std::string> names = {"alice", "bob", "carol"};

  // --- Throw-away certificates ---
  absl::StatusOr<tao::testing::TestCerts> base = tao::testing::MakeTestCerts();
  if (!base.ok()) return Fail(base.status().ToString());
  const tao::testing::CertAndKey& ca = base->ca;
  std::map<std::string, tao::testing::CertAndKey> certs;
  for (const std::string& name :
       {names[0], names[1], names[2], std::string("eve")}) {
    tao::testing::CertSpec spec;
    spec.common_name = name;
    absl::StatusOr<tao::testing::CertAndKey> cert =
        tao::testing::MakeCertificate(spec, &ca);
    if (!cert.ok()) return Fail(cert.status().ToString());
    certs[name] = *cert;
  }
  tao::testing::CertSpec mallory_spec;
  mallory_spec.common_name = "mallory";
  absl::StatusOr<tao::testing::CertAndKey> mallory_cert =
      tao::testing::MakeCertificate(mallory_spec, &base->untrusted_ca);
  if (!mallory_cert.ok()) return Fail(mallory_cert.status().ToString());
  certs["mallory"] = *mallory_cert;
  Print(
      "made a throw-away CA and certificates for localhost, alice, bob, "
      "carol, eve (same CA, not a member) and mallory (another CA)");

  // --- The server: mutual TLS, members only ---
  tao::TlsOptions server_tls;
  server_tls.cert_chain_pem = base->server.cert_pem;
  server_tls.private_key_pem = base->server.key_pem;
  server_tls.ca_pem = ca.cert_pem;
  server_tls.client_auth = tao::ClientAuth::kRequire;
  const std::set<std::string> members(names.begin(), names.end());
  server_tls.authorize = [&members](const tao::TlsInfo& info) {
    const std::string who = CommonName(info.peer_subject);
    if (members.count(who) == 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("'", who, "' is not a member of the room"));
    }
    Print(absl::StrCat("[server] ", info.version, " ", info.cipher,
                       " handshake with ", who, " (certificate ",
                       info.peer_subject, ", issued by ", info.peer_issuer,
                       ")"));
    return absl::OkStatus();
  };
  absl::StatusOr<std::shared_ptr<tao::TlsContext>> server_ctx =
      tao::TlsContext::NewServer(server_tls);
  if (!server_ctx.ok()) return Fail(server_ctx.status().ToString());

  tao::Registry registry;
  TAO_CHECK(registry
                .RegisterRaw(kSay,
                             [](tao::Context& ctx, absl::string_view line) {
                               (void)ctx.endpoint().BroadcastRaw(kSay, line);
                             })
                .ok());
  tao::ServerOptions options;
  options.io_threads = 2;
  options.handler_threads = 0;
  options.tls = *server_ctx;
  tao::Server server(options, &registry);
  server.OnError([](tao::Connection& c, const absl::Status& error) {
    Print(absl::StrCat("[server] turned away ", c.peer_address().ToString(),
                       ": ", error.message()));
  });
  absl::Status started = server.Listen("127.0.0.1:0");
  if (started.ok()) started = server.Start();
  if (!started.ok()) return Fail(started.ToString());
  // "localhost": the clients send it as SNI and check it in the server's
  // certificate.
  const std::string address =
      absl::StrCat("localhost:", server.listen_address().port());
  Print(absl::StrCat("chat server on ", address, " (mutual TLS)"));

  auto client_tls = [&](const std::string& name)
      -> absl::StatusOr<std::shared_ptr<tao::TlsContext>> {
    tao::TlsOptions tls;
    tls.ca_pem = ca.cert_pem;
    tls.cert_chain_pem = certs[name].cert_pem;
    tls.private_key_pem = certs[name].key_pem;
    return tao::TlsContext::NewClient(tls);
  };

  // --- Members join and talk ---
  Transcripts transcripts;
  std::vector<std::unique_ptr<Member>> room;
  for (const std::string& name : names) {
    absl::StatusOr<std::shared_ptr<tao::TlsContext>> tls = client_tls(name);
    if (!tls.ok()) return Fail(tls.status().ToString());
    room.push_back(std::make_unique<Member>(name, *tls, &transcripts));
    absl::Status joined = room.back()->Join(address);
    if (!joined.ok()) return Fail(joined.ToString());
  }
  const std::vector<std::string> lines = {
      "hi all, this room is end-to-end TLS now", "hello alice!",
      "and nobody without a certificate from our CA gets in"};
  for (size_t i = 0; i < room.size(); ++i) {
    Print(absl::StrCat(room[i]->name(), " says: ", lines[i]));
    absl::Status said = room[i]->Say(lines[i]);
    if (!said.ok()) return Fail(said.ToString());
    if (!transcripts.WaitForAll(names, i + 1, kTimeout)) {
      return Fail(absl::StrCat("not every member heard ", room[i]->name()));
    }
  }

  // --- Strangers ---
  for (const std::string& stranger :
       {std::string("mallory"), std::string("eve")}) {
    absl::StatusOr<std::shared_ptr<tao::TlsContext>> tls = client_tls(stranger);
    if (!tls.ok()) return Fail(tls.status().ToString());
    Member intruder(stranger, *tls, &transcripts);
    // With TLS 1.3 the client finishes its half of the handshake before the
    // server has checked its certificate, so Join may succeed; the refusal
    // (an alert) follows at once.
    (void)intruder.Join(address);
    const absl::Status refused = intruder.WaitRefused();
    if (refused.ok()) return Fail(stranger + " was not refused");
    Print(absl::StrCat(stranger, " was refused: ", refused.message()));
  }

  for (const auto& [name, heard] : transcripts.Snapshot()) {
    Print(absl::StrCat("--- ", name, " heard:"));
    for (const std::string& line : heard) Print(absl::StrCat("  ", line));
    if (members.count(name) == 0) {
      return Fail(absl::StrCat(name, " heard the room"));
    }
    if (heard.size() != lines.size()) {
      return Fail(absl::StrCat(name, " heard ", heard.size(), " lines"));
    }
  }
  for (auto& member : room) member->Leave();
  server.Stop(absl::Seconds(2));
  server.Join();
  Print(
      "tls chat demo: every member heard every line over mutual TLS; "
      "strangers were turned away");
  return 0;
}
