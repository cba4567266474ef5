#include "tao/tls/tls_context.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/base/logging.h"
#include "tao/base/status_macros.h"
#include "tao/tls/tls_internal.h"
#include "tao/tls/tls_transport.h"

namespace tao {

// BoringSSL callbacks; a friend of TlsContext and TlsTransport.
struct TlsCallbacks {
  static TlsTransport* TransportOf(SSL* ssl) {
    return static_cast<TlsTransport*>(
        SSL_get_ex_data(ssl, tls_internal::TransportIndex()));
  }

  // Client: a session (TLS 1.3: a ticket after the handshake) to cache.
  static int NewSession(SSL* ssl, SSL_SESSION* session) {
    TlsTransport* transport = TransportOf(ssl);
    if (transport == nullptr || transport->session_key_.empty()) return 0;
    transport->context_->StoreSession(transport->session_key_, session);
    return 1;  // we took the reference
  }

  // Server: session ticket encryption keys.
  static int TicketKey(SSL* ssl, uint8_t* key_name, uint8_t* iv,
                       EVP_CIPHER_CTX* cipher_ctx, HMAC_CTX* hmac_ctx,
                       int encrypt) {
    TlsTransport* transport = TransportOf(ssl);
    if (transport == nullptr) return -1;
    return transport->context_->HandleTicketKey(key_name, iv, cipher_ctx,
                                                hmac_ctx, encrypt != 0);
  }

  // Records the first certificate problem for the error message; does not
  // change the verdict.
  static int Verify(int ok, X509_STORE_CTX* store) {
    if (ok) return 1;
    SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(
        store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    TlsTransport* transport = ssl != nullptr ? TransportOf(ssl) : nullptr;
    if (transport != nullptr && transport->verify_failure_.error == 0) {
      TlsTransport::VerifyFailure& f = transport->verify_failure_;
      f.error = X509_STORE_CTX_get_error(store);
      f.depth = X509_STORE_CTX_get_error_depth(store);
      X509* cert = X509_STORE_CTX_get_current_cert(store);
      if (cert != nullptr) {
        f.subject = tls_internal::NameToString(X509_get_subject_name(cert));
        f.not_after = tls_internal::TimeToString(X509_get0_notAfter(cert));
        f.names = tls_internal::DescribeNames(cert);
      }
    }
    return 0;
  }

  // Server: runs once the ClientHello is parsed and resumption decided,
  // before any signature; 0 aborts the handshake.
  static int AdmitHandshake(const SSL_CLIENT_HELLO* hello) {
    TlsTransport* transport = TransportOf(hello->ssl);
    if (transport == nullptr || SSL_session_reused(hello->ssl)) return 1;
    if (transport->context_->AdmitFullHandshake()) return 1;
    transport->refused_over_rate_ = true;
    return 0;
  }

  // Server: the first of our protocols the client offers.
  static int SelectAlpn(SSL*, const uint8_t** out, uint8_t* out_len,
                        const uint8_t* in, unsigned in_len, void* arg) {
    const std::string& ours = *static_cast<const std::string*>(arg);
    const auto* p = reinterpret_cast<const uint8_t*>(ours.data());
    const auto* end = p + ours.size();
    for (; p < end; p += 1 + *p) {
      for (const uint8_t* q = in; q < in + in_len; q += 1 + *q) {
        if (*p == *q && q + 1 + *q <= in + in_len &&
            std::memcmp(p + 1, q + 1, *p) == 0) {
          *out = q + 1;
          *out_len = *q;
          return SSL_TLSEXT_ERR_OK;
        }
      }
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL;  // no_application_protocol
  }
};

namespace {

constexpr size_t kTicketKeySize = 48;

// TLS 1.2 cipher suites, both sides: forward secrecy (ECDHE) and AEAD
// (AES-GCM, ChaCha20-Poly1305) only. BoringSSL's default would also offer
// RSA key exchange (no forward secrecy) and CBC with SHA-1.
constexpr char kTls12CipherList[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384";

int ProtocolVersion(TlsVersion v) {
  return v == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
}

// Where a PEM came from, for messages: "cert_chain_file '/etc/x.pem'" or
// "cert_chain_pem".
struct PemSource {
  std::string description;
  std::string contents;
};

absl::StatusOr<std::string> ReadWholeFile(const std::string& path,
                                          absl::string_view field) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("tls: ", field, " '", path, "'"));
  }
  std::string contents;
  char chunk[16384];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return absl::ErrnoToStatus(
          saved, absl::StrCat("tls: reading ", field, " '", path, "'"));
    }
    contents.append(chunk, static_cast<size_t>(n));
    if (contents.size() > (size_t{16} << 20)) {
      ::close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "tls: ", field, " '", path, "' is larger than 16 MiB; not PEM?"));
    }
  }
  ::close(fd);
  return contents;
}

// The PEM text of an option pair; nullopt-like empty description when
// neither is set.
absl::StatusOr<PemSource> LoadPem(absl::string_view name,
                                  const std::string& file,
                                  const std::string& pem) {
  PemSource source;
  if (!file.empty() && !pem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: set ", name, "_file or ", name, "_pem, not both"));
  }
  if (!file.empty()) {
    const std::string field = absl::StrCat(name, "_file");
    source.description = absl::StrCat(field, " '", file, "'");
    TAO_ASSIGN_OR_RETURN(source.contents, ReadWholeFile(file, field));
  } else if (!pem.empty()) {
    source.description = absl::StrCat(name, "_pem");
    source.contents = pem;
  }
  return source;
}

absl::StatusOr<std::vector<bssl::UniquePtr<X509>>> ParseCertificates(
    const PemSource& source) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(
      source.contents.data(), static_cast<int>(source.contents.size())));
  std::vector<bssl::UniquePtr<X509>> certs;
  ERR_clear_error();
  for (;;) {
    bssl::UniquePtr<X509> cert(
        PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  const uint32_t e = ERR_peek_last_error();
  const bool clean_end =
      ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
  const std::string reasons = tls_internal::DrainErrors();
  if (!clean_end && e != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls: ", source.description, ": bad PEM certificate (", reasons, ")"));
  }
  if (certs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls: ", source.description, ": no PEM certificate found"));
  }
  return certs;
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> ParseKey(const PemSource& source) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(
      source.contents.data(), static_cast<int>(source.contents.size())));
  ERR_clear_error();
  bssl::UniquePtr<EVP_PKEY> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  const std::string reasons = tls_internal::DrainErrors();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: ", source.description,
                     ": no usable PEM private key (", reasons, ")"));
  }
  return key;
}

std::string Subject(X509* cert) {
  return tls_internal::NameToString(X509_get_subject_name(cert));
}

absl::Status CheckValidity(X509* cert, const PemSource& source) {
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tls: certificate in ", source.description, " (", Subject(cert),
        ") expired on ", tls_internal::TimeToString(X509_get0_notAfter(cert))));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("tls: certificate in ", source.description, " (",
                     Subject(cert), ") is not valid before ",
                     tls_internal::TimeToString(X509_get0_notBefore(cert))));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> AlpnWire(const std::vector<std::string>& alpn) {
  std::string wire;
  for (const std::string& protocol : alpn) {
    if (protocol.empty() || protocol.size() > 255) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tls: ALPN protocol '", protocol, "' must be 1 to 255 bytes"));
    }
    wire.push_back(static_cast<char>(protocol.size()));
    wire.append(protocol);
  }
  return wire;
}

absl::Status ValidateTicketKeys(const std::vector<std::string>& keys) {
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i].size() != kTicketKeySize) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: ticket key ", i, " has ", keys[i].size(),
                       " bytes; ticket keys are ", kTicketKeySize, " bytes"));
    }
  }
  return absl::OkStatus();
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Owns an SSL_CTX reference until released.
struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

}  // namespace

// ---------------------------------------------------------------------------
// Creation and configuration

TlsContext::TlsContext(Role role, TlsOptions options)
    : role_(role), options_(std::move(options)) {}

TlsContext::~TlsContext() {
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewServer(
    TlsOptions options) {
  return Create(Role::kServer, std::move(options));
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::NewClient(
    TlsOptions options) {
  return Create(Role::kClient, std::move(options));
}

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(
    Role role, TlsOptions options) {
  std::shared_ptr<TlsContext> context(new TlsContext(role, TlsOptions()));
  TAO_RETURN_IF_ERROR(context->Reload(std::move(options)));
  context->reloads_.store(0, std::memory_order_relaxed);
  return context;
}

std::string TlsContext::GenerateTicketKey() {
  std::string key(kTicketKeySize, '\0');
  RAND_bytes(reinterpret_cast<uint8_t*>(key.data()), key.size());
  return key;
}

absl::StatusOr<SSL_CTX*> TlsContext::BuildSslCtx(
    const TlsOptions& options) const {
  const bool server = role_ == Role::kServer;
  if (options.min_version == TlsVersion::kTls13 &&
      options.max_version == TlsVersion::kTls12) {
    return absl::InvalidArgumentError(
        "tls: min_version TLS 1.3 is above max_version TLS 1.2");
  }
  CtxPtr ctx(SSL_CTX_new(TLS_method()));
  if (ctx == nullptr) {
    return absl::InternalError(
        absl::StrCat("tls: SSL_CTX_new: ", tls_internal::DrainErrors()));
  }
  SSL_CTX_set_min_proto_version(ctx.get(),
                                ProtocolVersion(options.min_version));
  SSL_CTX_set_max_proto_version(ctx.get(),
                                ProtocolVersion(options.max_version));
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // TLS 1.2 suites (TLS 1.3's are fixed and all qualify).
  if (!SSL_CTX_set_strict_cipher_list(ctx.get(), kTls12CipherList)) {
    return absl::InternalError(absl::StrCat("tls: SSL_CTX_set_cipher_list: ",
                                            tls_internal::DrainErrors()));
  }

  // --- Identity ---
  TAO_ASSIGN_OR_RETURN(
      PemSource chain,
      LoadPem("cert_chain", options.cert_chain_file, options.cert_chain_pem));
  TAO_ASSIGN_OR_RETURN(PemSource key_source,
                       LoadPem("private_key", options.private_key_file,
                               options.private_key_pem));
  const bool has_chain = !chain.description.empty();
  const bool has_key = !key_source.description.empty();
  if (server && !has_chain) {
    return absl::InvalidArgumentError(
        "tls: a server needs a certificate: set cert_chain_file or "
        "cert_chain_pem, and private_key_file or private_key_pem");
  }
  if (has_chain != has_key) {
    return absl::InvalidArgumentError(
        has_chain ? absl::StrCat("tls: ", chain.description,
                                 " is set but no private key "
                                 "(private_key_file / private_key_pem)")
                  : absl::StrCat("tls: ", key_source.description,
                                 " is set but no certificate "
                                 "(cert_chain_file / cert_chain_pem)"));
  }
  if (has_chain) {
    TAO_ASSIGN_OR_RETURN(std::vector<bssl::UniquePtr<X509>> certs,
                         ParseCertificates(chain));
    TAO_ASSIGN_OR_RETURN(bssl::UniquePtr<EVP_PKEY> key, ParseKey(key_source));
    X509* leaf = certs[0].get();
    ERR_clear_error();
    if (!X509_check_private_key(leaf, key.get())) {
      tls_internal::DrainErrors();
      return absl::InvalidArgumentError(
          absl::StrCat("tls: the private key in ", key_source.description,
                       " does not match the certificate in ", chain.description,
                       " (", Subject(leaf), ")"));
    }
    if (options.check_certificate_expiry) {
      TAO_RETURN_IF_ERROR(CheckValidity(leaf, chain));
    }
    if (!SSL_CTX_use_certificate(ctx.get(), leaf) ||
        !SSL_CTX_use_PrivateKey(ctx.get(), key.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: ", chain.description, ": unusable certificate (",
                       tls_internal::DrainErrors(), ")"));
    }
    for (size_t i = 1; i < certs.size(); ++i) {
      if (!SSL_CTX_add1_chain_cert(ctx.get(), certs[i].get())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tls: ", chain.description, ": unusable chain certificate ", i,
            " (", tls_internal::DrainErrors(), ")"));
      }
    }
  }

  // --- Trust ---
  TAO_ASSIGN_OR_RETURN(PemSource ca,
                       LoadPem("ca", options.ca_file, options.ca_pem));
  const bool verify =
      server ? options.client_auth != ClientAuth::kNone : options.verify_peer;
  if (verify && ca.description.empty()) {
    return absl::InvalidArgumentError(
        server ? "tls: client_auth needs the CAs that issue client "
                 "certificates: set ca_file or ca_pem"
               : "tls: verify_peer needs trusted CAs: set ca_file or ca_pem "
                 "(or verify_peer = false, for tests only)");
  }
  if (!ca.description.empty()) {
    TAO_ASSIGN_OR_RETURN(std::vector<bssl::UniquePtr<X509>> cas,
                         ParseCertificates(ca));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    for (const bssl::UniquePtr<X509>& cert : cas) {
      if (!X509_STORE_add_cert(store, cert.get())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tls: ", ca.description, ": cannot trust ", Subject(cert.get()),
            " (", tls_internal::DrainErrors(), ")"));
      }
      if (server) SSL_CTX_add_client_CA(ctx.get(), cert.get());
    }
  }
  int mode = SSL_VERIFY_NONE;
  if (server) {
    if (options.client_auth == ClientAuth::kOptional) mode = SSL_VERIFY_PEER;
    if (options.client_auth == ClientAuth::kRequire) {
      mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
  } else if (options.verify_peer) {
    mode = SSL_VERIFY_PEER;
  }
  SSL_CTX_set_verify(ctx.get(), mode, TlsCallbacks::Verify);

  // --- ALPN ---
  TAO_ASSIGN_OR_RETURN(std::string alpn, AlpnWire(options.alpn));
  if (!alpn.empty()) {
    if (server) {
      // Kept for the context's lifetime: an SSL_CTX may outlive a Reload.
      absl::MutexLock lock(&alpn_mu_);
      alpn_lists_.push_back(std::make_unique<std::string>(std::move(alpn)));
      SSL_CTX_set_alpn_select_cb(ctx.get(), TlsCallbacks::SelectAlpn,
                                 alpn_lists_.back().get());
    } else if (SSL_CTX_set_alpn_protos(
                   ctx.get(), reinterpret_cast<const uint8_t*>(alpn.data()),
                   static_cast<unsigned>(alpn.size())) != 0) {
      return absl::InternalError("tls: SSL_CTX_set_alpn_protos failed");
    }
  }

  // --- Sessions ---
  if (server) {
    SSL_CTX_set_dos_protection_cb(ctx.get(), TlsCallbacks::AdmitHandshake);
    SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
    if (options.session_resumption) {
      SSL_CTX_set_tlsext_ticket_key_cb(ctx.get(), TlsCallbacks::TicketKey);
    } else {
      SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
    }
    // Sessions resume only under the same client verification settings.
    uint8_t digest[SHA256_DIGEST_LENGTH];
    const std::string sid_input =
        absl::StrCat(static_cast<int>(options.client_auth), "|", ca.contents);
    SHA256(reinterpret_cast<const uint8_t*>(sid_input.data()), sid_input.size(),
           digest);
    SSL_CTX_set_session_id_context(ctx.get(), digest, sizeof(digest));
  } else if (options.session_resumption) {
    SSL_CTX_set_session_cache_mode(
        ctx.get(), SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx.get(), TlsCallbacks::NewSession);
  }
  return ctx.release();
}

absl::Status TlsContext::Reload(TlsOptions options) {
  TAO_RETURN_IF_ERROR(ValidateTicketKeys(options.ticket_keys));
  if (options.ticket_key_rotation < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "tls: ticket_key_rotation must not be negative");
  }
  // NaN fails this comparison too.
  if (!(options.max_full_handshakes_per_second >= 0)) {
    return absl::InvalidArgumentError(
        "tls: max_full_handshakes_per_second must not be negative");
  }
  TAO_ASSIGN_OR_RETURN(SSL_CTX * raw, BuildSslCtx(options));
  CtxPtr ctx(raw);
  {
    absl::MutexLock lock(&rate_mu_);
    const double rate = options.max_full_handshakes_per_second;
    const double burst = options.full_handshake_burst > 0
                             ? static_cast<double>(options.full_handshake_burst)
                             : std::max(1.0, rate);
    clock_ = options.clock != nullptr ? options.clock : Clock::Real();
    if (rate != rate_ || burst != burst_) {  // a new limit starts full
      tokens_ = burst;
      refilled_ = clock_->Now();
    }
    rate_ = rate;
    burst_ = burst;
  }
  {
    absl::MutexLock lock(&ticket_mu_);
    ticket_rotation_ = options.ticket_key_rotation;
    if (!options.ticket_keys.empty()) {
      InstallTicketKeysLocked(options.ticket_keys);
    } else if (ticket_keys_.empty()) {
      InstallTicketKeysLocked({GenerateTicketKey()});
      user_ticket_keys_ = false;
    }
  }
  {
    absl::MutexLock lock(&session_mu_);
    session_cache_size_ = options.session_cache_size;
  }
  auto authorize =
      options.authorize
          ? std::make_shared<const std::function<absl::Status(const TlsInfo&)>>(
                options.authorize)
          : nullptr;
  absl::MutexLock lock(&mu_);
  options_ = std::move(options);
  authorize_ = std::move(authorize);
  std::swap(ssl_ctx_, raw);
  (void)ctx.release();
  if (raw != nullptr) SSL_CTX_free(raw);  // the previous context
  reloads_.fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status TlsContext::Reload() { return Reload(options()); }

absl::Status TlsContext::SetTicketKeys(const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("tls: SetTicketKeys needs a key");
  }
  TAO_RETURN_IF_ERROR(ValidateTicketKeys(keys));
  absl::MutexLock lock(&ticket_mu_);
  InstallTicketKeysLocked(keys);
  return absl::OkStatus();
}

void TlsContext::InstallTicketKeysLocked(const std::vector<std::string>& keys) {
  const absl::Time now = absl::Now();
  ticket_keys_.clear();
  for (const std::string& key : keys) {
    TicketKey k;
    std::memcpy(k.name, key.data(), 16);
    std::memcpy(k.hmac_key, key.data() + 16, 16);
    std::memcpy(k.aes_key, key.data() + 32, 16);
    k.created = now;
    ticket_keys_.push_back(k);
  }
  user_ticket_keys_ = true;
}

TlsOptions TlsContext::options() const {
  absl::MutexLock lock(&mu_);
  return options_;
}

std::optional<HandshakeStats> TlsContext::handshake_stats() const {
  const TlsStats tls = stats();
  HandshakeStats handshakes;
  handshakes.completed = tls.handshakes_completed;
  handshakes.resumed = tls.resumed;
  handshakes.failed = tls.handshakes_failed;
  return handshakes;
}

TlsStats TlsContext::stats() const {
  TlsStats s;
  s.handshakes_started = started_.load(std::memory_order_relaxed);
  s.handshakes_completed = completed_.load(std::memory_order_relaxed);
  s.handshakes_failed = failed_.load(std::memory_order_relaxed);
  s.refused_over_cap = refused_.load(std::memory_order_relaxed);
  s.refused_over_rate = refused_rate_.load(std::memory_order_relaxed);
  s.resumed = resumed_.load(std::memory_order_relaxed);
  s.handshakes_in_flight = in_flight_.load(std::memory_order_relaxed);
  s.reloads = reloads_.load(std::memory_order_relaxed);
  return s;
}

// ---------------------------------------------------------------------------
// Connections

absl::StatusOr<std::unique_ptr<Transport>> TlsContext::Wrap(
    Socket socket, absl::string_view server_name) const {
  CtxPtr ctx;
  size_t cap;
  bool verify_peer;
  bool resumption;
  std::string name_override;
  std::shared_ptr<const std::function<absl::Status(const TlsInfo&)>> authorize;
  {
    absl::MutexLock lock(&mu_);
    authorize = authorize_;
    SSL_CTX_up_ref(ssl_ctx_);
    ctx.reset(ssl_ctx_);
    cap = options_.max_concurrent_handshakes;
    verify_peer = options_.verify_peer;
    resumption = options_.session_resumption;
    name_override = options_.server_name;
  }
  const size_t before = in_flight_.fetch_add(1, std::memory_order_relaxed);
  if (cap > 0 && before >= cap) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(absl::StrCat(
        "tls: ", cap, " handshakes in flight (max_concurrent_handshakes)"));
  }
  started_.fetch_add(1, std::memory_order_relaxed);
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    in_flight_.fetch_sub(1, std::memory_order_relaxed);
    failed_.fetch_add(1, std::memory_order_relaxed);
    return absl::ResourceExhaustedError(
        absl::StrCat("tls: SSL_new: ", tls_internal::DrainErrors()));
  }
  const bool server = role_ == Role::kServer;
  std::string name;
  std::string session_key;
  if (!server) {
    name = name_override.empty() ? std::string(server_name) : name_override;
    if (resumption && !name.empty()) {
      absl::StatusOr<InetAddress> peer = socket.PeerAddress();
      session_key = absl::StrCat(name, "@", peer.ok() ? peer->ToString() : "?");
    }
  }
  std::unique_ptr<TlsTransport> transport(new TlsTransport(
      shared_from_this(), std::move(socket), ssl, server, name, session_key,
      /*holds_slot=*/true));
  transport->authorize_ = std::move(authorize);
  if (server) {
    SSL_set_accept_state(ssl);
    return std::unique_ptr<Transport>(std::move(transport));
  }
  SSL_set_connect_state(ssl);
  SSL_set_renegotiate_mode(ssl, ssl_renegotiate_never);
  if (!name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (IsIpLiteral(name)) {
      if (!X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())) {
        transport->deferred_error_ = absl::InvalidArgumentError(
            absl::StrCat("tls: cannot verify IP address '", name, "'"));
      }
    } else {
      X509_VERIFY_PARAM_set_hostflags(param,
                                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      if (!SSL_set_tlsext_host_name(ssl, name.c_str()) ||
          !X509_VERIFY_PARAM_set1_host(param, name.data(), name.size())) {
        transport->deferred_error_ = absl::InvalidArgumentError(
            absl::StrCat("tls: bad server name '", name, "'"));
      }
    }
  } else if (verify_peer) {
    transport->deferred_error_ = absl::FailedPreconditionError(
        "tls: no server name to verify the server certificate against "
        "(a Unix-domain address?); set TlsOptions::server_name");
  }
  if (!session_key.empty()) {
    if (SSL_SESSION* session = TakeSession(session_key)) {
      SSL_set_session(ssl, session);
      SSL_SESSION_free(session);
    }
  }
  tls_internal::DrainErrors();
  return std::unique_ptr<Transport>(std::move(transport));
}

void TlsContext::HandshakeFinished(bool ok, bool resumed) const {
  (ok ? completed_ : failed_).fetch_add(1, std::memory_order_relaxed);
  if (ok && resumed) resumed_.fetch_add(1, std::memory_order_relaxed);
}

void TlsContext::ReleaseHandshakeSlot() const {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
}

bool TlsContext::AdmitFullHandshake() const {
  absl::MutexLock lock(&rate_mu_);
  if (rate_ <= 0) return true;
  const MonoTime now = clock_->Now();
  if (now > refilled_) {
    const double elapsed = absl::ToDoubleSeconds(ToDuration(now - refilled_));
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    refilled_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  refused_rate_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

SSL_SESSION* TlsContext::TakeSession(const std::string& key) const {
  absl::MutexLock lock(&session_mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  SSL_SESSION_up_ref(it->second);
  return it->second;
}

void TlsContext::StoreSession(const std::string& key,
                              SSL_SESSION* session) const {
  SSL_SESSION* evicted = nullptr;
  SSL_SESSION* replaced = nullptr;
  {
    absl::MutexLock lock(&session_mu_);
    if (session_cache_size_ == 0) {
      replaced = session;
    } else {
      auto [it, inserted] = sessions_.try_emplace(key, session);
      if (inserted) {
        session_order_.push_back(key);
      } else {
        replaced = it->second;
        it->second = session;
      }
      while (sessions_.size() > session_cache_size_ &&
             !session_order_.empty()) {
        auto old = sessions_.find(session_order_.front());
        session_order_.pop_front();
        if (old != sessions_.end()) {
          evicted = old->second;
          sessions_.erase(old);
          SSL_SESSION_free(evicted);
        }
      }
    }
  }
  if (replaced != nullptr) SSL_SESSION_free(replaced);
}

int TlsContext::HandleTicketKey(uint8_t* key_name, uint8_t* iv,
                                EVP_CIPHER_CTX* cipher_ctx, HMAC_CTX* hmac_ctx,
                                bool encrypt) const {
  absl::MutexLock lock(&ticket_mu_);
  if (encrypt) {
    const absl::Time now = absl::Now();
    if (!user_ticket_keys_ && ticket_rotation_ > absl::ZeroDuration() &&
        !ticket_keys_.empty() &&
        now - ticket_keys_.front().created >= ticket_rotation_) {
      // Rotate: a new key encrypts; the previous one still decrypts.
      const std::string fresh = GenerateTicketKey();
      TicketKey k;
      std::memcpy(k.name, fresh.data(), 16);
      std::memcpy(k.hmac_key, fresh.data() + 16, 16);
      std::memcpy(k.aes_key, fresh.data() + 32, 16);
      k.created = now;
      ticket_keys_.insert(ticket_keys_.begin(), k);
      ticket_keys_.resize(2);
    }
    if (ticket_keys_.empty()) return -1;
    const TicketKey& k = ticket_keys_.front();
    std::memcpy(key_name, k.name, 16);
    if (!RAND_bytes(iv, 16) ||
        !EVP_EncryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), nullptr, k.aes_key,
                            iv) ||
        !HMAC_Init_ex(hmac_ctx, k.hmac_key, sizeof(k.hmac_key), EVP_sha256(),
                      nullptr)) {
      return -1;
    }
    return 1;
  }
  for (size_t i = 0; i < ticket_keys_.size(); ++i) {
    const TicketKey& k = ticket_keys_[i];
    if (std::memcmp(key_name, k.name, 16) != 0) continue;
    if (!HMAC_Init_ex(hmac_ctx, k.hmac_key, sizeof(k.hmac_key), EVP_sha256(),
                      nullptr) ||
        !EVP_DecryptInit_ex(cipher_ctx, EVP_aes_128_cbc(), nullptr, k.aes_key,
                            iv)) {
      return -1;
    }
    return i == 0 ? 1 : 2;  // 2: accept, and issue a ticket under keys[0]
  }
  return 0;  // unknown key: a full handshake
}

}  // namespace tao
