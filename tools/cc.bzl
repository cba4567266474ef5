"""Macros every tao BUILD file uses for tests, so sanitizer defaults apply."""

load("@rules_cc//cc:defs.bzl", "cc_test")

def tao_cc_test(name, size = "small", deps = [], **kwargs):
    """A cc_test linked with GoogleTest's main and tao's sanitizer defaults."""
    cc_test(
        name = name,
        size = size,
        # Static: the sanitizer hooks in //tools:sanitizer_defaults must live
        # in the executable to override the runtime's weak defaults.
        linkstatic = True,
        deps = deps + [
            "//tools:sanitizer_defaults",
            "@com_google_googletest//:gtest_main",
        ],
        **kwargs
    )
