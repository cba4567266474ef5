// TlsContext: TLS (BoringSSL) for a tao::Server or tao::Client. One context
// holds the configuration of one side (certificates, trust, versions, ALPN,
// session tickets) and wraps every new connection in a TlsTransport that
// runs the handshake and the record layer on the connection's own I/O loop:
// no blocking calls, no extra threads.
//
//   tao::TlsOptions tls;
//   tls.cert_chain_file = "server.pem";
//   tls.private_key_file = "server.key";
//   tls.ca_file = "ca.pem";                         // to verify clients
//   tls.client_auth = tao::ClientAuth::kRequire;    // mutual TLS
//   absl::StatusOr<std::shared_ptr<tao::TlsContext>> ctx =
//       tao::TlsContext::NewServer(tls);
//   if (!ctx.ok()) return ctx.status();   // names the file and the reason
//   tao::ServerOptions options;
//   options.tls = *ctx;
//   options.connection.handshake_timeout = absl::Seconds(5);
//
//   // Client side: trust a CA; the host dialled ("localhost:443") is sent
//   // as SNI and checked against the server certificate's names.
//   tao::TlsOptions client_tls;
//   client_tls.ca_file = "ca.pem";
//   tao::ClientOptions client_options;
//   client_options.tls = *tao::TlsContext::NewClient(client_tls);
//
// Protocol defaults: TLS 1.2 and 1.3; TLS 1.2 only with forward-secret AEAD
// suites (ECDHE with AES-GCM or ChaCha20-Poly1305: no RSA key exchange, no
// CBC), on both sides; TLS 1.3's suites are all of that kind.
//
// What a context does beyond the SSL_CTX: session resumption (client cache
// keyed by server name and address; server tickets under keys that rotate,
// see TlsOptions::ticket_keys), a cap on handshakes in flight
// (TlsOptions::max_concurrent_handshakes) and a rate limit on full ones
// (max_full_handshakes_per_second), certificate reload without a
// restart (Reload: new connections use the new configuration, existing ones
// keep theirs), and clear errors: a bad file names the file and the reason
// (missing, not PEM, key does not match certificate, expired), a failed
// handshake names the peer's certificate and what was wrong (untrusted,
// expired, wrong host, no certificate).
//
// The handshake timeout is ConnectionOptions::handshake_timeout (the
// connection enforces it). Graceful close sends close_notify before FIN
// and waits at most ConnectionOptions::linger for the peer; a forced close
// makes one non-blocking attempt to send close_notify and never waits. A
// peer that closes without close_notify (a FIN only) may have had its data
// cut short: the connection fails with DATA_LOSS "peer closed without
// close_notify (truncated)", after delivering what arrived before.
// Renegotiation is refused.
//
// Thread safety: a TlsContext is thread-safe. Wrap runs on any I/O loop
// concurrently; Reload, SetTicketKeys, stats and options may be called from
// any thread at any time.
#ifndef TAO_TLS_TLS_CONTEXT_H_
#define TAO_TLS_TLS_CONTEXT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/base/clock.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"

// BoringSSL types, declared here so that users of this header do not
// compile BoringSSL's headers.
struct evp_cipher_ctx_st;
struct hmac_ctx_st;
struct ssl_ctx_st;
struct ssl_session_st;
struct ssl_st;

namespace tao {

class TlsTransport;
struct TlsCallbacks;

enum class TlsVersion { kTls12, kTls13 };

// Whether a server asks for and verifies client certificates.
enum class ClientAuth {
  kNone,      // never asks
  kOptional,  // asks; a client without a certificate is accepted, a bad one
              // is refused
  kRequire,   // mutual TLS: no verified certificate, no connection
};

// What a completed handshake established.
struct TlsInfo {
  std::string version;      // "TLSv1.3", "TLSv1.2"
  std::string cipher;       // e.g. "TLS_AES_128_GCM_SHA256"
  std::string alpn;         // negotiated protocol; "" when none
  std::string server_name;  // SNI: sent (client) or received (server)
  bool resumed = false;     // an abbreviated handshake (session resumption)
  // The peer presented a certificate (a server always does; a client only
  // for mutual TLS). The fields below are empty without one.
  bool peer_certificate = false;
  // The certificate was verified against the trusted CAs (and, on a
  // client, the host name).
  bool peer_verified = false;
  std::string peer_subject;  // RFC 2253, e.g. "CN=alice,O=example"
  std::string peer_issuer;
  std::vector<std::string> peer_dns_names;     // subjectAltName DNS
  std::vector<std::string> peer_ip_addresses;  // subjectAltName IP
  std::string peer_address;                    // "127.0.0.1:4242", for logs
};

// Configuration of one side. Each PEM source is either a file or in-memory
// text; setting both is an error.
struct TlsOptions {
  // --- This side's identity (required on a server; optional on a client,
  // where it is the certificate offered for mutual TLS) ---
  // Leaf certificate first, then any intermediates.
  std::string cert_chain_file;
  std::string cert_chain_pem;
  std::string private_key_file;
  std::string private_key_pem;
  // Refuse to load a certificate that is expired or not yet valid. Turn off
  // only to test how peers react to such a certificate.
  bool check_certificate_expiry = true;

  // --- Trust ---
  // CA certificates the peer's certificate must chain to: the server's
  // on a client (required while verify_peer), clients' on a server with
  // client_auth != kNone.
  std::string ca_file;
  std::string ca_pem;
  // Client: verify the server's certificate and that it names the host
  // dialled (or server_name). Off only for tests and trusted networks.
  bool verify_peer = true;
  // Client: the name sent as SNI and required in the server certificate,
  // instead of the host part of the address dialled. Needed to verify a
  // server reached over a Unix-domain socket.
  std::string server_name;
  // Server: client certificates (mutual TLS).
  ClientAuth client_auth = ClientAuth::kNone;
  // Authorization beyond "a trusted CA signed it": called on the
  // connection's loop thread when a handshake completes, with what it
  // established (e.g. the verified peer's subject and names). A non-OK
  // status refuses the connection: the peer gets an access_denied alert and
  // the status goes to OnError. Must not block. Empty: accept.
  std::function<absl::Status(const TlsInfo&)> authorize;

  // --- Protocol ---
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // ALPN protocols in preference order (e.g. {"tao/1"}). A server picks its
  // first protocol the client offers and refuses a client that offers ALPN
  // but none of these; a client offers them. Empty: no ALPN.
  std::vector<std::string> alpn;

  // --- Session resumption ---
  // Client: offer cached sessions; server: issue session tickets.
  bool session_resumption = true;
  // Server: ticket keys, 48 bytes each (16-byte name, 16-byte HMAC secret,
  // 16-byte AES key; GenerateTicketKey() makes one). The first encrypts new
  // tickets; all decrypt (tickets under older keys are renewed). Share them
  // between servers that should resume each other's sessions. Empty: the
  // context makes a random key and rotates it every ticket_key_rotation,
  // keeping the previous one for decryption.
  std::vector<std::string> ticket_keys;
  absl::Duration ticket_key_rotation = absl::Hours(12);  // 0: never
  // Client: sessions kept (one per server name and address).
  size_t session_cache_size = 256;

  // --- Limits ---
  // Handshakes in flight at once; a connection beyond the cap is refused
  // before any TLS work (Wrap fails with RESOURCE_EXHAUSTED, the server
  // closes the socket). Bounds the CPU a handshake flood can take.
  // 0: no cap.
  size_t max_concurrent_handshakes = 0;
  // Server: full (not resumed) handshakes admitted per second, a token
  // bucket that refills at this rate and holds full_handshake_burst. A full
  // handshake over the limit is refused as soon as its ClientHello shows it
  // will not resume, before the server signs or derives anything: the
  // client gets an internal_error alert, OnError RESOURCE_EXHAUSTED, and
  // TlsStats::refused_over_rate counts it. Resumed handshakes (cheap: no
  // signature) are not charged. Bounds the CPU a flood of new clients can
  // take even when each finishes quickly (max_concurrent_handshakes does
  // not). 0: no limit, the default: what a server can sign per second
  // differs a hundredfold between key types and machines, and a built-in
  // limit would refuse legitimate clients reconnecting after a restart; set
  // it from a measurement of this server (e.g. half of what it can sign).
  double max_full_handshakes_per_second = 0;
  // The bucket's size: full handshakes admitted at once after a quiet
  // spell. 0: one second's worth (at least 1).
  size_t full_handshake_burst = 0;
  // The clock the rate limit reads; null: Clock::Real(). For tests (a
  // FakeClock); must outlive the context.
  const Clock* clock = nullptr;
};

// Counters since the context was created; a snapshot.
struct TlsStats {
  uint64_t handshakes_started = 0;
  uint64_t handshakes_completed = 0;
  uint64_t handshakes_failed = 0;  // includes timeouts and aborted ones
  uint64_t refused_over_cap = 0;   // max_concurrent_handshakes
  // max_full_handshakes_per_second; also counted in handshakes_failed.
  uint64_t refused_over_rate = 0;
  uint64_t resumed = 0;  // completed with a resumed session
  size_t handshakes_in_flight = 0;
  uint64_t reloads = 0;
};

class TlsContext : public TransportFactory,
                   public std::enable_shared_from_this<TlsContext> {
 public:
  enum class Role { kServer, kClient };

  // A server context. INVALID_ARGUMENT / NOT_FOUND / FAILED_PRECONDITION
  // with the file and the reason when the options are unusable.
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewServer(
      TlsOptions options);
  // A client context.
  static absl::StatusOr<std::shared_ptr<TlsContext>> NewClient(
      TlsOptions options);

  // 48 random bytes for TlsOptions::ticket_keys / SetTicketKeys.
  static std::string GenerateTicketKey();

  ~TlsContext() override;
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // TransportFactory: a TlsTransport over `socket`. `server_name` is the
  // host the client dialled (ignored on a server). RESOURCE_EXHAUSTED when
  // max_concurrent_handshakes are in flight. A client that cannot verify
  // (no name to check) gets a transport whose handshake fails, so the
  // error reaches the connection's OnError.
  absl::StatusOr<std::unique_ptr<Transport>> Wrap(
      Socket socket, absl::string_view server_name) const override;

  // Replaces the configuration for new connections (same role); existing
  // connections keep the one they started with. On error nothing changes.
  // Typical use: certificate renewal.
  absl::Status Reload(TlsOptions options);
  // Reloads the same options, re-reading every file they name.
  absl::Status Reload();

  // Server: replaces the session ticket keys (48 bytes each; the first
  // encrypts, all decrypt). Rotate by prepending a new key and dropping
  // the oldest. Survives Reload unless the new options set ticket_keys.
  absl::Status SetTicketKeys(const std::vector<std::string>& keys);

  Role role() const { return role_; }
  TlsOptions options() const;
  TlsStats stats() const;
  // TransportFactory: stats() as HandshakeStats.
  std::optional<HandshakeStats> handshake_stats() const override;

 private:
  friend class TlsTransport;
  friend struct TlsCallbacks;  // BoringSSL callbacks (tls_context.cc)

  struct TicketKey {
    uint8_t name[16];
    uint8_t hmac_key[16];
    uint8_t aes_key[16];
    absl::Time created;
  };

  TlsContext(Role role, TlsOptions options);

  static absl::StatusOr<std::shared_ptr<TlsContext>> Create(Role role,
                                                            TlsOptions options);
  // Builds an SSL_CTX for `options` (the caller owns the reference).
  absl::StatusOr<ssl_ctx_st*> BuildSslCtx(const TlsOptions& options) const;
  void InstallTicketKeysLocked(const std::vector<std::string>& keys)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ticket_mu_);

  // --- Used by TlsTransport (any loop thread) ---
  void HandshakeFinished(bool ok, bool resumed) const;
  void ReleaseHandshakeSlot() const;
  // Server: takes a token for a full handshake; false (and counted) when
  // the bucket is empty.
  bool AdmitFullHandshake() const;
  // Client session cache; `key` is "<server name>@<address>".
  ssl_session_st* TakeSession(const std::string& key) const;  // +1 ref
  void StoreSession(const std::string& key, ssl_session_st* session) const;

  // Server: sets up ticket encryption (a new ticket) or finds the key of a
  // ticket (decryption): 1 found, 2 found but renew, 0 unknown, -1 error.
  int HandleTicketKey(uint8_t* key_name, uint8_t* iv,
                      evp_cipher_ctx_st* cipher_ctx, hmac_ctx_st* hmac_ctx,
                      bool encrypt) const;

  const Role role_;

  mutable absl::Mutex mu_;
  TlsOptions options_ ABSL_GUARDED_BY(mu_);
  // options_.authorize, shared with the transports made under it.
  std::shared_ptr<const std::function<absl::Status(const TlsInfo&)>> authorize_
      ABSL_GUARDED_BY(mu_);
  ssl_ctx_st* ssl_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;  // owned reference

  // Server session ticket keys; keys_[0] encrypts.
  mutable absl::Mutex ticket_mu_;
  mutable std::vector<TicketKey> ticket_keys_ ABSL_GUARDED_BY(ticket_mu_);
  bool user_ticket_keys_ ABSL_GUARDED_BY(ticket_mu_) = false;
  absl::Duration ticket_rotation_ ABSL_GUARDED_BY(ticket_mu_);

  // Server ALPN lists in wire format, referenced by SSL_CTXs (which may
  // outlive a Reload), so kept for the context's lifetime.
  mutable absl::Mutex alpn_mu_;
  mutable std::vector<std::unique_ptr<std::string>> alpn_lists_
      ABSL_GUARDED_BY(alpn_mu_);

  // Client session cache, FIFO-evicted.
  mutable absl::Mutex session_mu_;
  mutable absl::flat_hash_map<std::string, ssl_session_st*> sessions_
      ABSL_GUARDED_BY(session_mu_);
  mutable std::deque<std::string> session_order_ ABSL_GUARDED_BY(session_mu_);
  size_t session_cache_size_ ABSL_GUARDED_BY(session_mu_) = 0;

  // Full-handshake token bucket (max_full_handshakes_per_second).
  mutable absl::Mutex rate_mu_;
  double rate_ ABSL_GUARDED_BY(rate_mu_) = 0;  // per second; 0: no limit
  double burst_ ABSL_GUARDED_BY(rate_mu_) = 0;
  const Clock* clock_ ABSL_GUARDED_BY(rate_mu_) = nullptr;
  mutable double tokens_ ABSL_GUARDED_BY(rate_mu_) = 0;
  mutable MonoTime refilled_ ABSL_GUARDED_BY(rate_mu_);

  mutable std::atomic<size_t> in_flight_{0};
  mutable std::atomic<uint64_t> started_{0};
  mutable std::atomic<uint64_t> completed_{0};
  mutable std::atomic<uint64_t> failed_{0};
  mutable std::atomic<uint64_t> refused_{0};
  mutable std::atomic<uint64_t> refused_rate_{0};
  mutable std::atomic<uint64_t> resumed_{0};
  std::atomic<uint64_t> reloads_{0};
};

}  // namespace tao

#endif  // TAO_TLS_TLS_CONTEXT_H_
