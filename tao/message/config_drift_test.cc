// The options structs and the config messages cannot drift apart.
//
// How it works. For every options struct there is a table below listing
// each of its direct bases and members: a config field path it maps to, a
// nested struct (with a table of its own), or an exclusion with the reason
// (function objects, clocks, codecs and transports are objects, not
// configuration). Then:
//
//  1. Struct -> config. MembersAreCounted compares each table's length with
//     FieldCount<Struct>() (field_count.h), which the compiler computes from
//     the struct itself. Add a member to, say, ConnectionOptions without
//     listing it here and the test fails, naming the struct: list the member
//     with its new config field (tao/config/config.proto; converted in
//     tao/config/convert.cc for the byte layer's and TLS's structs, in
//     tao/message/config.cc for the message layer's) or as excluded.
//     ServerOptions and ClientOptions are not aggregates (they have a
//     constructor); their size must be the sum of their bases', so a member
//     added to them fails too.
//  2. Config -> struct. Every leaf field of ServerConfig / ClientConfig
//     (found by walking the message descriptors recursively) is claimed by
//     exactly one table entry, and every entry's path is such a field: a
//     config field added without an option (or the reverse) fails.
//  3. The mapping is real. Starting from ToConfig(defaults), each leaf field
//     in turn is changed to another value (bool flipped, number + 1, string
//     + "x", next enum value, duration + 1 s, one more list element);
//     FromConfig must change exactly the member the table names, and
//     ToConfig must give back the changed config. Finally all leaves are
//     changed at once and must survive the round trip. A field that
//     either conversion forgets, drops, or maps to the wrong member fails.
//
// One test for every struct, of every layer: the byte layer's and TLS's
// (converted by //tao/config) and the message layer's (converted here, in
// //tao/message:config), because a ServerConfig / ClientConfig holds both.
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tao/config/config.pb.h"
#include "tao/config/field_count.h"
#include "tao/message/config.h"

namespace tao {
namespace {

using config_internal::FieldCount;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// One direct base or member of struct S.
template <typename S>
struct Member {
  enum Kind { kField, kNested, kExcluded };
  Kind kind;
  std::string name;
  std::string path;  // kField: the config field, relative to the struct's
  std::function<bool(const S&, const S&)> equal;  // kField
};

#define TAO_FIELD(S, member, path)                                  \
  Member<S> {                                                       \
    Member<S>::kField, #member, path,                               \
        [](const S& a, const S& b) { return a.member == b.member; } \
  }
// A base or member struct whose own table below covers it.
#define TAO_NESTED(S, member) \
  Member<S> { Member<S>::kNested, #member, "", nullptr }
// Not configurable; `why` is the reason, for the reader.
#define TAO_EXCLUDED(S, member, why) \
  Member<S> { Member<S>::kExcluded, #member, why, nullptr }

const std::vector<Member<ConnectionOptions>>& ConnectionTable() {
  using S = ConnectionOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, high_water_mark, "high_water_mark"),
      TAO_FIELD(S, low_water_mark, "low_water_mark"),
      TAO_FIELD(S, max_output_bytes, "max_output_bytes"),
      TAO_FIELD(S, overflow_policy, "overflow_policy"),
      TAO_FIELD(S, tcp_no_delay, "tcp_no_delay"),
      TAO_FIELD(S, keep_alive, "keep_alive"),
      TAO_FIELD(S, handshake_timeout, "handshake_timeout"),
      TAO_FIELD(S, linger, "linger"),
  };
  return *table;
}

const std::vector<Member<ReconnectPolicy>>& ReconnectTable() {
  using S = ReconnectPolicy;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, enabled, "enabled"),
      TAO_FIELD(S, initial_backoff, "initial_backoff"),
      TAO_FIELD(S, multiplier, "multiplier"),
      TAO_FIELD(S, jitter, "jitter"),
      TAO_FIELD(S, max_backoff, "max_backoff"),
      TAO_FIELD(S, max_attempts, "max_attempts"),
      TAO_FIELD(S, healthy_after, "healthy_after"),
  };
  return *table;
}

const std::vector<Member<HeartbeatOptions>>& HeartbeatTable() {
  using S = HeartbeatOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, interval, "interval"),
      TAO_FIELD(S, timeout, "timeout"),
      TAO_FIELD(S, reader_idle, "reader_idle"),
      TAO_FIELD(S, writer_idle, "writer_idle"),
  };
  return *table;
}

const std::vector<Member<EndpointOptions>>& EndpointTable() {
  using S = EndpointOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_NESTED(S, connection),
      TAO_EXCLUDED(S, tls,
                   "a TransportFactory object; MakeServerOptions / "
                   "MakeClientOptions build it from the config's tls field"),
  };
  return *table;
}

const std::vector<Member<ProxyProtocolOptions>>& ProxyProtocolTable() {
  using S = ProxyProtocolOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, trusted_sources, "trusted_sources"),
      TAO_FIELD(S, header_timeout, "header_timeout"),
      TAO_FIELD(S, max_pending_headers, "max_pending_headers"),
  };
  return *table;
}

const std::vector<Member<TcpServerOptions>>& TcpServerTable() {
  using S = TcpServerOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_NESTED(S, EndpointOptions),  // the base
      TAO_FIELD(S, io_threads, "io_threads"),
      TAO_FIELD(S, reuse_port, "reuse_port"),
      TAO_FIELD(S, max_connections, "max_connections"),
      TAO_FIELD(S, evict_idle_after, "evict_idle_after"),
      TAO_FIELD(S, max_connections_per_ip, "max_connections_per_ip"),
      TAO_FIELD(S, max_total_output_bytes, "max_total_output_bytes"),
      TAO_FIELD(S, max_total_held_input_bytes, "max_total_held_input_bytes"),
      TAO_NESTED(S, proxy_protocol),
  };
  return *table;
}

const std::vector<Member<TcpClientOptions>>& TcpClientTable() {
  using S = TcpClientOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_NESTED(S, EndpointOptions),  // the base
      TAO_FIELD(S, connect_timeout, "connect_timeout"),
      TAO_NESTED(S, reconnect),
  };
  return *table;
}

const std::vector<Member<MessageOptions>>& MessageTable() {
  using S = MessageOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, handler_threads, "handler_threads"),
      TAO_NESTED(S, heartbeat),
      TAO_EXCLUDED(S, codec, "a Codec object (framing), chosen in code"),
      TAO_FIELD(S, unknown_type_policy, "unknown_type_policy"),
      TAO_FIELD(S, frame_timeout, "frame_timeout"),
      TAO_FIELD(S, max_queued_messages, "max_queued_messages"),
      TAO_FIELD(S, max_queued_bytes, "max_queued_bytes"),
      TAO_FIELD(S, max_total_queued_bytes, "max_total_queued_bytes"),
  };
  return *table;
}

const std::vector<Member<TlsOptions>>& TlsTable() {
  using S = TlsOptions;
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, cert_chain_file, "cert_chain_file"),
      TAO_FIELD(S, cert_chain_pem, "cert_chain_pem"),
      TAO_FIELD(S, private_key_file, "private_key_file"),
      TAO_FIELD(S, private_key_pem, "private_key_pem"),
      TAO_FIELD(S, check_certificate_expiry, "check_certificate_expiry"),
      TAO_FIELD(S, ca_file, "ca_file"),
      TAO_FIELD(S, ca_pem, "ca_pem"),
      TAO_FIELD(S, verify_peer, "verify_peer"),
      TAO_FIELD(S, server_name, "server_name"),
      TAO_FIELD(S, client_auth, "client_auth"),
      TAO_EXCLUDED(S, authorize, "a function, set in code"),
      TAO_FIELD(S, min_version, "min_version"),
      TAO_FIELD(S, max_version, "max_version"),
      TAO_FIELD(S, alpn, "alpn"),
      TAO_FIELD(S, session_resumption, "session_resumption"),
      TAO_FIELD(S, ticket_keys, "ticket_keys"),
      TAO_FIELD(S, ticket_key_rotation, "ticket_key_rotation"),
      TAO_FIELD(S, session_cache_size, "session_cache_size"),
      TAO_FIELD(S, max_concurrent_handshakes, "max_concurrent_handshakes"),
      TAO_FIELD(S, max_full_handshakes_per_second,
                "max_full_handshakes_per_second"),
      TAO_FIELD(S, full_handshake_burst, "full_handshake_burst"),
      TAO_EXCLUDED(S, clock, "a Clock object, for tests"),
  };
  return *table;
}

// ServerSettings and ClientSettings have the same members.
template <typename S>
const std::vector<Member<S>>& SettingsTable() {
  static const auto* table = new std::vector<Member<S>>{
      TAO_FIELD(S, address, "address"),
      TAO_FIELD(S, metrics_address, "metrics_address"),
      TAO_NESTED(S, options),
      TAO_NESTED(S, tls),
  };
  return *table;
}

#undef TAO_FIELD
#undef TAO_NESTED
#undef TAO_EXCLUDED

template <typename S>
std::string Names(const std::vector<Member<S>>& table) {
  std::vector<std::string> names;
  for (const Member<S>& m : table) names.push_back(m.name);
  return absl::StrJoin(names, ", ");
}

template <typename S>
void ExpectCounted(const char* name, const std::vector<Member<S>>& table) {
  EXPECT_EQ(table.size(), FieldCount<S>())
      << name << " has " << FieldCount<S>() << " bases and members; "
      << "config_drift_test.cc lists " << table.size() << " (" << Names(table)
      << "). Give the new member a field in tao/config/config.proto, convert "
         "it (tao/config/convert.cc or tao/message/config.cc) and list it "
         "here, or list it as excluded with the reason.";
}

TEST(ConfigDriftTest, MembersAreCounted) {
  ExpectCounted("ConnectionOptions", ConnectionTable());
  ExpectCounted("ReconnectPolicy", ReconnectTable());
  ExpectCounted("HeartbeatOptions", HeartbeatTable());
  ExpectCounted("EndpointOptions", EndpointTable());
  ExpectCounted("TcpServerOptions", TcpServerTable());
  ExpectCounted("ProxyProtocolOptions", ProxyProtocolTable());
  ExpectCounted("TcpClientOptions", TcpClientTable());
  ExpectCounted("MessageOptions", MessageTable());
  ExpectCounted("TlsOptions", TlsTable());
  ExpectCounted("ServerSettings", SettingsTable<ServerSettings>());
  ExpectCounted("ClientSettings", SettingsTable<ClientSettings>());
  EXPECT_EQ(sizeof(ServerOptions),
            sizeof(TcpServerOptions) + sizeof(MessageOptions))
      << "ServerOptions has a member of its own: configure it (see above)";
  EXPECT_EQ(sizeof(ClientOptions),
            sizeof(TcpClientOptions) + sizeof(MessageOptions))
      << "ClientOptions has a member of its own: configure it (see above)";
}

// A settings-level view of one configurable member.
template <typename Settings>
struct Entry {
  std::string path;  // full config path, e.g. "connection.linger"
  std::function<bool(const Settings&, const Settings&)> equal;
};

// Adds the kField members of `table` at `prefix`, reached via `get`.
template <typename Settings, typename S, typename Get>
void Add(std::vector<Entry<Settings>>& entries,
         const std::vector<Member<S>>& table, const std::string& prefix,
         Get get) {
  for (const Member<S>& m : table) {
    if (m.kind != Member<S>::kField) continue;
    entries.push_back(
        {prefix + m.path,
         [get, equal = m.equal](const Settings& a, const Settings& b) {
           return equal(get(a), get(b));
         }});
  }
}

template <typename Settings>
void AddShared(std::vector<Entry<Settings>>& entries,
               const std::vector<Member<Settings>>& settings_table) {
  Add(entries, settings_table, "",
      [](const Settings& s) -> const Settings& { return s; });
  Add(entries, ConnectionTable(), "connection.",
      [](const Settings& s) -> const ConnectionOptions& {
        return s.options.connection;
      });
  Add(entries, EndpointTable(), "",
      [](const Settings& s) -> const EndpointOptions& { return s.options; });
  Add(entries, MessageTable(), "",
      [](const Settings& s) -> const MessageOptions& { return s.options; });
  Add(entries, HeartbeatTable(), "heartbeat.",
      [](const Settings& s) -> const HeartbeatOptions& {
        return s.options.heartbeat;
      });
  // The defaults below have TLS on, so *s.tls is there.
  Add(entries, TlsTable(), "tls.",
      [](const Settings& s) -> const TlsOptions& { return *s.tls; });
}

std::vector<Entry<ServerSettings>> ServerEntries() {
  std::vector<Entry<ServerSettings>> entries;
  AddShared(entries, SettingsTable<ServerSettings>());
  Add(entries, TcpServerTable(), "",
      [](const ServerSettings& s) -> const TcpServerOptions& {
        return s.options;
      });
  Add(entries, ProxyProtocolTable(), "proxy_protocol.",
      [](const ServerSettings& s) -> const ProxyProtocolOptions& {
        return s.options.proxy_protocol;
      });
  return entries;
}

std::vector<Entry<ClientSettings>> ClientEntries() {
  std::vector<Entry<ClientSettings>> entries;
  AddShared(entries, SettingsTable<ClientSettings>());
  Add(entries, TcpClientTable(), "",
      [](const ClientSettings& s) -> const TcpClientOptions& {
        return s.options;
      });
  Add(entries, ReconnectTable(), "reconnect.",
      [](const ClientSettings& s) -> const ReconnectPolicy& {
        return s.options.reconnect;
      });
  return entries;
}

bool IsLeaf(const FieldDescriptor* field) {
  return field->message_type() == nullptr ||
         field->message_type() == google::protobuf::Duration::descriptor();
}

// Every leaf field of `type`, as "connection.linger".
void Leaves(const google::protobuf::Descriptor* type, const std::string& prefix,
            std::vector<std::string>& out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    if (IsLeaf(field)) {
      out.push_back(prefix + field->name());
    } else {
      Leaves(field->message_type(), prefix + field->name() + ".", out);
    }
  }
}

// The message holding leaf `path` in `root`, and the leaf's descriptor.
Message* Parent(Message* root, const std::string& path,
                const FieldDescriptor** leaf) {
  std::vector<std::string> steps = absl::StrSplit(path, '.');
  Message* message = root;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    const FieldDescriptor* field =
        message->GetDescriptor()->FindFieldByName(steps[i]);
    message = message->GetReflection()->MutableMessage(message, field);
  }
  *leaf = message->GetDescriptor()->FindFieldByName(steps.back());
  return message;
}

// Changes leaf `path` of `root` to a value other than the one it has.
void Perturb(Message* root, const std::string& path) {
  const FieldDescriptor* f = nullptr;
  Message* m = Parent(root, path, &f);
  const google::protobuf::Reflection* r = m->GetReflection();
  if (f->is_repeated()) {
    r->AddString(m, f, "x");  // repeated string and bytes only
    return;
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      r->SetBool(m, f, !r->GetBool(*m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      r->SetInt32(m, f, r->GetInt32(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      r->SetInt64(m, f, r->GetInt64(*m, f) + 1);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      r->SetDouble(m, f, r->GetDouble(*m, f) + 0.5);
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      r->SetString(m, f, r->GetString(*m, f) + "x");
      break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int now = r->GetEnumValue(*m, f);
      for (int i = 0; i < f->enum_type()->value_count(); ++i) {
        const int other = f->enum_type()->value(i)->number();
        if (other != 0 && other != now) {
          r->SetEnumValue(m, f, other);
          break;
        }
      }
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      auto* d =
          static_cast<google::protobuf::Duration*>(r->MutableMessage(m, f));
      d->set_seconds(d->seconds() + 1);
      break;
    }
    default:
      ADD_FAILURE() << path << ": a field type this test cannot change";
  }
}

bool HasLeaf(const Message& root, const std::string& path) {
  const FieldDescriptor* f = nullptr;
  std::unique_ptr<Message> copy(root.New());
  copy->CopyFrom(root);
  const Message* m = Parent(copy.get(), path, &f);
  return f->is_repeated() || m->GetReflection()->HasField(*m, f);
}

template <typename Settings, typename Config>
void ExpectNoDrift(const std::vector<Entry<Settings>>& entries) {
  std::vector<std::string> leaves;
  Leaves(Config::descriptor(), "", leaves);

  // 2. Each leaf claimed by exactly one entry, and each entry is a leaf.
  std::multiset<std::string> claimed;
  for (const auto& e : entries) claimed.insert(e.path);
  for (const std::string& leaf : leaves) {
    EXPECT_EQ(claimed.count(leaf), 1u)
        << Config::descriptor()->full_name() << "." << leaf
        << " is not the config field of exactly one option member: map it "
           "(tao/config/convert.cc or tao/message/config.cc) and list the "
           "member in config_drift_test.cc";
  }
  const std::set<std::string> leaf_set(leaves.begin(), leaves.end());
  for (const auto& e : entries) {
    EXPECT_TRUE(leaf_set.count(e.path))
        << e.path << " is listed but is not a field of "
        << Config::descriptor()->full_name();
  }

  // 3. Every leaf carries its own member, both ways.
  Settings defaults;
  defaults.tls = TlsOptions();  // so that the tls fields are there
  const Config base = ToConfig(defaults);
  Config all = base;
  for (const std::string& leaf : leaves) {
    EXPECT_TRUE(HasLeaf(base, leaf)) << "ToConfig does not set " << leaf;
    Config changed = base;
    Perturb(&changed, leaf);
    Perturb(&all, leaf);
    const Settings settings = FromConfig(changed);
    for (const auto& e : entries) {
      EXPECT_EQ(e.equal(settings, defaults), e.path != leaf)
          << "changing config field " << leaf << " changed option " << e.path
          << "'s value: " << (e.path == leaf ? "no" : "yes");
    }
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
        ToConfig(settings), changed))
        << leaf << " does not survive FromConfig + ToConfig";
  }
  const Settings settings = FromConfig(all);
  for (const auto& e : entries) {
    EXPECT_FALSE(e.equal(settings, defaults)) << e.path << " was lost";
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      ToConfig(settings), all))
      << "every field changed does not survive FromConfig + ToConfig";
}

TEST(ConfigDriftTest, ServerConfigAndOptionsMatch) {
  ExpectNoDrift<ServerSettings, config::ServerConfig>(ServerEntries());
}

TEST(ConfigDriftTest, ClientConfigAndOptionsMatch) {
  ExpectNoDrift<ClientSettings, config::ClientConfig>(ClientEntries());
}

}  // namespace
}  // namespace tao
