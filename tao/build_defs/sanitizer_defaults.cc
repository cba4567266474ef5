// Default sanitizer settings compiled into every tao test, so that
// `bazel test --config=tsan` needs no environment or absolute paths.

#if defined(__SANITIZE_THREAD__)
extern "C" const char* __tsan_default_suppressions() {
  // Keep this list tiny: each entry is a known false positive outside tao.
  //
  // Abseil's per-thread Waiter lives in memory that LowLevelAlloc got from
  // mmap; GCC's TSan reports the first atomic on it against the mmap "write"
  // (google/sanitizers#953, abseil/abseil-cpp#217).
  return "race:synchronization_internal::Waiter::Post\n"
         "race:synchronization_internal::Waiter::Wait\n";
}

extern "C" const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1";
}
#endif
