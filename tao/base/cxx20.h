// tao is C++20. Included by the headers every tao target includes, so that a
// workspace building tao as C++17 or older gets one clear error first
// (Bazel 4's auto-configured toolchain passes -std=c++0x) instead of pages of
// "'optional' is not a member of 'std'".
#ifndef TAO_BASE_CXX20_H_
#define TAO_BASE_CXX20_H_

#if !defined(__cplusplus) || __cplusplus < 202002L
#error \
    "tao needs C++20: add build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20 to .bazelrc"
#endif

#endif  // TAO_BASE_CXX20_H_
