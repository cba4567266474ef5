// asio_echo: the TLV echo server written the way Asio's own examples teach
// (examples/cpp11/chat/chat_server.cpp and cpp11/echo/async_tcp_echo_server):
// a session per connection that async_reads the 8-byte header, then
// async_reads the payload, then async_writes the frame back, and starts
// over. One io_context; --threads threads run it (default 1). Standalone
// Asio from Debian's libasio-dev. TCP_NODELAY is set on every socket, as
// the other servers under test do.
//
//   asio_echo --address=127.0.0.1:0 --port_file=/tmp/port [--threads=1]
//
// Runs until SIGINT/SIGTERM.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "asio.hpp"
#include "benchmarks/load/bench_util.h"

ABSL_FLAG(std::string, address, "127.0.0.1:0", "address to listen on");
ABSL_FLAG(std::string, port_file, "",
          "write the port listened on to this file");
ABSL_FLAG(int, threads, 1, "threads running the io_context");

namespace {

using asio::ip::tcp;

constexpr size_t kHeaderLength = 8;
constexpr uint32_t kMaxPayload = 8 << 20;  // Go tao's limit

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void Start() {
    asio::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    DoReadHeader();
  }

 private:
  void DoReadHeader() {
    auto self(shared_from_this());
    frame_.resize(kHeaderLength);
    asio::async_read(socket_, asio::buffer(frame_.data(), kHeaderLength),
                     [this, self](std::error_code ec, std::size_t) {
                       if (!ec && DecodeHeader()) DoReadBody();
                     });
  }

  bool DecodeHeader() {
    std::memcpy(&body_length_, frame_.data() + 4, 4);  // little-endian host
    if (body_length_ > kMaxPayload) return false;
    frame_.resize(kHeaderLength + body_length_);
    return true;
  }

  void DoReadBody() {
    auto self(shared_from_this());
    asio::async_read(socket_,
                     asio::buffer(frame_.data() + kHeaderLength, body_length_),
                     [this, self](std::error_code ec, std::size_t) {
                       if (!ec) DoWrite();
                     });
  }

  void DoWrite() {
    auto self(shared_from_this());
    asio::async_write(socket_, asio::buffer(frame_),
                      [this, self](std::error_code ec, std::size_t) {
                        if (!ec) DoReadHeader();
                      });
  }

  tcp::socket socket_;
  std::vector<char> frame_;
  uint32_t body_length_ = 0;
};

class EchoServer {
 public:
  EchoServer(asio::io_context& io_context, const tcp::endpoint& endpoint)
      : acceptor_(io_context, endpoint) {
    DoAccept();
  }
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void Close() {
    asio::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void DoAccept() {
    acceptor_.async_accept([this](std::error_code ec, tcp::socket socket) {
      if (!acceptor_.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket))->Start();
      DoAccept();
    });
  }

  tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Asio TLV echo server: --address=127.0.0.1:0 --port_file=PATH");
  absl::ParseCommandLine(argc, argv);
  tao::bench::RaiseFdLimit();
  absl::StatusOr<sockaddr_in> address =
      tao::bench::ParseIpv4(absl::GetFlag(FLAGS_address));
  if (!address.ok()) {
    std::fprintf(stderr, "asio_echo: %s\n",
                 address.status().ToString().c_str());
    return 2;
  }
  try {
    asio::io_context io_context;
    const tcp::endpoint endpoint(
        asio::ip::address_v4(ntohl(address->sin_addr.s_addr)),
        ntohs(address->sin_port));
    EchoServer server(io_context, endpoint);
    asio::signal_set signals(io_context, SIGINT, SIGTERM);
    signals.async_wait([&](std::error_code, int) {
      server.Close();
      io_context.stop();
    });
    absl::Status written = tao::bench::WritePortFile(
        absl::GetFlag(FLAGS_port_file), server.local_endpoint().port());
    if (!written.ok()) {
      std::fprintf(stderr, "asio_echo: %s\n", written.ToString().c_str());
      return 1;
    }
    const int threads = std::max(1, absl::GetFlag(FLAGS_threads));
    std::printf("asio_echo: listening on %s:%u (%d threads)\n",
                server.local_endpoint().address().to_string().c_str(),
                server.local_endpoint().port(), threads);
    std::fflush(stdout);
    std::vector<std::thread> extra;
    for (int i = 1; i < threads; ++i) {
      extra.emplace_back([&io_context] { io_context.run(); });
    }
    io_context.run();
    for (std::thread& t : extra) t.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
