#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Run: builds Release and starts N server nodes on http://127.0.0.1:5080, 5081, ...
#
#   scripts/run.sh [--nodes N] [--port FIRST_PORT]
#
# Without ConnectionStrings__Postgres it starts a private PostgreSQL 15 (.data/pg,
# 127.0.0.1:25432, database "realtime"); with N > 1 and without ConnectionStrings__Redis a
# private Redis (127.0.0.1:26379). Given connection strings are used as they are and nothing
# is started for them. Nodes are node-1..node-N, in Development unless ASPNETCORE_ENVIRONMENT
# is set. In Development the nodes also serve the web sample at http://127.0.0.1:5080/ (sign in
# with a user name; it runs `npm ci` in client-samples/web first when needed).
#
# It then supervises the nodes: a node that exits (crash, kill -9, ...) is logged with its
# name, pid and exit status or signal, and the other nodes, PostgreSQL and Redis keep running.
# A dead node is not restarted. Ctrl-C or TERM to this script stops the nodes and whatever it
# started; so does the last node exiting, and the script then exits 1.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

usage() { sed -n '3,17s/^# \{0,1\}//p' "$0"; }

NODES=1
FIRST_PORT=5080
while (($#)); do
  case "$1" in
    --nodes) NODES="${2:?--nodes needs a number}"; shift 2 ;;
    --nodes=*) NODES="${1#*=}"; shift ;;
    --port) FIRST_PORT="${2:?--port needs a number}"; shift 2 ;;
    --port=*) FIRST_PORT="${1#*=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[[ "$NODES" =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive number, not '$NODES'"
[[ "$FIRST_PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, not '$FIRST_PORT'"
# The supervisor below needs `wait -n -p` (bash 5.1; Debian 12 has 5.2).
((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) \
  || die "bash 5.1 or later is needed, this is $BASH_VERSION"

DATA="$REPO_ROOT/.data"
RUN="$DATA/run"
# Fixed ports stay below 32768: ports of the ephemeral range can be held for a moment by
# any outgoing connection, and a server then fails to bind.
PG_PORT_RUN=25432
REDIS_PORT_RUN=26379
mkdir -p "$RUN"

# On any exit (like lib.sh's stop_on_exit, plus a log line for a signal): _stop_all stops the
# nodes in NODE_PIDFILES and the PostgreSQL and Redis this started; TICK is the supervisor's
# wake-up timer (see below).
TICK=""
on_exit() {
  if [[ -n "$TICK" ]]; then kill "$TICK" 2>/dev/null || true; fi
  _stop_all
}
trap on_exit EXIT
trap 'log "SIGINT: stopping everything"; exit 130' INT
trap 'log "SIGTERM: stopping everything"; exit 143' TERM

if [[ -z "${ConnectionStrings__Postgres:-}" ]]; then
  ensure_packages
  pg_start "$DATA/pg" "$PG_PORT_RUN"
  pg_create_db "$PG_PORT_RUN" realtime
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT_RUN;Username=postgres;Database=realtime"
else
  log "using the given ConnectionStrings__Postgres"
fi

if ((NODES > 1)); then
  if [[ -z "${ConnectionStrings__Redis:-}" ]]; then
    ensure_packages
    redis_start "$DATA/redis" "$REDIS_PORT_RUN"
    export ConnectionStrings__Redis="127.0.0.1:$REDIS_PORT_RUN"
  else
    log "using the given ConnectionStrings__Redis"
  fi
fi

export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"

# In Development the nodes serve the web sample (client-samples/web) with a sign-in that needs no
# token (server/Realtime.Server/DevSample): one URL to open. Its browser builds come from npm, fetched
# when missing or older than the lock file.
SAMPLE="$REPO_ROOT/client-samples/web"
if [[ "$ASPNETCORE_ENVIRONMENT" == Development ]]; then
  if [[ ! -f "$SAMPLE/node_modules/.package-lock.json" || "$SAMPLE/package-lock.json" -nt "$SAMPLE/node_modules/.package-lock.json" ]]; then
    command -v npm >/dev/null || die "npm is needed for the web sample's client builds (apt-get install npm)"
    log "npm ci (client-samples/web)"
    (cd "$SAMPLE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in client-samples/web failed"
  fi
  export Realtime__DevSample__Path="${Realtime__DevSample__Path:-$SAMPLE}"
fi

build_release

NODE_PIDS=()
for ((i = 1; i <= NODES; i++)); do
  port=$((FIRST_PORT + i - 1))
  pidfile="$RUN/node-$i.pid"
  NODE_PIDFILES+=("$pidfile")
  log "starting node-$i on http://127.0.0.1:$port"
  node_start "$pidfile" - "$port" "node-$i"
  NODE_PIDS+=("$(cat "$pidfile")")
done
for ((i = 1; i <= NODES; i++)); do
  wait_ready "http://127.0.0.1:$((FIRST_PORT + i - 1))" 90 "${NODE_PIDS[i - 1]}" \
    || die "node-$i did not become ready"
done

{
  echo
  echo "Realtime is running ($ASPNETCORE_ENVIRONMENT, $NODES node(s)):"
  for ((i = 1; i <= NODES; i++)); do
    echo "  node-$i  http://127.0.0.1:$((FIRST_PORT + i - 1))  (hub /hubs/groups, /healthz, /readyz)"
  done
  echo "  Postgres: $(sed -E 's/(Password|Pwd)=[^;]*/\1=***/Ig' <<<"$ConnectionStrings__Postgres")"
  [[ -n "${ConnectionStrings__Redis:-}" ]] && echo "  Redis:    ${ConnectionStrings__Redis}"
  echo
  if [[ "$ASPNETCORE_ENVIRONMENT" == Development ]]; then
    echo "Open http://127.0.0.1:$FIRST_PORT/ and sign in with any user name (alice in one window, bob in another)."
    echo
  fi
  echo "A token for user alice of the demo app (Development only):"
  echo "  (cd ${SERVER_DLL_DIR#"$REPO_ROOT"/} && ASPNETCORE_ENVIRONMENT=Development dotnet Realtime.Server.dll token --app demo --user alice)"
  echo "Connect: ws://127.0.0.1:$FIRST_PORT/hubs/groups?device=laptop&access_token=TOKEN"
  echo "A node that exits is logged and the others keep running. Ctrl-C stops everything."
  echo
} >&2

# ------------------------------------------------------------------ supervise
# A process supervisor for the nodes: a node that exits is logged and forgotten, and the
# other nodes, PostgreSQL and Redis keep running. Only a signal to this script (the INT and
# TERM traps above) or the last node exiting stops everything it started.
# A dead node is deliberately not restarted: its last log lines above show why it died,
# clients reconnect to the surviving nodes meanwhile, and a restart loop would hide a node
# that keeps crashing. Run the script again to get all N back.

declare -A NODE_OF_PID=()  # pid of a running node -> its number (1..N)
for ((i = 1; i <= NODES; i++)); do NODE_OF_PID[${NODE_PIDS[i - 1]}]=$i; done

# Logs and forgets every node whose process is gone. `kill -0` fails once the shell has
# reaped the process (it does so as soon as it exits), and `wait PID` still returns its status
# then, also when `wait -n` reaped it or bash already reported it as "Killed".
reap_dead_nodes() {
  local pid i rc how
  for pid in "${!NODE_OF_PID[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    i="${NODE_OF_PID[$pid]}"
    rc=0
    wait "$pid" 2>/dev/null || rc=$?
    if ((rc > 128)) && how="$(kill -l "$((rc - 128))" 2>/dev/null)"; then
      how="was killed by SIG$how (exit status $rc)"
    else
      how="exited with status $rc"
    fi
    unset "NODE_OF_PID[$pid]"
    # Forgotten for good: the exit trap must never signal whatever reuses this pid.
    rm -f "${NODE_PIDFILES[i - 1]}"
    log "node-$i (pid $pid, http://127.0.0.1:$((FIRST_PORT + i - 1))) $how; not restarted; ${#NODE_OF_PID[@]} of $NODES node(s) still running"
  done
}

while :; do
  reap_dead_nodes
  ((${#NODE_OF_PID[@]} > 0)) || break
  # Sleeps until a node exits, a signal arrives (its trap then runs) or TICK ends. TICK bounds
  # the wait: a node that dies by a signal while this shell is not inside `wait -n` (e.g. while
  # it waited for another node to become ready) is reported by bash as "Killed" and is no
  # longer a job `wait -n` can return; the next reap_dead_nodes still finds it.
  if [[ -z "$TICK" ]]; then
    sleep 5 &
    TICK=$!
  fi
  woke=""
  wait -n -p woke "${!NODE_OF_PID[@]}" "$TICK" 2>/dev/null || true
  if [[ "${woke:-}" == "$TICK" ]]; then TICK=""; fi
done
log "every node has exited; stopping"
exit 1
