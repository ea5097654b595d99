#!/usr/bin/env bash
# make run: set up what is missing, load the demo community once, serve on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

scripts/ensure_venv.sh run
mkdir -p var
say "applying database migrations"
.venv/bin/python manage.py migrate --no-input -v0
# The embedded database holds personal data: readable by this user only (WAL files too).
chmod 600 var/cercollettiva.sqlite3* 2>/dev/null || true
say "loading the demo community (only the first time)"
.venv/bin/python manage.py load_demo
# Background tasks: a loopback Redis with its data under var/redis, one Celery worker and
# the beat scheduler (docs/tasks.md); all stop with the web server on Ctrl-C.
command -v redis-server >/dev/null || apt_install redis-server
export TASKS_ON_CELERY=true REDIS_URL="redis://127.0.0.1:${REDIS_PORT:-6379}/0"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
mkdir -p var/redis && chmod 700 var/redis
if python3 -c "import socket; socket.create_connection(('127.0.0.1', ${REDIS_PORT:-6379}), 0.5)" 2>/dev/null; then
  say "using the Redis already listening on 127.0.0.1:${REDIS_PORT:-6379}"
else
  say "starting Redis on 127.0.0.1:${REDIS_PORT:-6379} (data in var/redis)"
  redis-server --bind 127.0.0.1 --port "${REDIS_PORT:-6379}" --dir "$PWD/var/redis" \
    --appendonly yes --logfile "$PWD/var/redis/redis.log" &
  pids+=($!)
fi
say "starting a task worker and the scheduler (settlements, notifications, alerts, backups)"
.venv/bin/celery -A config worker --concurrency 1 --loglevel INFO >>var/worker.log 2>&1 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO >>var/beat.log 2>&1 &
pids+=($!)
say "serving CerCollettiva on http://127.0.0.1:${PORT:-8000}/ (Ctrl-C to stop)"
.venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
