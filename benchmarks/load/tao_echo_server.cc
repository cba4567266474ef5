// tao_echo_server: the TLV echo server under test, built on tao's public API
// exactly as a user would write it (a raw handler for type 1 that sends the
// payload back with Context::ReplyRaw). Heartbeats are off so idle connections
// stay.
//
//   tao_echo_server --address=127.0.0.1:0 --port_file=/tmp/port
//                   --io_threads=1 --handler_threads=0
//
// --handler_threads=0 runs the handler inline on the I/O loop; N > 0 runs
// it on a pool of N workers (Go tao's model). Runs until SIGINT/SIGTERM.
//
// --stats_interval=S prints the server's stats (every ServerStats counter)
// as one JSON line ("stats: {...}") every S seconds, and once more at the
// end ("final: {...}"), for the soak benchmark's record of how the server
// reacted.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "benchmarks/load/bench_util.h"
#include "tao/tao.h"

ABSL_FLAG(std::string, address, "127.0.0.1:0", "address to listen on");
ABSL_FLAG(std::string, port_file, "",
          "write the port listened on to this file");
ABSL_FLAG(int, io_threads, 1, "I/O loops (-1: one per core)");
ABSL_FLAG(int, handler_threads, 0,
          "0: handlers inline on the I/O loop; N: a pool of N workers");
ABSL_FLAG(int, max_connections, 0,
          "connection limit, also per IP address (0: none)");
ABSL_FLAG(double, stats_interval, 0,
          "print the stats as a JSON line this often, in seconds (0: only "
          "the summary at the end)");

namespace {

std::string StatsJson(const tao::ServerStats& s, double t) {
  return absl::StrFormat(
      "{\"t\": %.1f, \"accepted\": %u, \"connections\": %u, "
      "\"refused_max_connections\": %u, \"refused_per_ip\": %u, "
      "\"dropped_fd_limit\": %u, \"accept_errors\": %u, "
      "\"closed_with_error\": %u, \"closed_over_budget\": %u, "
      "\"evicted_idle\": %u, \"closed_over_input_bound\": %u, "
      "\"queued_output_bytes\": %u, \"held_input_bytes\": %u, "
      "\"messages\": %u, \"heartbeats\": %u, \"unknown_types\": %u, "
      "\"bad_frames\": %u, "
      "\"bad_payloads\": %u, \"handler_exceptions\": %u, "
      "\"handled_after_close\": %u, \"queued_bytes\": %u, "
      "\"peak_queued_bytes\": %u, \"queue_full_pauses\": %u, "
      "\"frame_timeouts\": %u, \"closed_idle\": %u}",
      t, s.accepted, s.connections, s.refused_max_connections, s.refused_per_ip,
      s.dropped_fd_limit, s.accept_errors, s.closed_with_error,
      s.closed_over_budget, s.evicted_idle, s.closed_over_input_bound,
      s.queued_output_bytes, s.held_input_bytes, s.messages, s.heartbeats,
      s.unknown_types, s.bad_frames, s.bad_payloads, s.handler_exceptions,
      s.handled_after_close, s.queued_bytes, s.peak_queued_bytes,
      s.queue_full_pauses, s.frame_timeouts, s.closed_idle);
}

}  // namespace

int main(int argc, char** argv) {
  tao::bench::ShutdownSignal shutdown;  // before any thread starts
  absl::SetProgramUsageMessage(
      "tao TLV echo server: --address=127.0.0.1:0 --port_file=PATH "
      "--io_threads=N --handler_threads=N");
  absl::ParseCommandLine(argc, argv);
  tao::bench::RaiseFdLimit();
  tao::SetMinLogSeverity(tao::LogSeverity::kWarning);

  tao::Registry registry;
  absl::Status registered =
      registry.RegisterRaw(1, [](tao::Context& ctx, absl::string_view payload) {
        (void)ctx.ReplyRaw(1, payload);
      });
  TAO_CHECK(registered.ok()) << registered;

  tao::ServerOptions options;
  options.io_threads = absl::GetFlag(FLAGS_io_threads);
  options.handler_threads = absl::GetFlag(FLAGS_handler_threads);
  options.max_connections =
      static_cast<size_t>(std::max(0, absl::GetFlag(FLAGS_max_connections)));
  // Every load-generator connection comes from loopback.
  options.max_connections_per_ip = options.max_connections;
  tao::Server server(options, &registry);
  absl::Status status = server.Listen(absl::GetFlag(FLAGS_address));
  if (status.ok()) status = server.Start();
  if (status.ok()) {  // written once serving, so the harness can start
    status = tao::bench::WritePortFile(absl::GetFlag(FLAGS_port_file),
                                       server.listen_address().port());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "tao_echo_server: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("tao_echo_server: listening on %s (io_threads %d, %s)\n",
              server.listen_address().ToString().c_str(), options.io_threads,
              options.handler_threads == 0 ? "inline handlers" : "worker pool");
  std::fflush(stdout);
  const double interval = absl::GetFlag(FLAGS_stats_interval);
  const int64_t start_ns = tao::bench::NowNs();
  if (interval > 0) {
    int64_t next = start_ns;
    do {
      next += static_cast<int64_t>(interval * 1e9);
      std::printf(
          "stats: %s\n",
          StatsJson(server.stats(), (tao::bench::NowNs() - start_ns) / 1e9)
              .c_str());
      std::fflush(stdout);
    } while (!tao::bench::SleepUntil(shutdown, next));
  } else {
    shutdown.Wait();
  }
  const tao::ServerStats stats = server.stats();
  std::printf("final: %s\n",
              StatsJson(stats, (tao::bench::NowNs() - start_ns) / 1e9).c_str());
  server.Stop(absl::Seconds(1));
  server.Join();
  std::printf(
      "tao_echo_server: accepted %llu, messages %llu, closed with error %llu, "
      "bad frames %llu\n",
      static_cast<unsigned long long>(stats.accepted),
      static_cast<unsigned long long>(stats.messages),
      static_cast<unsigned long long>(stats.closed_with_error),
      static_cast<unsigned long long>(stats.bad_frames));
  return 0;
}
