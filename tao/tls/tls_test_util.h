// Test helpers for TLS: a blocking BoringSSL client that plays the remote
// side exactly (and drives the TLS benchmark), and a TransportFactory
// wrapper that records the TlsTransports a context makes, so a test can
// read a connection's TlsInfo.
//
//   BlockingTlsContext::Config config;
//   config.ca_pem = certs.ca.cert_pem;
//   auto ctx = BlockingTlsContext::Create(config);
//   absl::StatusOr<BlockingTlsClient> c = BlockingTlsClient::Connect(**ctx,
//   addr); c->WriteAll("ping"); c->ReadExactly(4);
//
// Thread safety: BlockingTlsContext is thread-safe after Create. A
// BlockingTlsClient belongs to one thread. RecordingTlsFactory is
// thread-safe.
#ifndef TAO_TLS_TLS_TEST_UTIL_H_
#define TAO_TLS_TLS_TEST_UTIL_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tao/net/inet_address.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"
#include "tao/tls/tls_context.h"
#include "tao/tls/tls_transport.h"

namespace tao {
namespace testing {

// An SSL_CTX for blocking test clients.
class BlockingTlsContext {
 public:
  struct Config {
    std::string ca_pem;  // empty: no verification
    std::string cert_pem;
    std::string key_pem;
    std::string server_name = "localhost";  // SNI + host check
    int max_version = TLS1_3_VERSION;
    // TLS 1.2 cipher suites offered (OpenSSL syntax, e.g. "AES128-SHA");
    // empty: BoringSSL's default list.
    std::string cipher_list;
    std::vector<std::string> alpn;
    // Offer the last session received (TLS 1.3 tickets arrive after the
    // handshake: read something before closing to receive them).
    bool resume = false;
    // Bytes sent in the clear right after connecting, before the handshake
    // (e.g. a PROXY protocol header, as a load balancer sends it).
    std::string preamble;
  };

  static absl::StatusOr<std::unique_ptr<BlockingTlsContext>> Create(
      Config config);
  ~BlockingTlsContext();

  const Config& config() const { return config_; }
  SSL_CTX* ctx() const { return ctx_; }
  // +1 reference, or null.
  SSL_SESSION* TakeSession() const;
  void StoreSession(SSL_SESSION* session);  // takes the reference

 private:
  BlockingTlsContext(Config config, SSL_CTX* ctx)
      : config_(std::move(config)), ctx_(ctx) {}

  const Config config_;
  SSL_CTX* const ctx_;
  mutable absl::Mutex mu_;
  SSL_SESSION* session_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// One blocking TLS connection (socket timeouts bound every call).
class BlockingTlsClient {
 public:
  // Connects and completes the handshake.
  static absl::StatusOr<BlockingTlsClient> Connect(
      const BlockingTlsContext& context, const InetAddress& to,
      absl::Duration timeout = absl::Seconds(30));
  // Connects, completes the handshake and sends `data` as application data
  // in the same send(2) as the handshake's last flight, so the server reads
  // both at once (TLS 1.3: the data is already buffered when the server's
  // handshake completes).
  static absl::StatusOr<BlockingTlsClient> ConnectSendingWithHandshake(
      const BlockingTlsContext& context, const InetAddress& to,
      absl::string_view data, absl::Duration timeout = absl::Seconds(30));

  BlockingTlsClient(BlockingTlsClient&& other) noexcept;
  BlockingTlsClient& operator=(BlockingTlsClient&& other) noexcept;
  ~BlockingTlsClient();

  absl::Status WriteAll(absl::string_view data);
  absl::StatusOr<std::string> ReadExactly(size_t n);
  // OK when the next record is close_notify.
  absl::Status ExpectCloseNotify();
  SSL* ssl() const { return ssl_; }
  int fd() const { return socket_.fd(); }
  // Sends close_notify and closes.
  void Close();
  // Closes with RST (SO_LINGER 0), no close_notify.
  void Reset();
  // FIN without close_notify (a truncation attack, or a crashed peer); the
  // socket stays open for reading.
  absl::Status ShutdownWriteWithoutCloseNotify() {
    return socket_.ShutdownWrite();
  }

 private:
  BlockingTlsClient(BlockingTlsContext* context, Socket socket, SSL* ssl)
      : context_(context), socket_(std::move(socket)), ssl_(ssl) {}
  // A TCP connection to `to` with TCP_NODELAY and `timeout` on every
  // blocking call, and its (not yet started) SSL.
  static absl::StatusOr<BlockingTlsClient> Open(
      const BlockingTlsContext& context, const InetAddress& to,
      absl::Duration timeout);
  absl::Status Error(absl::string_view op, int rc);

  BlockingTlsContext* context_ = nullptr;
  Socket socket_;
  SSL* ssl_ = nullptr;
};

// A TransportFactory that forwards to a TlsContext, remembers each
// TlsTransport with its socket's addresses, and counts Wrap and Close calls
// (the transports it returns forward to the TlsTransport).
class RecordingTlsFactory : public TransportFactory {
 public:
  explicit RecordingTlsFactory(std::shared_ptr<TlsContext> context)
      : context_(std::move(context)) {}

  absl::StatusOr<std::unique_ptr<Transport>> Wrap(
      Socket socket, absl::string_view server_name) const override;

  // The transport of the connection with these addresses (its local and
  // peer address), or null. Only while that connection is open.
  const TlsTransport* Find(const InetAddress& local,
                           const InetAddress& peer) const;
  // Waits until Wrap was called `n` times (successful or not).
  bool WaitForWraps(size_t n, absl::Duration timeout) const;
  // Waits until `n` transports were closed (by their connection).
  bool WaitForCloses(size_t n, absl::Duration timeout) const;
  size_t wraps() const;
  size_t closes() const;
  TlsContext& context() const { return *context_; }

 private:
  struct Entry {
    InetAddress local;
    InetAddress peer;
    const TlsTransport* transport;
  };
  const std::shared_ptr<TlsContext> context_;
  mutable absl::Mutex mu_;
  mutable std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
  mutable size_t wraps_ ABSL_GUARDED_BY(mu_) = 0;
  mutable size_t closes_ ABSL_GUARDED_BY(mu_) = 0;

  friend class CountingTransport;
  void CountClose() const;
};

}  // namespace testing
}  // namespace tao

#endif  // TAO_TLS_TLS_TEST_UTIL_H_
