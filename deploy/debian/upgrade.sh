#!/bin/bash
# Upgrade an installation made by install.sh to the code in SOURCE_DIR, as root:
#
#   sudo bash deploy/debian/upgrade.sh [SOURCE_DIR] [--stop-first]
#
# Order: back up; copy the code into a new release and install its dependencies; run
# `migrate` and `collectstatic` while the old processes still serve; only then restart
# the web server and the workers on the new code. A migration that the running (old) code
# cannot live with for a minute (a column dropped or renamed) needs --stop-first: the
# processes are stopped before `migrate` and started after. The release notes say when.
# Rollback: point /opt/cercollettiva/app back at the previous folder in releases/ and
# restore the backup taken in step 1 (docs/deploy.md).
set -euo pipefail

# The flag may come alone (`upgrade.sh --stop-first`): it must not be taken for the source.
source_arg=
STOP_FIRST=0
for arg in "$@"; do
  case $arg in
    --stop-first) STOP_FIRST=1 ;;
    *) source_arg=$arg ;;
  esac
done
SOURCE=$(cd "${source_arg:-$(dirname "$0")/../..}" && pwd)
PREFIX=/opt/cercollettiva
DATA=/var/lib/cercollettiva
ENV_FILE=/etc/cercollettiva/env
SERVICES=(cercollettiva-web.service cercollettiva-beat.service
  cercollettiva-worker.service 'cercollettiva-ingest@*.service')

say() { printf '\033[1m[upgrade]\033[0m %s\n' "$*"; }
# As in install.sh: without systemd (a chroot, a bare container) the code, dependencies,
# schema and static files are upgraded and the units installed; nothing is restarted.
if [ -d /run/systemd/system ]; then HAVE_SYSTEMD=1; else HAVE_SYSTEMD=0; fi
[ "$(id -u)" -eq 0 ] || { echo "run as root" >&2; exit 1; }
[ -f "$ENV_FILE" ] || { echo "no $ENV_FILE: run install.sh first" >&2; exit 1; }

manage() {
  # shellcheck source=/dev/null # the environment file: settings, no code to follow
  (set -a && . "$ENV_FILE" && set +a && cd "$PREFIX/app" &&
    runuser -u cercollettiva -- "$PREFIX/venv/bin/python" manage.py "$@")
}

say "1. backup with the current code"
manage backup --encrypt

say "2. new release and its dependencies"
# shellcheck source=deploy/debian/release.sh
. "$SOURCE/deploy/debian/release.sh"
RELEASE=$(make_release "$SOURCE" "$PREFIX" "$DATA")
"$PREFIX/venv/bin/pip" install -q -c "$RELEASE/constraints.txt" "$RELEASE"
for unit in "$RELEASE"/deploy/debian/systemd/*; do install -m 0644 "$unit" /etc/systemd/system/; done
# The wrapper comes with the code, as install.sh puts it there.
install -m 0755 "$RELEASE/deploy/debian/cercollettiva-manage" /usr/local/bin/cercollettiva-manage
[ "$HAVE_SYSTEMD" = 0 ] || systemctl daemon-reload

if [ "$STOP_FIRST" = 1 ] && [ "$HAVE_SYSTEMD" = 1 ]; then
  say "stopping the web server and the workers (--stop-first)"
  systemctl stop "${SERVICES[@]}"
fi

say "3. migrate and collectstatic BEFORE the new code serves"
manage migrate --noinput
manage collectstatic --noinput -v 0
manage check --deploy --fail-level ERROR

if [ "$HAVE_SYSTEMD" = 0 ]; then
  say "done without systemd: nothing restarted; the processes must be started on the new code"
  exit 0
fi

say "4. restart on the new code"
# Workers first (they finish their batch or task on SIGTERM), then the web server.
systemctl restart cercollettiva-beat.service cercollettiva-worker.service
systemctl restart 'cercollettiva-ingest@*.service'
systemctl restart cercollettiva-web.service
for _ in $(seq 30); do
  if curl -fsS -o /dev/null http://127.0.0.1:8001/healthz; then
    say "healthy on $(readlink -f "$PREFIX/app")"
    exit 0
  fi
  sleep 2
done
say "not healthy after 60 s: curl -s http://127.0.0.1:8001/healthz says why"
curl -s http://127.0.0.1:8001/healthz || true
exit 1
