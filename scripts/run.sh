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
# is set. Ctrl-C (or TERM, or any node exiting) stops the nodes and whatever this started.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

usage() { sed -n '3,12s/^# \{0,1\}//p' "$0"; }

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

DATA="$REPO_ROOT/.data"
RUN="$DATA/run"
# Fixed ports stay below 32768: ports of the ephemeral range can be held for a moment by
# any outgoing connection, and a server then fails to bind.
PG_PORT_RUN=25432
REDIS_PORT_RUN=26379
mkdir -p "$RUN"

stop_on_exit  # lib.sh: stops the nodes in NODE_PIDFILES, PostgreSQL and Redis on any exit

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
  echo "A token for user alice of the demo app (Development only):"
  echo "  (cd ${SERVER_DLL_DIR#"$REPO_ROOT"/} && ASPNETCORE_ENVIRONMENT=Development dotnet Realtime.Server.dll token --app demo --user alice)"
  echo "Connect: ws://127.0.0.1:$FIRST_PORT/hubs/groups?device=laptop&access_token=TOKEN"
  echo "Ctrl-C stops everything."
  echo
} >&2

# Returns when any node exits (or on a signal); the EXIT trap then stops the rest.
set +e
wait -n "${NODE_PIDS[@]}"
rc=$?
log "a node exited (status $rc); stopping"
exit "$rc"
