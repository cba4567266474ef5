// Internal helpers shared by tls_context.cc and tls_transport.cc: BoringSSL
// glue (the socket BIO, ex_data slots) and the text of certificates and
// errors. Not part of tao's API.
//
// Thread safety: every function is thread-safe; BoringSSL's error queue is
// per thread.
#ifndef TAO_TLS_TLS_INTERNAL_H_
#define TAO_TLS_TLS_INTERNAL_H_

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tao/base/cxx20.h"

namespace tao {
namespace tls_internal {

// A BIO over a non-blocking socket: send(MSG_NOSIGNAL)/recv, EAGAIN as a
// retry, and the errno of a failure stored in *last_errno. Reads ahead (one
// recv for many records); the bytes read but not yet consumed by BoringSSL
// are SocketBioPending. The BIO does not own the fd.
BIO* NewSocketBio(int fd, int* last_errno);
size_t SocketBioPending(BIO* bio);

// The SSL ex_data slot that holds the TlsTransport of an SSL.
int TransportIndex();

// "CN=alice,O=example" (RFC 2253 order).
std::string NameToString(const X509_NAME* name);
// subjectAltName DNS names and IP addresses.
void SubjectAltNames(const X509* cert, std::vector<std::string>* dns,
                     std::vector<std::string>* ips);
// "DNS:localhost, IP:127.0.0.1" ("no subjectAltName" when empty).
std::string DescribeNames(const X509* cert);
// "Mar  4 12:00:00 2025 GMT".
std::string TimeToString(const ASN1_TIME* time);

// The reasons on this thread's BoringSSL error queue, oldest first, joined
// with "; " (e.g. "WRONG_VERSION_NUMBER"); empties the queue. `first`, if
// not null, receives the oldest packed error (0 when empty).
std::string DrainErrors(uint32_t* first = nullptr);

}  // namespace tls_internal
}  // namespace tao

#endif  // TAO_TLS_TLS_INTERNAL_H_
