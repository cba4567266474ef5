// Timeline: the demos' and example programs' event log: each line is
// printed on stdout at once, prefixed with the time since the timeline was
// made ("[+0.512s] ..."), so a reader sees when things happened.
//
// Thread safety: Say may be called from any thread (I/O loops, workers,
// main); lines never interleave.
#ifndef EXAMPLES_COMMON_TIMELINE_H_
#define EXAMPLES_COMMON_TIMELINE_H_

#include <cstdio>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tao::examples {

class Timeline {
 public:
  Timeline() : start_(absl::Now()) {}
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  // How long since construction.
  absl::Duration Elapsed() const { return absl::Now() - start_; }

  void Say(absl::string_view line) {
    absl::MutexLock lock(&mu_);
    std::printf("[+%.3fs] %.*s\n", absl::ToDoubleSeconds(Elapsed()),
                static_cast<int>(line.size()), line.data());
    std::fflush(stdout);
  }

 private:
  const absl::Time start_;  // constant after construction
  absl::Mutex mu_;          // serializes the lines
};

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_TIMELINE_H_
