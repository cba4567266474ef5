// Logging for tao: a process-wide, replaceable sink plus glog-style streaming
// macros. Abseil 20220623 has no absl/log, so this is tao's small substitute.
//
//   TAO_LOG(INFO) << "listening on " << addr;
//   TAO_PLOG(ERROR) << "accept";        // appends ": <strerror> [errno]"
//   TAO_CHECK(fd >= 0) << "eventfd";    // always on; logs FATAL and aborts
//   TAO_DCHECK(in_loop_thread());       // TAO_CHECK in debug builds only
//   TAO_LOG_RATE_LIMITED(WARNING) << "refused " << peer;  // a few per 10 s
//
// Severity tokens: DEBUG INFO WARNING ERROR FATAL. A record below
// MinLogSeverity() is dropped before anything is formatted: the streamed
// expressions are not even evaluated. FATAL always logs (also to stderr when a
// custom sink is installed) and then calls std::abort().
//
// Anything a remote peer can trigger over and over (a bad frame, a refused
// connection) logs through TAO_LOG_RATE_LIMITED or TAO_LOG_EVERY, so that a
// flood of input cannot become a flood of log lines: each call site has its
// own budget, a record over budget is dropped before anything is formatted,
// and the next record the site emits ends with
// " [N similar messages suppressed]". Counting every event is the job of the
// caller's stats, not of the log.
//
// Thread-safe: every function and macro here may be called from any thread.

#ifndef TAO_BASE_LOGGING_H_
#define TAO_BASE_LOGGING_H_

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <sstream>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/base/cxx20.h"

namespace tao {

class Clock;

enum class LogSeverity {
  kDebug = 0,
  kInfo = 1,
  kWarning = 2,
  kError = 3,
  kFatal = 4
};

// One log statement. `file` is __FILE__ as the compiler spelled it; `message`
// is the streamed text. Both views are valid only during the sink call.
struct LogRecord {
  LogSeverity severity;
  absl::string_view file;
  int line;
  absl::Time time;
  absl::string_view message;
};

// Receives every record at or above MinLogSeverity(). Must be thread-safe: it
// is called concurrently from any thread. It must not log itself.
using LogSink = std::function<void(const LogRecord&)>;

// Installs `sink`; an empty function restores the default stderr sink. When
// SetLogSink returns, no thread is still inside the previous sink, so a sink
// may capture state that dies right after it is replaced. Thread-safe.
void SetLogSink(LogSink sink);

// Records below `s` are dropped before formatting. Default kInfo. Thread-safe.
void SetMinLogSeverity(LogSeverity s);
LogSeverity MinLogSeverity();

// "DEBUG", "INFO", "WARNING", "ERROR", "FATAL".
absl::string_view LogSeverityName(LogSeverity s);

// TAO_LOG_RATE_LIMITED's budget per call site: at most kLogRateBurst records
// in each kLogRateInterval.
inline constexpr absl::Duration kLogRateInterval = absl::Seconds(10);
inline constexpr int kLogRateBurst = 5;

// The clock rate limits read (tao/base/clock.h); nullptr restores
// Clock::Real(). For tests: a FakeClock makes budgets deterministic. `clock`
// must stay valid until it is replaced. Thread-safe.
void SetLogClock(const Clock* clock);

namespace logging_internal {

inline std::atomic<int> min_severity{static_cast<int>(LogSeverity::kInfo)};

inline bool ShouldLog(LogSeverity s) {
  return static_cast<int>(s) >= min_severity.load(std::memory_order_relaxed);
}

// One call site's budget: at most `burst` records per window of `interval`
// (windows are aligned to multiples of `interval` on the log clock), plus the
// count of records refused since the last one allowed. Lock-free; nothing
// allocates. Usually a function-local static made by TAO_LOG_EVERY.
class LogRateLimiter {
 public:
  // `interval` at least 1 ms, `burst` between 1 and kMaxBurst (clamped).
  LogRateLimiter(absl::Duration interval, int burst);
  LogRateLimiter(const LogRateLimiter&) = delete;
  LogRateLimiter& operator=(const LogRateLimiter&) = delete;

  static constexpr int kMaxBurst = (1 << 16) - 1;

  // True when one more record fits the budget of the window holding `now`
  // (nanoseconds on the log clock; a `now` from an earlier window than one
  // already seen counts against the newer window). False counts a
  // suppressed record.
  bool AllowAt(int64_t now_nanos);
  // AllowAt(the log clock's now).
  bool Allow();
  // The records refused since the last call, resetting the count.
  uint64_t TakeSuppressed() {
    return suppressed_.exchange(0, std::memory_order_relaxed);
  }

 private:
  static constexpr int kCountBits = 16;

  const int64_t interval_nanos_;
  const uint64_t burst_;
  // (window index << kCountBits) | records allowed in that window.
  std::atomic<uint64_t> state_{0};
  std::atomic<uint64_t> suppressed_{0};
};

// Collects one statement's text; the destructor hands it to the sink.
class LogMessage {
 public:
  // `saved_errno` >= 0 appends ": <strerror> [errno]" (TAO_PLOG);
  // `suppressed` > 0 appends " [N similar messages suppressed]".
  LogMessage(const char* file, int line, LogSeverity severity,
             int saved_errno = -1, uint64_t suppressed = 0);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();

  std::ostream& stream() { return stream_; }

 protected:
  // Emits the record once; aborts after a FATAL one.
  void Flush();

 private:
  const char* file_;
  int line_;
  LogSeverity severity_;
  int saved_errno_;
  uint64_t suppressed_;
  absl::Time time_;
  bool flushed_ = false;
  std::ostringstream stream_;
};

// A FATAL message: logs, then aborts. Noreturn, so control-flow analysis
// knows a failed TAO_CHECK does not fall through.
class LogMessageFatal : public LogMessage {
 public:
  LogMessageFatal(const char* file, int line, int saved_errno = -1)
      : LogMessage(file, line, LogSeverity::kFatal, saved_errno) {}
  ABSL_ATTRIBUTE_NORETURN ~LogMessageFatal();
};

// Turns `stream << ...` into void so it fits the other branch of `?:`.
// operator& binds more loosely than << and more tightly than ?:.
struct Voidify {
  void operator&(std::ostream&) {}
};

}  // namespace logging_internal
}  // namespace tao

#define TAO_LOG_INTERNAL_STREAM(severity, ...)                           \
  !::tao::logging_internal::ShouldLog(severity)                          \
      ? (void)0                                                          \
      : ::tao::logging_internal::Voidify() &                             \
            ::tao::logging_internal::LogMessage(                         \
                __FILE__, __LINE__, severity __VA_OPT__(, ) __VA_ARGS__) \
                .stream()
#define TAO_LOG_INTERNAL_FATAL_STREAM(...)               \
  ::tao::logging_internal::Voidify() &                   \
      ::tao::logging_internal::LogMessageFatal(          \
          __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__) \
          .stream()

#define TAO_LOG_INTERNAL_DEBUG(...) \
  TAO_LOG_INTERNAL_STREAM(::tao::LogSeverity::kDebug, __VA_ARGS__)
#define TAO_LOG_INTERNAL_INFO(...) \
  TAO_LOG_INTERNAL_STREAM(::tao::LogSeverity::kInfo, __VA_ARGS__)
#define TAO_LOG_INTERNAL_WARNING(...) \
  TAO_LOG_INTERNAL_STREAM(::tao::LogSeverity::kWarning, __VA_ARGS__)
#define TAO_LOG_INTERNAL_ERROR(...) \
  TAO_LOG_INTERNAL_STREAM(::tao::LogSeverity::kError, __VA_ARGS__)
#define TAO_LOG_INTERNAL_FATAL(...) TAO_LOG_INTERNAL_FATAL_STREAM(__VA_ARGS__)

// TAO_LOG(INFO) << ...;
#define TAO_LOG(severity) TAO_LOG_INTERNAL_##severity()

// TAO_PLOG(ERROR) << "accept";  errno is saved when the statement starts.
#define TAO_PLOG(severity) TAO_LOG_INTERNAL_##severity(errno)

// TAO_LOG_EVERY(WARNING, absl::Seconds(1), 3) << ...;  At most 3 records per
// second from this call site; see LogRateLimiter. `interval` and `burst` are
// read once, when the statement first runs. Severities DEBUG to ERROR (FATAL
// is never suppressed). A statement, not an expression; safe as the body of
// an unbraced if/else.
#define TAO_LOG_EVERY(severity, interval, burst)                           \
  TAO_LOG_INTERNAL_LIMITED(TAO_LOG_INTERNAL_SEVERITY_##severity, interval, \
                           burst)

// TAO_LOG_RATE_LIMITED(WARNING) << ...;  TAO_LOG_EVERY with the default
// budget, kLogRateBurst records per kLogRateInterval.
#define TAO_LOG_RATE_LIMITED(severity) \
  TAO_LOG_EVERY(severity, ::tao::kLogRateInterval, ::tao::kLogRateBurst)

#define TAO_LOG_INTERNAL_SEVERITY_DEBUG ::tao::LogSeverity::kDebug
#define TAO_LOG_INTERNAL_SEVERITY_INFO ::tao::LogSeverity::kInfo
#define TAO_LOG_INTERNAL_SEVERITY_WARNING ::tao::LogSeverity::kWarning
#define TAO_LOG_INTERNAL_SEVERITY_ERROR ::tao::LogSeverity::kError

// The severity check comes first, so filtered records spend no budget; the
// `{} else` keeps a caller's `else` bound to the caller's `if`.
// clang-format off
#define TAO_LOG_INTERNAL_LIMITED(severity, interval, burst)           \
  if (static ::tao::logging_internal::LogRateLimiter tao_log_limiter( \
          (interval), (burst));                                       \
      !::tao::logging_internal::ShouldLog(severity) ||                \
      !tao_log_limiter.Allow()) {                                     \
  } else                                                              \
    ::tao::logging_internal::Voidify() &                              \
        ::tao::logging_internal::LogMessage(                          \
            __FILE__, __LINE__, severity, -1,                         \
            tao_log_limiter.TakeSuppressed()).stream()
// clang-format on

// TAO_CHECK(cond) << "extra";  Always on: logs "Check failed: cond extra" at
// FATAL and aborts when `cond` is false.
// clang-format off
#define TAO_CHECK(cond)                                         \
  ABSL_PREDICT_TRUE(cond)                                       \
      ? (void)0                                                 \
      : TAO_LOG_INTERNAL_FATAL_STREAM() << "Check failed: " #cond " "
// clang-format on

// TAO_DCHECK(cond) << ...;  TAO_CHECK unless NDEBUG. With NDEBUG, `cond` and
// the stream are type-checked but never evaluated.
#ifndef NDEBUG
#define TAO_DCHECK(cond) TAO_CHECK(cond)
#else
#define TAO_DCHECK(cond) \
  while (false) TAO_CHECK(cond)
#endif

#endif  // TAO_BASE_LOGGING_H_
