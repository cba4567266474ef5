// Fuzzes a server-side TlsTransport (what a tao TLS server runs on the
// bytes of every accepted connection) over a socket pair, with the test
// certificates. The first input byte picks the mode:
//
//   even: the rest is the client's first flight, arriving in pseudo-random
//         pieces and then EOF; Handshake() runs after every piece until it
//         fails (it cannot succeed: nothing here has the keys).
//   odd:  a BoringSSL client completes a real handshake first; the rest is
//         a script of client actions, each followed by the transport's
//         Read() until it would block:
//           op % 4 == 0, len, bytes: SSL_write of the bytes (valid records)
//           op % 4 == 1, len, bytes: the bytes raw on the socket (garbage)
//           op % 4 == 2: close_notify      op % 4 == 3: TCP EOF (SHUT_WR)
//         Until garbage is sent, Read must return exactly the plaintext
//         written, in order, without error, and eof only after close_notify
//         or EOF.
//
// BoringSSL itself is Debian's prebuilt library, not instrumented: coverage
// guides the fuzzer through tao's TLS code (handshake and read states, error
// mapping, close), while BoringSSL's parsers see the inputs unguided.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tao/net/buffer.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"
#include "tao/testing/fuzz.h"
#include "tao/tls/test_certs.h"
#include "tao/tls/tls_context.h"

namespace tao {
namespace {

// Handshake()/Read() calls after the input is used up; a transport that
// neither finishes nor fails by then is stuck.
constexpr int kMaxIdleCalls = 8;

struct Fixture;
Fixture& GetFixture();

struct Fixture {
  Fixture() {
    absl::StatusOr<testing::TestCerts> certs = testing::MakeTestCerts();
    TAO_FUZZ_CHECK(certs.ok(), certs.status().ToString());
    TlsOptions options;
    options.cert_chain_pem = certs->server.cert_pem;
    options.private_key_pem = certs->server.key_pem;
    absl::StatusOr<std::shared_ptr<TlsContext>> context =
        TlsContext::NewServer(options);
    TAO_FUZZ_CHECK(context.ok(), context.status().ToString());
    server = *context;
    client = NewClientContext(TLS1_3_VERSION);
    client12 = NewClientContext(TLS1_2_VERSION);
  }

  // A client context that offers at most `max_version` and hands every
  // session it receives to StoreSession.
  static SSL_CTX* NewClientContext(uint16_t max_version) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_method());
    TAO_FUZZ_CHECK(ctx != nullptr, "SSL_CTX_new");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    TAO_FUZZ_CHECK(SSL_CTX_set_max_proto_version(ctx, max_version) == 1,
                   "SSL_CTX_set_max_proto_version");
    SSL_CTX_set_session_cache_mode(
        ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, &StoreSession);
    return ctx;
  }

  static int StoreSession(SSL* ssl, SSL_SESSION* session) {
    Fixture& fixture = GetFixture();
    SSL_SESSION*& slot = SSL_get_SSL_CTX(ssl) == fixture.client12
                             ? fixture.session12
                             : fixture.session13;
    if (slot != nullptr) return 0;  // keep the first; the caller frees this
    slot = session;
    return 1;  // the slot owns the reference now
  }

  std::shared_ptr<TlsContext> server;
  SSL_CTX* client;    // TLS 1.3; never freed
  SSL_CTX* client12;  // at most TLS 1.2; never freed
  // Sessions to resume, from one full handshake each (GetSessions).
  SSL_SESSION* session13 = nullptr;
  SSL_SESSION* session12 = nullptr;
};

Fixture& GetFixture() {
  static Fixture* const fixture = new Fixture();
  return *fixture;
}

// A connected socket pair: the server's transport and the client's end.
struct Pair {
  std::unique_ptr<Transport> server;
  Socket client;
};

Pair MakePair() {
  int fds[2];
  TAO_FUZZ_CHECK(
      ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0,
      "socketpair");
  Pair pair;
  pair.client = Socket(fds[1]);
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      GetFixture().server->Wrap(Socket(fds[0]), "");
  TAO_FUZZ_CHECK(transport.ok(), transport.status().ToString());
  pair.server = *std::move(transport);
  return pair;
}

void WriteRaw(const Socket& socket, absl::string_view bytes) {
  const ssize_t n = ::send(socket.fd(), bytes.data(), bytes.size(), 0);
  TAO_FUZZ_CHECK(n == static_cast<ssize_t>(bytes.size()),
                 absl::StrCat("send ", bytes.size(), " bytes: ", n));
}

// Discards what the server sent, so its writes never block.
void Drain(const Socket& socket) {
  char sink[16384];
  while (::recv(socket.fd(), sink, sizeof(sink), 0) > 0) {
  }
}

void FirstFlight(absl::string_view flight) {
  Pair pair = MakePair();
  testing::ChunkSplitter split(testing::Fnv1a(flight), /*max_chunk=*/512);
  if (flight.empty()) ::shutdown(pair.client.fd(), SHUT_WR);
  absl::Status failed;
  int idle = 0;
  while (failed.ok() && idle < kMaxIdleCalls) {
    if (!flight.empty()) {
      const size_t n = split.Next(flight.size());
      WriteRaw(pair.client, flight.substr(0, n));
      flight.remove_prefix(n);
      if (flight.empty()) ::shutdown(pair.client.fd(), SHUT_WR);
    } else {
      ++idle;
    }
    absl::StatusOr<bool> done = pair.server->Handshake();
    TAO_FUZZ_CHECK(!done.ok() || !*done, "a handshake nobody could finish");
    failed = done.status();
    Drain(pair.client);
  }
  TAO_FUZZ_CHECK(!failed.ok(),
                 "the handshake neither failed nor finished "
                 "after the client's EOF");
  TAO_FUZZ_CHECK(!failed.message().empty(), failed.ToString());
  pair.server->Close();
}

// Drives both handshakes to completion.
void Handshake(Pair& pair, SSL* ssl) {
  bool server_done = false;
  bool client_done = false;
  for (int i = 0; i < 64 && !(server_done && client_done); ++i) {
    if (!client_done) {
      const int rc = SSL_do_handshake(ssl);
      const int error = SSL_get_error(ssl, rc);
      TAO_FUZZ_CHECK(rc == 1 || error == SSL_ERROR_WANT_READ,
                     absl::StrCat("client handshake: ", error));
      client_done = rc == 1;
    }
    if (!server_done) {
      absl::StatusOr<bool> done = pair.server->Handshake();
      TAO_FUZZ_CHECK(done.ok(), done.status().ToString());
      server_done = *done;
    }
  }
  TAO_FUZZ_CHECK(server_done && client_done, "the handshake did not finish");
}

enum class Start { kFull, kResumed13, kResumed12 };

// A client on `pair` that has completed a handshake of kind `start`.
SSL* Connect(Pair& pair, Start start) {
  Fixture& fixture = GetFixture();
  SSL* ssl =
      SSL_new(start == Start::kResumed12 ? fixture.client12 : fixture.client);
  TAO_FUZZ_CHECK(ssl != nullptr, "SSL_new");
  SSL_set_fd(ssl, pair.client.fd());
  SSL_set_connect_state(ssl);
  SSL_SESSION* session = start == Start::kResumed13   ? fixture.session13
                         : start == Start::kResumed12 ? fixture.session12
                                                      : nullptr;
  if (session != nullptr) SSL_set_session(ssl, session);
  Handshake(pair, ssl);
  TAO_FUZZ_CHECK(SSL_session_reused(ssl) == (start != Start::kFull),
                 "the handshake did not resume as intended");
  return ssl;
}

// One full handshake per protocol version, kept until the client received
// its session ticket (TLS 1.3 sends it after the handshake).
void GetSessions() {
  Fixture& fixture = GetFixture();
  for (SSL_CTX* ctx : {fixture.client, fixture.client12}) {
    Pair pair = MakePair();
    SSL* ssl = SSL_new(ctx);
    TAO_FUZZ_CHECK(ssl != nullptr, "SSL_new");
    SSL_set_fd(ssl, pair.client.fd());
    SSL_set_connect_state(ssl);
    Handshake(pair, ssl);
    SSL_SESSION* const& slot =
        ctx == fixture.client12 ? fixture.session12 : fixture.session13;
    // BoringSSL sends TLS 1.3 tickets with the server's first write.
    char byte = 'x';
    struct iovec one = {&byte, 1};
    absl::StatusOr<size_t> written = pair.server->Write({&one, 1});
    TAO_FUZZ_CHECK(written.ok() && *written == 1, "server Write");
    for (int i = 0; i < 8 && slot == nullptr; ++i) {
      (void)SSL_read(ssl, &byte, 1);  // processes the ticket
    }
    TAO_FUZZ_CHECK(slot != nullptr, "no session ticket to resume");
    pair.server->Close();
    SSL_free(ssl);
  }
  ERR_clear_error();
}

// The sessions expire (BoringSSL's default timeout for TLS 1.2 is two
// hours): long runs take fresh ones every ten minutes.
void RefreshSessionsIfOld() {
  static absl::Time taken = absl::Now();
  if (absl::Now() - taken < absl::Minutes(10)) return;
  Fixture& fixture = GetFixture();
  for (SSL_SESSION** slot : {&fixture.session12, &fixture.session13}) {
    SSL_SESSION_free(*slot);
    *slot = nullptr;
  }
  GetSessions();
  taken = absl::Now();
}

void AfterHandshake(Start start, absl::string_view script) {
  if (start != Start::kFull) RefreshSessionsIfOld();
  Pair pair = MakePair();
  SSL* ssl = Connect(pair, start);

  std::string sent;        // plaintext the client wrote
  bool tampered = false;   // raw bytes were injected: anything may happen
  bool ended = false;      // close_notify or EOF sent
  bool truncated = false;  // EOF sent without close_notify first
  bool eof = false;
  Buffer in;
  absl::Status failed;
  int idle = 0;
  while (failed.ok() && !eof && idle < kMaxIdleCalls) {
    if (!script.empty()) {
      const auto op = static_cast<unsigned char>(script[0]) % 4;
      script.remove_prefix(1);
      absl::string_view bytes;
      if (op < 2 && !script.empty()) {
        const size_t len = std::min<size_t>(
            static_cast<unsigned char>(script[0]), script.size() - 1);
        bytes = script.substr(1, len);
        script.remove_prefix(1 + len);
      }
      if (ended && op != 1) continue;  // nothing valid after the end
      switch (op) {
        case 0:
          if (bytes.empty()) break;
          TAO_FUZZ_CHECK(
              SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size())) ==
                  static_cast<int>(bytes.size()),
              "client SSL_write");
          sent.append(bytes.data(), bytes.size());
          break;
        case 1:
          if (bytes.empty() || ended) break;
          WriteRaw(pair.client, bytes);
          tampered = true;
          break;
        case 2:
          (void)SSL_shutdown(ssl);
          ended = true;
          break;
        case 3:
          ::shutdown(pair.client.fd(), SHUT_WR);
          // A FIN with no close_notify before it is a truncation.
          if (!ended) truncated = true;
          ended = true;
          break;
      }
      ERR_clear_error();
    } else {
      ++idle;
    }
    absl::StatusOr<Transport::ReadResult> read = pair.server->Read(in);
    Drain(pair.client);
    if (!read.ok()) {
      failed = read.status();
      break;
    }
    eof = read->eof;
    if (!tampered) {
      TAO_FUZZ_CHECK(
          absl::string_view(sent).substr(0, in.readable_bytes()) == in.view(),
          "the server read other bytes than were sent");
    }
  }
  if (!tampered && truncated) {
    TAO_FUZZ_CHECK(absl::IsDataLoss(failed), failed.ToString());
    TAO_FUZZ_CHECK(in.view() == sent, absl::StrCat(in.readable_bytes(), " of ",
                                                   sent.size(), " bytes read"));
  } else if (!tampered) {
    TAO_FUZZ_CHECK(failed.ok(), failed.ToString());
    TAO_FUZZ_CHECK(in.view() == sent, absl::StrCat(in.readable_bytes(), " of ",
                                                   sent.size(), " bytes read"));
    TAO_FUZZ_CHECK(eof == ended, absl::StrCat("eof ", eof, ", ended ", ended));
  }
  TAO_FUZZ_CHECK(failed.ok() || !failed.message().empty(), failed.ToString());
  pair.server->Close();
  SSL_free(ssl);
  ERR_clear_error();
}

}  // namespace
}  // namespace tao

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  ::signal(SIGPIPE, SIG_IGN);
  tao::GetSessions();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view rest(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  if (data[0] % 2 == 0) {
    tao::FirstFlight(rest);
  } else if (data[0] == 1) {
    tao::AfterHandshake(tao::Start::kFull, rest);
  } else if (data[0] % 4 == 3) {
    tao::AfterHandshake(tao::Start::kResumed13, rest);
  } else {
    tao::AfterHandshake(tao::Start::kResumed12, rest);
  }
  return 0;
}
