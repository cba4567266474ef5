// ShutdownSignal: lets a server's main thread wait for SIGINT or SIGTERM.
//
// Construct it first thing in main(), before any thread starts: it blocks
// the two signals so every thread inherits the mask, and Wait() receives
// them synchronously (no async-signal-safety concerns).
#ifndef EXAMPLES_COMMON_SHUTDOWN_SIGNAL_H_
#define EXAMPLES_COMMON_SHUTDOWN_SIGNAL_H_

#include <signal.h>

namespace tao::examples {

class ShutdownSignal {
 public:
  ShutdownSignal();
  // Blocks until SIGINT or SIGTERM arrives; returns the signal number.
  int Wait();

 private:
  sigset_t set_;
};

}  // namespace tao::examples

#endif  // EXAMPLES_COMMON_SHUTDOWN_SIGNAL_H_
