#include "tao/base/logging.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace tao {
namespace {

ABSL_CONST_INIT absl::Mutex sink_mu(absl::kConstInit);
// The installed sink; nullptr means the default stderr sink. Sinks run under
// a reader lock, so SetLogSink (writer) waits for calls in flight.
LogSink* sink ABSL_GUARDED_BY(sink_mu) = nullptr;

// strerror_r has a GNU (char*) and an XSI (int) flavour; accept both.
[[maybe_unused]] const char* StrErrorResult(int rc, const char* buf) {
  return rc == 0 ? buf : "Unknown error";
}
[[maybe_unused]] const char* StrErrorResult(const char* result, const char*) {
  return result;
}

std::string StrError(int errnum) {
  char buf[128];
  return StrErrorResult(strerror_r(errnum, buf, sizeof(buf)), buf);
}

// "I20261127 08:31:24.123456 12345 file.cc:42] message\n" (glog's layout).
std::string FormatRecord(const LogRecord& r) {
  static thread_local const long tid = syscall(SYS_gettid);
  absl::string_view file = r.file;
  if (size_t slash = file.rfind('/'); slash != absl::string_view::npos) {
    file.remove_prefix(slash + 1);
  }
  return absl::StrCat(
      LogSeverityName(r.severity).substr(0, 1),
      absl::FormatTime("%Y%m%d %H:%M:%E6S", r.time, absl::LocalTimeZone()), " ",
      tid, " ", file, ":", r.line, "] ", r.message, "\n");
}

void WriteToStderr(const LogRecord& r) {
  std::string line = FormatRecord(r);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

void SetLogSink(LogSink new_sink) {
  LogSink* old = nullptr;
  {
    absl::MutexLock lock(&sink_mu);
    old = sink;
    sink = new_sink ? new LogSink(std::move(new_sink)) : nullptr;
  }
  delete old;
}

void SetMinLogSeverity(LogSeverity s) {
  logging_internal::min_severity.store(static_cast<int>(s),
                                       std::memory_order_relaxed);
}

LogSeverity MinLogSeverity() {
  return static_cast<LogSeverity>(
      logging_internal::min_severity.load(std::memory_order_relaxed));
}

absl::string_view LogSeverityName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kDebug:
      return "DEBUG";
    case LogSeverity::kInfo:
      return "INFO";
    case LogSeverity::kWarning:
      return "WARNING";
    case LogSeverity::kError:
      return "ERROR";
    case LogSeverity::kFatal:
      return "FATAL";
  }
  return "UNKNOWN";
}

namespace logging_internal {

LogMessage::LogMessage(const char* file, int line, LogSeverity severity,
                       int saved_errno)
    : file_(file),
      line_(line),
      severity_(severity),
      saved_errno_(saved_errno),
      time_(absl::Now()) {}

LogMessage::~LogMessage() {
  if (!flushed_) Flush();
}

void LogMessage::Flush() {
  flushed_ = true;
  if (saved_errno_ >= 0) {
    stream_ << ": " << StrError(saved_errno_) << " [" << saved_errno_ << "]";
  }
  const std::string text = std::move(stream_).str();
  const LogRecord record{severity_, file_, line_, time_,
                         absl::StripTrailingAsciiWhitespace(text)};
  bool custom_sink = false;
  {
    absl::ReaderMutexLock lock(&sink_mu);
    if (sink != nullptr) {
      custom_sink = true;
      (*sink)(record);
    }
  }
  // A fatal message always reaches stderr: it is the last thing the process
  // says, and death tests match on it.
  if (!custom_sink || severity_ == LogSeverity::kFatal) WriteToStderr(record);
  if (severity_ == LogSeverity::kFatal) {
    std::fflush(stderr);
    std::abort();
  }
}

LogMessageFatal::~LogMessageFatal() {
  Flush();
  std::abort();  // Unreachable: Flush aborts. Tells the compiler so.
}

}  // namespace logging_internal
}  // namespace tao
