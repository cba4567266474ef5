// ProxyHeaderReader: reads the PROXY protocol header (proxy_protocol.h) at
// the start of one accepted socket on one I/O loop, without blocking and
// without consuming a byte after the header, then hands the socket on.
// TcpServer runs one per connection from a trusted load balancer, before the
// connection (TLS, limits, handler) exists.
//
//   auto reader = std::make_shared<ProxyHeaderReader>(loop, std::move(socket),
//       absl::Seconds(3), [](ProxyHeaderReader* r,
//                            absl::StatusOr<ProxyHeader> header, Socket s) {
//         ...  // on `loop`; `s` is positioned at the first byte after it
//       });
//   loop->RunInLoop([reader] { reader->Start(); });
//
// How it reads: recv(MSG_PEEK) of what is there, parsed with what came
// before; while the header is incomplete every byte seen belongs to it (the
// parser's invariant), so they are consumed (level-triggered epoll would
// otherwise wake again at once); once it is complete exactly its remaining
// bytes are consumed and the rest stays in the kernel for the connection.
//
// `done` runs exactly once, on the loop: with the header; or with the error
// and the socket (to be closed): INVALID_ARGUMENT for a malformed or
// oversize header, DEADLINE_EXCEEDED when no complete header came within
// `timeout` (one that trickles in slowly, or none), UNAVAILABLE when the
// peer closed first, the errno's status for an I/O error, or whatever
// Cancel() was given. After `done` the reader does nothing more; `done` may
// drop the last reference to it.
//
// Thread safety: construct anywhere; Start, Cancel and destruction of a
// started reader on the loop's thread. Hold it by shared_ptr: its channel
// and timer keep it alive while they run.
#ifndef TAO_NET_PROXY_HEADER_READER_H_
#define TAO_NET_PROXY_HEADER_READER_H_

#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tao/net/channel.h"
#include "tao/net/proxy_protocol.h"
#include "tao/net/socket.h"
#include "tao/timer/timer_queue.h"

namespace tao {

class EventLoop;

class ProxyHeaderReader final
    : public std::enable_shared_from_this<ProxyHeaderReader>,
      private Channel::Handler {
 public:
  // The reader (e.g. a key of its owner's), the header, the socket.
  using DoneCallback = absl::AnyInvocable<void(
      ProxyHeaderReader*, absl::StatusOr<ProxyHeader>, Socket)>;

  ProxyHeaderReader(EventLoop* loop, Socket socket, absl::Duration timeout,
                    DoneCallback done);
  ~ProxyHeaderReader();
  ProxyHeaderReader(const ProxyHeaderReader&) = delete;
  ProxyHeaderReader& operator=(const ProxyHeaderReader&) = delete;

  // Arms the timeout and starts reading. Once.
  void Start();
  // Ends it now with `why` (no-op once done).
  void Cancel(absl::Status why);

  EventLoop* loop() const { return loop_; }

 private:
  // Channel::Handler
  void OnReadable() override;
  void OnHangUp() override;
  void OnError() override;

  void Finish(absl::StatusOr<ProxyHeader> result);

  EventLoop* const loop_;
  Socket socket_;
  Channel channel_;
  const absl::Duration timeout_;
  DoneCallback done_;
  TimerId timer_{};
  bool started_ = false;
  bool finished_ = false;
  std::string received_;  // consumed bytes of the incomplete header
};

}  // namespace tao

#endif  // TAO_NET_PROXY_HEADER_READER_H_
