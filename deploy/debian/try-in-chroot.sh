#!/bin/bash
# Try the Debian installation on a fresh Debian 12, as root, by hand (not in `make test`):
#
#   sudo bash deploy/debian/try-in-chroot.sh [CHROOT_DIR]     (default /var/tmp/cer-chroot)
#
# Builds a bookworm chroot with debootstrap, copies the committed code into it (git
# archive HEAD: commit what you want tried), then runs install.sh, install.sh again
# (nothing may change: secrets, certificates), upgrade.sh, and checks the result:
# `check --deploy` through cercollettiva-manage, `systemd-analyze verify` on the installed
# units, `nginx -t`. No systemd runs in a chroot, so the units are not started: their
# ExecStart lines are run by hand, as the service user with the installed environment,
# until /healthz answers 200 with every part ok, directly and through nginx's TLS.
# At the end, also on failure, every process of the chroot is stopped, everything is
# unmounted and the chroot deleted (CER_KEEP_CHROOT=1 keeps the files for a look).
#
# About 6 minutes on two cores with a fast mirror: debootstrap 1, first install 3 (Debian
# packages, then the Python dependencies from PyPI), second install and upgrade under a
# half each, the processes about 1 (the worker's first heartbeat).
# Needs: debootstrap, git, the network (deb.debian.org, pypi.org), and free loopback ports:
# the chroot shares this machine's network, so its PostgreSQL, Redis, Mosquitto, gunicorn
# and nginx listen where they would on a server. Behind a proxy that re-signs TLS, set
# PIP_CERT to its CA bundle: it is copied into the chroot for pip.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=${1:-/var/tmp/cer-chroot}
MIRROR=${CER_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DOMAIN=cer.example.test
LOGS=${CER_TRY_LOGS:-/var/tmp/cer-try-logs}
PORTS=(80 443 1883 5432 6379 8001 8883)
MOUNTS=(proc sys dev dev/pts dev/shm)

say() { printf '\033[1m[try]\033[0m %s\n' "$*"; }
die() { printf '[try] FAILED: %s\n' "$*" >&2; exit 1; }
timings=()
timed() { # timed LABEL COMMAND...: run it, remember how long it took
  local label=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$(printf '%-34s %4d s' "$label" $((SECONDS - start)))")
}

[ "$(id -u)" -eq 0 ] || die "run as root"
command -v debootstrap >/dev/null || die "apt-get install debootstrap"
[ ! -e "$C" ] || die "$C exists: remove it or name another folder"
for port in "${PORTS[@]}"; do
  # bash's /dev/tcp: a connection that succeeds means someone listens there already.
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is in use: the chroot's services need it"
  fi
done
mkdir -p "$LOGS"

# Processes are found by their root folder: anything started inside, by a script or
# by a package, has the chroot as its root.
chroot_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$C" ] && echo "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local status=$? pids m left
  trap - EXIT INT TERM
  say "cleaning up"
  pids=$(chroot_pids)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086 # one pid per word
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 30); do
      [ -z "$(chroot_pids)" ] && break
      sleep 1
    done
    pids=$(chroot_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    m=$C/${MOUNTS[i]}
    if mountpoint -q "$m"; then umount "$m" || umount -l "$m"; fi
  done
  left=$(awk -v c="$C/" 'index($2, c) == 1 { print $2 }' /proc/mounts)
  if [ -n "$left" ]; then
    # Never delete a tree with /dev or /proc still mounted in it.
    printf '[try] still mounted, chroot left in place:\n%s\n' "$left" >&2
    status=1
  elif [ "${CER_KEEP_CHROOT:-0}" = 1 ]; then
    say "chroot kept in $C (no process, nothing mounted)"
  elif [ -d "$C" ]; then
    rm -rf --one-file-system "$C"
  fi
  if [ "$status" = 0 ]; then say "all checks passed"; else say "failed (logs in $LOGS)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A clean environment inside, as a root login on the server would have.
pip_cert=()
if [ -n "${PIP_CERT:-}" ]; then pip_cert=(PIP_CERT=/root/pip-ca.crt); fi
in_chroot() {
  chroot "$C" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb "${pip_cert[@]}" "$@"
}

# --- the fresh system --------------------------------------------------------------------
make_chroot() {
  # The default variant installs Debian's "required" and "important" packages: what the
  # installer puts on a server when no task is chosen (adduser among them, curl not).
  debootstrap bookworm "$C" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 ||
    die "debootstrap (see $LOGS/debootstrap.log)"
  # As in Debian's own chroots and images: packages must not start daemons while they
  # install (here they would take this machine's ports); the scripts start what they need.
  printf '#!/bin/sh\nexit 101\n' >"$C/usr/sbin/policy-rc.d"
  chmod 0755 "$C/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$C/etc/resolv.conf"
  if [ -n "${PIP_CERT:-}" ]; then cp "$PIP_CERT" "$C/root/pip-ca.crt"; fi
  mount -t proc proc "$C/proc"
  mount -t sysfs sysfs "$C/sys"
  mount --bind /dev "$C/dev"
  mount --bind /dev/pts "$C/dev/pts"
  # PostgreSQL's shared memory; the bind of /dev does not carry the host's tmpfs.
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$C/dev/shm"
  mkdir -p "$C/root/src"
  git -C "$ROOT" archive HEAD | tar -x -C "$C/root/src"
}
say "debootstrap bookworm into $C"
timed "debootstrap" make_chroot

run_install() { # run_install LOG
  in_chroot env CER_DOMAIN=$DOMAIN bash /root/src/deploy/debian/install.sh /root/src >"$LOGS/$1" 2>&1 ||
    die "install.sh (see $LOGS/$1)"
  grep -q 'done without systemd' "$LOGS/$1" || die "install.sh did not reach its end"
}
fingerprint() { # what a second install must keep as it is
  in_chroot sh -c 'sha256sum /etc/cercollettiva/env /etc/mosquitto/cercollettiva/certs/*; stat -c "%a %U %n" /etc/cercollettiva/env'
}

say "install.sh, first run"
timed "install.sh, first run" run_install install-1.log
before=$(fingerprint)
grep -q '^600 root /etc/cercollettiva/env$' <<<"$before" || die "environment file not 0600 root: $before"

say "install.sh, second run"
timed "install.sh, second run" run_install install-2.log
[ "$(fingerprint)" = "$before" ] || die "the second install changed the secrets or the certificates"
grep -q 'No migrations to apply' "$LOGS/install-2.log" || die "second install: migrations expected to be done"

say "upgrade.sh"
upgrade() {
  in_chroot bash /root/src/deploy/debian/upgrade.sh /root/src >"$LOGS/upgrade.log" 2>&1 ||
    die "upgrade.sh (see $LOGS/upgrade.log)"
}
timed "upgrade.sh" upgrade
[ "$(fingerprint)" = "$before" ] || die "the upgrade changed the secrets or the certificates"
in_chroot sh -c 'ls /var/lib/cercollettiva/backups/*.dump.enc' >/dev/null || die "no encrypted backup"
releases=$(in_chroot sh -c 'ls -d /opt/cercollettiva/releases/*/ | wc -l')
[ "$releases" -eq 3 ] || die "expected the three newest releases, found $releases"

say "checks: check --deploy, systemd-analyze verify, nginx -t, MQTT over TLS"
in_chroot cercollettiva-manage check --deploy --fail-level WARNING >"$LOGS/check-deploy.log" 2>&1 ||
  die "check --deploy (see $LOGS/check-deploy.log)"
# Every installed unit, the template as its instance 1, on one line.
units=$(cd "$C/etc/systemd/system" && printf '%s\n' cercollettiva-* | sed 's/@\.service$/@1.service/' | tr '\n' ' ')
in_chroot sh -c "cd /etc/systemd/system && systemd-analyze verify $units" \
  >"$LOGS/systemd-analyze.log" 2>&1 || die "systemd-analyze verify (see $LOGS/systemd-analyze.log)"
[ ! -s "$LOGS/systemd-analyze.log" ] || die "systemd-analyze warned (see $LOGS/systemd-analyze.log)"
in_chroot nginx -t >"$LOGS/nginx-t.log" 2>&1 || die "nginx -t (see $LOGS/nginx-t.log)"
! grep -q '\[warn\]' "$LOGS/nginx-t.log" || die "nginx -t warned (see $LOGS/nginx-t.log)"
# The devices' side of the broker: TLS with a certificate the generated CA vouches for.
in_chroot openssl s_client -connect 127.0.0.1:8883 -verify_return_error -verify_hostname "$DOMAIN" \
  -CAfile /etc/mosquitto/cercollettiva/certs/ca.crt </dev/null >"$LOGS/mqtt-tls.log" 2>&1 ||
  die "MQTT over TLS (see $LOGS/mqtt-tls.log)"

# --- the processes, as their units would start them --------------------------------------
exec_start() { # the unit's ExecStart, continuation lines joined, instance 1
  awk '/^ExecStart=/ { on = 1; sub(/^ExecStart=/, "") }
       on { more = sub(/\\$/, ""); printf "%s ", $0; if (!more) exit }' \
    "$C/etc/systemd/system/$1" | sed 's/%i/1/g'
}
start_unit() { # start_unit UNIT: WorkingDirectory, UMask, EnvironmentFile and User as in the unit
  in_chroot bash -c "cd /opt/cercollettiva/app && umask 077 && set -a && . /etc/cercollettiva/env &&
    set +a && exec runuser -u cercollettiva -- $(exec_start "$1")" >"$LOGS/${1%%.*}.log" 2>&1 </dev/null &
}
healthy() {
  in_chroot curl -fsS -o /root/healthz.json http://127.0.0.1:8001/healthz 2>/dev/null
}
serve() {
  # install.sh started PostgreSQL and Mosquitto; Redis is started as its unit would be.
  in_chroot service redis-server start >"$LOGS/redis.log" 2>&1 || die "redis (see $LOGS/redis.log)"
  for unit in cercollettiva-web.service cercollettiva-worker.service \
    cercollettiva-beat.service cercollettiva-ingest@.service; do
    start_unit "$unit"
  done
  for _ in $(seq 60); do
    healthy && return 0
    sleep 3
  done
  in_chroot curl -s http://127.0.0.1:8001/healthz || true
  die "/healthz did not answer 200 within 3 minutes (logs of the processes in $LOGS)"
}
say "starting redis, gunicorn, celery worker and beat, ingest_mqtt; waiting for /healthz"
timed "processes up, /healthz 200" serve
in_chroot cat /root/healthz.json
echo

say "nginx in front: TLS with the snakeoil certificate, /metrics closed, HTTP to HTTPS"
in_chroot nginx
via_nginx() { # via_nginx SCHEME PATH: the status (and redirect) nginx answers for the domain
  in_chroot curl -sk -o /dev/null -w '%{http_code} %{redirect_url}' \
    --resolve "$DOMAIN:443:127.0.0.1" --resolve "$DOMAIN:80:127.0.0.1" "$1://$DOMAIN$2"
}
[ "$(via_nginx https /healthz)" = "200 " ] || die "https /healthz through nginx: $(via_nginx https /healthz)"
[ "$(via_nginx https /metrics)" = "404 " ] || die "https /metrics is open: $(via_nginx https /metrics)"
[ "$(via_nginx https /static/favicon.ico)" = "200 " ] || die "static files: $(via_nginx https /static/favicon.ico)"
[ "$(via_nginx http /)" = "301 https://$DOMAIN/" ] || die "http /: $(via_nginx http /)"
in_chroot nginx -s quit

say "timings"
printf '  %s\n' "${timings[@]}"
