// Unit tests for tao::ParseHttpRequestHead: complete and incomplete heads,
// the path without its query, the size of the head, and every kind of
// malformed request line or header line it must reject.
#include "tao/metrics/http_request.h"

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tao {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The parsed head of `input`, failing the test unless it is complete and
// valid.
HttpRequestHead MustParse(absl::string_view input) {
  absl::StatusOr<std::optional<HttpRequestHead>> head =
      ParseHttpRequestHead(input);
  EXPECT_TRUE(head.ok()) << head.status() << " for: " << input;
  if (!head.ok()) return {};
  EXPECT_TRUE(head->has_value()) << "incomplete: " << input;
  return head->value_or(HttpRequestHead());
}

absl::Status ErrorOf(absl::string_view input) {
  absl::StatusOr<std::optional<HttpRequestHead>> head =
      ParseHttpRequestHead(input);
  if (head.ok()) {
    return absl::OkStatus();
  }
  return head.status();
}

TEST(HttpRequestTest, CompleteHead) {
  const std::string input =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9090\r\nAccept: */*\r\n\r\n";
  const HttpRequestHead head = MustParse(input);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.path, "/metrics");
  EXPECT_EQ(head.size, input.size());
}

TEST(HttpRequestTest, NoHeadersAndHttp10) {
  const HttpRequestHead head = MustParse("HEAD /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(head.method, "HEAD");
  EXPECT_EQ(head.path, "/healthz");
  EXPECT_EQ(head.size, 26u);
}

// The size covers the request line, the headers and the blank line, not
// what follows (a body, or a pipelined request).
TEST(HttpRequestTest, SizeCoversHeadOnly) {
  const std::string head =
      "POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\n";
  EXPECT_EQ(MustParse(head + "BODY").size, head.size());
  const std::string first = "GET /a HTTP/1.1\r\n\r\n";
  const HttpRequestHead parsed =
      MustParse(first + "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(parsed.path, "/a");
  EXPECT_EQ(parsed.size, first.size());
}

TEST(HttpRequestTest, IncompleteIsNullopt) {
  for (const char* input :
       {"", "G", "GET /metrics HTTP/1.1", "GET /metrics HTTP/1.1\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\n\r",
        // Bare LFs never end a head.
        "GET /metrics HTTP/1.1\n\n",
        // Even a malformed start is only judged once the head is complete.
        "garbage"}) {
    absl::StatusOr<std::optional<HttpRequestHead>> head =
        ParseHttpRequestHead(input);
    ASSERT_TRUE(head.ok()) << head.status() << " for: " << input;
    EXPECT_FALSE(head->has_value()) << input;
  }
}

TEST(HttpRequestTest, QueryIsStrippedFromPath) {
  EXPECT_EQ(MustParse("GET /metrics?name[]=x&a=b HTTP/1.1\r\n\r\n").path,
            "/metrics");
  EXPECT_EQ(MustParse("GET /?x HTTP/1.1\r\n\r\n").path, "/");
  EXPECT_EQ(MustParse("GET /metrics? HTTP/1.1\r\n\r\n").path, "/metrics");
  EXPECT_EQ(MustParse("GET /a/b%20c HTTP/1.1\r\n\r\n").path, "/a/b%20c");
}

// The method is any token (RFC 9110): case is the router's business.
TEST(HttpRequestTest, MethodIsAnyToken) {
  EXPECT_EQ(MustParse("get /metrics HTTP/1.1\r\n\r\n").method, "get");
  EXPECT_EQ(MustParse("M-SEARCH / HTTP/1.1\r\n\r\n").method, "M-SEARCH");
  EXPECT_EQ(MustParse("X!#$%&'*+.^_`|~9 / HTTP/1.1\r\n\r\n").method,
            "X!#$%&'*+.^_`|~9");
}

TEST(HttpRequestTest, RejectsMalformedRequestLine) {
  for (const char* line : {
           "",                               // no request line
           "garbage",                        // one word
           "GET /metrics",                   // missing version
           "GET",                            //
           "/metrics HTTP/1.1",              // missing method
           "GET /metrics HTTP/2.0",          // other versions
           "GET /metrics HTTP/1.2",          //
           "GET /metrics HTTP/0.9",          //
           "GET /metrics http/1.1",          // the version is case-sensitive
           "GET /metrics HTTP/1.1 ",         // trailing space
           "GET  /metrics HTTP/1.1",         // two spaces
           " GET /metrics HTTP/1.1",         // leading space
           "GET /metrics  HTTP/1.1",         //
           "GET /metrics HTTP/1.1 extra",    // four parts
           "GET metrics HTTP/1.1",           // target must start with '/'
           "GET * HTTP/1.1",                 //
           "GET http://x/metrics HTTP/1.1",  // absolute form
           "GET ?x HTTP/1.1",                //
           "GE@T /metrics HTTP/1.1",         // method must be a token
           "G(T /metrics HTTP/1.1",          //
           "GE/T /metrics HTTP/1.1",         //
           "GET\t/metrics HTTP/1.1",         // tab is not a separator
       }) {
    const absl::Status s = ErrorOf(absl::StrCat(line, "\r\n\r\n"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(s.message(), HasSubstr("request line")) << line;
  }
}

TEST(HttpRequestTest, RejectsControlCharacters) {
  const std::string cases[] = {
      std::string("GET /met\x01rics HTTP/1.1\r\n\r\n"),
      std::string("GET /metrics\x7f HTTP/1.1\r\n\r\n"),
      std::string("GET /met\0rics HTTP/1.1\r\n\r\n", 26),
      std::string("GET /met\trics HTTP/1.1\r\n\r\n"),
      std::string("G\x01T /metrics HTTP/1.1\r\n\r\n"),
      std::string("GET /metrics HTTP/1.1\x01\r\n\r\n"),
      std::string("GET /metrics\rX HTTP/1.1\r\n\r\n"),
      std::string("GET /metrics HTTP/1.1\r\nHost: a\x01z\r\n\r\n"),
      std::string("GET /metrics HTTP/1.1\r\nHost: a\x7fz\r\n\r\n"),
      std::string("GET /metrics HTTP/1.1\r\nHost: a\0z\r\n\r\n", 36),
      std::string("GET /metrics HTTP/1.1\r\nHost: a\rz\r\n\r\n"),
      std::string("GET /metrics HTTP/1.1\r\nHost: a\nz\r\n\r\n"),
  };
  for (const std::string& input : cases) {
    EXPECT_EQ(ErrorOf(input).code(), absl::StatusCode::kInvalidArgument)
        << absl::CEscape(input);
  }
  // The message does not echo control characters.
  const absl::Status s = ErrorOf("GET /a\x01 HTTP/1.1\r\n\r\n");
  EXPECT_THAT(s.message(), HasSubstr("control"));
  EXPECT_THAT(s.message(), Not(HasSubstr("\x01")));
}

TEST(HttpRequestTest, RejectsMalformedHeaderLines) {
  for (const char* header : {
           "Host example.com",  // no colon
           "Host",              //
           ": value",           // empty name
           "Bad Name: x",       // name is not a token
           " Host: x",          // obsolete line folding
           "\tHost: x",         //
           "Host : x",          // space before the colon
           "Ho@st: x",          //
       }) {
    const absl::Status s = ErrorOf(absl::StrCat(
        "GET /metrics HTTP/1.1\r\nAccept: */*\r\n", header, "\r\n\r\n"));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << header;
    EXPECT_THAT(s.message(), HasSubstr("header line 2")) << header;
  }
}

TEST(HttpRequestTest, AcceptsOrdinaryHeaderValues) {
  const HttpRequestHead head = MustParse(
      "GET /metrics HTTP/1.1\r\n"
      "Host: 127.0.0.1:9090\r\n"
      "X-Empty:\r\n"
      "X-Tab:\tvalue with\ttabs \r\n"
      "X-Colons: a:b:c\r\n"
      "X-Utf8: caf\xc3\xa9\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n"
      "\r\n");
  EXPECT_EQ(head.path, "/metrics");
}

}  // namespace
}  // namespace tao
