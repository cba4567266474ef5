#!/usr/bin/env bash
# The benchmark smoke test fails when it should: a benchmark that reports an
# error, a filter that matches nothing and a binary that exits non-zero each
# fail it; a healthy run passes.
#   smoke_test_test.sh <smoke_test.sh> <smoke_probe_benchmark>
set -uo pipefail
smoke="$1"
probe="$2"
failures=0
expect() {  # expect <pass|fail> <description> <command...>
  local want="$1" what="$2"
  shift 2
  if "$@" >/dev/null 2>&1; then got=pass; else got=fail; fi
  if [[ "${got}" != "${want}" ]]; then
    echo "FAIL: ${what}: the smoke test would ${got}, expected ${want}" >&2
    failures=$((failures + 1))
  else
    echo "ok: ${what} -> ${got}"
  fi
}
expect pass "a healthy benchmark" "${smoke}" "${probe}"
expect fail "a benchmark that reports an error" \
  env SMOKE_PROBE=error "${smoke}" "${probe}"
expect fail "a filter that matches nothing" \
  "${smoke}" "${probe}" --benchmark_filter=NoSuchBenchmark
expect fail "a binary that exits non-zero" "${smoke}" /bin/false
exit "${failures}"
