#!/usr/bin/env bash
# Runs an example's demo binary as a test: it must exit 0.
set -euo pipefail
"$@"
