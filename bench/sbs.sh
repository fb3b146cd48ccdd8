#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Side-by-side benchmark: Realtime (2 nodes + Redis + PostgreSQL) against stock ASP.NET Core SignalR, in memory
# (1 node) and on the official Redis backplane (2 nodes), with the same client, the same workload and the same
# settings, one system after the other. Writes bench/results/<stamp>-sbs.md and SVG plots beside it, copies the
# Markdown to bench/RESULTS-sbs.md, and stops everything it started (also on Ctrl-C or failure).
#
#   bench/sbs.sh [fanout] [biggroup] [joinstorm] [limit] [memory]      (default: all five, ~12 minutes)
#
# Private services: PostgreSQL 15 on 127.0.0.1:25436 (.data/sbs-pg, fsync on, database realtime_sbs recreated at
# every run), Redis on 127.0.0.1:26383 (.data/sbs-redis), nodes on 127.0.0.1:5380-5383; logs and raw JSON in
# .data/sbs-run/<stamp>/. SBS_CONNECTIONS (2000), SBS_CONCURRENCY (64) and SBS_LIMIT_RATES (250,500,1000,2000,3000,
# 4000,6000,8000) change the sizes; SBS_SYSTEMS ("realtime stock-redis stock-memory") picks systems. Exits non-zero when a scenario could not run; a missed
# target is reported, not a failure.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

ALL=(joinstorm memory biggroup fanout limit)
SCENARIOS=("$@")
((${#SCENARIOS[@]})) || SCENARIOS=("${ALL[@]}")
for s in "${SCENARIOS[@]}"; do
  [[ "$s" =~ ^(fanout|biggroup|joinstorm|limit|memory)$ ]] || { sed -n '3,15s/^# \{0,1\}//p' "$0" >&2; die "unknown scenario: $s"; }
done
SCENARIO_LIST="$(IFS=,; echo "${SCENARIOS[*]}")"
read -r -a SYSTEMS <<<"${SBS_SYSTEMS:-realtime stock-redis stock-memory}"
CONNECTIONS="${SBS_CONNECTIONS:-2000}" CONCURRENCY="${SBS_CONCURRENCY:-64}"
LIMIT_ARGS=()
[[ -z "${SBS_LIMIT_RATES:-}" ]] || LIMIT_ARGS=(--limit-rates "$SBS_LIMIT_RATES")

# 2000 WebSockets per process (the load generator holds all of them, a node half or all) plus files and pipes.
if (($(ulimit -n) < 65536)); then ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; fi
(($(ulimit -n) >= CONNECTIONS + 1024)) || die "ulimit -n is $(ulimit -n); need at least $((CONNECTIONS + 1024)) open files"

DATA="$REPO_ROOT/.data"
STAMP="$(date +%Y-%m-%d-%H%M)"
RUN="$DATA/sbs-run/$STAMP"
PG_PORT_SBS=25436
REDIS_PORT_SBS=26383
STOCK_DIR="$REPO_ROOT/bench/Realtime.Bench.Stock/bin/Release/net10.0"
SBS_DLL="$REPO_ROOT/bench/Realtime.Bench.Sbs/bin/Release/net10.0/Realtime.Bench.Sbs.dll"
RESULTS="$REPO_ROOT/bench/results"
mkdir -p "$RUN" "$RESULTS"

STOCK_PIDS=()
stop_stock() {
  local pid i
  for pid in "${STOCK_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  STOCK_PIDS=()
}
cleanup() { stop_stock; _stop_all; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ensure_packages
pg_start "$DATA/sbs-pg" "$PG_PORT_SBS"
pg_recreate_db "$PG_PORT_SBS" realtime_sbs
redis_start "$DATA/sbs-redis" "$REDIS_PORT_SBS" test
REDIS_PID="$(cat "$REDIS_DIR/redis.pid")"

log "dotnet build (Release): server, stock SignalR, load generator"
dotnet build server/Realtime.Server -c Release -nologo -v quiet
dotnet build bench/Realtime.Bench.Stock -c Release -nologo -v quiet
dotnet build bench/Realtime.Bench.Sbs -c Release -nologo -v quiet

COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' ':!bench/RESULTS*.md' || echo '+uncommitted')"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# wait_http URL SECONDS PID: polls URL until 200, failing early when PID exits.
wait_http() {
  local url="$1" seconds="$2" pid="$3" deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { log "the process for $url exited"; return 1; }
    sleep 0.5
  done
  log "$url did not answer within $seconds s"
  return 1
}

# start_system NAME: starts its nodes; sets URLS and PIDS.
start_system() {
  local name="$1" i port pid
  URLS=() PIDS=()
  case "$name" in
    realtime)
      for i in 0 1; do
        port=$((5380 + i))
        NODE_PIDFILES+=("$RUN/realtime-node-$((i + 1)).pid")
        node_start "$RUN/realtime-node-$((i + 1)).pid" "$RUN/realtime-node-$((i + 1)).log" "$port" "sbs-node-$((i + 1))" \
          ASPNETCORE_ENVIRONMENT=Development \
          "ConnectionStrings__Postgres=Host=127.0.0.1;Port=$PG_PORT_SBS;Username=postgres;Database=realtime_sbs;Maximum Pool Size=50" \
          "ConnectionStrings__Redis=127.0.0.1:$REDIS_PORT_SBS" \
          Realtime__Redis__ChannelPrefix=sbs \
          "${DEMO_APP_UNLIMITED[@]}"
        URLS+=("http://127.0.0.1:$port")
        PIDS+=("$(cat "$RUN/realtime-node-$((i + 1)).pid")")
      done
      for i in 0 1; do
        wait_ready "${URLS[i]}" 90 "${PIDS[i]}" || die "realtime node $((i + 1)) is not ready; see $RUN/realtime-node-$((i + 1)).log"
      done
      ;;
    stock-memory | stock-redis)
      local count=1 extra=()
      if [[ "$name" == stock-redis ]]; then count=2 extra=(--redis "127.0.0.1:$REDIS_PORT_SBS"); fi
      for ((i = 0; i < count; i++)); do
        port=$((5382 + i))
        curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null && die "port $port is already served by something else"
        (cd "$STOCK_DIR" && exec dotnet Realtime.Bench.Stock.dll --port "$port" "${extra[@]}" >"$RUN/$name-node-$((i + 1)).log" 2>&1) &
        pid=$!
        STOCK_PIDS+=("$pid")
        URLS+=("http://127.0.0.1:$port")
        PIDS+=("$pid")
      done
      for ((i = 0; i < count; i++)); do
        wait_http "${URLS[i]}/readyz" 60 "${PIDS[i]}" || die "$name node $((i + 1)) did not start; see $RUN/$name-node-$((i + 1)).log"
      done
      ;;
  esac
}

stop_system() {
  local name="$1" pidfile
  if [[ "$name" == realtime ]]; then
    for pidfile in "${NODE_PIDFILES[@]}"; do node_stop "$pidfile"; done
    NODE_PIDFILES=()
  else
    stop_stock
  fi
}

FAILED=()
UPTIMES=()
for sys in "${SYSTEMS[@]}"; do
  [[ "$sys" =~ ^(realtime|stock-redis|stock-memory)$ ]] || die "unknown system in SBS_SYSTEMS: $sys"
  log "=== $sys: starting its nodes"
  start_system "$sys"
  UPTIMES+=("$sys: $(uptime | sed 's/^ *//')")
  log "$sys: nodes ${URLS[*]} (pids ${PIDS[*]}); $(uptime | sed 's/^ *//')"
  # Bounded: the generator's own waits are bounded; timeout is the last resort against a hang.
  if ! timeout 900 dotnet "$SBS_DLL" run --system "$sys" --urls "$(IFS=,; echo "${URLS[*]}")" --node-pids "$(IFS=,; echo "${PIDS[*]}")" \
      --extra-pids "$REDIS_PID" --extra-names redis --scenarios "$SCENARIO_LIST" --connections "$CONNECTIONS" \
      --concurrency "$CONCURRENCY" "${LIMIT_ARGS[@]}" --clk-tck "$(getconf CLK_TCK)" --out "$RUN/$sys.json" 2> >(tee "$RUN/$sys-generator.log" >&2); then
    FAILED+=("$sys")
  fi
  log "=== $sys: stopping its nodes"
  stop_system "$sys"
  sleep 2
done

PGBENCH_OUT="$RUN/pgbench.txt"
: >"$PGBENCH_OUT"
if [[ " ${SCENARIOS[*]} " == *" limit "* ]]; then
  log "pgbench on the same PostgreSQL (scratch database sbs_pgbench)"
  pg_recreate_db "$PG_PORT_SBS" sbs_pgbench
  PGB=("$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT_SBS" -U postgres)
  if timeout 300 "${PGB[@]}" -i -q -s 10 sbs_pgbench >"$RUN/pgbench-init.log" 2>&1; then
    for clients in 1 8; do
      if timeout 60 "${PGB[@]}" -c "$clients" -j "$((clients < 2 ? 1 : 2))" -T 10 sbs_pgbench >"$RUN/pgbench-$clients.log" 2>&1; then
        tps="$(grep -oP 'tps = \K[0-9.]+' "$RUN/pgbench-$clients.log" | head -1)"
        lat="$(grep -oP 'latency average = \K[0-9.]+' "$RUN/pgbench-$clients.log" | head -1)"
        echo "$clients ${tps:-?} ${lat:-?}" >>"$PGBENCH_OUT"
      else
        FAILED+=("pgbench-$clients")
      fi
    done
  else
    FAILED+=("pgbench-init")
  fi
  pg_psql "$PG_PORT_SBS" -c "DROP DATABASE IF EXISTS sbs_pgbench WITH (FORCE)" || true
fi

OUT="$RESULTS/$STAMP-sbs.md"
{
  echo "# Side-by-side benchmark $(date '+%Y-%m-%d %H:%M %Z'): Realtime vs stock SignalR"
  echo
  echo "- commit: \`$COMMIT\` (branch $(git rev-parse --abbrev-ref HEAD)); command: \`bench/sbs.sh ${*:-}\`"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr); .NET $(dotnet --version), PostgreSQL 15 (fsync on), Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-)"
  echo "- everything on this one machine over 127.0.0.1, one system at a time (started, measured, stopped): **realtime** = 2 Realtime nodes + Redis + PostgreSQL (terminal *i* on node *i* mod 2); **stock-redis** = 2 stock SignalR nodes on Microsoft.AspNetCore.SignalR.StackExchangeRedis 10.0.15 and the same Redis; **stock-memory** = 1 stock SignalR node, default in-memory lifetime manager. Release builds; the same client (Microsoft.AspNetCore.SignalR.Client 10.0.15, JSON protocol, WebSockets, SkipNegotiation) and settings for all"
  echo "- $CONNECTIONS terminals, connected $CONCURRENCY at a time; scenarios: ${SCENARIOS[*]}"
  echo "- load average at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg); uptime before each system:"
  for u in "${UPTIMES[@]}"; do echo "  - $u"; done
  echo "- see [bench/README.md](../README.md#side-by-side-sbssh) for what each number means"
  echo
} >"$OUT"
if ! dotnet "$SBS_DLL" report --dir "$RUN" --prefix "$RESULTS/$STAMP-sbs" --pgbench "$PGBENCH_OUT" >>"$OUT"; then
  FAILED+=(report)
fi
((${#FAILED[@]} == 0)) || echo "**Failed to run:** ${FAILED[*]} (see .data/sbs-run/$STAMP/)" >>"$OUT"

{
  echo "<!-- Latest run, copied from results/$STAMP-sbs.md by bench/sbs.sh; see bench/README.md for what each number means. -->"
  sed -e "s#](\\($STAMP-\\)#](results/\\1#g" -e 's#](\.\./README\.md#](README.md#g' "$OUT"
} >"$REPO_ROOT/bench/RESULTS-sbs.md"
log "results: $OUT (and bench/RESULTS-sbs.md)"

((${#FAILED[@]} == 0)) || die "failed: ${FAILED[*]}"
