// A tiny blocking HTTP/1.1 GET for the demos (to show a server's /metrics
// as a scraper sees it); not a general client: no TLS, no redirects, no
// chunked bodies (tao's metrics endpoint sends Content-Length and closes).
#ifndef EXAMPLES_COMMON_HTTP_GET_H_
#define EXAMPLES_COMMON_HTTP_GET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/net/inet_address.h"

namespace tao::examples {

// The body of GET `path` from `address` (IPv4 or IPv6); UNAVAILABLE when it
// cannot connect, DEADLINE_EXCEEDED after `timeout`, INTERNAL for a status
// other than 200.
absl::StatusOr<std::string> HttpGet(const InetAddress& address,
                                    absl::string_view path,
                                    absl::Duration timeout = absl::Seconds(5));

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_HTTP_GET_H_
