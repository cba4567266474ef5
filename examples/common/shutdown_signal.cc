#include "examples/common/shutdown_signal.h"

#include <pthread.h>

namespace tao::examples {

ShutdownSignal::ShutdownSignal() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int ShutdownSignal::Wait() {
  int signal = 0;
  sigwait(&set_, &signal);
  return signal;
}

}  // namespace tao::examples
