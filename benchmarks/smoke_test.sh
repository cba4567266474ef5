#!/usr/bin/env bash
# Runs a Google Benchmark binary briefly so it keeps compiling and running
# (not a performance measurement), and fails unless it really ran: a non-zero
# exit, any benchmark that reported an error (SkipWithError), or no
# benchmark at all (a --benchmark_filter that matches nothing; Benchmark
# 1.7's main exits 0 then) fails the test.
#   smoke_test.sh <benchmark binary> [benchmark flags...]
set -euo pipefail
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
out="${tmp}/smoke.$$.json"
rm -f "${out}"
"$1" --benchmark_min_time=0.01 --benchmark_out="${out}" \
  --benchmark_out_format=json "${@:2}" >"${tmp}/smoke.$$.stdout" 2>&1 || {
  rc=$?
  cat "${tmp}/smoke.$$.stdout" >&2
  echo "smoke: $1 exited with ${rc}" >&2
  exit 1
}
runs=0
[[ -s "${out}" ]] && runs="$(grep -c '^ *"name": ' "${out}" || true)"
if [[ "${runs}" == 0 ]]; then
  cat "${tmp}/smoke.$$.stdout" >&2
  echo "smoke: $1 ran no benchmark" >&2
  exit 1
fi
if grep -q '"error_occurred": true' "${out}"; then
  grep -B3 -A2 '"error_occurred": true' "${out}" >&2
  echo "smoke: a benchmark of $1 reported an error" >&2
  exit 1
fi
echo "smoke: ${runs} benchmark runs of $1, no errors"
