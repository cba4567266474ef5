// Builds against Google Benchmark and Abseil; the smoke test runs it briefly.
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"

namespace {

// Measures absl::StrCat of two short pieces (a compile-and-link check).
void BM_Toolchain_StrCat(benchmark::State& state) {
  const std::string a = "tao";
  for (auto _ : state) {
    std::string joined = absl::StrCat(a, state.iterations());
    benchmark::DoNotOptimize(joined);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Toolchain_StrCat);

}  // namespace
