// Early-return helpers for absl::Status / absl::StatusOr, the equivalent of
// ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN (not in Abseil 20220623).
//
//   absl::StatusOr<Socket> Listen(const InetAddress& addr) {
//     TAO_ASSIGN_OR_RETURN(Socket socket, Socket::Create(addr.family()));
//     TAO_RETURN_IF_ERROR(socket.Bind(addr));
//     TAO_RETURN_IF_ERROR(socket.Listen());
//     return socket;
//   }
//
// The enclosing function must return absl::Status or absl::StatusOr<U>.

#ifndef TAO_BASE_STATUS_MACROS_H_
#define TAO_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) once; returns it if it is not OK.
#define TAO_RETURN_IF_ERROR(expr)                             \
  do {                                                        \
    ::absl::Status tao_status_macros_status = (expr);         \
    if (ABSL_PREDICT_FALSE(!tao_status_macros_status.ok())) { \
      return tao_status_macros_status;                        \
    }                                                         \
  } while (false)

// Evaluates `expr` (an absl::StatusOr<T>) once; returns its status if it is not
// OK, else moves its value into `lhs`. `lhs` may declare a variable
// (`auto x`, `const Foo& f`, `std::unique_ptr<T> p`) or name an existing one.
// Expands to several statements: do not use it as the body of an unbraced
// if/else. A type with a top-level comma in `lhs` needs parentheses or an
// alias; commas in `expr` are fine.
#define TAO_ASSIGN_OR_RETURN(lhs, ...)                                         \
  TAO_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL(                                     \
      TAO_STATUS_MACROS_CONCAT(tao_status_macros_statusor_, __COUNTER__), lhs, \
      __VA_ARGS__)

#define TAO_STATUS_MACROS_ASSIGN_OR_RETURN_IMPL(statusor, lhs, ...) \
  auto statusor = (__VA_ARGS__);                                    \
  if (ABSL_PREDICT_FALSE(!statusor.ok())) {                         \
    return std::move(statusor).status();                            \
  }                                                                 \
  lhs = *std::move(statusor)

#define TAO_STATUS_MACROS_CONCAT_INNER(x, y) x##y
#define TAO_STATUS_MACROS_CONCAT(x, y) TAO_STATUS_MACROS_CONCAT_INNER(x, y)

#endif  // TAO_BASE_STATUS_MACROS_H_
