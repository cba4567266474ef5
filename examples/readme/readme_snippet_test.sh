#!/usr/bin/env bash
# The README's server snippet must be readme_server.cc's lines between the
# snippet markers (indentation of main's body removed), so what users copy
# is what readme_server_test compiles and runs.
set -euo pipefail
readme="$1"
source_file="$2"
snippet="$(sed -n '/\[readme-snippet-begin\]/,/\[readme-snippet-end\]/p' \
  "${source_file}" | sed '1d;$d' | sed 's/^  //')"
if [[ -z "${snippet}" ]]; then
  echo "no snippet markers in ${source_file}" >&2
  exit 1
fi
# Compare as whole blocks: the snippet must appear verbatim in the README.
python3 - "${readme}" "${snippet}" <<'PY'
import sys
readme = open(sys.argv[1], encoding="utf-8").read()
snippet = sys.argv[2]
if snippet not in readme:
    print("README.md does not contain readme_server.cc's snippet:\n" + snippet)
    sys.exit(1)
print("README snippet matches readme_server.cc")
PY
