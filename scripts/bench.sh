#!/usr/bin/env bash
# make bench: run every benchmark under bench/; each prints `bench: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/services.sh

scripts/ensure_venv.sh dev
trap stop_services EXIT
start_postgres
for bench in bench/bench_*.py; do
  say "$bench"
  .venv/bin/python "$bench"
done
