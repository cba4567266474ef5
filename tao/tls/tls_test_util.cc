#include "tao/tls/tls_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace tao {
namespace testing {
namespace {

std::string Errors() {
  std::string out;
  while (const uint32_t e = ERR_get_error()) {
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(e);
    out += reason != nullptr ? reason : "?";
  }
  return out;
}

int NewSessionCallback(SSL* ssl, SSL_SESSION* session) {
  auto* context = static_cast<BlockingTlsContext*>(SSL_get_app_data(ssl));
  if (context == nullptr) return 0;
  context->StoreSession(session);
  return 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BlockingTlsContext>> BlockingTlsContext::Create(
    Config config) {
  // Blocking clients write with SSL_write on a plain fd: a reset peer must
  // not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new");
  std::unique_ptr<BlockingTlsContext> context(
      new BlockingTlsContext(config, ctx));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, static_cast<uint16_t>(config.max_version));
  if (!config.cipher_list.empty() &&
      !SSL_CTX_set_strict_cipher_list(ctx, config.cipher_list.c_str())) {
    return absl::InvalidArgumentError(
        absl::StrCat("cipher list '", config.cipher_list, "': ", Errors()));
  }
  if (!config.ca_pem.empty()) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(
        config.ca_pem.data(), static_cast<int>(config.ca_pem.size())));
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
      X509_free(ca);
    }
    ERR_clear_error();
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!config.cert_pem.empty()) {
    bssl::UniquePtr<BIO> cert_bio(BIO_new_mem_buf(
        config.cert_pem.data(), static_cast<int>(config.cert_pem.size())));
    bssl::UniquePtr<X509> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    bssl::UniquePtr<BIO> key_bio(BIO_new_mem_buf(
        config.key_pem.data(), static_cast<int>(config.key_pem.size())));
    bssl::UniquePtr<EVP_PKEY> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr || key == nullptr ||
        !SSL_CTX_use_certificate(ctx, cert.get()) ||
        !SSL_CTX_use_PrivateKey(ctx, key.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat("client certificate: ", Errors()));
    }
  }
  if (!config.alpn.empty()) {
    std::string wire;
    for (const std::string& p : config.alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const uint8_t*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  if (config.resume) {
    SSL_CTX_set_session_cache_mode(
        ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
    SSL_CTX_sess_set_new_cb(ctx, NewSessionCallback);
  }
  return context;
}

BlockingTlsContext::~BlockingTlsContext() {
  if (session_ != nullptr) SSL_SESSION_free(session_);
  SSL_CTX_free(ctx_);
}

SSL_SESSION* BlockingTlsContext::TakeSession() const {
  absl::MutexLock lock(&mu_);
  if (session_ != nullptr) SSL_SESSION_up_ref(session_);
  return session_;
}

void BlockingTlsContext::StoreSession(SSL_SESSION* session) {
  SSL_SESSION* old;
  {
    absl::MutexLock lock(&mu_);
    old = session_;
    session_ = session;
  }
  if (old != nullptr) SSL_SESSION_free(old);
}

absl::StatusOr<BlockingTlsClient> BlockingTlsClient::Open(
    const BlockingTlsContext& context, const InetAddress& to,
    absl::Duration timeout) {
  const int fd = ::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::ErrnoToStatus(errno, "socket");
  Socket socket(fd);
  struct timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  const int one = 1;  // no Nagle delay between Finished and the first data
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, to.sockaddr(), to.socklen()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("connect ", to.ToString()));
  }
  const std::string& preamble = context.config().preamble;
  for (size_t sent = 0; sent < preamble.size();) {
    const ssize_t n = ::send(fd, preamble.data() + sent, preamble.size() - sent,
                             MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, "send preamble");
    sent += static_cast<size_t>(n);
  }
  SSL* ssl = SSL_new(context.ctx());
  if (ssl == nullptr) return absl::InternalError("SSL_new");
  auto* mutable_context = const_cast<BlockingTlsContext*>(&context);
  BlockingTlsClient client(mutable_context, std::move(socket), ssl);
  SSL_set_app_data(ssl, mutable_context);
  SSL_set_fd(ssl, fd);
  const std::string& name = context.config().server_name;
  if (!name.empty()) {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    if (!context.config().ca_pem.empty()) SSL_set1_host(ssl, name.c_str());
  }
  if (context.config().resume) {
    if (SSL_SESSION* session = context.TakeSession()) {
      SSL_set_session(ssl, session);
      SSL_SESSION_free(session);
    }
  }
  return client;
}

absl::StatusOr<BlockingTlsClient> BlockingTlsClient::Connect(
    const BlockingTlsContext& context, const InetAddress& to,
    absl::Duration timeout) {
  absl::StatusOr<BlockingTlsClient> client = Open(context, to, timeout);
  if (!client.ok()) return client.status();
  ERR_clear_error();
  const int rc = SSL_connect(client->ssl_);
  if (rc != 1) return client->Error("handshake", rc);
  return client;
}

absl::StatusOr<BlockingTlsClient>
BlockingTlsClient::ConnectSendingWithHandshake(
    const BlockingTlsContext& context, const InetAddress& to,
    absl::string_view data, absl::Duration timeout) {
  absl::StatusOr<BlockingTlsClient> client = Open(context, to, timeout);
  if (!client.ok()) return client.status();
  SSL* ssl = client->ssl_;
  const int fd = client->fd();
  // Records go to memory and leave in one send per flight; the socket is
  // read without blocking (poll waits), so a flight is always sent before
  // the reply is awaited.
  BIO* out = BIO_new(BIO_s_mem());
  BIO* in = BIO_new_socket(fd, BIO_NOCLOSE);
  if (out == nullptr || in == nullptr) return absl::InternalError("BIO_new");
  SSL_set_bio(ssl, in, out);
  auto send_buffered = [&]() -> absl::Status {
    const uint8_t* bytes = nullptr;
    size_t len = 0;
    BIO_mem_contents(out, &bytes, &len);
    while (len > 0) {
      const ssize_t n = ::send(fd, bytes, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return absl::ErrnoToStatus(errno, "send");
      if (n < 0) {
        struct pollfd pfd = {fd, POLLOUT, 0};
        ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
        continue;
      }
      bytes += n;
      len -= static_cast<size_t>(n);
    }
    return BIO_reset(out) == 1 ? absl::OkStatus()
                               : absl::InternalError("BIO_reset");
  };
  SSL_set_connect_state(ssl);
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) break;
    if (SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ) {
      return client->Error("handshake", rc);
    }
    if (absl::Status sent = send_buffered(); !sent.ok()) return sent;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) !=
        1) {
      return absl::DeadlineExceededError("handshake: no reply");
    }
  }
  if (!data.empty()) {
    ERR_clear_error();
    const int rc = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    if (rc <= 0) return client->Error("write", rc);
  }
  if (absl::Status sent = send_buffered(); !sent.ok()) return sent;
  // From here on a plain blocking client again.
  ::fcntl(fd, F_SETFL, flags);
  BIO_up_ref(in);
  SSL_set0_wbio(ssl, in);
  return client;
}

BlockingTlsClient::BlockingTlsClient(BlockingTlsClient&& other) noexcept
    : context_(other.context_),
      socket_(std::move(other.socket_)),
      ssl_(std::exchange(other.ssl_, nullptr)) {}

BlockingTlsClient& BlockingTlsClient::operator=(
    BlockingTlsClient&& other) noexcept {
  if (this != &other) {
    if (ssl_ != nullptr) SSL_free(ssl_);
    context_ = other.context_;
    socket_ = std::move(other.socket_);
    ssl_ = std::exchange(other.ssl_, nullptr);
  }
  return *this;
}

BlockingTlsClient::~BlockingTlsClient() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

absl::Status BlockingTlsClient::Error(absl::string_view op, int rc) {
  const int saved = errno;
  const int error = SSL_get_error(ssl_, rc);
  std::string detail = Errors();
  if (error == SSL_ERROR_SYSCALL && detail.empty()) {
    detail = saved != 0 ? absl::StrCat("errno ", saved) : "EOF";
  }
  if (error == SSL_ERROR_ZERO_RETURN) detail = "close_notify";
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    absl::StrAppend(&detail,
                    " (verify: ", X509_verify_cert_error_string(verify), ")");
  }
  return absl::UnavailableError(absl::StrCat(
      "blocking TLS client ", op, ": SSL error ", error, ": ", detail));
}

absl::Status BlockingTlsClient::WriteAll(absl::string_view data) {
  while (!data.empty()) {
    ERR_clear_error();
    const int chunk = static_cast<int>(std::min<size_t>(data.size(), 1 << 20));
    const int n = SSL_write(ssl_, data.data(), chunk);
    if (n <= 0) return Error("write", n);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BlockingTlsClient::ReadExactly(size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ERR_clear_error();
    const int chunk = static_cast<int>(std::min<size_t>(n - got, 1 << 20));
    const int r = SSL_read(ssl_, out.data() + got, chunk);
    if (r <= 0) return Error("read", r);
    got += static_cast<size_t>(r);
  }
  return out;
}

absl::Status BlockingTlsClient::ExpectCloseNotify() {
  char byte;
  ERR_clear_error();
  const int r = SSL_read(ssl_, &byte, 1);
  if (r > 0)
    return absl::FailedPreconditionError("data instead of close_notify");
  if (SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN) return absl::OkStatus();
  return Error("read (expecting close_notify)", r);
}

void BlockingTlsClient::Close() {
  if (ssl_ != nullptr) SSL_shutdown(ssl_);
  socket_.Close();
}

void BlockingTlsClient::Reset() {
  (void)socket_.SetLingerZero();
  socket_.Close();
}

// ---------------------------------------------------------------------------

// Forwards to the TlsTransport; tells the factory when it is closed.
class CountingTransport final : public Transport {
 public:
  CountingTransport(const RecordingTlsFactory* factory,
                    std::unique_ptr<Transport> inner)
      : factory_(factory), inner_(std::move(inner)) {}

  int fd() const override { return inner_->fd(); }
  absl::StatusOr<bool> Handshake() override { return inner_->Handshake(); }
  absl::StatusOr<ReadResult> Read(Buffer& in) override {
    return inner_->Read(in);
  }
  absl::StatusOr<size_t> Write(absl::Span<const struct iovec> data) override {
    return inner_->Write(data);
  }
  absl::Status ShutdownWrite() override { return inner_->ShutdownWrite(); }
  bool WantsWrite() const override { return inner_->WantsWrite(); }
  bool HasBufferedInput() const override { return inner_->HasBufferedInput(); }
  void Close() override {
    inner_->Close();
    if (!closed_) {
      closed_ = true;
      factory_->CountClose();
    }
  }
  Socket& socket() override { return inner_->socket(); }

 private:
  const RecordingTlsFactory* const factory_;
  const std::unique_ptr<Transport> inner_;
  bool closed_ = false;
};

void RecordingTlsFactory::CountClose() const {
  absl::MutexLock lock(&mu_);
  ++closes_;
}

bool RecordingTlsFactory::WaitForCloses(size_t n,
                                        absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, n]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return closes_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

size_t RecordingTlsFactory::closes() const {
  absl::MutexLock lock(&mu_);
  return closes_;
}

absl::StatusOr<std::unique_ptr<Transport>> RecordingTlsFactory::Wrap(
    Socket socket, absl::string_view server_name) const {
  absl::StatusOr<InetAddress> local = socket.LocalAddress();
  absl::StatusOr<InetAddress> peer = socket.PeerAddress();
  absl::StatusOr<std::unique_ptr<Transport>> transport =
      context_->Wrap(std::move(socket), server_name);
  absl::MutexLock lock(&mu_);
  ++wraps_;
  if (!transport.ok()) return transport;
  if (local.ok() && peer.ok()) {
    entries_.push_back(
        {*local, *peer, static_cast<const TlsTransport*>(transport->get())});
  }
  return std::unique_ptr<Transport>(
      new CountingTransport(this, *std::move(transport)));
}

const TlsTransport* RecordingTlsFactory::Find(const InetAddress& local,
                                              const InetAddress& peer) const {
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->local == local && it->peer == peer) return it->transport;
  }
  return nullptr;
}

bool RecordingTlsFactory::WaitForWraps(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, n]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wraps_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

size_t RecordingTlsFactory::wraps() const {
  absl::MutexLock lock(&mu_);
  return wraps_;
}

}  // namespace testing
}  // namespace tao
