# shellcheck shell=bash
# Helpers sourced by scripts/run.sh and scripts/test.sh: install what is missing, run a
# private PostgreSQL 15 and a private Redis on loopback, start and stop server nodes.
# Every wait is bounded. Nothing here touches a system-wide Postgres or Redis.

REPO_ROOT="${REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
SERVER_DLL_DIR="$REPO_ROOT/server/Realtime.Server/bin/Release/net10.0"
SERVER_DLL="$SERVER_DLL_DIR/Realtime.Server.dll"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------- packages

# Installs postgresql-15, redis-server and curl when one of them is missing; silent otherwise.
ensure_packages() {
  local missing=()
  [[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] || missing+=(postgresql-15)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
  command -v curl >/dev/null || missing+=(curl)
  ((${#missing[@]} == 0)) && return 0
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  log "installing ${missing[*]} (apt-get)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [[ -x "$PG_BIN/initdb" ]] || die "postgresql-15 installed but $PG_BIN/initdb is missing"
}

# ---------------------------------------------------------------------------- postgres

# Runs a command as the postgres user when we are root (postgres refuses to run as root).
as_pg() {
  # From / because the caller's directory may be closed to postgres.
  if ((EUID == 0)); then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Prints the data directory to use for the wanted one. The postgres user must reach it;
# when it cannot (e.g. a checkout under /root), a directory under /var/tmp keyed by the
# wanted path is used instead, so reruns find the same cluster.
pg_resolve_dir() {
  local want="$1"
  mkdir -p "$(dirname "$want")"
  want="$(cd "$(dirname "$want")" && pwd)/$(basename "$want")"
  if ((EUID != 0)); then echo "$want"; return; fi
  mkdir -p "$want"
  chown postgres:postgres "$want"
  chmod 700 "$want"
  if as_pg test -r "$want" -a -w "$want" -a -x "$want"; then
    echo "$want"; return
  fi
  rmdir "$want" 2>/dev/null || true
  local alt
  alt="/var/tmp/realtime-$(printf '%s' "$want" | sha1sum | cut -c1-12)/$(basename "$want")"
  mkdir -p "$alt"
  chmod 755 "$(dirname "$alt")"
  chown postgres:postgres "$alt"
  chmod 700 "$alt"
  log "postgres cannot reach $want; using $alt"
  echo "$alt"
}

# The demo app as the load generators (bench/run.sh, bench/soak.sh) drive it: its Development
# secret, which they sign with, and no per-user rate limits (they measure throughput and delivery,
# not the limits). Node environment entries for node_start.
DEMO_APP_UNLIMITED=(Realtime__Apps__demo__Secret=realtime-demo-development-secret-0001)
for _rate_class in Messages Creates Writes Reads Rest; do
  DEMO_APP_UNLIMITED+=("Realtime__Apps__demo__RateLimits__${_rate_class}PerSecond=0")
done
unset _rate_class

pg_running() { as_pg "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" -U postgres -d postgres -t 2; }

# Port of the postmaster currently running on a data dir (line 4 of postmaster.pid).
pg_running_port() { sed -n 4p "$1/postmaster.pid" 2>/dev/null; }

# pg_start DIR PORT [test]
# Starts (or reuses) a private PostgreSQL 15 cluster listening on 127.0.0.1:PORT only, with
# trust auth for 127.0.0.1 and no unix socket. Creates the cluster when DIR is empty; reuses
# it otherwise. In "test" mode durability is off (fsync etc.) and an instance still running on
# DIR is restarted so this run owns it; otherwise an instance already running on DIR and PORT
# is reused and left running at the end (PG_REUSED=1).
# Sets PG_DIR (the real data dir) and PG_PORT.
pg_start() {
  local want="$1" port="$2" mode="${3:-dev}" dir
  dir="$(pg_resolve_dir "$want")"
  # shellcheck disable=SC2034  # PG_PORT is for callers
  PG_DIR="$dir" PG_PORT="$port" PG_REUSED=0

  if [[ ! -f "$dir/PG_VERSION" ]]; then
    [[ -z "$(ls -A "$dir")" ]] || die "$dir is neither empty nor a PostgreSQL cluster; remove it"
    log "initdb $dir"
    as_pg "$PG_BIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log" >&2; die "initdb failed"; }
    # Only 127.0.0.1 is trusted; there is no socket and no other address to reach.
    printf '%s\n' '# managed by scripts/lib.sh' 'host all all 127.0.0.1/32 trust' >"$dir/pg_hba.conf"
    echo "include_if_exists = 'realtime.conf'" >>"$dir/postgresql.conf"
  fi
  [[ "$(cat "$dir/PG_VERSION")" == 15 ]] || die "$dir holds a PostgreSQL $(cat "$dir/PG_VERSION") cluster, not 15"

  if pg_running "$dir"; then
    if [[ "$mode" != test && "$(pg_running_port "$dir")" == "$port" ]] && pg_ready "$port"; then
      log "reusing PostgreSQL already running on $dir (127.0.0.1:$port)"
      PG_REUSED=1
      return 0
    fi
    log "stopping the PostgreSQL left running on $dir"
    pg_stop_dir "$dir"
  fi
  if pg_ready "$port"; then
    die "something else already answers as PostgreSQL on 127.0.0.1:$port"
  fi

  # Rewritten each start so the port and mode always match this call.
  {
    echo '# managed by scripts/lib.sh, rewritten at each start'
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = ''"
    echo "max_connections = 200"
    if [[ "$mode" == test ]]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >"$dir/realtime.conf"
  ((EUID == 0)) && chown postgres:postgres "$dir/realtime.conf" "$dir/pg_hba.conf"

  log "starting PostgreSQL 15 on 127.0.0.1:$port ($dir)"
  as_pg "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/postgres.log" -w -t 60 >/dev/null \
    || { tail -n 30 "$dir/postgres.log" >&2 || true; die "PostgreSQL did not start"; }
  local i
  for ((i = 0; i < 60; i++)); do
    pg_ready "$port" && return 0
    sleep 0.5
  done
  tail -n 30 "$dir/postgres.log" >&2 || true
  die "PostgreSQL on 127.0.0.1:$port did not accept connections within 30 s"
}

pg_stop_dir() {
  local dir="$1"
  pg_running "$dir" || return 0
  as_pg "$PG_BIN/pg_ctl" stop -D "$dir" -m fast -w -t 60 >/dev/null 2>&1 \
    || as_pg "$PG_BIN/pg_ctl" stop -D "$dir" -m immediate -w -t 30 >/dev/null 2>&1 \
    || log "warning: could not stop PostgreSQL on $dir"
}

# Stops the cluster pg_start started (not one it merely reused).
pg_stop() {
  [[ -n "${PG_DIR:-}" && "${PG_REUSED:-0}" == 0 ]] || return 0
  log "stopping PostgreSQL ($PG_DIR)"
  pg_stop_dir "$PG_DIR"
}

# psql as postgres on the private instance: pg_psql PORT [psql args...]
pg_psql() {
  local port="$1"; shift
  PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

pg_create_db() {
  local port="$1" db="$2"
  if [[ "$(pg_psql "$port" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]]; then
    log "creating database $db"
    pg_psql "$port" -c "CREATE DATABASE \"$db\""
  fi
}

pg_recreate_db() {
  local port="$1" db="$2"
  pg_psql "$port" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\""
}

# ---------------------------------------------------------------------------- redis

redis_ping() { [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == PONG ]]; }

# True when PID is alive and its command line contains PATTERN.
pid_matches() {
  local pid="$1" pattern="$2"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# redis_start DIR PORT [test]
# Starts a private redis-server on 127.0.0.1:PORT, daemonized, pidfile and log in DIR, no
# persistence. A redis left running from DIR is reused (dev) or restarted (test).
# Sets REDIS_DIR, REDIS_PORT, REDIS_REUSED.
redis_start() {
  local dir="$1" port="$2" mode="${3:-dev}" pid
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  REDIS_DIR="$dir" REDIS_PORT="$port" REDIS_REUSED=0
  pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
  if pid_matches "$pid" redis-server; then
    if [[ "$mode" != test ]] && redis_ping "$port" && pid_matches "$pid" ":$port"; then
      log "reusing redis-server already running on 127.0.0.1:$port"
      REDIS_REUSED=1
      return 0
    fi
    log "stopping the redis-server left running from $dir"
    redis_stop_pid "$pid"
  fi
  redis_ping "$port" && die "something else already answers as Redis on 127.0.0.1:$port"

  log "starting redis-server on 127.0.0.1:$port"
  rm -f "$dir/redis.pid"
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    || die "redis-server did not start"
  local i
  for ((i = 0; i < 60; i++)); do
    redis_ping "$port" && return 0
    sleep 0.25
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  die "redis-server on 127.0.0.1:$port did not answer PING within 15 s"
}

redis_stop_pid() {
  local pid="$1" i
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  kill -9 "$pid" 2>/dev/null || true
}

# Stops the redis-server redis_start started (not one it merely reused).
redis_stop() {
  [[ -n "${REDIS_DIR:-}" && "${REDIS_REUSED:-0}" == 0 ]] || return 0
  local pid
  pid="$(cat "$REDIS_DIR/redis.pid" 2>/dev/null || true)"
  pid_matches "$pid" redis-server || return 0
  log "stopping redis-server (127.0.0.1:$REDIS_PORT)"
  redis_stop_pid "$pid"
}

# redis_cluster_start DIR BASEPORT
# Starts a private Redis Cluster on 127.0.0.1: three masters on BASEPORT..BASEPORT+2 and one
# replica each on BASEPORT+3..BASEPORT+5, their cluster-bus ports on BASEPORT+10..BASEPORT+15
# (Redis' default, port+10000, would fall in the ephemeral range, where any outgoing connection
# may hold it), no persistence, each node's files in DIR/PORT. Always a fresh cluster (the test
# command's mode). Sets REDIS_CLUSTER_DIR and REDIS_CLUSTER_PORTS.
redis_cluster_start() {
  local dir="$1" base="$2" port i
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  REDIS_CLUSTER_DIR="$dir"
  REDIS_CLUSTER_PORTS=()
  redis_cluster_stop
  for ((i = 0; i < 6; i++)); do
    port=$((base + i))
    REDIS_CLUSTER_PORTS+=("$port")
    redis_ping "$port" && die "something else already answers as Redis on 127.0.0.1:$port"
    rm -rf "${dir:?}/$port" && mkdir -p "$dir/$port"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
      --cluster-enabled yes --cluster-port "$((base + 10 + i))" --cluster-config-file "$dir/$port/nodes.conf" --cluster-node-timeout 2000 \
      --daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" --dir "$dir/$port" \
      || die "redis-server (cluster node $port) did not start"
  done
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    for ((i = 0; i < 60; i++)); do
      redis_ping "$port" && break
      sleep 0.25
    done
    redis_ping "$port" || { tail -n 20 "$dir/$port/redis.log" >&2; die "cluster node 127.0.0.1:$port did not answer PING within 15 s"; }
  done
  log "creating Redis Cluster on 127.0.0.1:${REDIS_CLUSTER_PORTS[0]}-${REDIS_CLUSTER_PORTS[5]} (3 masters, 3 replicas)"
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${REDIS_CLUSTER_PORTS[@]}") --cluster-replicas 1 --cluster-yes \
    >"$dir/create.log" 2>&1 || { tail -n 20 "$dir/create.log" >&2; die "redis-cli --cluster create failed"; }
  # Every node must agree that all slots are served and every replica is attached before tests start.
  for ((i = 0; i < 120; i++)); do
    if redis_cluster_settled; then return 0; fi
    sleep 0.25
  done
  die "Redis Cluster did not settle within 30 s"
}

redis_cluster_settled() {
  local port
  for port in "${REDIS_CLUSTER_PORTS[@]}"; do
    redis-cli -h 127.0.0.1 -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  [[ "$(redis-cli -h 127.0.0.1 -p "${REDIS_CLUSTER_PORTS[0]}" cluster nodes 2>/dev/null | grep -c 'slave.*connected')" == 3 ]]
}

# Stops every cluster node started from REDIS_CLUSTER_DIR (also ones left by an earlier run).
redis_cluster_stop() {
  [[ -n "${REDIS_CLUSTER_DIR:-}" ]] || return 0
  local pidfile pid
  for pidfile in "$REDIS_CLUSTER_DIR"/*/redis.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    pid_matches "$pid" redis-server && redis_stop_pid "$pid"
    rm -f "$pidfile"
  done
}

# ---------------------------------------------------------------------------- server nodes

build_release() {
  log "dotnet build Realtime.sln -c Release"
  (cd "$REPO_ROOT" && dotnet build Realtime.sln -c Release -nologo -v minimal)
}

# node_start PIDFILE LOGFILE|- PORT NODE_ID [NAME=VALUE...]
# Starts the Release build of the server in the background with its output directory as
# working directory (so appsettings*.json are found). The extra NAME=VALUE pairs are added to
# the environment. A node left running from the same pidfile is stopped first.
# Prints nothing; the pid is written to PIDFILE.
node_start() {
  local pidfile="$1" logfile="$2" port="$3" node_id="$4"; shift 4
  [[ -f "$SERVER_DLL" ]] || die "$SERVER_DLL not found: build first"
  local old
  old="$(cat "$pidfile" 2>/dev/null || true)"
  if pid_matches "$old" Realtime.Server; then
    log "stopping $node_id left running from a previous run (pid $old)"
    node_stop_pid "$old"
  fi
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null; then
    die "port $port is already served by something else"
  fi
  mkdir -p "$(dirname "$pidfile")"
  (
    cd "$SERVER_DLL_DIR" || exit 1
    export ASPNETCORE_URLS="http://127.0.0.1:$port" Realtime__NodeId="$node_id"
    local kv
    for kv in "$@"; do export "${kv?}"; done
    if [[ "$logfile" == - ]]; then
      # Prefix each line with the node id; exec keeps the pid that of dotnet.
      exec dotnet "$SERVER_DLL" > >(sed -u "s/^/[$node_id] /") 2>&1
    else
      exec dotnet "$SERVER_DLL" >"$logfile" 2>&1
    fi
  ) &
  echo $! >"$pidfile"
}

node_stop_pid() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do     # 25 s: longer than the server's own 20 s ShutdownTimeout
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  log "node pid $pid did not stop in 15 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

node_stop() {
  local pidfile="$1" pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if pid_matches "$pid" Realtime.Server; then node_stop_pid "$pid"; fi
  rm -f "$pidfile"
}

# wait_ready URL SECONDS [PID]: polls URL/readyz until 200; fails early on 404 or when PID
# exits.
wait_ready() {
  local url="$1" seconds="$2" pid="${3:-}" deadline
  deadline=$((SECONDS + seconds))
  local code
  while ((SECONDS < deadline)); do
    code="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "$url/readyz" 2>/dev/null)"
    [[ "$code" == 200 ]] && return 0
    if [[ "$code" == 404 ]]; then
      log "$url/readyz answers 404: this server has no readiness endpoint"
      return 1
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "the node for $url exited before it was ready"
      return 1
    fi
    sleep 0.5
  done
  log "$url/readyz did not answer 200 within $seconds s"
  return 1
}

# Stops whatever a script started (nodes whose pidfiles are in NODE_PIDFILES, and the
# PostgreSQL and Redis started by pg_start/redis_start) when it exits, however it exits.
NODE_PIDFILES=()
stop_on_exit() {
  trap _stop_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
_stop_all() {
  trap - EXIT INT TERM
  local pidfile
  for pidfile in "${NODE_PIDFILES[@]}"; do node_stop "$pidfile"; done
  pg_standby_stop
  pg_stop
  redis_stop
  redis_cluster_stop
}

# ---------------------------------------------------------------------------- streaming standby

# pg_allow_replication DIR PORT
# Lets 127.0.0.1 stream WAL from the cluster pg_start runs on DIR (127.0.0.1:PORT): a replication
# line in pg_hba.conf, WAL kept for a standby that stops for a while, and (its durability being
# off in test mode) asynchronous commits written out every 10 ms rather than 200, so a standby
# is not needlessly behind. wal_level and max_wal_senders keep PostgreSQL 15's defaults (replica, 10).
pg_allow_replication() {
  local dir="$1" port="$2"
  if ! grep -q '^host replication all 127.0.0.1/32 trust' "$dir/pg_hba.conf"; then
    echo 'host replication all 127.0.0.1/32 trust' >>"$dir/pg_hba.conf"
  fi
  [[ "$(pg_psql "$port" -tAc 'SHOW wal_level')" != minimal ]] || die "wal_level is minimal on 127.0.0.1:$port: a standby needs replica"
  pg_psql "$port" -c "ALTER SYSTEM SET wal_keep_size = '512MB'" -c "ALTER SYSTEM SET wal_writer_delay = '10ms'" \
    -c "SELECT pg_reload_conf()" >/dev/null
}

# pg_standby_start PRIMARY_PORT DIR PORT
# A hot standby of the primary on 127.0.0.1:PRIMARY_PORT, streaming on 127.0.0.1:PORT, made
# fresh each time (pg_basebackup -R into DIR); a standby left running on DIR is stopped first.
# Sets STANDBY_DIR (the real data dir) and STANDBY_PORT; pg_standby_stop (and _stop_all) stop it.
pg_standby_start() {
  local primary_port="$1" want="$2" port="$3" dir
  dir="$(pg_resolve_dir "$want")"
  pg_stop_dir "$dir"
  pg_ready "$port" && die "something else already answers as PostgreSQL on 127.0.0.1:$port"
  find "$dir" -mindepth 1 -delete
  log "pg_basebackup of 127.0.0.1:$primary_port into $dir"
  as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir" -R -X stream -c fast \
    >"$dir.basebackup.log" 2>&1 || { cat "$dir.basebackup.log" >&2; die "pg_basebackup failed"; }
  # The copy holds the primary's realtime.conf (its port); this one is the standby's.
  {
    echo '# managed by scripts/lib.sh (pg_standby_start)'
    echo "port = $port"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = ''"
    echo "max_connections = 200"
    echo "hot_standby = on"
    echo "hot_standby_feedback = on"
    echo "fsync = off"
  } >"$dir/realtime.conf"
  ((EUID == 0)) && chown postgres:postgres "$dir/realtime.conf"
  # shellcheck disable=SC2034  # STANDBY_PORT is for callers
  STANDBY_DIR="$dir" STANDBY_PORT="$port"
  log "starting the standby on 127.0.0.1:$port ($dir)"
  as_pg "$PG_BIN/pg_ctl" start -D "$dir" -l "$dir/postgres.log" -w -t 60 >/dev/null \
    || { tail -n 30 "$dir/postgres.log" >&2 || true; die "the standby did not start"; }
  local i
  for ((i = 0; i < 60; i++)); do
    if pg_ready "$port" && [[ "$(pg_psql "$port" -tAc "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" == streaming ]]; then
      return 0
    fi
    sleep 0.5
  done
  tail -n 30 "$dir/postgres.log" >&2 || true
  die "the standby on 127.0.0.1:$port is not streaming within 30 s"
}

pg_standby_stop() {
  [[ -n "${STANDBY_DIR:-}" ]] || return 0
  log "stopping the standby ($STANDBY_DIR)"
  pg_stop_dir "$STANDBY_DIR"
}
