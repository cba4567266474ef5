"""The examples' demos are also tests: each exits non-zero unless it worked."""

def demo_test(name = "demo_test", demo = ":demo"):
    """An sh_test that runs `demo` (examples/run_demo.sh)."""
    native.sh_test(
        name = name,
        size = "small",
        srcs = ["//examples:run_demo.sh"],
        args = ["$(location %s)" % demo],
        data = [demo],
    )
