#include "tao/metrics/http_request.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tao {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(c) !=
             absl::string_view::npos;
}

// A tab is field whitespace in a header line, but a control character in
// the request line.
bool HasControl(absl::string_view s, bool tab_ok = true) {
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && (c != '\t' || !tab_ok)) || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::optional<HttpRequestHead>> ParseHttpRequestHead(
    absl::string_view input) {
  const size_t end = input.find("\r\n\r\n");
  if (end == absl::string_view::npos) return std::nullopt;
  const absl::string_view head = input.substr(0, end);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");

  const std::vector<absl::string_view> parts = absl::StrSplit(lines[0], ' ');
  if (parts.size() != 3 || parts[0].empty() ||
      !std::all_of(parts[0].begin(), parts[0].end(), IsTokenChar) ||
      parts[1].empty() || parts[1][0] != '/' ||
      HasControl(parts[1], /*tab_ok=*/false) ||
      (parts[2] != "HTTP/1.1" && parts[2] != "HTTP/1.0")) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed HTTP request line (",
                     HasControl(lines[0], /*tab_ok=*/false)
                         ? "with control characters"
                         : absl::StrCat("\"", lines[0].substr(0, 80), "\""),
                     ")"));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == 0 || colon == absl::string_view::npos || HasControl(line) ||
        !std::all_of(line.begin(), line.begin() + colon, IsTokenChar)) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed HTTP header line ", i));
    }
  }
  HttpRequestHead request;
  request.method = std::string(parts[0]);
  request.path = std::string(parts[1].substr(0, parts[1].find('?')));
  request.size = end + 4;
  return request;
}

}  // namespace tao
