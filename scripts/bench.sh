#!/usr/bin/env bash
# make bench: run every benchmark under bench/; each prints `bench: NAME VALUE UNIT` lines.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/services.sh

scripts/ensure_venv.sh dev
trap stop_services EXIT
start_postgres
# bench/bench_tasks.py settles through Celery workers on this Redis.
start_redis
failed=""
for bench in bench/bench_*.py; do
  say "$bench"
  .venv/bin/python "$bench" || failed="$failed $bench"
done
# One broken benchmark must not hide the figures of the others.
[ -z "$failed" ] || { say "failed:$failed"; exit 1; }
