// The message server the hot-path benchmarks measure: 127.0.0.1:0, one I/O
// loop, type-1 frames echoed with ReplyRaw (Go tao's echo); handlers inline
// unless `handler_threads` > 0 (then on a worker pool of that size).
#ifndef BENCHMARKS_MICRO_INLINE_ECHO_SERVER_H_
#define BENCHMARKS_MICRO_INLINE_ECHO_SERVER_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/tao.h"

namespace tao::bench {

class InlineEchoServer {
 public:
  explicit InlineEchoServer(int handler_threads = 0) {
    (void)registry_.RegisterRaw(
        1, [](Context& ctx, absl::string_view p) { (void)ctx.ReplyRaw(1, p); });
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = handler_threads;
    server_ = std::make_unique<Server>(options, &registry_);
  }
  ~InlineEchoServer() {
    server_->Stop(absl::Seconds(1));
    server_->Join();
  }

  absl::Status Start() {
    absl::Status listening = server_->Listen("127.0.0.1:0");
    return listening.ok() ? server_->Start() : listening;
  }
  Server& server() { return *server_; }

 private:
  Registry registry_;  // outlives server_
  std::unique_ptr<Server> server_;
};

}  // namespace tao::bench

#endif  // BENCHMARKS_MICRO_INLINE_ECHO_SERVER_H_
