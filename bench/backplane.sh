#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Backplane benchmark (issue 11, "Scale-out past one Redis"): 4 in-process nodes (bench/Realtime.Bench.Backplane,
# each its own ServiceCollection and HubLifetimeManager) route group sends through Redis, on one Redis and on a
# 3-master/3-replica Redis Cluster, with our backplane (Realtime.Backplane.Redis: sharded pub/sub on the cluster)
# and with the official one (Microsoft.AspNetCore.SignalR.StackExchangeRedis: classic PUBLISH). Reports
# publishes/s, deliveries/s, latency p50/p99, Redis CPU per process, memory per subscribed group, who receives what
# (counted on the wire) and how long a group change for a gone connection takes. Writes
# bench/results/<yyyy-mm-dd-hhmm>-backplane.md and its SVG plots, copies the Markdown to bench/RESULTS-backplane.md,
# and stops every Redis it started on exit (also on Ctrl-C or failure). About 5 minutes.
#
#   bench/backplane.sh
#
# Private Redis: standalone on 127.0.0.1:26790 (.data/backplane-redis), cluster on 127.0.0.1:27200-27205 (bus ports
# 37200-37205, .data/backplane-cluster). Sizes: BACKPLANE_CONFIGS (ours-standalone,ours-cluster,official-standalone,
# official-cluster), BACKPLANE_CONNECTIONS (2000), BACKPLANE_GROUPS (2000), BACKPLANE_MEMBERS (4), BACKPLANE_RATE
# (2000 publishes/s, fixed-rate phase), BACKPLANE_FIXED_SECONDS (8), BACKPLANE_MAX_SECONDS (10), BACKPLANE_ROUNDS (2:
# the configurations run twice, interleaved, against the noise of a shared machine), BACKPLANE_ROUTING (true: the
# routing and gone-connection checks, ~35 s of it waiting), BACKPLANE_LOAD_WAIT (60: seconds to wait for the load
# average to drop under 3 before starting).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

[[ $# -eq 0 ]] || { sed -n '3,20s/^# \{0,1\}//p' "$0" >&2; die "no arguments; sizes come from BACKPLANE_* variables"; }

DATA="$REPO_ROOT/.data"
REDIS_PORT_BP=26790
CLUSTER_BASE_BP=27200
DLL="$REPO_ROOT/bench/Realtime.Bench.Backplane/bin/Release/net10.0/Realtime.Bench.Backplane.dll"
RESULTS="$REPO_ROOT/bench/results"
STAMP="$(date +%Y-%m-%d-%H%M)"
OUT="$RESULTS/$STAMP-backplane.md"
RUN="$DATA/backplane-run"
mkdir -p "$RESULTS" "$RUN"

stop_on_exit  # lib.sh: stops the Redis and the cluster started below, however the script exits

ensure_packages
log "dotnet build (Release): bench/Realtime.Bench.Backplane"
dotnet build bench/Realtime.Bench.Backplane -c Release -nologo -v quiet

redis_start "$DATA/backplane-redis" "$REDIS_PORT_BP" test
redis_cluster_start "$DATA/backplane-cluster" "$CLUSTER_BASE_BP"
CLUSTER_LIST="$(printf '127.0.0.1:%s,' "${REDIS_CLUSTER_PORTS[@]}")"
CLUSTER_LIST="${CLUSTER_LIST%,}"

# The machine is shared: wait a bounded while for a quieter moment, and report the load either way.
load1() { cut -d' ' -f1 /proc/loadavg; }
LOAD_WAIT="${BACKPLANE_LOAD_WAIT:-60}"
for ((i = 0; i < LOAD_WAIT; i += 5)); do
  awk -v l="$(load1)" 'BEGIN { exit !(l < 3) }' && break
  ((i == 0)) && log "load average $(load1) is above 3: waiting up to $LOAD_WAIT s for it to drop"
  sleep 5
done
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
UPTIME_BEFORE="$(uptime)"
COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench' || echo '+uncommitted')"

ARGS=(
  --standalone "127.0.0.1:$REDIS_PORT_BP" --cluster "$CLUSTER_LIST"
  --configs "${BACKPLANE_CONFIGS:-ours-standalone,ours-cluster,official-standalone,official-cluster}"
  --connections "${BACKPLANE_CONNECTIONS:-2000}" --groups "${BACKPLANE_GROUPS:-2000}" --members "${BACKPLANE_MEMBERS:-4}"
  --rate "${BACKPLANE_RATE:-2000}" --fixed-seconds "${BACKPLANE_FIXED_SECONDS:-8}" --max-seconds "${BACKPLANE_MAX_SECONDS:-10}" --rounds "${BACKPLANE_ROUNDS:-2}"
  --routing "${BACKPLANE_ROUTING:-true}" --plots "$RESULTS/$STAMP-backplane"
)
log "running the benchmark (progress in $RUN/bench.log): ${ARGS[*]}"
status=0
timeout 900 dotnet "$DLL" "${ARGS[@]}" >"$RUN/bench.md" 2> >(tee "$RUN/bench.log" >&2) || status=$?
((status == 0)) || die "the benchmark failed (exit $status); see $RUN/bench.log"

{
  echo "# Backplane benchmark $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "- command: \`bench/backplane.sh\`"
  echo "- commit: \`$COMMIT\` (branch $(git rev-parse --abbrev-ref HEAD))"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, $(uname -sr)"
  echo "- **the machine was shared with other work** during the run; load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (each phase's own load is in the tables)"
  echo "- everything on this one machine over 127.0.0.1: the bench process (.NET $(dotnet --version), server GC; it holds all nodes, their connections and the load), one Redis $(redis-server --version | grep -o 'v=[0-9.]*' | cut -c3-) (127.0.0.1:$REDIS_PORT_BP) and a Redis Cluster of 3 masters + 3 replicas (127.0.0.1:${REDIS_CLUSTER_PORTS[0]}-${REDIS_CLUSTER_PORTS[5]}), no persistence"
  echo "- backplanes: ours (Realtime.Backplane.Redis on StackExchange.Redis $(grep -o 'StackExchange.Redis" Version="[^"]*' Directory.Packages.props | cut -d'"' -f3); SSUBSCRIBE/SPUBLISH on the cluster) and the official Microsoft.AspNetCore.SignalR.StackExchangeRedis $(grep -o 'SignalR.StackExchangeRedis" Version="[^"]*' Directory.Packages.props | cut -d'"' -f3) (classic SUBSCRIBE/PUBLISH)"
  cat "$RUN/bench.md"
  echo
  echo "![deliveries per second](${STAMP}-backplane-throughput.svg)"
  echo "![latency](${STAMP}-backplane-latency.svg)"
  echo "![Redis CPU per process](${STAMP}-backplane-redis-cpu.svg)"
} >"$OUT"
# RESULTS-backplane.md lives one directory up: point its images into results/.
sed "s|(${STAMP}-backplane-|(results/${STAMP}-backplane-|g" "$OUT" >"$REPO_ROOT/bench/RESULTS-backplane.md"
log "results: $OUT (copied to bench/RESULTS-backplane.md; plots: bench/results/$STAMP-backplane-*.svg)"
