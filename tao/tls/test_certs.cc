#include "tao/tls/test_certs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tao/base/status_macros.h"

namespace tao {
namespace testing {
namespace {

absl::Status Failed(absl::string_view what) {
  return absl::InternalError(absl::StrCat("test certs: ", what, " failed"));
}

bssl::UniquePtr<EVP_PKEY> GenerateKey(bool rsa) {
  if (rsa) {
    bssl::UniquePtr<RSA> r(RSA_new());
    bssl::UniquePtr<BIGNUM> e(BN_new());
    if (r == nullptr || e == nullptr || !BN_set_word(e.get(), RSA_F4) ||
        !RSA_generate_key_ex(r.get(), 2048, e.get(), nullptr)) {
      return nullptr;
    }
    bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
    if (key == nullptr || !EVP_PKEY_assign_RSA(key.get(), r.release())) {
      return nullptr;
    }
    return key;
  }
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  if (ec == nullptr || !EC_KEY_generate_key(ec.get())) return nullptr;
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (key == nullptr || !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) {
    return nullptr;
  }
  return key;
}

std::string BioContents(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio, &data, &len)) return "";
  return std::string(reinterpret_cast<const char*>(data), len);
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || !PEM_write_bio_X509(bio.get(), cert)) {
    return Failed("PEM_write_bio_X509");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                nullptr)) {
    return Failed("PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr || !X509_add_ext(cert, ext.get(), -1)) {
    return Failed(absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

absl::Status AddNameEntry(X509_NAME* name, const char* field,
                          const std::string& value) {
  if (value.empty()) return absl::OkStatus();
  if (!X509_NAME_add_entry_by_txt(
          name, field, MBSTRING_UTF8,
          reinterpret_cast<const uint8_t*>(value.data()),
          static_cast<int>(value.size()), -1, 0)) {
    return Failed(absl::StrCat("subject ", field, "=", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CertAndKey> MakeCertificate(const CertSpec& spec,
                                           const CertAndKey* issuer) {
  bssl::UniquePtr<EVP_PKEY> key = GenerateKey(spec.rsa_key);
  if (key == nullptr) return Failed("key generation");

  bssl::UniquePtr<X509> issuer_cert;
  bssl::UniquePtr<EVP_PKEY> issuer_key;
  if (issuer != nullptr) {
    bssl::UniquePtr<BIO> cert_bio(BIO_new_mem_buf(
        issuer->cert_pem.data(), static_cast<int>(issuer->cert_pem.size())));
    issuer_cert.reset(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    bssl::UniquePtr<BIO> key_bio(BIO_new_mem_buf(
        issuer->key_pem.data(), static_cast<int>(issuer->key_pem.size())));
    issuer_key.reset(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (issuer_cert == nullptr || issuer_key == nullptr) {
      return absl::InvalidArgumentError("test certs: unreadable issuer PEM");
    }
  }

  bssl::UniquePtr<X509> cert(X509_new());
  if (cert == nullptr || !X509_set_version(cert.get(), X509_VERSION_3)) {
    return Failed("X509_new");
  }
  uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<uint8_t*>(&serial), sizeof(serial));
  serial &= 0x7fffffffffffffffULL;  // positive
  if (!ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial)) {
    return Failed("serial number");
  }
  const absl::Time now = absl::Now();
  const absl::Time not_before = spec.not_before == absl::InfinitePast()
                                    ? now - absl::Hours(1)
                                    : spec.not_before;
  const absl::Time not_after = spec.not_after == absl::InfiniteFuture()
                                   ? now + absl::Hours(24)
                                   : spec.not_after;
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                     absl::ToTimeT(not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()),
                     absl::ToTimeT(not_after))) {
    return Failed("validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  TAO_RETURN_IF_ERROR(AddNameEntry(subject, "O", spec.organization));
  TAO_RETURN_IF_ERROR(AddNameEntry(subject, "CN", spec.common_name));
  if (!X509_set_issuer_name(cert.get(),
                            issuer_cert != nullptr
                                ? X509_get_subject_name(issuer_cert.get())
                                : subject) ||
      !X509_set_pubkey(cert.get(), key.get())) {
    return Failed("issuer / public key");
  }

  X509* signer_cert = issuer_cert != nullptr ? issuer_cert.get() : cert.get();
  if (spec.is_ca) {
    TAO_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE"));
    TAO_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_key_usage,
                                     "critical,keyCertSign,cRLSign"));
  } else {
    TAO_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE"));
    TAO_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_key_usage,
                                     "critical,digitalSignature"));
    TAO_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert, NID_ext_key_usage,
                                     "serverAuth,clientAuth"));
  }
  TAO_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert,
                                   NID_subject_key_identifier, "hash"));
  if (issuer_cert != nullptr) {
    TAO_RETURN_IF_ERROR(AddExtension(
        cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always"));
  }
  std::vector<std::string> sans;
  for (const std::string& dns : spec.dns_names) {
    sans.push_back(absl::StrCat("DNS:", dns));
  }
  for (const std::string& ip : spec.ip_addresses) {
    sans.push_back(absl::StrCat("IP:", ip));
  }
  if (!sans.empty()) {
    TAO_RETURN_IF_ERROR(AddExtension(cert.get(), signer_cert,
                                     NID_subject_alt_name,
                                     absl::StrJoin(sans, ",")));
  }

  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key.get() : key.get();
  if (!X509_sign(cert.get(), signer_key, EVP_sha256())) {
    return Failed("X509_sign");
  }
  CertAndKey out;
  TAO_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert.get()));
  TAO_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key.get()));
  return out;
}

absl::StatusOr<TestCerts> MakeTestCerts() {
  const absl::Time now = absl::Now();
  CertSpec server;
  server.common_name = "tao-test-server";
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1", "::1"};
  CertSpec client;
  client.common_name = "tao-test-client";
  client.dns_names = {"client.tao.test"};

  TestCerts certs;
  CertSpec ca;
  ca.common_name = "tao test CA";
  ca.is_ca = true;
  TAO_ASSIGN_OR_RETURN(certs.ca, MakeCertificate(ca, nullptr));
  TAO_ASSIGN_OR_RETURN(certs.server, MakeCertificate(server, &certs.ca));
  CertSpec server2 = server;
  server2.common_name = "tao-test-server-2";
  TAO_ASSIGN_OR_RETURN(certs.server2, MakeCertificate(server2, &certs.ca));
  TAO_ASSIGN_OR_RETURN(certs.client, MakeCertificate(client, &certs.ca));

  CertSpec expired_server = server;
  expired_server.not_before = now - absl::Hours(24 * 30);
  expired_server.not_after = now - absl::Hours(24);
  TAO_ASSIGN_OR_RETURN(certs.expired_server,
                       MakeCertificate(expired_server, &certs.ca));
  CertSpec expired_client = client;
  expired_client.not_before = expired_server.not_before;
  expired_client.not_after = expired_server.not_after;
  TAO_ASSIGN_OR_RETURN(certs.expired_client,
                       MakeCertificate(expired_client, &certs.ca));

  CertSpec untrusted_ca;
  untrusted_ca.common_name = "untrusted test CA";
  untrusted_ca.is_ca = true;
  TAO_ASSIGN_OR_RETURN(certs.untrusted_ca,
                       MakeCertificate(untrusted_ca, nullptr));
  TAO_ASSIGN_OR_RETURN(certs.untrusted_server,
                       MakeCertificate(server, &certs.untrusted_ca));
  TAO_ASSIGN_OR_RETURN(certs.untrusted_client,
                       MakeCertificate(client, &certs.untrusted_ca));
  return certs;
}

absl::Status WriteFile(absl::string_view path, absl::string_view contents,
                       bool private_file) {
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        private_file ? 0600 : 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", p));
  while (!contents.empty()) {
    const ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return absl::ErrnoToStatus(saved, absl::StrCat("write ", p));
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  if (::close(fd) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("close ", p));
  }
  return absl::OkStatus();
}

absl::Status WriteTestCerts(const TestCerts& certs, absl::string_view dir) {
  const std::pair<const char*, const CertAndKey*> all[] = {
      {"ca", &certs.ca},
      {"server", &certs.server},
      {"server2", &certs.server2},
      {"client", &certs.client},
      {"expired_server", &certs.expired_server},
      {"expired_client", &certs.expired_client},
      {"untrusted_ca", &certs.untrusted_ca},
      {"untrusted_server", &certs.untrusted_server},
      {"untrusted_client", &certs.untrusted_client},
  };
  for (const auto& [name, pair] : all) {
    TAO_RETURN_IF_ERROR(
        WriteFile(absl::StrCat(dir, "/", name, ".pem"), pair->cert_pem));
    TAO_RETURN_IF_ERROR(WriteFile(absl::StrCat(dir, "/", name, ".key"),
                                  pair->key_pem, /*private_file=*/true));
  }
  return absl::OkStatus();
}

}  // namespace testing
}  // namespace tao
