// PingPongClient: sends `count` pings, one at a time (each after the
// previous pong), and reports the round-trip times.
#ifndef EXAMPLES_PINGPONG_PINGPONG_CLIENT_H_
#define EXAMPLES_PINGPONG_PINGPONG_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tao/message/options.h"

namespace pingpong {

struct PingPongResult {
  int pongs = 0;
  absl::Duration total;
  absl::Duration p50;
  absl::Duration p99;
  absl::Duration max;
};

// `options`: the client's (a client's default runs handlers inline on its
// I/O loop: the lowest latency).
absl::StatusOr<PingPongResult> RunPingPong(
    const std::string& address, int count, absl::Duration timeout,
    const tao::ClientOptions& options = tao::ClientOptions());

}  // namespace pingpong

#endif  // EXAMPLES_PINGPONG_PINGPONG_CLIENT_H_
