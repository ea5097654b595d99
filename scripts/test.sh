#!/usr/bin/env bash
# make test: install what the tests need, start PostgreSQL, Mosquitto and Redis on loopback,
# run the whole suite on PostgreSQL, then a smoke run of migrations and demo on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
. scripts/services.sh

scripts/ensure_venv.sh dev
# Browser tests drive Debian's Chromium through Playwright (no browser download).
command -v chromium >/dev/null || apt_install chromium
# Statement PDFs are rendered and read back with poppler's pdftoppm and pdftotext.
command -v pdftotext >/dev/null || apt_install poppler-utils
# SAML messages (SPID) are signed and verified by xmlsec1, which pysaml2 calls.
command -v xmlsec1 >/dev/null || apt_install xmlsec1
export CHROMIUM_PATH
CHROMIUM_PATH=$(command -v chromium)
trap stop_services EXIT
start_postgres
start_mosquitto
start_redis

say "lint: cercalc must not import Django; ruff; mypy"
.venv/bin/python scripts/check_cercalc_pure.py
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy cercalc cer config

# Tests spend much of their time waiting on PostgreSQL, Chromium and the broker, so
# more workers than cores still pay; each worker gets its own test database, and the
# modules listed in SAME_WORKER of tests/conftest.py run on one worker.
say "test suite on PostgreSQL"
.venv/bin/python -m pytest -n "${TEST_WORKERS:-3}" "$@"

say "smoke run on SQLite: migrations and demo loader, twice (the second must add nothing)"
smoke=$(mktemp -d)
DATABASE_URL="sqlite:///$smoke/smoke.sqlite3" .venv/bin/python manage.py migrate --no-input -v0
DATABASE_URL="sqlite:///$smoke/smoke.sqlite3" .venv/bin/python manage.py load_demo
DATABASE_URL="sqlite:///$smoke/smoke.sqlite3" .venv/bin/python manage.py load_demo
say "production settings pass Django's deployment checks"
DATABASE_URL="sqlite:///$smoke/smoke.sqlite3" DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=cer.example.org \
  DJANGO_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  FIELD_ENCRYPTION_KEYS="$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
  .venv/bin/python manage.py check --deploy --fail-level WARNING
rm -rf "$smoke"
say "all green"
