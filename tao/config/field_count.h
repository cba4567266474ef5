// FieldCount<T>(): how many elements aggregate initialization of T takes,
// i.e. its direct base classes plus its non-static data members, computed
// by the compiler. config_drift_test.cc compares it with the number of
// members it knows how to configure, so a member added to an options struct
// without a config field fails that test.
//
// How: `T{Any{}, ..., Any{}}` with N initializers compiles exactly when
// N <= FieldCount<T>() (Any converts to any type, so each initializer takes
// one base or member: no brace elision), and FieldCount is the largest N
// that compiles. A member of array type counts once per element, which
// still changes the count. T must be an aggregate (options structs are;
// ServerOptions/ClientOptions, which have a constructor, are checked by
// size instead).
//
// Compile-time only; no state.
#ifndef TAO_CONFIG_FIELD_COUNT_H_
#define TAO_CONFIG_FIELD_COUNT_H_

#include <cstddef>
#include <type_traits>
#include <utility>

namespace tao::config_internal {

// Converts to anything (only in unevaluated contexts: never defined).
struct Any {
  template <typename T>
  operator T() const;
};

template <typename T, size_t... I>
constexpr bool InitializableWith(std::index_sequence<I...>) {
  return requires { T{(void(I), Any{})...}; };
}

template <typename T, size_t N = 0>
constexpr size_t FieldCount() {
  static_assert(std::is_aggregate_v<T>, "FieldCount needs an aggregate");
  if constexpr (!InitializableWith<T>(std::make_index_sequence<N + 1>())) {
    return N;
  } else {
    return FieldCount<T, N + 1>();
  }
}

}  // namespace tao::config_internal

#endif  // TAO_CONFIG_FIELD_COUNT_H_
