// Unit tests for tao::TypeCounters: a count per registered type (ids below
// and above the dense range, negative ids), the catch-all's types counted
// together, exact totals from concurrent threads.
#include "tao/message/type_counters.h"

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "codec/proto/test_messages.pb.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/registry.h"

namespace tao {
namespace {

using Counts = std::vector<std::pair<int32_t, uint64_t>>;

Counts Snapshot(const TypeCounters& counters) {
  Counts counts;
  counters.ForEach([&](int32_t type, absl::string_view, uint64_t n) {
    counts.emplace_back(type, n);
  });
  return counts;
}

void Ignore(Context&, absl::string_view) {}

TEST(TypeCountersTest, CountsEachRegisteredTypeAndTheRestTogether) {
  Registry registry;
  ASSERT_TRUE(registry.Register<test::Chat>([](Context&, const test::Chat&) {})
                  .ok());  // id 1
  ASSERT_TRUE(registry.RegisterRaw(7, Ignore).ok());
  ASSERT_TRUE(registry.RegisterRaw(TypeCounters::kDenseTypes + 5, Ignore).ok());
  ASSERT_TRUE(registry.RegisterRaw(-3, Ignore).ok());
  TypeCounters counters(&registry);
  counters.Count(1);
  counters.Count(7);
  counters.Count(7);
  counters.Count(TypeCounters::kDenseTypes + 5);
  counters.Count(-3);
  counters.Count(2);                              // not registered
  counters.Count(TypeCounters::kDenseTypes + 6);  // not registered
  counters.Count(-4);                             // not registered
  EXPECT_EQ(
      Snapshot(counters),
      (Counts{{-3, 1}, {1, 1}, {7, 2}, {TypeCounters::kDenseTypes + 5, 1}}));
  EXPECT_EQ(counters.others(), 3u);
  EXPECT_EQ(counters.total(), 8u);
}

TEST(TypeCountersTest, NamesComeFromTheRegistry) {
  Registry registry;
  ASSERT_TRUE(
      registry.Register<test::Chat>([](Context&, const test::Chat&) {}).ok());
  ASSERT_TRUE(registry.RegisterRaw(9, Ignore).ok());
  TypeCounters counters(&registry);
  std::vector<std::string> names;
  counters.ForEach([&](int32_t, absl::string_view name, uint64_t) {
    names.emplace_back(name);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"tao.test.Chat", "raw"}));
}

TEST(TypeCountersTest, NoRegistryCountsEverythingAsOthers) {
  TypeCounters counters(nullptr);
  counters.Count(0);
  counters.Count(12345);
  EXPECT_TRUE(Snapshot(counters).empty());
  EXPECT_EQ(counters.others(), 2u);
  EXPECT_EQ(counters.total(), 2u);
}

TEST(TypeCountersTest, ConcurrentCountsAreExact) {
  Registry registry;
  ASSERT_TRUE(registry.RegisterRaw(3, Ignore).ok());
  TypeCounters counters(&registry);
  constexpr int kThreads = 6;
  constexpr int kEach = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) counters.Count(t % 2 == 0 ? 3 : 4);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(Snapshot(counters), (Counts{{3, kThreads / 2 * kEach}}));
  EXPECT_EQ(counters.others(), uint64_t{kThreads / 2 * kEach});
}

}  // namespace
}  // namespace tao
