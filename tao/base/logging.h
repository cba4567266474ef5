// Logging for tao: a process-wide, replaceable sink plus glog-style streaming
// macros. Abseil 20220623 has no absl/log, so this is tao's small substitute.
//
//   TAO_LOG(INFO) << "listening on " << addr;
//   TAO_PLOG(ERROR) << "accept";        // appends ": <strerror> [errno]"
//   TAO_CHECK(fd >= 0) << "eventfd";    // always on; logs FATAL and aborts
//   TAO_DCHECK(in_loop_thread());       // TAO_CHECK in debug builds only
//
// Severity tokens: DEBUG INFO WARNING ERROR FATAL. A record below
// MinLogSeverity() is dropped before anything is formatted: the streamed
// expressions are not even evaluated. FATAL always logs (also to stderr when a
// custom sink is installed) and then calls std::abort().
//
// Thread-safe: every function and macro here may be called from any thread.

#ifndef TAO_BASE_LOGGING_H_
#define TAO_BASE_LOGGING_H_

#include <atomic>
#include <cerrno>
#include <functional>
#include <sstream>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tao/base/cxx20.h"

namespace tao {

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

namespace logging_internal {

inline std::atomic<int> min_severity{static_cast<int>(LogSeverity::kInfo)};

inline bool ShouldLog(LogSeverity s) {
  return static_cast<int>(s) >= min_severity.load(std::memory_order_relaxed);
}

// Collects one statement's text; the destructor hands it to the sink.
class LogMessage {
 public:
  // `saved_errno` >= 0 appends ": <strerror> [errno]" (TAO_PLOG).
  LogMessage(const char* file, int line, LogSeverity severity,
             int saved_errno = -1);
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
