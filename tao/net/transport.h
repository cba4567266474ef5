// Transport: the byte stream under a Connection. Plain TCP (and Unix-domain
// sockets) now; TLS plugs in behind the same interface without touching the
// loop or the connection's state machine.
//
// Thread safety: a transport belongs to its connection's loop thread; every
// method is called there.
#ifndef TAO_NET_TRANSPORT_H_
#define TAO_NET_TRANSPORT_H_

#include <sys/uio.h>

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tao/net/buffer.h"
#include "tao/net/socket.h"

namespace tao {

class Transport {
 public:
  struct ReadResult {
    size_t bytes = 0;  // appended to the buffer (may be 0: would block)
    bool eof = false;  // the peer finished sending (orderly)
  };

  virtual ~Transport() = default;

  // The descriptor the loop polls.
  virtual int fd() const = 0;

  // Reads what is available into `in` (one read for plain TCP). A peer
  // reset or a protocol failure is an error status.
  virtual absl::StatusOr<ReadResult> Read(Buffer& in) = 0;

  // Writes a prefix of `data` without blocking; returns the bytes taken
  // (0 when the socket is full).
  virtual absl::StatusOr<size_t> Write(absl::Span<const struct iovec> data) = 0;

  // Half-closes the sending side once all output has been written.
  virtual absl::Status ShutdownWrite() = 0;

  // True while the transport needs writability for its own records (a TLS
  // handshake); plain TCP never does.
  virtual bool WantsWrite() const { return false; }

  // Closes the descriptor. Idempotent; the loop has stopped polling it.
  virtual void Close() = 0;

  virtual Socket& socket() = 0;
};

// Transport over a connected non-blocking stream socket.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(Socket socket) : socket_(std::move(socket)) {}

  int fd() const override { return socket_.fd(); }
  absl::StatusOr<ReadResult> Read(Buffer& in) override;
  absl::StatusOr<size_t> Write(absl::Span<const struct iovec> data) override;
  absl::Status ShutdownWrite() override { return socket_.ShutdownWrite(); }
  void Close() override { socket_.Close(); }
  Socket& socket() override { return socket_; }

 private:
  Socket socket_;
};

}  // namespace tao

#endif  // TAO_NET_TRANSPORT_H_
