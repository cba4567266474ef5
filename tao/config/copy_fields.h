// Field copies between a config message (config.proto) and an options
// struct, one line per field, for convert.cc and tao/message/config.cc.
// Each expects `c` (the message) and `o` (the struct) in scope:
//
//   void FromConfig(const config::HeartbeatConfig& c, HeartbeatOptions& o) {
//     TAO_CONFIG_FROM_DURATION(interval);   // if set: o.interval = ...
//   }
//
// FROM copies a field the message sets (the others keep the struct's
// value); TO sets it. FROM / TO convert with unqualified ToOptions /
// ToProto, which the including file defines for its enums; sizes and
// durations use values.h.
//
// Macros only; no state.
#ifndef TAO_CONFIG_COPY_FIELDS_H_
#define TAO_CONFIG_COPY_FIELDS_H_

#include "tao/config/values.h"

#define TAO_CONFIG_FROM(field) \
  if (c.has_##field()) o.field = ToOptions(c.field())
#define TAO_CONFIG_FROM_SAME(field) \
  if (c.has_##field()) o.field = c.field()
#define TAO_CONFIG_FROM_SIZE(field) \
  if (c.has_##field()) o.field = ::tao::config_internal::ToSize(c.field())
#define TAO_CONFIG_FROM_DURATION(field) \
  if (c.has_##field()) o.field = ::tao::config_internal::ToAbsl(c.field())
#define TAO_CONFIG_TO(field) c.set_##field(ToProto(o.field))
#define TAO_CONFIG_TO_SAME(field) c.set_##field(o.field)
#define TAO_CONFIG_TO_SIZE(field) \
  c.set_##field(::tao::config_internal::ToProtoSize(o.field))
#define TAO_CONFIG_TO_DURATION(field) \
  *c.mutable_##field() = ::tao::config_internal::ToProto(o.field)

#endif  // TAO_CONFIG_COPY_FIELDS_H_
