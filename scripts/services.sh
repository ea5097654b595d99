# Start and stop throw-away PostgreSQL, Mosquitto and Redis servers for the test suite.
# Source it after lib.sh; call start_postgres / start_mosquitto / start_redis, and
# stop_services on exit.
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
  # The newest major version installed (the glob stays unexpanded when there is none).
  bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ ! -d "$bindir" ]; then
    apt_install postgresql
    bindir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
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

# The dynamic-security plugin ships with Debian's mosquitto; its path depends on the architecture.
_dynsec_plugin() {
  dpkg -L mosquitto 2>/dev/null | grep -m1 'mosquitto_dynamic_security\.so$' ||
    find /usr/lib -maxdepth 2 -name mosquitto_dynamic_security.so -print -quit
}

# A loopback broker with anonymous access off and device accounts managed through the
# dynamic-security plugin, as in production. Exports MQTT_HOST, MQTT_PORT, the admin
# account the platform manages accounts with, and the ingestion worker's account.
start_mosquitto() {
  command -v mosquitto_ctrl >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
  _services_dir
  local dir="$SERVICES_DIR/mosquitto" port plugin admin_pw ingest_pw
  port=$(free_port)
  plugin=$(_dynsec_plugin)
  admin_pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  ingest_pw=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
  mkdir -p "$dir"
  mosquitto_ctrl dynsec init "$dir/dynsec.json" cer-admin "$admin_pw" >/dev/null
  cat >"$dir/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous false
listener $port 127.0.0.1
plugin $plugin
plugin_opt_config_file $dir/dynsec.json
persistence false
pid_file $dir/mosquitto.pid
log_dest file $dir/mosquitto.log
# The ingestion worker acknowledges after its database commit: let it hold a full
# batch in flight, and queue everything for it while it restarts.
max_inflight_messages 5000
max_queued_messages 0
CONF
  touch "$dir/mosquitto.log"
  # Run as root, mosquitto drops to the mosquitto user: it must write its state file
  # (saved through a temporary file in the same folder), the log and the pid file.
  if [ "$(id -u)" -eq 0 ] && id mosquitto >/dev/null 2>&1; then
    chown -R mosquitto "$dir"
  fi
  chmod 700 "$dir"
  chmod 600 "$dir/dynsec.json"
  /usr/sbin/mosquitto -c "$dir/mosquitto.conf" -d
  MOSQUITTO_DIR="$dir"
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
  # The worker's account may subscribe to every device topic, alone or in a shared
  # subscription group ($share/<group>/cer/#), and publish nothing.
  local ctrl=(mosquitto_ctrl -h 127.0.0.1 -p "$port" -u cer-admin -P "$admin_pw" dynsec) step
  for step in "createRole cer-ingest" "addRoleACL cer-ingest subscribePattern cer/# allow" \
    "addRoleACL cer-ingest subscribePattern \$share/+/cer/# allow" \
    "createClient cer-ingest -p $ingest_pw" "addClientRole cer-ingest cer-ingest"; do
    # shellcheck disable=SC2086 # the step is split into arguments on purpose
    "${ctrl[@]}" $step >/dev/null 2>&1 || { say "mosquitto_ctrl failed: ${step%% -p *}"; return 1; }
  done
  export MQTT_HOST=127.0.0.1 MQTT_PORT="$port"
  export MQTT_ADMIN_USER=cer-admin MQTT_ADMIN_PASSWORD="$admin_pw"
  export MQTT_INGEST_USER=cer-ingest MQTT_INGEST_PASSWORD="$ingest_pw"
  say "Mosquitto $(/usr/sbin/mosquitto -h | awk 'NR==1 {print $3}') with dynamic security on 127.0.0.1:$port"
}

# A loopback Redis for the Celery tests: its own port, no password, data in the temporary
# folder (nothing saved to disk). Exports REDIS_URL.
start_redis() {
  command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || apt_install redis-server
  _services_dir
  local dir="$SERVICES_DIR/redis" port
  port=$(free_port)
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save "" --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
  REDIS_DIR="$dir"
  for _ in $(seq 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
  done
  export REDIS_URL="redis://127.0.0.1:$port/0"
  say "Redis $(redis-server --version | awk '{print $3}' | cut -d= -f2) on 127.0.0.1:$port"
}

stop_services() {
  if [ -n "${REDIS_DIR:-}" ]; then
    for _ in $(seq 20); do [ -s "$REDIS_DIR/redis.pid" ] && break; sleep 0.1; done
    [ -s "$REDIS_DIR/redis.pid" ] && kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
  fi
  if [ -n "${PG_DATA:-}" ]; then
    _as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${MOSQUITTO_DIR:-}" ] && [ -s "$MOSQUITTO_DIR/mosquitto.pid" ]; then
    kill "$(cat "$MOSQUITTO_DIR/mosquitto.pid")" 2>/dev/null || true
  fi
  [ -n "$SERVICES_DIR" ] && rm -rf "$SERVICES_DIR"
  return 0
}
