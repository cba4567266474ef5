// A standard client against tao's TLS server: Debian's `openssl s_client`
// (OpenSSL, a separate process) completes a handshake and exchanges a
// hand-written TLV frame with the message layer's raw echo. Skipped when
// /usr/bin/openssl is absent.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tao/message/context.h"
#include "tao/message/options.h"
#include "tao/message/registry.h"
#include "tao/message/server.h"
#include "tao/net/connection.h"
#include "tao/testing/loopback.h"
#include "tao/tls/test_certs.h"
#include "tao/tls/tls_context.h"

extern char** environ;

namespace tao {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";
constexpr absl::Duration kTimeout = absl::Seconds(20);

// Type 1, length 5, "hello": TLV as Go tao writes it (little-endian).
const std::string kHelloFrame("\x01\x00\x00\x00\x05\x00\x00\x00hello", 13);

// `openssl s_client` with pipes on stdin/stdout; killed on destruction.
class SClient {
 public:
  ~SClient() {
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  absl::Status Start(const std::vector<std::string>& args) {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      return absl::ErrnoToStatus(errno, "pipe2");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    std::vector<std::string> argv_storage = {kOpenssl, "s_client"};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc =
        posix_spawn(&pid_, kOpenssl, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (rc != 0) {
      pid_ = -1;
      return absl::ErrnoToStatus(rc, "posix_spawn openssl");
    }
    command_ = absl::StrJoin(argv_storage, " ");
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(stdin_, data.data(), data.size());
      if (n < 0) return absl::ErrnoToStatus(errno, "write to s_client");
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  // Reads exactly `n` bytes of s_client's stdout (what the server sent).
  absl::StatusOr<std::string> Read(size_t n) {
    std::string out;
    const absl::Time deadline = absl::Now() + kTimeout;
    while (out.size() < n) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrCat(
            "s_client printed ", out.size(), " of ", n, " bytes: ", command_));
      }
      struct pollfd pfd = {stdout_, POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
      char buf[256];
      const ssize_t r = ::read(stdout_, buf, sizeof(buf));
      if (r == 0) {
        return absl::UnavailableError(absl::StrCat(
            "s_client exited after ", out.size(), " bytes: ", command_));
      }
      if (r > 0) out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }

  // Waits for s_client to exit on its own (e.g. after a failed handshake).
  bool WaitExit() {
    const absl::Time deadline = absl::Now() + kTimeout;
    while (absl::Now() < deadline) {
      struct pollfd pfd = {stdout_, POLLIN, 0};
      ::poll(&pfd, 1, 100);
      char buf[256];
      if (::read(stdout_, buf, sizeof(buf)) == 0) return true;  // EOF
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string command_;
};

class TlsInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kOpenssl, X_OK) != 0) {
      GTEST_SKIP() << kOpenssl << " is not installed";
    }
    absl::StatusOr<testing::TestCerts> certs = testing::MakeTestCerts();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *std::move(certs);
    const char* tmp = std::getenv("TEST_TMPDIR");
    dir_ = tmp != nullptr ? tmp : "/tmp";
    ASSERT_TRUE(testing::WriteTestCerts(certs_, dir_).ok());
    ASSERT_TRUE(registry_
                    .RegisterRaw(1,
                                 [](Context& ctx, absl::string_view payload) {
                                   (void)ctx.ReplyRaw(1, payload);
                                 })
                    .ok());
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Stop(absl::Seconds(2));
      server_->Join();
    }
  }

  void StartServer(TlsOptions tls) {
    absl::StatusOr<std::shared_ptr<TlsContext>> ctx =
        TlsContext::NewServer(std::move(tls));
    ASSERT_TRUE(ctx.ok()) << ctx.status();
    ctx_ = *ctx;
    ServerOptions options;
    options.io_threads = 1;
    options.handler_threads = 0;
    options.tls = ctx_;
    server_ = std::make_unique<Server>(options, &registry_);
    server_->OnError([this](Connection&, const absl::Status& error) {
      absl::MutexLock lock(&mu_);
      errors_.push_back(error);
    });
    ASSERT_TRUE(server_->Listen("127.0.0.1:0").ok());
    ASSERT_TRUE(server_->Start().ok());
  }

  TlsOptions ServerTls() const {
    TlsOptions tls;
    tls.cert_chain_file = Path("server.pem");
    tls.private_key_file = Path("server.key");
    return tls;
  }

  std::string Path(absl::string_view name) const {
    return absl::StrCat(dir_, "/", name);
  }

  // The arguments every run uses: verify the server as "localhost".
  std::vector<std::string> BaseArgs() const {
    return {"-connect",
            absl::StrCat("127.0.0.1:", server_->listen_address().port()),
            "-CAfile",
            Path("ca.pem"),
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-servername",
            "localhost",
            "-quiet"};
  }

  void ExpectEcho(std::vector<std::string> extra) {
    std::vector<std::string> args = BaseArgs();
    args.insert(args.end(), extra.begin(), extra.end());
    SClient s_client;
    ASSERT_TRUE(s_client.Start(args).ok());
    ASSERT_TRUE(s_client.Write(kHelloFrame).ok());
    absl::StatusOr<std::string> echoed = s_client.Read(kHelloFrame.size());
    ASSERT_TRUE(echoed.ok()) << echoed.status();
    EXPECT_EQ(*echoed, kHelloFrame);
    EXPECT_GE(ctx_->stats().handshakes_completed, 1u);
  }

  // Waits for the first error the server reported (the peer may see our
  // alert before OnError runs).
  std::vector<absl::Status> WaitErrors() {
    absl::MutexLock lock(&mu_);
    auto any = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !errors_.empty();
    };
    mu_.AwaitWithTimeout(absl::Condition(&any), kTimeout);
    return errors_;
  }

  testing::TestCerts certs_;
  std::string dir_;
  Registry registry_;
  std::shared_ptr<TlsContext> ctx_;
  std::unique_ptr<Server> server_;
  absl::Mutex mu_;
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
};

TEST_F(TlsInteropTest, SClientTls13ExchangesATlvFrame) {
  StartServer(ServerTls());
  ExpectEcho({"-tls1_3"});
}

TEST_F(TlsInteropTest, SClientTls12ExchangesATlvFrame) {
  StartServer(ServerTls());
  ExpectEcho({"-tls1_2"});
}

TEST_F(TlsInteropTest, SClientWithAlpn) {
  TlsOptions tls = ServerTls();
  tls.alpn = {"tao/1"};
  StartServer(tls);
  ExpectEcho({"-alpn", "tao/1"});
}

TEST_F(TlsInteropTest, SClientWithClientCertificateOnMutualTls) {
  TlsOptions tls = ServerTls();
  tls.ca_file = Path("ca.pem");
  tls.client_auth = ClientAuth::kRequire;
  StartServer(tls);
  ExpectEcho({"-cert", Path("client.pem"), "-key", Path("client.key")});
}

TEST_F(TlsInteropTest, SClientWithoutClientCertificateIsRefused) {
  TlsOptions tls = ServerTls();
  tls.ca_file = Path("ca.pem");
  tls.client_auth = ClientAuth::kRequire;
  StartServer(tls);
  SClient s_client;
  ASSERT_TRUE(s_client.Start(BaseArgs()).ok());
  (void)s_client.Write(kHelloFrame);
  EXPECT_TRUE(s_client.WaitExit());
  std::vector<absl::Status> seen = WaitErrors();
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(absl::IsUnauthenticated(seen[0])) << seen[0];
}

}  // namespace
}  // namespace tao
