#include "tao/config/validate.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/message.h"
#include "tao/base/status_macros.h"
#include "tao/base/thread_count.h"
#include "tao/config/values.h"
#include "tao/net/inet_address.h"
#include "tao/net/ip_range.h"
#include "tao/net/resolver.h"

namespace tao {
namespace {

using config_internal::DurationText;
using config_internal::EnumChoices;
using config_internal::Quote;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// "PATH (VALUE) WHAT".
absl::Status Invalid(absl::string_view path, absl::string_view value,
                     absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " (", value, ") ", what));
}

// A PEM option as errors show it: the file's name; PEM text is not echoed
// (it may be a private key).
struct Source {
  const char* file_field;
  const std::string& file;
  const char* pem_field;
  const std::string& pem;

  bool set() const { return !file.empty() || !pem.empty(); }
  std::string field() const { return file.empty() ? pem_field : file_field; }
  std::string value() const {
    return file.empty() ? absl::StrCat("PEM text, ", pem.size(), " bytes")
                        : Quote(file);
  }
};

}  // namespace

// --- Every field by its type: nothing negative, enums named ---

absl::Status ValidateConfigValues(const Message& message,
                                  const std::string& path) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->is_repeated()) continue;  // strings and bytes only
    const std::string name = absl::StrCat(path, ".", field->name());
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        // Thread counts (int32) have their own rule
        // (ValidateThreadCount).
        const int64_t value =
            field->cpp_type() == FieldDescriptor::CPPTYPE_INT64
                ? reflection->GetInt64(message, field)
                : reflection->GetInt32(message, field);
        if (value < 0 && !absl::EndsWith(field->name(), "_threads")) {
          return Invalid(name, absl::StrCat(value), "is negative");
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE: {
        const double value = reflection->GetDouble(message, field);
        if (!std::isfinite(value)) {
          return Invalid(name, absl::StrCat(value), "is not a finite number");
        }
        if (value < 0) return Invalid(name, absl::StrCat(value), "is negative");
        break;
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int number = reflection->GetEnumValue(message, field);
        const auto* value = field->enum_type()->FindValueByNumber(number);
        if (number == 0 || value == nullptr) {
          return Invalid(
              name,
              value != nullptr ? Quote(value->name()) : absl::StrCat(number),
              absl::StrCat("is not one of ", EnumChoices(field->enum_type())));
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Message& sub = reflection->GetMessage(message, field);
        const auto* duration =
            dynamic_cast<const google::protobuf::Duration*>(&sub);
        if (duration == nullptr) {
          TAO_RETURN_IF_ERROR(ValidateConfigValues(sub, name));
        } else if (duration->seconds() < 0 || duration->nanos() < 0) {
          return Invalid(name, DurationText(*duration), "is negative");
        }
        break;
      }
      default:
        break;
    }
  }
  return absl::OkStatus();
}

// --- Relations between fields, on the C++ values ---

absl::Status ValidateAddress(const std::string& path,
                             const std::string& address, bool host_names) {
  if (address.empty()) return absl::OkStatus();
  if (host_names && ParseHostName(address).has_value()) return absl::OkStatus();
  absl::StatusOr<InetAddress> parsed = InetAddress::Parse(address);
  if (parsed.ok()) return absl::OkStatus();
  // InetAddress's reason without its "invalid address \"...\": " (the
  // value is shown already).
  absl::string_view reason = parsed.status().message();
  const size_t colon = reason.find("\": ");
  if (absl::StartsWith(reason, "invalid address \"") &&
      colon != absl::string_view::npos) {
    reason.remove_prefix(colon + 3);
  }
  return Invalid(path, Quote(address),
                 absl::StrCat("is not an address: ", reason));
}

absl::Status ValidateThreadCount(const std::string& path, int threads,
                                 bool zero_allowed) {
  if (zero_allowed ? ResolveThreadCount(threads, "").ok()
                   : ResolvePositiveThreadCount(threads, "").ok()) {
    return absl::OkStatus();
  }
  return Invalid(path, absl::StrCat(threads),
                 zero_allowed ? "is not a thread count (0 inline, N > 0, or -1 "
                                "for one per core)"
                              : "is not a thread count (N > 0, or -1 for one "
                                "per core)");
}

absl::Status ValidateConnectionOptions(const std::string& path,
                                       const ConnectionOptions& o) {
  if (o.low_water_mark > o.high_water_mark) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".low_water_mark (", o.low_water_mark,
                     ") is above high_water_mark (", o.high_water_mark, ")"));
  }
  if (o.high_water_mark > o.max_output_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ".high_water_mark (", o.high_water_mark,
                     ") is above max_output_bytes (", o.max_output_bytes, ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateReconnectPolicy(const std::string& path,
                                     const ReconnectPolicy& o) {
  if (o.multiplier < 1) {
    return Invalid(path + ".multiplier", absl::StrCat(o.multiplier),
                   "is below 1");
  }
  if (o.jitter > 1) {
    return Invalid(path + ".jitter", absl::StrCat(o.jitter), "is above 1");
  }
  if (o.max_backoff < o.initial_backoff) {
    return Invalid(path + ".max_backoff", DurationText(o.max_backoff),
                   absl::StrCat("is below initial_backoff (",
                                DurationText(o.initial_backoff), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateProxyProtocolOptions(const std::string& path,
                                          const ProxyProtocolOptions& o) {
  for (size_t i = 0; i < o.trusted_sources.size(); ++i) {
    absl::StatusOr<IpRange> range = IpRange::Parse(o.trusted_sources[i]);
    if (!range.ok()) {
      // IpRange's reason without its "IP range \"...\": " (the value is
      // shown already).
      absl::string_view reason = range.status().message();
      const size_t colon = reason.find("\": ");
      if (colon != absl::string_view::npos) reason.remove_prefix(colon + 3);
      return Invalid(absl::StrCat(path, ".trusted_sources[", i, "]"),
                     Quote(o.trusted_sources[i]),
                     absl::StrCat("is not an IP address or range: ", reason));
    }
  }
  if (!o.trusted_sources.empty() && o.header_timeout <= absl::ZeroDuration()) {
    return Invalid(path + ".header_timeout", DurationText(o.header_timeout),
                   "is not positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateTlsOptions(const std::string& path, const TlsOptions& o,
                                bool server) {
  const Source cert{"cert_chain_file", o.cert_chain_file, "cert_chain_pem",
                    o.cert_chain_pem};
  const Source key{"private_key_file", o.private_key_file, "private_key_pem",
                   o.private_key_pem};
  const Source ca{"ca_file", o.ca_file, "ca_pem", o.ca_pem};
  for (const Source& source : {cert, key, ca}) {
    if (!source.file.empty() && !source.pem.empty()) {
      return Invalid(
          absl::StrCat(path, ".", source.pem_field),
          absl::StrCat("PEM text, ", source.pem.size(), " bytes"),
          absl::StrCat("is set together with ", source.file_field, " (",
                       Quote(source.file), "): set one of them"));
    }
  }
  if (key.set() && !cert.set()) {
    return Invalid(absl::StrCat(path, ".", key.field()), key.value(),
                   "is set without a certificate (cert_chain_file or "
                   "cert_chain_pem)");
  }
  if (cert.set() && !key.set()) {
    return Invalid(absl::StrCat(path, ".", cert.field()), cert.value(),
                   "is set without its private key (private_key_file or "
                   "private_key_pem)");
  }
  if (server && !cert.set()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     " needs a certificate and its key on a server "
                     "(cert_chain_file or cert_chain_pem, private_key_file or "
                     "private_key_pem)"));
  }
  if (!server && o.verify_peer && !ca.set()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     " needs ca_file or ca_pem to verify the server (or "
                     "verify_peer false)"));
  }
  if (o.min_version == TlsVersion::kTls13 &&
      o.max_version == TlsVersion::kTls12) {
    return Invalid(path + ".min_version", Quote("TLS_1_3"),
                   "is above max_version (\"TLS_1_2\")");
  }
  for (size_t i = 0; i < o.alpn.size(); ++i) {
    if (o.alpn[i].empty() || o.alpn[i].size() > 255) {
      return Invalid(absl::StrCat(path, ".alpn[", i, "]"), Quote(o.alpn[i]),
                     "is not 1 to 255 bytes");
    }
  }
  for (size_t i = 0; i < o.ticket_keys.size(); ++i) {
    if (o.ticket_keys[i].size() != 48) {
      return Invalid(absl::StrCat(path, ".ticket_keys[", i, "]"),
                     absl::StrCat(o.ticket_keys[i].size(), " bytes"),
                     "is not 48 bytes");
    }
  }
  return absl::OkStatus();
}

}  // namespace tao
