#include "examples/common/flags.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "tao/net/inet_address.h"

namespace tao::examples {

void ParseFlags(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  if (rest.size() > 1) {
    UsageError(absl::StrCat("unexpected argument \"", rest[1], "\""));
  }
}

void UsageError(absl::string_view message) {
  std::fprintf(stderr, "error: %.*s\n%s\nTry --help for the flags.\n",
               static_cast<int>(message.size()), message.data(),
               std::string(absl::ProgramUsageMessage()).c_str());
  std::exit(2);
}

void CheckAddressFlag(absl::string_view flag, const std::string& address) {
  absl::StatusOr<InetAddress> parsed = InetAddress::Parse(address);
  if (!parsed.ok()) {
    UsageError(absl::StrCat("--", flag, ": ", parsed.status().message()));
  }
}

}  // namespace tao::examples
