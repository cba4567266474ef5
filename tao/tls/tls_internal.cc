#include "tao/tls/tls_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tao {
namespace tls_internal {
namespace {

// How much one recv asks for. BoringSSL reads a record in two exact-size
// BIO_reads (header, then body); reading ahead turns that into one recv per
// ~64 KiB. The surplus waits in `pending` (heap, freed once consumed) and
// SocketBioPending reports it, so the transport never leaves it unread.
constexpr size_t kReadAhead = size_t{64} << 10;

struct BioData {
  int fd = -1;
  int* last_errno = nullptr;
  std::string pending;  // read ahead, not yet given to BoringSSL
  size_t pos = 0;       // into pending
};

BioData* DataOf(BIO* bio) { return static_cast<BioData*>(BIO_get_data(bio)); }

int BioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  BioData* d = DataOf(bio);
  for (;;) {
    const ssize_t n =
        ::send(d->fd, data, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_write(bio);
    } else {
      *d->last_errno = errno;
    }
    return -1;
  }
}

int BioRead(BIO* bio, char* data, int len) {
  BIO_clear_retry_flags(bio);
  BioData* d = DataOf(bio);
  const size_t want = static_cast<size_t>(len);
  if (d->pos < d->pending.size()) {
    const size_t n = std::min(want, d->pending.size() - d->pos);
    std::memcpy(data, d->pending.data() + d->pos, n);
    d->pos += n;
    if (d->pos == d->pending.size()) {
      std::string().swap(d->pending);  // idle connections hold no buffer
      d->pos = 0;
    }
    return static_cast<int>(n);
  }
  thread_local char scratch[kReadAhead];
  char* const into = want >= kReadAhead ? data : scratch;
  const size_t ask = want >= kReadAhead ? want : kReadAhead;
  for (;;) {
    const ssize_t n = ::recv(d->fd, into, ask, 0);
    if (n > 0) {
      if (into == data) return static_cast<int>(n);
      const size_t got = static_cast<size_t>(n);
      const size_t give = std::min(got, want);
      std::memcpy(data, scratch, give);
      if (got > give) d->pending.assign(scratch + give, got - give);
      return static_cast<int>(give);
    }
    if (n == 0) return 0;  // EOF
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      BIO_set_retry_read(bio);
    } else {
      *d->last_errno = errno;
    }
    return -1;
  }
}

long BioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // writes are not buffered
}

int BioDestroy(BIO* bio) {
  delete DataOf(bio);
  BIO_set_data(bio, nullptr);
  return 1;
}

const BIO_METHOD* SocketBioMethod() {
  static const BIO_METHOD* const method = [] {
    BIO_METHOD* m =
        BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tao socket");
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_ctrl(m, BioCtrl);
    BIO_meth_set_destroy(m, BioDestroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* NewSocketBio(int fd, int* last_errno) {
  BIO* bio = BIO_new(SocketBioMethod());
  if (bio == nullptr) return nullptr;
  BioData* data = new BioData;
  data->fd = fd;
  data->last_errno = last_errno;
  BIO_set_data(bio, data);
  BIO_set_init(bio, 1);
  return bio;
}

size_t SocketBioPending(BIO* bio) {
  BioData* d = DataOf(bio);
  return d == nullptr ? 0 : d->pending.size() - d->pos;
}

int TransportIndex() {
  static const int index =
      SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string NameToString(const X509_NAME* name) {
  if (name == nullptr) return "";
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
    return "";
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

void SubjectAltNames(const X509* cert, std::vector<std::string>* dns,
                     std::vector<std::string>* ips) {
  bssl::UniquePtr<GENERAL_NAMES> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (names == nullptr) return;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* s = name->d.dNSName;
      dns->emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                        static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* s = name->d.iPAddress;
      const int len = ASN1_STRING_length(s);
      char text[INET6_ADDRSTRLEN] = {};
      const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
      if (family != 0 &&
          ::inet_ntop(family, ASN1_STRING_get0_data(s), text, sizeof(text))) {
        ips->emplace_back(text);
      }
    }
  }
}

std::string DescribeNames(const X509* cert) {
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  SubjectAltNames(cert, &dns, &ips);
  std::vector<std::string> all;
  for (const std::string& name : dns) all.push_back(absl::StrCat("DNS:", name));
  for (const std::string& ip : ips) all.push_back(absl::StrCat("IP:", ip));
  if (all.empty()) return "no subjectAltName";
  return absl::StrJoin(all, ", ");
}

std::string TimeToString(const ASN1_TIME* time) {
  if (time == nullptr) return "?";
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || !ASN1_TIME_print(bio.get(), time)) return "?";
  const uint8_t* data = nullptr;
  size_t len = 0;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string DrainErrors(uint32_t* first) {
  std::vector<std::string> reasons;
  if (first != nullptr) *first = 0;
  while (const uint32_t e = ERR_get_error()) {
    if (first != nullptr && *first == 0) *first = e;
    const char* reason = ERR_reason_error_string(e);
    reasons.push_back(reason != nullptr ? std::string(reason)
                                        : absl::StrCat("error ", ERR_GET_LIB(e),
                                                       ":", ERR_GET_REASON(e)));
    if (reasons.size() > 8) {
      ERR_clear_error();
      break;
    }
  }
  return absl::StrJoin(reasons, "; ");
}

}  // namespace tls_internal
}  // namespace tao
