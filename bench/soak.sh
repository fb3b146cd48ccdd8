#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Soak: starts a private PostgreSQL (127.0.0.1:25435, .data/soak-pg), a private Redis (127.0.0.1:26382,
# .data/soak-redis) and two Release nodes in Development (127.0.0.1:5190, 5191; logs in .data/soak-run/), runs a
# steady mixed load (bench/Realtime.Soak: messages, profile edits, apply/quit and invite/remove churn, reads) with
# a frozen reader in the busiest group for the whole run, restarts Redis once (at 25%) and kill -9s node-2 once
# (at 40%, started again at once), then syncs every terminal and checks that nothing was lost, duplicated or leaked.
# Writes bench/results/soak-<yyyy-mm-dd-hhmm>.md and its SVG plots, and stops everything it started on exit.
#
#   bench/soak.sh [minutes]          (default 15; 1-60)
#
# Sizes: SOAK_USERS=40 SOAK_GROUPS=5 SOAK_RATE=150 (target commands/s over all users).
# Exits non-zero when the check fails (lost, duplicated or leaked events) or something breaks.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

MINUTES="${1:-15}"
if ! [[ "$MINUTES" =~ ^[0-9]+$ ]] || ((MINUTES < 1 || MINUTES > 60)); then
  sed -n '3,13s/^# \{0,1\}//p' "$0" >&2
  die "minutes must be 1-60, not '$MINUTES'"
fi
USERS="${SOAK_USERS:-40}" GROUPS_N="${SOAK_GROUPS:-5}" RATE="${SOAK_RATE:-150}"

DATA="$REPO_ROOT/.data"
RUN="$DATA/soak-run"
PG_PORT_SOAK=25435
REDIS_PORT_SOAK=26382
NODE_PORTS=(5190 5191)
KILLED=1           # index of the node killed and restarted (node-2); the frozen reader sits on node-1
REDIS_AT=25 KILL_AT=40  # % of the run
SOAK_DLL="$REPO_ROOT/bench/Realtime.Soak/bin/Release/net10.0/Realtime.Soak.dll"
mkdir -p "$RUN" "$REPO_ROOT/bench/results"
rm -f "$RUN"/*.pid "$RUN/started" "$RUN/faults.log"

GEN_PID=""
_soak_stop() {
  if [[ -n "$GEN_PID" ]] && kill -0 "$GEN_PID" 2>/dev/null; then
    log "stopping the load generator (pid $GEN_PID)"
    kill -TERM "$GEN_PID" 2>/dev/null || true
    wait "$GEN_PID" 2>/dev/null || true
  fi
  _stop_all  # lib.sh: the nodes in NODE_PIDFILES, PostgreSQL and Redis
}
stop_on_exit
trap _soak_stop EXIT

ensure_packages
pg_start "$DATA/soak-pg" "$PG_PORT_SOAK"
pg_recreate_db "$PG_PORT_SOAK" realtime_soak
redis_start "$DATA/soak-redis" "$REDIS_PORT_SOAK" test

log "dotnet build (Release): server and soak"
dotnet build server/Realtime.Server -c Release -nologo -v quiet
dotnet build bench/Realtime.Soak -c Release -nologo -v quiet

# The demo app without rate limits (lib.sh's DEMO_APP_UNLIMITED). Retention is raised so the final check can
# Sync every event of the run (the default 10000 events per group would trim the busiest group's log).
NODE_ENV=(
  ASPNETCORE_ENVIRONMENT=Development
  "ConnectionStrings__Postgres=Host=127.0.0.1;Port=$PG_PORT_SOAK;Username=postgres;Database=realtime_soak;Maximum Pool Size=50"
  "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT_SOAK"
  Realtime__Redis__ChannelPrefix=soak
  Realtime__RetentionEventsPerGroup=1000000
  "${DEMO_APP_UNLIMITED[@]}"
)

URLS=()
start_node() {  # start_node INDEX LOGFILE
  local i="$1" port="${NODE_PORTS[$1]}"
  log "starting soak-node-$((i + 1)) on http://127.0.0.1:$port (log: $2)"
  node_start "$RUN/node-$((i + 1)).pid" "$2" "$port" "soak-node-$((i + 1))" "${NODE_ENV[@]}"
}
for i in "${!NODE_PORTS[@]}"; do
  NODE_PIDFILES+=("$RUN/node-$((i + 1)).pid")
  start_node "$i" "$RUN/node-$((i + 1)).log"
  URLS+=("http://127.0.0.1:${NODE_PORTS[i]}")
done
for i in "${!NODE_PORTS[@]}"; do
  wait_ready "${URLS[i]}" 90 "$(cat "${NODE_PIDFILES[i]}")" || die "soak-node-$((i + 1)) is not ready; see $RUN/node-$((i + 1)).log"
done
URL_LIST="$(IFS=,; echo "${URLS[*]}")"

STAMP="$(date +%Y-%m-%d-%H%M)"
OUT="$REPO_ROOT/bench/results/soak-$STAMP.md"
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' || echo '+uncommitted')"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
now_ms() { date +%s%3N; }
fault() { echo "$(now_ms) $*" >>"$RUN/faults.log"; log "fault: $*"; }

log "load generator: $MINUTES min, $USERS users, $GROUPS_N groups, target $RATE commands/s (progress in $RUN/soak.log)"
# Bounded twice: the generator stops its load after MINUTES, every wait in it is bounded, and timeout is the last resort.
timeout $((MINUTES * 60 + 900)) dotnet "$SOAK_DLL" --minutes "$MINUTES" --urls "$URL_LIST" --users "$USERS" --groups "$GROUPS_N" --rate "$RATE" \
  --pidfiles "node-1=$RUN/node-1.pid,node-2=$RUN/node-2.pid,redis=$DATA/soak-redis/redis.pid" \
  --faults "$RUN/faults.log" --started "$RUN/started" --plots "$REPO_ROOT/bench/results/soak-$STAMP" --csv "$RUN/samples.csv" \
  --frozen-node 0 >"$RUN/soak.md" 2>"$RUN/soak.log" &
GEN_PID=$!

for ((i = 0; i < 600; i++)); do
  [[ -s "$RUN/started" ]] && break
  kill -0 "$GEN_PID" 2>/dev/null || { tail -n 30 "$RUN/soak.log" >&2; die "the load generator exited during setup"; }
  sleep 0.5
done
[[ -s "$RUN/started" ]] || die "the load generator did not start its load within 5 minutes"
START_MS="$(cat "$RUN/started")"
sleep_until() {  # sleep_until PERCENT: until that share of the run has passed (false when the generator is gone)
  local at=$((START_MS + MINUTES * 600 * $1))
  while (($(now_ms) < at)); do
    kill -0 "$GEN_PID" 2>/dev/null || return 1
    sleep 0.5
  done
}

if sleep_until "$REDIS_AT"; then
  pid="$(cat "$REDIS_DIR/redis.pid")"
  fault redis-stop "redis-server pid $pid stopped (SIGTERM, no persistence: its state is gone)"
  redis_stop_pid "$pid"
  sleep 5
  redis_start "$DATA/soak-redis" "$REDIS_PORT_SOAK" test
  fault redis-up "redis-server started again on 127.0.0.1:$REDIS_PORT_SOAK (pid $(cat "$REDIS_DIR/redis.pid"))"
fi

if sleep_until "$KILL_AT"; then
  pidfile="${NODE_PIDFILES[KILLED]}"
  pid="$(cat "$pidfile")"
  fault node-kill "kill -9 soak-node-$((KILLED + 1)) (pid $pid)"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  sleep 2
  start_node "$KILLED" "$RUN/node-$((KILLED + 1)).restart.log"
  fault node-start "soak-node-$((KILLED + 1)) started again (pid $(cat "$pidfile"))"
  if wait_ready "${URLS[KILLED]}" 120 "$(cat "$pidfile")"; then
    fault node-ready "soak-node-$((KILLED + 1)) ready"
  else
    fault node-failed "soak-node-$((KILLED + 1)) did not become ready; see $RUN/node-$((KILLED + 1)).restart.log"
  fi
fi

status=0
wait "$GEN_PID" || status=$?
GEN_PID=""
((status == 0 || status == 1)) || { tail -n 40 "$RUN/soak.log" >&2; die "the load generator failed (exit $status); see $RUN/soak.log"; }

count() { local pattern="$1"; shift; cat "$@" 2>/dev/null | grep -c -- "$pattern" || true; }
{
  echo "# Soak results $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- command: \`bench/soak.sh $MINUTES\` (SOAK_USERS=$USERS SOAK_GROUPS=$GROUPS_N SOAK_RATE=$RATE)"
  echo "- commit: \`$COMMIT\` (branch $(git rev-parse --abbrev-ref HEAD))"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
  echo "- **the machine was shared with other work** during the run (builds and test suites of other branches);" \
       "load average before the run: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- everything on this one machine: 2 nodes (Release, Development environment, rate limits off, retention 1000000 events per group)," \
       "PostgreSQL 15 (fsync on), Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-), and the load generator (.NET $(dotnet --version)), all over 127.0.0.1"
  echo "- faults: Redis stopped at ${REDIS_AT}% and started again 5 s later; soak-node-$((KILLED + 1)) killed (SIGKILL) at ${KILL_AT}% and started" \
       "again 2 s later; a frozen reader on soak-node-1 for the whole run"
  slow="$(count "took no message within" "$RUN"/node-*.log)"
  pubfail="$(count "Publishing to .* failed" "$RUN"/node-*.log)"
  redisfail="$(count "Redis connection .* failed" "$RUN"/node-*.log)"
  redisok="$(count "Redis connection .* restored" "$RUN"/node-*.log)"
  echo "- node logs: $slow terminals closed as slow consumers, $pubfail publishes dropped (Redis down), Redis connections failed $redisfail / restored $redisok times"
  echo
  cat "$RUN/soak.md"
} >"$OUT"
log "results: $OUT (plots: bench/results/soak-$STAMP-*.svg)"
((status == 0)) || die "the soak check failed; see $OUT"
