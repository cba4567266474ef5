#!/usr/bin/env bash
# Smoke test of an echo server under test and the load generator together:
# starts the server on a kernel-chosen loopback port, drives it briefly with
# loadgen (small frames, large frames, open loop, idle connections), stops it
# with SIGTERM and checks every exit status. Not a performance measurement.
#   smoke_echo.sh <server> <loadgen> [server flags...] [-- loadgen flags...]
set -euo pipefail

server="$1"
loadgen="$2"
shift 2
server_flags=()
while [[ $# -gt 0 && "$1" != "--" ]]; do server_flags+=("$1"); shift; done
[[ $# -gt 0 ]] && shift
loadgen_flags=("$@")
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
port_file="${tmp}/port.$$"
rm -f "${port_file}"

"${server}" --address=127.0.0.1:0 --port_file="${port_file}" ${server_flags[@]+"${server_flags[@]}"} &
pid=$!
trap 'kill -TERM "${pid}" 2>/dev/null || true' EXIT

for _ in $(seq 1 200); do
  [[ -s "${port_file}" ]] && break
  kill -0 "${pid}" 2>/dev/null || { echo "smoke: server exited early" >&2; exit 1; }
  sleep 0.05
done
[[ -s "${port_file}" ]] || { echo "smoke: no port file after 10 s" >&2; exit 1; }
address="127.0.0.1:$(cat "${port_file}")"

run() {
  echo "smoke: loadgen $*"
  "${loadgen}" --address="${address}" --progress=false \
    ${loadgen_flags[@]+"${loadgen_flags[@]}"} "$@"
}
run --connections=4 --depth=4 --payload=32 --seconds=0.5 --json="${tmp}/small.json"
grep -q '"error_total": 0' "${tmp}/small.json"
run --connections=2 --depth=3 --payload=20000 --seconds=0.3
run --connections=2 --depth=2 --payload=100 --seconds=0.3 --rate=2000
run --idle=50 --seconds=0.2

kill -TERM "${pid}"
trap - EXIT
if ! wait "${pid}"; then
  echo "smoke: server exited with an error" >&2
  exit 1
fi
echo "smoke: ok"
