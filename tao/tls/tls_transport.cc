#include "tao/tls/tls_transport.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tao/net/connection.h"
#include "tao/tls/tls_internal.h"

namespace tao {
namespace {

// Plaintext room offered to each SSL_read (one record is at most 16 KiB).
constexpr size_t kReadChunk = size_t{16} << 10;
// Read stops after this much plaintext, so one busy connection does not
// starve the loop's others: the rest waits in the kernel (epoll announces
// it) or in BoringSSL and the read-ahead (HasBufferedInput: the connection
// reads again after the loop's other ready channels). About what plain TCP
// takes per wake-up, in whole records.
constexpr size_t kMaxReadPerCall = size_t{256} << 10;
// Largest plaintext handed to one SSL_write (it seals one record per call
// in partial-write mode, so this only bounds the int conversion).
constexpr size_t kMaxWriteChunk = size_t{1} << 20;
// A full TLS record's plaintext.
constexpr size_t kRecordSize = size_t{16} << 10;

// Alerts that mean "your certificate was not accepted".
bool IsCertificateAlert(int alert) {
  switch (alert) {
    case SSL_AD_BAD_CERTIFICATE:
    case SSL_AD_UNSUPPORTED_CERTIFICATE:
    case SSL_AD_CERTIFICATE_REVOKED:
    case SSL_AD_CERTIFICATE_EXPIRED:
    case SSL_AD_CERTIFICATE_UNKNOWN:
    case SSL_AD_UNKNOWN_CA:
    case SSL_AD_ACCESS_DENIED:
    case SSL_AD_CERTIFICATE_REQUIRED:
      return true;
    default:
      return false;
  }
}

}  // namespace

TlsTransport::TlsTransport(std::shared_ptr<const TlsContext> context,
                           Socket socket, SSL* ssl, bool is_server,
                           std::string server_name, std::string session_key,
                           bool holds_slot)
    : context_(std::move(context)),
      socket_(std::move(socket)),
      ssl_(ssl),
      is_server_(is_server),
      server_name_(std::move(server_name)),
      session_key_(std::move(session_key)),
      holds_slot_(holds_slot) {
  io_.fd = socket_.fd();
  absl::StatusOr<InetAddress> peer = socket_.PeerAddress();
  peer_name_ = peer.ok() ? peer->ToString() : std::string("peer");
  BIO* bio = tls_internal::NewSocketBio(io_.fd, &io_.last_errno);
  if (bio == nullptr) {
    deferred_error_ = absl::ResourceExhaustedError("tls: out of memory (BIO)");
  } else {
    SSL_set_bio(ssl_, bio, bio);  // one reference, used for both directions
  }
  SSL_set_ex_data(ssl_, tls_internal::TransportIndex(), this);
}

TlsTransport::~TlsTransport() {
  if (!handshake_counted_) FinishHandshake(/*ok=*/false);
  SSL_set_ex_data(ssl_, tls_internal::TransportIndex(), nullptr);
  SSL_free(ssl_);
}

// ---------------------------------------------------------------------------
// Handshake

absl::StatusOr<bool> TlsTransport::Handshake() {
  if (handshake_done_) return true;
  if (!deferred_error_.ok()) {
    broken_ = true;
    FinishHandshake(/*ok=*/false);
    return deferred_error_;
  }
  ERR_clear_error();
  io_.last_errno = 0;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    want_write_ = false;
    FillInfo();
    if (authorize_ != nullptr && *authorize_) {
      absl::Status allowed = (*authorize_)(info_);
      if (!allowed.ok()) {
        ERR_clear_error();
        SSL_send_fatal_alert(ssl_, SSL_AD_ACCESS_DENIED);
        ERR_clear_error();
        broken_ = true;
        drain_on_close_ = true;
        FinishHandshake(/*ok=*/false);
        return absl::Status(
            allowed.code(),
            absl::StrCat("TLS peer ", peer_name_, " (",
                         info_.peer_subject.empty() ? "no certificate"
                                                    : info_.peer_subject,
                         ") not authorized: ", allowed.message()));
      }
    }
    handshake_done_ = true;
    FinishHandshake(/*ok=*/true);
    return true;
  }
  const int error = SSL_get_error(ssl_, rc);
  if (error == SSL_ERROR_WANT_READ) {
    want_write_ = false;
    return false;
  }
  if (error == SSL_ERROR_WANT_WRITE) {
    want_write_ = true;
    return false;
  }
  broken_ = true;
  // BoringSSL sent an alert; let it reach the peer (see Close).
  drain_on_close_ = error == SSL_ERROR_SSL;
  FinishHandshake(/*ok=*/false);
  if (refused_over_rate_) {
    tls_internal::DrainErrors();
    return absl::ResourceExhaustedError(
        absl::StrCat("TLS handshake with ", peer_name_,
                     " refused: more full handshakes than "
                     "TlsOptions::max_full_handshakes_per_second allows"));
  }
  return HandshakeError(error);
}

void TlsTransport::FinishHandshake(bool ok) {
  if (handshake_counted_) return;
  handshake_counted_ = true;
  if (holds_slot_) {
    holds_slot_ = false;
    context_->ReleaseHandshakeSlot();
  }
  context_->HandshakeFinished(ok, ok && info_.resumed);
}

void TlsTransport::FillInfo() {
  info_.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) {
    info_.cipher = SSL_CIPHER_standard_name(cipher);
  }
  const uint8_t* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
  info_.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  if (is_server_) {
    const char* sni = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
    info_.server_name = sni != nullptr ? sni : "";
  } else {
    info_.server_name = server_name_;
  }
  info_.resumed = SSL_session_reused(ssl_) == 1;
  info_.peer_address = peer_name_;
  bssl::UniquePtr<X509> peer(SSL_get_peer_certificate(ssl_));
  info_.peer_certificate = peer != nullptr;
  if (peer != nullptr) {
    info_.peer_subject =
        tls_internal::NameToString(X509_get_subject_name(peer.get()));
    info_.peer_issuer =
        tls_internal::NameToString(X509_get_issuer_name(peer.get()));
    tls_internal::SubjectAltNames(peer.get(), &info_.peer_dns_names,
                                  &info_.peer_ip_addresses);
    info_.peer_verified = (SSL_get_verify_mode(ssl_) & SSL_VERIFY_PEER) != 0 &&
                          SSL_get_verify_result(ssl_) == X509_V_OK;
  }
}

absl::Status TlsTransport::HandshakeError(int error) {
  const std::string& peer = peer_name_;
  const char* peer_role = is_server_ ? "client" : "server";
  if (verify_failure_.error != 0) {
    tls_internal::DrainErrors();
    const VerifyFailure& f = verify_failure_;
    std::string detail;
    switch (f.error) {
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH:
        detail = absl::StrCat("it is for ", f.names, ", not '", server_name_,
                              "' (wrong host)");
        break;
      case X509_V_ERR_CERT_HAS_EXPIRED:
        detail = absl::StrCat("it expired on ", f.not_after);
        break;
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        detail = "it is not issued by a trusted CA (ca_file / ca_pem)";
        break;
      default:
        break;
    }
    return absl::UnauthenticatedError(absl::StrCat(
        "TLS handshake with ", peer, ": ", peer_role, " certificate '",
        f.subject, "'",
        f.depth > 0 ? absl::StrCat(" (chain depth ", f.depth, ")") : "",
        " rejected: ", X509_verify_cert_error_string(f.error),
        detail.empty() ? "" : "; ", detail));
  }
  return SslError("handshake", error);
}

absl::Status TlsTransport::SslError(absl::string_view op, int error) {
  const std::string prefix =
      absl::StrCat("TLS ", op, " with ", peer_name_, ": ");
  if (error == SSL_ERROR_SYSCALL || error == SSL_ERROR_ZERO_RETURN) {
    tls_internal::DrainErrors();
    if (io_.last_errno != 0) {
      return absl::ErrnoToStatus(io_.last_errno,
                                 absl::StrCat(prefix, "socket"));
    }
    return absl::UnavailableError(
        absl::StrCat(prefix, "the peer closed the connection",
                     handshake_done_ ? "" : " during the handshake"));
  }
  uint32_t first = 0;
  const std::string reasons = tls_internal::DrainErrors(&first);
  const int reason = ERR_GET_REASON(first);
  if (ERR_GET_LIB(first) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
    const int alert = reason - SSL_AD_REASON_OFFSET;
    // TLS 1.2 servers answer a missing client certificate with a generic
    // handshake_failure; say so when the server asked for one.
    const STACK_OF(X509_NAME)* requested =
        is_server_ ? nullptr : SSL_get_client_CA_list(ssl_);
    const bool missing_client_cert =
        alert == SSL_AD_CERTIFICATE_REQUIRED ||
        (alert == SSL_AD_HANDSHAKE_FAILURE && requested != nullptr &&
         sk_X509_NAME_num(requested) > 0 &&
         SSL_get_certificate(ssl_) == nullptr);
    const bool certificate = missing_client_cert || IsCertificateAlert(alert);
    const std::string text = absl::StrCat(
        prefix, "the peer refused with alert '",
        SSL_alert_desc_string_long(alert), "'",
        missing_client_cert ? " (it requires a client certificate; set "
                              "cert_chain_* and private_key_*)"
        : certificate       ? " (it rejected our certificate)"
                            : "");
    return certificate ? absl::UnauthenticatedError(text)
                       : absl::UnavailableError(text);
  }
  if (ERR_GET_LIB(first) == ERR_LIB_SSL &&
      reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
    return absl::UnauthenticatedError(
        absl::StrCat(prefix, "the client sent no certificate (",
                     "client_auth is kRequire)"));
  }
  const bool not_tls =
      ERR_GET_LIB(first) == ERR_LIB_SSL &&
      (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_HTTP_REQUEST ||
       reason == SSL_R_HTTPS_PROXY_REQUEST ||
       reason == SSL_R_UNEXPECTED_RECORD || reason == SSL_R_RECORD_TOO_LARGE);
  return absl::UnavailableError(
      absl::StrCat(prefix, reasons.empty() ? "unknown error" : reasons,
                   not_tls ? " (is the peer speaking TLS?)" : ""));
}

// ---------------------------------------------------------------------------
// Data

absl::StatusOr<Transport::ReadResult> TlsTransport::Read(Buffer& in) {
  ReadResult result;
  if (!handshake_done_) return result;
  if (!read_error_.ok()) return read_error_;
  for (;;) {
    in.EnsureWritable(kReadChunk);
    ERR_clear_error();
    io_.last_errno = 0;
    const int n = SSL_read(
        ssl_, in.BeginWrite(),
        static_cast<int>(std::min<size_t>(in.writable_bytes(), INT_MAX)));
    if (n > 0) {
      in.HasWritten(static_cast<size_t>(n));
      result.bytes += static_cast<size_t>(n);
      if (result.bytes >= kMaxReadPerCall) return result;  // budget spent
      continue;
    }
    const int error = SSL_get_error(ssl_, n);
    switch (error) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        return result;
      case SSL_ERROR_ZERO_RETURN:  // close_notify
        result.eof = true;
        return result;
      case SSL_ERROR_SYSCALL:
        if (io_.last_errno == 0 && ERR_peek_error() == 0) {
          // TCP EOF without close_notify: the stream may have been cut
          // short (by the peer or by someone on the path), so it is not an
          // orderly end. What came before it is delivered first.
          broken_ = true;
          read_error_ = absl::DataLossError(
              absl::StrCat("TLS read with ", peer_name_,
                           ": peer closed without close_notify (truncated)"));
          if (result.bytes > 0) return result;
          return read_error_;
        }
        [[fallthrough]];
      default:
        broken_ = true;
        return SslError("read", error);
    }
  }
}

absl::StatusOr<size_t> TlsTransport::Write(
    absl::Span<const struct iovec> data) {
  if (!handshake_done_) return size_t{0};
  size_t total = 0;
  size_t index = 0;   // iovec being written
  size_t offset = 0;  // into data[index]
  while (index < data.size()) {
    const size_t left = data[index].iov_len - offset;
    if (left == 0) {
      ++index;
      offset = 0;
      continue;
    }
    // A write the socket refused last time must be retried with at least
    // the same bytes (BoringSSL has already sealed them).
    const size_t target = std::max(kRecordSize, pending_write_);
    const char* p;
    size_t len;
    if (left >= target || index + 1 == data.size()) {
      p = static_cast<const char*>(data[index].iov_base) + offset;
      len = std::min(left, std::max(kMaxWriteChunk, pending_write_));
    } else {
      // Gather small chunks (a Cord's are ~4 KiB) into one full record:
      // fewer records, fewer send calls. BoringSSL copies what it seals
      // (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), so a per-thread buffer works.
      thread_local std::string gathered;
      gathered.clear();
      size_t i = index;
      size_t o = offset;
      while (i < data.size() && gathered.size() < target) {
        const size_t take =
            std::min(data[i].iov_len - o, target - gathered.size());
        gathered.append(static_cast<const char*>(data[i].iov_base) + o, take);
        o += take;
        if (o == data[i].iov_len) {
          ++i;
          o = 0;
        }
      }
      p = gathered.data();
      len = gathered.size();
    }
    ERR_clear_error();
    io_.last_errno = 0;
    const int n = SSL_write(ssl_, p, static_cast<int>(len));
    if (n <= 0) {
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
        pending_write_ = len;
        break;  // the socket is full
      }
      broken_ = true;
      return SslError("write", error);
    }
    pending_write_ = 0;
    total += static_cast<size_t>(n);
    // Advance past the n bytes taken.
    size_t taken = static_cast<size_t>(n);
    while (taken > 0 && index < data.size()) {
      const size_t rest = data[index].iov_len - offset;
      if (taken < rest) {
        offset += taken;
        break;
      }
      taken -= rest;
      ++index;
      offset = 0;
    }
  }
  return total;
}

bool TlsTransport::HasBufferedInput() const {
  return handshake_done_ &&
         (!read_error_.ok() || SSL_has_pending(ssl_) == 1 ||
          tls_internal::SocketBioPending(SSL_get_rbio(ssl_)) > 0);
}

// ---------------------------------------------------------------------------
// Closing

void TlsTransport::SendCloseNotify() {
  if (!handshake_done_ || broken_ || close_notify_sent_ || closed_) return;
  close_notify_sent_ = true;
  ERR_clear_error();
  (void)SSL_shutdown(ssl_);  // one non-blocking attempt
  ERR_clear_error();
}

absl::Status TlsTransport::ShutdownWrite() {
  SendCloseNotify();
  return socket_.ShutdownWrite();
}

void TlsTransport::Close() {
  if (closed_) return;
  SendCloseNotify();
  if (!handshake_counted_) FinishHandshake(/*ok=*/false);
  if (drain_on_close_) {
    // The rest of the peer's flight is usually queued already; closing with
    // unread input would send RST, which can destroy our alert before the
    // peer reads it. Discard what is there (bounded, non-blocking) so the
    // close is a FIN.
    char sink[16384];
    for (int i = 0; i < 16; ++i) {
      const ssize_t n = ::recv(socket_.fd(), sink, sizeof(sink), MSG_DONTWAIT);
      if (n <= 0) break;
    }
  }
  closed_ = true;
  socket_.Close();
}

const TlsTransport* GetTlsTransport(const Connection& connection) {
  return dynamic_cast<const TlsTransport*>(&connection.transport());
}

}  // namespace tao
