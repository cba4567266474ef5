#!/usr/bin/env bash
# Runs a Google Benchmark binary for a moment so it keeps compiling and
# running; not a performance measurement.
set -euo pipefail
"$1" --benchmark_min_time=0.01 "${@:2}" >/dev/null
