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

def tao_fuzz_test(name, srcs, deps = [], **kwargs):
    """A libFuzzer target and a test replaying its seed corpus.

    `srcs` define `LLVMFuzzerTestOneInput` (and optionally
    `LLVMFuzzerInitialize`); the seed corpus is the files in
    `corpus/<name>/` of the package. Two targets:

      <name>_corpus_test  a tao test (the default toolchain, any --config)
                          that runs every seed file through the fuzzer once
                          (//tao/testing:fuzz_replay_main);
      <name>              the fuzzer (tagged manual and "fuzzer"): under
                          --config=fuzz (clang-14, own --output_base, see
                          .bazelrc) a libFuzzer binary with ASan+UBSan;
                          otherwise the same replay binary as the test.
    """
    corpus = native.glob(["corpus/%s/*" % name])
    if not corpus:
        fail("tao_fuzz_test %s: no seed files in corpus/%s/" % (name, name))
    cc_test(
        name = name + "_corpus_test",
        size = "small",
        srcs = srcs,
        args = ["$(rootpath %s)" % f for f in corpus],
        data = corpus,
        linkstatic = True,
        deps = deps + [
            "//tao/build_defs:sanitizer_defaults",
            "//tao/testing:fuzz_replay_main",
        ],
        **kwargs
    )
    cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        linkopts = select({
            "//tao/build_defs:fuzz": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["manual", "fuzzer"],
        deps = deps + select({
            "//tao/build_defs:fuzz": [],
            "//conditions:default": ["//tao/testing:fuzz_replay_main"],
        }),
        **kwargs
    )
