#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Benchmark: starts a private PostgreSQL (127.0.0.1:25434, .data/bench-pg), a private Redis
# (127.0.0.1:26381, .data/bench-redis) and two Development nodes (127.0.0.1:5180, 5181), runs
# the commands, fanout, sync and manygroups scenarios, writes bench/results/<date>.md, copies
# it to bench/RESULTS.md and stops everything it started (also on Ctrl-C or failure).
#
#   bench/run.sh [commands] [fanout] [sync] [manygroups] [groupstate]   (default: the first four)
#
# A scenario name ending in -msgpack (commands-msgpack, fanout-msgpack, ...) runs it over the
# MessagePack hub protocol; e.g. `bench/run.sh commands commands-msgpack fanout fanout-msgpack`.
#
# Sizes (defaults suit a 2-core machine): BENCH_USERS=20 BENCH_DURATION=20 (commands),
# BENCH_MEMBERS=1000 BENCH_FANOUT_MESSAGES=200 (fanout), BENCH_SYNC_MESSAGES=5000 (sync),
# BENCH_MANY_GROUPS=1000 BENCH_MANY_EVENTS=2 BENCH_MANY_ROUNDS=20 (manygroups),
# BENCH_STATE_MEMBERS=6000 BENCH_STATE_READERS=100 BENCH_STATE_DURATION=10 (groupstate).
# The database is recreated at every run, so runs do not inherit each other's data.
# Exits non-zero when a scenario fails (lost or out-of-order events, failed commands).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=(commands fanout sync manygroups)
for s in "${SCENARIOS[@]}"; do
  [[ "$s" =~ ^(commands|fanout|sync|manygroups|groupstate)(-msgpack)?$ ]] || { sed -n '3,14s/^# \{0,1\}//p' "$0" >&2; die "unknown scenario: $s"; }
done

USERS="${BENCH_USERS:-20}" DURATION="${BENCH_DURATION:-20}"
MEMBERS="${BENCH_MEMBERS:-1000}" FANOUT_MESSAGES="${BENCH_FANOUT_MESSAGES:-200}"
SYNC_MESSAGES="${BENCH_SYNC_MESSAGES:-5000}"
MANY_GROUPS="${BENCH_MANY_GROUPS:-1000}" MANY_EVENTS="${BENCH_MANY_EVENTS:-2}" MANY_ROUNDS="${BENCH_MANY_ROUNDS:-20}"

DATA="$REPO_ROOT/.data"
RUN="$DATA/bench-run"
PG_PORT_BENCH=25434
REDIS_PORT_BENCH=26381
NODE_PORTS=(5180 5181)
BENCH_DLL="$REPO_ROOT/bench/Realtime.Bench/bin/Release/net10.0/Realtime.Bench.dll"
mkdir -p "$RUN" "$REPO_ROOT/bench/results"

stop_on_exit  # lib.sh: stops the nodes in NODE_PIDFILES, PostgreSQL and Redis on any exit

ensure_packages
pg_start "$DATA/bench-pg" "$PG_PORT_BENCH"
pg_recreate_db "$PG_PORT_BENCH" realtime_bench
redis_start "$DATA/bench-redis" "$REDIS_PORT_BENCH" test

log "dotnet build (Release): server and bench"
dotnet build server/Realtime.Server -c Release -nologo -v quiet
dotnet build bench/Realtime.Bench -c Release -nologo -v quiet

URLS=()
for i in "${!NODE_PORTS[@]}"; do
  port="${NODE_PORTS[i]}"
  NODE_PIDFILES+=("$RUN/node-$((i + 1)).pid")
  log "starting bench-node-$((i + 1)) on http://127.0.0.1:$port (log: $RUN/node-$((i + 1)).log)"
  node_start "$RUN/node-$((i + 1)).pid" "$RUN/node-$((i + 1)).log" "$port" "bench-node-$((i + 1))" \
    ASPNETCORE_ENVIRONMENT=Development \
    "ConnectionStrings__Postgres=Host=127.0.0.1;Port=$PG_PORT_BENCH;Username=postgres;Database=realtime_bench;Maximum Pool Size=50" \
    "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT_BENCH" \
    Realtime__Redis__ChannelPrefix=bench \
    "${DEMO_APP_UNLIMITED[@]}"
  URLS+=("http://127.0.0.1:$port")
done
for i in "${!NODE_PORTS[@]}"; do
  wait_ready "${URLS[i]}" 90 "$(cat "${NODE_PIDFILES[i]}")" || die "bench-node-$((i + 1)) is not ready; see $RUN/node-$((i + 1)).log"
done
URL_LIST="$(IFS=,; echo "${URLS[*]}")"

STAMP="$(date +%Y-%m-%d-%H%M)"
OUT="$REPO_ROOT/bench/results/$STAMP.md"
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' ':!bench/RESULTS.md' || echo '+uncommitted')"
{
  echo "# Benchmark results $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- commit: \`$COMMIT\` (branch $(git rev-parse --abbrev-ref HEAD))"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
  echo "- **the machine was shared with other work** during the run (builds and tests of other branches);" \
       "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- everything on this one machine: 2 nodes (Release, Development environment), PostgreSQL 15 (fsync on)," \
       "Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-), and the bench client (.NET $(dotnet --version)), all over 127.0.0.1"
  echo "- sizes: commands ${USERS} users × ${DURATION} s; fanout ${MEMBERS} members × ${FANOUT_MESSAGES} messages; sync ${SYNC_MESSAGES} events;" \
       "manygroups ${MANY_GROUPS} groups × ${MANY_EVENTS} events, ${MANY_ROUNDS} rounds"
  echo
} >"$OUT"

FAILED=()
for name in "${SCENARIOS[@]}"; do
  scenario="${name%-msgpack}"
  protocol=json
  [[ "$name" == *-msgpack ]] && protocol=messagepack
  case "$scenario" in
    commands) args=(--users "$USERS" --duration "$DURATION") ;;
    fanout) args=(--members "$MEMBERS" --messages "$FANOUT_MESSAGES") ;;
    sync) args=(--messages "$SYNC_MESSAGES") ;;
    manygroups) args=(--groups "$MANY_GROUPS" --events "$MANY_EVENTS" --rounds "$MANY_ROUNDS") ;;
    groupstate) args=(--members "${BENCH_STATE_MEMBERS:-6000}" --users "${BENCH_STATE_READERS:-100}" --duration "${BENCH_STATE_DURATION:-10}") ;;
  esac
  log "scenario $scenario ${args[*]} ($protocol)"
  # Each scenario is bounded; timeout is a last resort against a hang.
  if ! timeout 900 dotnet "$BENCH_DLL" "$scenario" --urls "$URL_LIST" "${args[@]}" --protocol "$protocol" >"$RUN/$name.md"; then
    FAILED+=("$name")
    echo "**FAILED** (exit status non-zero; see the checks below)" >>"$OUT"
    echo >>"$OUT"
  fi
  cat "$RUN/$name.md" >>"$OUT"
  cat "$RUN/$name.md"
done
echo "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$OUT"

{
  echo "<!-- Latest run, copied from results/$STAMP.md by bench/run.sh; see bench/README.md for what each number means. -->"
  cat "$OUT"
} >"$REPO_ROOT/bench/RESULTS.md"
log "results: $OUT (and bench/RESULTS.md)"

((${#FAILED[@]} == 0)) || die "failed: ${FAILED[*]}"
