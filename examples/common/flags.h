// Flag parsing shared by the examples: absl flags, plus a clear usage error
// (and exit status 2) for values that parse but make no sense.
#ifndef EXAMPLES_COMMON_FLAGS_H_
#define EXAMPLES_COMMON_FLAGS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tao::examples {

// Sets the usage text and parses argv; exits with a usage error for unknown
// flags or stray positional arguments.
void ParseFlags(int argc, char** argv, absl::string_view usage);

// Exits with status 2 after printing the message, the usage and a hint.
[[noreturn]] void UsageError(absl::string_view message);

// Exits with a usage error unless `address` parses as a tao address.
void CheckAddressFlag(absl::string_view flag, const std::string& address);

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_FLAGS_H_
