#include "tao/config/json.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tao/config/values.h"

namespace tao {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Value;

// One step of a path protobuf reports, "alpn[0]" -> {"alpn", 0}.
struct Step {
  std::string name;
  int index = -1;  // -1: not an element of a list
};

std::vector<Step> SplitPath(absl::string_view path) {
  std::vector<Step> steps;
  for (absl::string_view part : absl::StrSplit(path, '.', absl::SkipEmpty())) {
    Step step;
    const size_t bracket = part.find('[');
    step.name = std::string(part.substr(0, bracket));
    if (bracket != absl::string_view::npos &&
        !absl::SimpleAtoi(part.substr(bracket + 1, part.size() - bracket - 2),
                          &step.index)) {
      step.index = -1;
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

// The field `step` names in `message`: by its .proto name or its JSON name.
const FieldDescriptor* FindField(const Descriptor* message,
                                 const std::string& name) {
  if (message == nullptr) return nullptr;
  const FieldDescriptor* field = message->FindFieldByName(name);
  return field != nullptr ? field : message->FindFieldByCamelcaseName(name);
}

// The member `key` of a JSON object, or nullptr. Through reflection: the
// map's inline code, compiled into this file, crashed under ThreadSanitizer
// against Debian's (uninstrumented) libprotobuf.
const Value* Member(const Value& object, const std::string& key) {
  const google::protobuf::Struct& fields = object.struct_value();
  const google::protobuf::Reflection* reflection = fields.GetReflection();
  const FieldDescriptor* map =
      fields.GetDescriptor()->FindFieldByName("fields");
  for (int i = 0; i < reflection->FieldSize(fields, map); ++i) {
    const google::protobuf::Message& entry =
        reflection->GetRepeatedMessage(fields, map, i);
    const Descriptor* type = entry.GetDescriptor();
    if (entry.GetReflection()->GetString(entry, type->map_key()) == key) {
      return dynamic_cast<const Value*>(
          &entry.GetReflection()->GetMessage(entry, type->map_value()));
    }
  }
  return nullptr;
}

// The JSON value at `steps` (as written: either spelling of each name), or
// nullptr.
const Value* FindValue(const Value& root, const Descriptor* type,
                       const std::vector<Step>& steps) {
  const Value* value = &root;
  for (const Step& step : steps) {
    if (!value->has_struct_value()) return nullptr;
    const FieldDescriptor* field = FindField(type, step.name);
    const Value* member = Member(*value, step.name);
    if (member == nullptr && field != nullptr) {
      member = Member(*value, field->json_name());
      if (member == nullptr) member = Member(*value, field->name());
    }
    if (member == nullptr) return nullptr;
    value = member;
    if (step.index >= 0) {
      if (!value->has_list_value() ||
          step.index >= value->list_value().values_size()) {
        return nullptr;
      }
      value = &value->list_value().values(step.index);
    }
    type = field != nullptr ? field->message_type() : nullptr;
  }
  return value;
}

std::string ToJson(const Value& value) {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
    return "?";
  }
  return json;
}

// What a field's value must be, for "... is not <this>".
std::string Expected(const FieldDescriptor* field) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_BOOL:
      return "a bool (true or false)";
    case FieldDescriptor::TYPE_INT32:
      return "an int32";
    case FieldDescriptor::TYPE_INT64:
      return "an int64";
    case FieldDescriptor::TYPE_DOUBLE:
      return "a number";
    case FieldDescriptor::TYPE_STRING:
      return "a string";
    case FieldDescriptor::TYPE_BYTES:
      return "base64 text";
    case FieldDescriptor::TYPE_ENUM:
      return absl::StrCat("one of ",
                          config_internal::EnumChoices(field->enum_type()));
    default:
      break;
  }
  if (field->message_type()->full_name() == "google.protobuf.Duration") {
    return "a duration such as \"5s\" or \"0.250s\"";
  }
  return "an object";
}

// Protobuf's "(a.b) name: Cannot find field." or "name: Cannot find field."
// as "root.a.b.name is not a field of T".
std::string UnknownField(absl::string_view root, const Descriptor* type,
                         absl::string_view path, absl::string_view name) {
  for (const Step& step : SplitPath(path)) {
    const FieldDescriptor* field = FindField(type, step.name);
    type = field != nullptr ? field->message_type() : nullptr;
  }
  return absl::StrCat(root, ".", path, path.empty() ? "" : ".", name,
                      " is not a field of ",
                      type != nullptr ? type->full_name() : "its parent");
}

// Protobuf's "(a.b): invalid value ..." as "root.a.b (VALUE) is not T".
std::string InvalidValue(absl::string_view root, const Descriptor* type,
                         const Value& json, absl::string_view path) {
  const std::vector<Step> steps = SplitPath(path);
  const Value* value = FindValue(json, type, steps);
  const FieldDescriptor* field = nullptr;
  for (const Step& step : steps) {
    field = FindField(type, step.name);
    if (field == nullptr) break;
    type = field->message_type();
  }
  std::string text = absl::StrCat(root, ".", path, " (",
                                  value != nullptr ? ToJson(*value) : "?", ")");
  if (field == nullptr) return absl::StrCat(text, " is invalid");
  return absl::StrCat(text, " is not ", Expected(field));
}

// Protobuf's error for `json` in the terms of this file's header.
std::string Describe(absl::string_view root, const Descriptor* type,
                     const Value& json, absl::string_view error) {
  constexpr absl::string_view kUnknown = ": Cannot find field.";
  constexpr absl::string_view kInvalid = "): invalid value ";
  if (absl::EndsWith(error, kUnknown)) {
    absl::string_view rest = error.substr(0, error.size() - kUnknown.size());
    absl::string_view path;
    if (absl::ConsumePrefix(&rest, "(")) {
      const size_t close = rest.find(") ");
      if (close != absl::string_view::npos) {
        path = rest.substr(0, close);
        rest.remove_prefix(close + 2);
      }
    }
    return UnknownField(root, type, path, rest);
  }
  if (absl::StartsWith(error, "(")) {
    const size_t end = error.find(kInvalid);
    if (end != absl::string_view::npos) {
      return InvalidValue(root, type, json, error.substr(1, end - 1));
    }
  }
  return absl::StrCat(root, ": ", error);
}

// The first line of a parser message, without the excerpt it quotes.
absl::string_view FirstLine(absl::string_view message) {
  return absl::StripAsciiWhitespace(message.substr(0, message.find('\n')));
}

}  // namespace

absl::Status ParseConfigJson(absl::string_view json, absl::string_view root,
                             google::protobuf::Message* config) {
  Value value;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        root, ": not JSON (",
        FirstLine({parsed.message().data(), parsed.message().size()}), ")"));
  }
  if (!value.has_struct_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(root, " (", ToJson(value), ") is not a JSON object"));
  }
  config->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(Describe(
        root, config->GetDescriptor(), value,
        FirstLine({status.message().data(), status.message().size()})));
  }
  return absl::OkStatus();
}

}  // namespace tao
