# Start and stop throw-away PostgreSQL and Mosquitto servers for the test suite.
# Source it after lib.sh; call start_postgres / start_mosquitto, and stop_services on exit.
# shellcheck shell=bash

SERVICES_DIR=""

_services_dir() {
  if [ -z "$SERVICES_DIR" ]; then
    SERVICES_DIR=$(mktemp -d /tmp/cercollettiva-test.XXXXXX)
    chmod 755 "$SERVICES_DIR"
  fi
}

# PostgreSQL refuses to run as root: run its tools as the postgres user then.
_as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bindir" ]; then
    apt_install postgresql
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  _services_dir
  local data="$SERVICES_DIR/pgdata" port
  port=$(free_port)
  mkdir -p "$data"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$data"
  _as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  # Tuned for a throw-away test server: durability off, speed on.
  _as_pg "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -o \
    "-p $port -c listen_addresses=127.0.0.1 -k $data -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null
  PG_BINDIR="$bindir"
  PG_DATA="$data"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/cercollettiva"
  say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_mosquitto() {
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
  _services_dir
  local conf="$SERVICES_DIR/mosquitto.conf" port
  port=$(free_port)
  cat >"$conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $SERVICES_DIR/mosquitto.log
CONF
  chmod 644 "$conf"
  touch "$SERVICES_DIR/mosquitto.log" && chmod 666 "$SERVICES_DIR/mosquitto.log"
  /usr/sbin/mosquitto -c "$conf" -d
  MOSQUITTO_CONF="$conf"
  export MQTT_HOST=127.0.0.1 MQTT_PORT="$port"
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
  say "Mosquitto on 127.0.0.1:$port"
}

stop_services() {
  if [ -n "${PG_DATA:-}" ]; then
    _as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${MOSQUITTO_CONF:-}" ]; then
    pkill -f "mosquitto -c $MOSQUITTO_CONF" 2>/dev/null || true
  fi
  [ -n "$SERVICES_DIR" ] && rm -rf "$SERVICES_DIR"
  return 0
}
