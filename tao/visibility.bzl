"""Visibility of tao's internal targets (Abseil's way: machinery is not API)."""

# Targets that are tao's machinery, not its public surface: usable by tao's
# own packages and its benchmarks, not by users.
TAO_INTERNAL = [
    "//tao:__subpackages__",
    "//codec:__subpackages__",
    "//benchmarks:__subpackages__",
]
