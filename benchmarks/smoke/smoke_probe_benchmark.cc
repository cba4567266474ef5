// A benchmark whose outcome the test chooses (SMOKE_PROBE=error makes it
// report an error), so smoke_test_test can show that the smoke test of a
// benchmark fails when it should.
#include <cstdlib>
#include <cstring>

#include "benchmark/benchmark.h"

namespace {

void BM_Probe(benchmark::State& state) {
  const char* mode = std::getenv("SMOKE_PROBE");
  if (mode != nullptr && std::strcmp(mode, "error") == 0) {
    state.SkipWithError("probe asked to fail");
    return;
  }
  int x = 0;
  for (auto _ : state) benchmark::DoNotOptimize(++x);
}
BENCHMARK(BM_Probe);

}  // namespace
