#include "tao/base/status_macros.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

absl::Status Check(bool ok, int* calls) {
  ++*calls;
  return ok ? absl::OkStatus() : absl::InvalidArgumentError("bad");
}

absl::Status TwoChecks(bool first, bool second, int* calls) {
  TAO_RETURN_IF_ERROR(Check(first, calls));
  TAO_RETURN_IF_ERROR(Check(second, calls));
  return absl::OkStatus();
}

TEST(StatusMacrosTest, ReturnIfErrorPassesOk) {
  int calls = 0;
  EXPECT_TRUE(TwoChecks(true, true, &calls).ok());
  EXPECT_EQ(calls, 2);
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsFirstError) {
  int calls = 0;
  absl::Status s = TwoChecks(false, true, &calls);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_EQ(s.message(), "bad");
  EXPECT_EQ(calls, 1) << "stops at the first error; evaluates once";
}

absl::StatusOr<int> ReturnIfErrorInStatusOrFunction(bool ok) {
  int calls = 0;
  TAO_RETURN_IF_ERROR(Check(ok, &calls));
  return 7;
}

TEST(StatusMacrosTest, ReturnIfErrorWorksInStatusOrFunction) {
  EXPECT_EQ(*ReturnIfErrorInStatusOrFunction(true), 7);
  EXPECT_TRUE(
      absl::IsInvalidArgument(ReturnIfErrorInStatusOrFunction(false).status()));
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int v) {
  if (v < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(v);
}

absl::StatusOr<int> SumDeclared(int a, int b) {
  TAO_ASSIGN_OR_RETURN(std::unique_ptr<int> x, MakeInt(a));  // move-only
  TAO_ASSIGN_OR_RETURN(auto y, MakeInt(b));
  return *x + *y;
}

TEST(StatusMacrosTest, AssignOrReturnDeclaresVariables) {
  EXPECT_EQ(*SumDeclared(2, 3), 5);
  absl::StatusOr<int> s = SumDeclared(2, -1);
  EXPECT_TRUE(absl::IsOutOfRange(s.status())) << s.status();
  EXPECT_EQ(s.status().message(), "negative");
}

absl::Status AssignExisting(int v, std::string* out) {
  std::unique_ptr<int> p;
  TAO_ASSIGN_OR_RETURN(p, MakeInt(v));
  *out = std::to_string(*p);
  return absl::OkStatus();
}

TEST(StatusMacrosTest, AssignOrReturnAssignsExistingVariable) {
  std::string out = "untouched";
  EXPECT_TRUE(AssignExisting(9, &out).ok());
  EXPECT_EQ(out, "9");
  out = "untouched";
  EXPECT_TRUE(absl::IsOutOfRange(AssignExisting(-9, &out)));
  EXPECT_EQ(out, "untouched");
}

template <typename A, typename B>
absl::StatusOr<std::pair<A, B>> MakePair(A a, B b) {
  return std::make_pair(a, b);
}

absl::StatusOr<int> TwoOnOneLineAndCommaInExpr() {
  // clang-format off
  TAO_ASSIGN_OR_RETURN(auto p, MakePair<int, int>(1, 2)); TAO_ASSIGN_OR_RETURN(auto q, MakePair<int, int>(3, 4));
  // clang-format on
  return p.first + p.second + q.first + q.second;
}

TEST(StatusMacrosTest, AssignOrReturnHandlesCommasAndRepeatedUse) {
  EXPECT_EQ(*TwoOnOneLineAndCommaInExpr(), 10);
}

}  // namespace
}  // namespace tao
