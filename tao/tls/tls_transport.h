// TlsTransport: a Transport that speaks TLS over a non-blocking stream
// socket with BoringSSL. Made by TlsContext::Wrap; the Connection drives it
// like plain TCP: Handshake() until true (WANT_READ / WANT_WRITE map to the
// loop's readability / writability), then Read / Write of plaintext.
//
// - Read decrypts what is available (SSL_read until WANT_READ), up to a
//   budget per call (256 KiB of plaintext) so that one fast sender cannot
//   hold its loop. The socket is read ahead, 64 KiB per recv; what was read
//   ahead or decrypted but not yet returned counts as HasBufferedInput, and
//   the connection reads it on a later loop turn. close_notify ends the
//   stream (eof); a TCP EOF without close_notify is a truncation:
//   DATA_LOSS "peer closed without close_notify (truncated)", reported
//   after the data that preceded it has been returned.
// - Write encrypts a prefix of the gathered buffers and returns the
//   plaintext taken; a full socket returns what was taken so far. BoringSSL
//   requires that a write interrupted by a full socket is retried with the
//   same bytes: the Connection does so (it keeps the untaken suffix), and
//   Write gathers small chunks into full 16 KiB records (which also keeps
//   a retry whole if the caller's chunks changed shape).
// - ShutdownWrite sends close_notify, then FIN. Close sends close_notify
//   once, without waiting, if the stream is healthy, then closes the fd.
// - All socket I/O goes through send(MSG_NOSIGNAL)/recv: no SIGPIPE.
//
// After the handshake, info() describes the session and the verified peer
// (subject and subjectAltNames of its certificate), e.g. for authorization
// in OnConnect.
//
// Thread safety: a transport belongs to its connection's loop thread; every
// method is called there. info() is written once, before the connection's
// OnConnect runs, and only read afterwards, so any thread that learned of
// the connection through its callbacks may read it.
#ifndef TAO_TLS_TLS_TRANSPORT_H_
#define TAO_TLS_TLS_TRANSPORT_H_

#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tao/net/buffer.h"
#include "tao/net/socket.h"
#include "tao/net/transport.h"
#include "tao/tls/tls_context.h"

namespace tao {

class Connection;

class TlsTransport final : public Transport {
 public:
  ~TlsTransport() override;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;

  // --- Transport ---
  int fd() const override { return socket_.fd(); }
  absl::StatusOr<bool> Handshake() override;
  absl::StatusOr<ReadResult> Read(Buffer& in) override;
  absl::StatusOr<size_t> Write(absl::Span<const struct iovec> data) override;
  absl::Status ShutdownWrite() override;
  bool WantsWrite() const override { return want_write_; }
  bool HasBufferedInput() const override;
  void Close() override;
  Socket& socket() override { return socket_; }

  // --- TLS ---
  bool is_server() const { return is_server_; }
  bool handshake_done() const { return handshake_done_; }
  // Valid once handshake_done() (before OnConnect).
  const TlsInfo& info() const { return info_; }
  const TlsContext& context() const { return *context_; }

 private:
  friend class TlsContext;
  friend struct TlsCallbacks;

  // The socket as BoringSSL's BIO sees it (custom BIO: send/recv with
  // MSG_NOSIGNAL, errno kept for error messages).
  struct Io {
    int fd = -1;
    int last_errno = 0;
  };

  // The first certificate problem the verifier reported, for the message.
  struct VerifyFailure {
    long error = 0;  // X509_V_ERR_*; 0: none recorded
    int depth = 0;
    std::string subject;
    std::string not_after;
    std::string names;  // "DNS:localhost, IP:127.0.0.1"
  };

  TlsTransport(std::shared_ptr<const TlsContext> context, Socket socket,
               ssl_st* ssl, bool is_server, std::string server_name,
               std::string session_key, bool holds_slot);

  void FinishHandshake(bool ok);
  void FillInfo();
  // A status for a failed SSL call (SSL_get_error's `error`); drains
  // BoringSSL's error queue.
  absl::Status SslError(absl::string_view op, int error);
  absl::Status HandshakeError(int error);
  // Best effort, never waits.
  void SendCloseNotify();

  const std::shared_ptr<const TlsContext> context_;
  Socket socket_;
  Io io_;
  ssl_st* ssl_;  // owned
  const bool is_server_;
  std::string peer_name_;          // "1.2.3.4:5" for messages
  const std::string server_name_;  // client: name verified / sent as SNI
  const std::string session_key_;  // client: session cache key
  absl::Status deferred_error_;    // returned by the first Handshake()
  absl::Status read_error_;        // a truncation, returned by the next Read
  // TlsOptions::authorize; may be null.
  std::shared_ptr<const std::function<absl::Status(const TlsInfo&)>> authorize_;

  bool holds_slot_;  // counts against max_concurrent_handshakes
  bool handshake_done_ = false;
  bool handshake_counted_ = false;
  bool want_write_ = false;
  bool broken_ = false;  // a fatal error: no close_notify
  bool close_notify_sent_ = false;
  bool drain_on_close_ = false;  // a handshake alert was sent
  // Refused by max_full_handshakes_per_second (set by the context's
  // callback inside SSL_do_handshake).
  bool refused_over_rate_ = false;
  bool closed_ = false;
  // Plaintext offered to the SSL_write that last hit a full socket;
  // BoringSSL needs at least that much again on the retry.
  size_t pending_write_ = 0;
  VerifyFailure verify_failure_;
  TlsInfo info_;
};

// The TLS transport of `connection`, or nullptr for plain TCP. Its info()
// (version, ALPN, verified peer identity) is valid from OnConnect on.
// Loop thread of the connection (e.g. inside its callbacks and handlers run
// inline).
const TlsTransport* GetTlsTransport(const Connection& connection);

}  // namespace tao

#endif  // TAO_TLS_TLS_TRANSPORT_H_
