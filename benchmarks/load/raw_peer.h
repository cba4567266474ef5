// Raw TCP peers for the soak benchmark (hostile clients and the control
// connection): a blocking connect with a deadline, TLV frames built by
// hand (Go tao's wire format: int32 LE type, uint32 LE length, payload),
// abrupt closes, and a bounded wait that tells how the server reacted to
// what a peer did (closed, reset, sent bytes, or nothing). No tao inside:
// these peers must not share the code they attack.
//
// Thread safety: free functions on caller-owned file descriptors.
#ifndef BENCHMARKS_LOAD_RAW_PEER_H_
#define BENCHMARKS_LOAD_RAW_PEER_H_

#include <netinet/in.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tao::bench {

// A connected, blocking TCP socket (TCP_NODELAY, CLOEXEC) to `addr`, or an
// error after `timeout_s` seconds.
absl::StatusOr<int> ConnectTcp(const sockaddr_in& addr, double timeout_s);

// An 8-byte TLV header: `type`, then `length`, both little-endian.
std::string TlvHeader(int32_t type, uint32_t length);
// A whole TLV frame.
std::string TlvFrame(int32_t type, absl::string_view payload);

// Sends all of `data` (blocking; MSG_NOSIGNAL). 0 or the errno.
int SendAll(int fd, absl::string_view data);

// Closes `fd` with SO_LINGER 0: the kernel sends RST instead of FIN and
// drops whatever was not sent yet.
void CloseWithReset(int fd);

// How the server answered, as seen by a peer waiting on its socket.
enum class Reaction {
  kClosed,  // orderly close (EOF)
  kReset,   // ECONNRESET (or another socket error)
  kOpen,    // still open when the wait ended
};
const char* ReactionName(Reaction r);

// Reads from `fd` until the server closes it, resets it, or `timeout_s`
// passes, or (when `want` > 0) `want` bytes have arrived. Bytes received are
// appended to `*received` (if not null).
Reaction AwaitServer(int fd, double timeout_s, std::string* received,
                     size_t want = 0);

}  // namespace tao::bench

#endif  // BENCHMARKS_LOAD_RAW_PEER_H_
