"""Macros every tao BUILD file uses for tests, so sanitizer defaults apply."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def tao_cc_test(name, size = "small", deps = [], **kwargs):
    """A cc_test linked with GoogleTest's main and tao's sanitizer defaults."""
    cc_test(
        name = name,
        size = size,
        # Static: the sanitizer hooks in //tao/build_defs:sanitizer_defaults must live
        # in the executable to override the runtime's weak defaults.
        linkstatic = True,
        deps = deps + [
            "//tao/build_defs:sanitizer_defaults",
            "@com_google_googletest//:gtest_main",
        ],
        **kwargs
    )

def tao_benchmark(name, srcs, deps = [], smoke_args = [], **kwargs):
    """A Google Benchmark binary plus a `<name>_smoke_test` that runs it briefly.

    The smoke test only proves the binary still builds and runs (it is not a
    measurement); `smoke_args` are appended, e.g. a --benchmark_filter.
    """
    cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        tags = ["benchmark"],
        deps = deps,
        **kwargs
    )
    native.sh_test(
        name = name + "_smoke_test",
        size = "small",
        srcs = ["//benchmarks:smoke_test.sh"],
        args = ["$(location :%s)" % name] + smoke_args,
        data = [":" + name],
    )
