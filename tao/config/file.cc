#include "tao/config/file.h"

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace tao {

absl::StatusOr<std::string> ReadConfigFile(const std::string& path) {
  constexpr size_t kMaxBytes = size_t{1} << 20;
  const auto failed = [&path](int error) {
    return absl::ErrnoToStatus(error,
                               absl::StrCat("cannot read config file ", path));
  };
  std::FILE* file = std::fopen(path.c_str(), "rbe");
  if (file == nullptr) return failed(errno);
  std::string text(kMaxBytes + 1, '\0');
  const size_t n = std::fread(text.data(), 1, text.size(), file);
  const int error = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (error != 0) return failed(error);
  if (n > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than 1 MiB; not a config file?"));
  }
  text.resize(n);
  return text;
}

absl::Status InConfigFile(const std::string& path, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(path, ": ", status.message()));
}

}  // namespace tao
