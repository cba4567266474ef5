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
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

  // Drives the transport's own handshake, if it has one (TLS). Returns true
  // once the connection can carry data; plain TCP is ready at once. While
  // false, the connection calls again when the fd is readable, or writable
  // while WantsWrite(). An error ends the connection.
  virtual absl::StatusOr<bool> Handshake() { return true; }

  // Reads what is available into `in` (one read for plain TCP), at most a
  // bounded amount per call so one connection cannot hold its loop. Input
  // left inside the transport must show as HasBufferedInput(): the
  // connection then calls again on a later loop turn (after the loop's
  // other ready channels), since the fd's readiness does not announce it.
  // A peer reset or a protocol failure is an error status.
  virtual absl::StatusOr<ReadResult> Read(Buffer& in) = 0;

  // Writes a prefix of `data` without blocking; returns the bytes taken
  // (0 when the socket is full).
  virtual absl::StatusOr<size_t> Write(absl::Span<const struct iovec> data) = 0;

  // Half-closes the sending side once all output has been written.
  virtual absl::Status ShutdownWrite() = 0;

  // True while the transport needs writability for its own records (a TLS
  // handshake); plain TCP never does.
  virtual bool WantsWrite() const { return false; }

  // True when Read would deliver bytes the transport already holds (e.g.
  // application data that arrived with the last handshake flight), which
  // the fd's readiness would not announce.
  virtual bool HasBufferedInput() const { return false; }

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

// The handshakes a TransportFactory's transports made, for metrics.
struct HandshakeStats {
  uint64_t completed = 0;  // full and resumed
  uint64_t resumed = 0;
  uint64_t failed = 0;  // failed, timed out, refused
};

// Makes the transport for each new connection of a server or client that
// does not use plain TCP (see ServerOptions::tls; TlsContext implements it).
// Thread safety: Wrap may be called from any I/O loop concurrently.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  // `server_name` is the host the client dialled (for SNI and certificate
  // verification); empty on the server side.
  virtual absl::StatusOr<std::unique_ptr<Transport>> Wrap(
      Socket socket, absl::string_view server_name) const = 0;
  // Counts of its transports' handshakes; nullopt when they have none.
  // Any thread.
  virtual std::optional<HandshakeStats> handshake_stats() const {
    return std::nullopt;
  }
};

// `factory->Wrap(...)`, or a TcpTransport when `factory` is null.
absl::StatusOr<std::unique_ptr<Transport>> MakeTransport(
    const TransportFactory* factory, Socket socket,
    absl::string_view server_name);

}  // namespace tao

#endif  // TAO_NET_TRANSPORT_H_
