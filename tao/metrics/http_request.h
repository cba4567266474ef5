// The one thing tao's metrics endpoint reads from HTTP: a request's head
// (request line and header lines, up to the blank line), parsed strictly.
// Bodies are never read: the endpoint answers every request with
// "Connection: close".
//
// Thread safety: none needed (pure functions).
#ifndef TAO_METRICS_HTTP_REQUEST_H_
#define TAO_METRICS_HTTP_REQUEST_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao {

struct HttpRequestHead {
  std::string method;  // "GET"
  std::string path;    // "/metrics" (the target without its query)
  size_t size = 0;     // bytes of the head, blank line included
};

// The head at the start of `input`: nullopt while it is incomplete;
// INVALID_ARGUMENT naming what is wrong for a malformed request line
// (not "METHOD SP /target SP HTTP/1.0|1.1"), a header line without a colon,
// or a control character.
absl::StatusOr<std::optional<HttpRequestHead>> ParseHttpRequestHead(
    absl::string_view input);

}  // namespace tao

#endif  // TAO_METRICS_HTTP_REQUEST_H_
