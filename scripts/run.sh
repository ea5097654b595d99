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
say "starting the scheduler (notifications, checks, alerts) beside the web server"
.venv/bin/python manage.py run_periodic >>var/periodic.log 2>&1 &
scheduler=$!
trap 'kill "$scheduler" 2>/dev/null || true' EXIT
say "serving CerCollettiva on http://127.0.0.1:${PORT:-8000}/ (Ctrl-C to stop)"
.venv/bin/python manage.py runserver "127.0.0.1:${PORT:-8000}"
