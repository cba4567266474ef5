// main() for a fuzz target outside libFuzzer: runs each file named on the
// command line (a seed corpus, or a crasher to reproduce) through
// LLVMFuzzerTestOneInput once, so a fuzzer's corpus is an ordinary test
// under any toolchain and sanitizer. A directory argument means every file
// in it. Fails when an argument cannot be read or names no file at all; a
// bug shows as the fuzzer's own abort or a sanitizer report.
//
//   bazel-bin/codec/fuzz/tlv_codec_fuzzer crash-1234   # replay one input
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv)
    __attribute__((weak));

namespace {

bool Replay(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz_replay: cannot read %s\n", path.c_str());
    return false;
  }
  const std::string data((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  // A copy of exactly `size` bytes, so ASan sees reads past the input.
  const std::vector<uint8_t> bytes(data.begin(), data.end());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  size_t replayed = 0;
  bool ok = true;
  for (int i = 1; i < argc; ++i) {
    std::vector<std::filesystem::path> files;
    std::error_code error;
    if (std::filesystem::is_directory(argv[i], error)) {
      for (const auto& entry :
           std::filesystem::directory_iterator(argv[i], error)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.emplace_back(argv[i]);
    }
    for (const auto& file : files) {
      ok = Replay(file) && ok;
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "usage: %s <input file or directory>...\n", argv[0]);
    return 1;
  }
  std::printf("fuzz_replay: %zu input(s) %s\n", replayed,
              ok ? "ran" : "ran, some unreadable");
  return ok ? 0 : 1;
}
