#!/usr/bin/env bash
# Runs cluster_broadcast briefly in both modes; fails when it fails.
set -euo pipefail
"$1" --messages=500 --paced_messages=50 --receivers=3 --servers=2
