#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# Storage benchmark (issue 17): the partitioned log and the read replica, against the layout
# before them (migrations up to 0006: one table per log, retention by DELETE).
#
#   bench/storage.sh [sync] [retention] [week]      (default: all three)
#
#   sync       Sync throughput, one node, nodes reading from the primary vs from a streaming standby
#              (Realtime.Bench syncload: STORAGE_SYNC_READERS=32 readers in STORAGE_SYNC_GROUPS=20 groups
#              of STORAGE_SYNC_EVENTS=50 messages, closed loop for STORAGE_SYNC_DURATION=20 s each).
#   retention  one day of STORAGE_DAY_EVENTS=1000000 events (1000 groups) expires: time and WAL bytes
#              of the old retention statement (DELETE ... RETURNING, then the VACUUM it leaves owed)
#              vs the partitioned one (trimmed_through from the partition, DETACH CONCURRENTLY, DROP).
#   week       STORAGE_WEEK_DAYS=14 days of STORAGE_WEEK_DAY_EVENTS=200000 events a day with 7 days of
#              retention run daily (old layout: DELETE then VACUUM, its best case; partitioned: drop):
#              table size (heap + indexes) and WAL at the end.
#
# Own PostgreSQL (durable settings, full_page_writes on, as in production) in .data/bench-storage-pg
# on 127.0.0.1:$STORAGE_PG_PORT (25437), its standby on $STORAGE_REPLICA_PORT (25438), one node on
# $STORAGE_NODE_PORT (5187). The retention and week parts run the server's own migration files and
# the same SQL statements as Operations/RetentionService.cs and Operations/LogPartitions.cs.
# Writes bench/results/<date>-storage.md with the machine load (uptime) at start and end.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

PARTS=("$@")
((${#PARTS[@]})) || PARTS=(sync retention week)
for p in "${PARTS[@]}"; do
  [[ "$p" =~ ^(sync|retention|week)$ ]] || { sed -n '5,19s/^# \{0,1\}//p' "$0" >&2; die "unknown part: $p"; }
done

PG_PORT_S="${STORAGE_PG_PORT:-25437}"
REPLICA_PORT_S="${STORAGE_REPLICA_PORT:-25438}"
NODE_PORT_S="${STORAGE_NODE_PORT:-5187}"
SYNC_READERS="${STORAGE_SYNC_READERS:-32}" SYNC_GROUPS="${STORAGE_SYNC_GROUPS:-20}"
SYNC_EVENTS="${STORAGE_SYNC_EVENTS:-50}" SYNC_DURATION="${STORAGE_SYNC_DURATION:-20}"
DAY_EVENTS="${STORAGE_DAY_EVENTS:-1000000}"
WEEK_DAYS="${STORAGE_WEEK_DAYS:-14}" WEEK_DAY_EVENTS="${STORAGE_WEEK_DAY_EVENTS:-200000}"
GROUPS_N=1000
MIGRATIONS="$REPO_ROOT/server/Realtime.Server/Data/Migrations"
DATA="$REPO_ROOT/.data"
RUN="$DATA/bench-storage-run"
BENCH_DLL="$REPO_ROOT/bench/Realtime.Bench/bin/Release/net10.0/Realtime.Bench.dll"
STAMP="$(date -u +%Y-%m-%d-%H%M)"
OUT="$REPO_ROOT/bench/results/$STAMP-storage.md"
mkdir -p "$RUN" "$REPO_ROOT/bench/results"

stop_on_exit  # lib.sh: the node, the standby and PostgreSQL on any exit

ensure_packages
pg_start "$DATA/bench-storage-pg" "$PG_PORT_S"

q() { local db="$1"; shift; pg_psql "$PG_PORT_S" -d "$db" -tA "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
lsn() { q postgres -c "SELECT pg_current_wal_insert_lsn()"; }
wal_since() { q postgres -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$1')::bigint"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1048576 }'; }

# fresh_db NAME UPTO: a database with the server's migrations up to UPTO applied (0 = all).
fresh_db() {
  local db="$1" upto="$2" f v
  pg_recreate_db "$PG_PORT_S" "$db"
  for f in "$MIGRATIONS"/*.sql; do
    v="$(basename "$f")"; v="$((10#${v%%_*}))"
    ((upto == 0 || v <= upto)) || continue
    q "$db" -f "$f" >/dev/null
  done
}

# day_partition DB DAY(YYYY-MM-DD): the daily partitions of both log tables, as LogPartitions creates them.
day_partition() {
  local db="$1" day="$2" t name next
  next="$(date -u -d "$day + 1 day" +%Y-%m-%d)"
  for t in group_events system_messages; do
    name="${t}_p${day//-/}"
    [[ "$(q "$db" -c "SELECT count(*) FROM pg_class WHERE relname = '$name'")" == 0 ]] || continue
    q "$db" -c "CREATE TABLE $name (LIKE $t INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)" \
      -c "ALTER TABLE $t ATTACH PARTITION $name FOR VALUES FROM ('$day 00:00:00+00') TO ('$next 00:00:00+00')" >/dev/null
  done
}

# seed_groups DB: GROUPS_N groups of one app.
seed_groups() {
  q "$1" -c "INSERT INTO apps (app_id) VALUES ('bench') ON CONFLICT DO NOTHING" \
    -c "INSERT INTO groups (app_id, group_id, type, name, owner_id, apply_join_option, invite_option, created_at, last_modified)
        SELECT 'bench', 'g' || i, 'Public', 'g' || i, 'owner', 'NeedPermission', 'AdminsOnly', now(), now() FROM generate_series(1, $GROUPS_N) i" >/dev/null
}

# insert_day DB DAY N: N message events spread over the groups and the day, seqs going on from each group's last_seq.
insert_day() {
  local db="$1" day="$2" n="$3"
  q "$db" -c "
    WITH ev AS (
      SELECT g.gid, g.last_seq + s AS seq, '$day'::timestamptz + (s * interval '1 day') / ($n / $GROUPS_N + 1) AS at
      FROM groups g, generate_series(1, $n / $GROUPS_N) s)
    INSERT INTO group_events (gid, seq, id, type, actor, at, data)
    SELECT gid, seq, gen_random_uuid(), 'Message', 'user' || (seq % 50), at,
           jsonb_build_object('messageId', gen_random_uuid(), 'sender', 'user' || (seq % 50), 'text', 'a message of a typical length, ' || seq)
    FROM ev" \
    -c "UPDATE groups SET last_seq = last_seq + $n / $GROUPS_N" >/dev/null
}

# The retention statements, as the server runs them (old: before migration 0007; new: LogPartitions).
OLD_RETENTION="WITH old AS (
    DELETE FROM group_events e USING groups g
    WHERE e.gid = g.gid AND (e.at < :'cutoff' OR e.seq <= g.last_seq - 10000)
    RETURNING e.gid, e.seq)
  UPDATE groups g SET trimmed_through = GREATEST(g.trimmed_through, o.max_seq)
  FROM (SELECT gid, max(seq) AS max_seq FROM old GROUP BY gid) o WHERE g.gid = o.gid"
old_retention() { q "$1" -v cutoff="$2" >/dev/null <<<"$OLD_RETENTION;"; }
# drop_partitions DB CUTOFF: every group_events partition ending at or before CUTOFF.
drop_partitions() {
  local db="$1" cutoff="$2" p
  for p in $(q "$db" -c "
      SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'group_events'::regclass
        AND (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''(.*)''\)'))[1]::timestamptz <= '$cutoff'"); do
    q "$db" -c "UPDATE groups g SET trimmed_through = GREATEST(g.trimmed_through, o.max_seq)
                FROM (SELECT gid, max(seq) AS max_seq FROM $p GROUP BY gid) o
                WHERE g.gid = o.gid AND g.trimmed_through < o.max_seq" >/dev/null
    q "$db" -c "ALTER TABLE group_events DETACH PARTITION $p CONCURRENTLY" >/dev/null
    q "$db" -c "DROP TABLE $p" >/dev/null
  done
}
log_size() {
  q "$1" -c "SELECT CASE WHEN relkind = 'p' THEN (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('group_events'))
                         ELSE pg_total_relation_size('group_events') END FROM pg_class WHERE oid = 'group_events'::regclass"
}


{
  echo "# Storage bench, $STAMP UTC"
  echo
  echo "Commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- server bench || echo ' (with uncommitted changes)'); PostgreSQL 15 with durable settings"
  echo "(fsync, synchronous_commit and full_page_writes on); $(nproc) cores shared by everything; at the start: \`$(uptime)\`."
  echo
} >"$OUT"

# ------------------------------------------------------------------------------------------ sync
run_sync() {
  log "sync: build"
  dotnet build server/Realtime.Server -c Release -nologo -v quiet
  dotnet build bench/Realtime.Bench -c Release -nologo -v quiet
  pg_recreate_db "$PG_PORT_S" storage_sync
  pg_allow_replication "$PG_DIR" "$PG_PORT_S"
  pg_standby_start "$PG_PORT_S" "$DATA/bench-storage-standby" "$REPLICA_PORT_S"
  {
    echo "## Sync throughput: primary vs replica"
    echo
    echo "One node; $SYNC_READERS readers in $SYNC_GROUPS groups of $SYNC_EVENTS messages call Sync in a closed loop for $SYNC_DURATION s,"
    echo "each group's cursor 10 events behind (10 events per group per answer). Each run on a fresh database."
    echo
    echo "The last two columns: CPU time the primary and the standby PostgreSQL spent per Sync call (all their processes)."
    echo 'With `STORAGE_BASELINE_DIR` (a Release build of an earlier server), the first row is that server, on the primary.'
    echo
    echo "| reads from | readers × groups | calls | calls/s | p50 ms | p99 ms | wrong answers | primary CPU µs/call | standby CPU µs/call |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  } >>"$OUT"
  local mode read env modes=(primary replica)
  [[ -n "${STORAGE_BASELINE_DIR:-}" ]] && modes=(baseline "${modes[@]}")
  for mode in "${modes[@]}"; do
    pg_recreate_db "$PG_PORT_S" storage_sync
    env=(ASPNETCORE_ENVIRONMENT=Development "${DEMO_APP_UNLIMITED[@]}"
      "ConnectionStrings__Postgres=Host=127.0.0.1;Port=$PG_PORT_S;Username=postgres;Database=storage_sync;Maximum Pool Size=50")
    read=""
    if [[ "$mode" == replica ]]; then
      read="Host=127.0.0.1;Port=$REPLICA_PORT_S;Username=postgres;Database=storage_sync;Maximum Pool Size=50"
      env+=("ConnectionStrings__PostgresRead=$read")
    fi
    NODE_PIDFILES=("$RUN/node.pid")
    local dll_dir="$SERVER_DLL_DIR"
    if [[ "$mode" == baseline ]]; then
      SERVER_DLL_DIR="$STORAGE_BASELINE_DIR" SERVER_DLL="$STORAGE_BASELINE_DIR/Realtime.Server.dll"
    fi
    node_start "$RUN/node.pid" "$RUN/node-$mode.log" "$NODE_PORT_S" storage-node "${env[@]}"
    SERVER_DLL_DIR="$dll_dir" SERVER_DLL="$dll_dir/Realtime.Server.dll"
    wait_ready "http://127.0.0.1:$NODE_PORT_S" 90 "$(cat "$RUN/node.pid")" || die "node not ready; see $RUN/node-$mode.log"
    log "sync: reads from the $mode"
    printf '| %s ' "$mode" >>"$OUT"
    SYNCLOAD_PG_DIRS="$PG_DIR,$STANDBY_DIR" dotnet "$BENCH_DLL" syncload --urls "http://127.0.0.1:$NODE_PORT_S" --users "$SYNC_READERS" \
      --groups "$SYNC_GROUPS" --events "$SYNC_EVENTS" --duration "$SYNC_DURATION" >>"$OUT" || die "syncload failed ($mode)"
    curl -fsS "http://127.0.0.1:$NODE_PORT_S/metrics" | grep '^realtime_reads_total' >"$RUN/reads-$mode.txt" || true
    node_stop "$RUN/node.pid"
  done
  {
    echo
    echo "Where the replica run's reads went (realtime_reads_total): $(tr '\n' ' ' <"$RUN/reads-replica.txt")"
    echo
  } >>"$OUT"
  pg_standby_stop
  STANDBY_DIR=""
}

# ------------------------------------------------------------------------------------- retention
run_retention() {
  local day cutoff t0 l0 ms wal rows
  day="$(date -u -d '+2 days' +%Y-%m-%d)"
  cutoff="$(date -u -d "$day + 1 day" +%Y-%m-%d) 00:00:00+00"
  log "retention: old layout, $DAY_EVENTS events on $day"
  fresh_db storage_old 6
  seed_groups storage_old
  insert_day storage_old "$day" "$DAY_EVENTS"
  q storage_old -c "VACUUM ANALYZE group_events" -c "CHECKPOINT" >/dev/null
  rows="$(q storage_old -c "SELECT count(*) FROM group_events")"
  l0="$(lsn)"; t0="$(now_ms)"
  old_retention storage_old "$cutoff"
  ms=$(($(now_ms) - t0)); wal="$(wal_since "$l0")"
  l0="$(lsn)"; t0="$(now_ms)"
  q storage_old -c "VACUUM group_events" >/dev/null
  local vms=$(($(now_ms) - t0)) vwal
  vwal="$(wal_since "$l0")"

  log "retention: partitioned, $DAY_EVENTS events on $day"
  fresh_db storage_new 0
  day_partition storage_new "$day"
  seed_groups storage_new
  insert_day storage_new "$day" "$DAY_EVENTS"
  q storage_new -c "VACUUM ANALYZE group_events" -c "CHECKPOINT" >/dev/null
  local nrows l1 t1 nms nwal
  nrows="$(q storage_new -c "SELECT count(*) FROM group_events_p${day//-/}")"
  l1="$(lsn)"; t1="$(now_ms)"
  drop_partitions storage_new "$cutoff"
  nms=$(($(now_ms) - t1)); nwal="$(wal_since "$l1")"
  local left
  left="$(q storage_new -c "SELECT count(*) FROM group_events")"
  {
    echo "## Retention of one day of events"
    echo
    echo "$rows events in $GROUPS_N groups, all on $day, expire (after a CHECKPOINT, so full-page images count as they would)."
    echo
    echo "| layout | statement | time | WAL |"
    echo "|---|---|---:|---:|"
    echo "| one table (before 0007) | DELETE … RETURNING + UPDATE groups | $ms ms | $(mb "$wal") |"
    echo "| one table (before 0007) | the VACUUM that DELETE leaves owed | $vms ms | $(mb "$vwal") |"
    echo "| partitioned by day | trimmed_through from the partition, DETACH CONCURRENTLY, DROP ($nrows rows; $left left) | $nms ms | $(mb "$nwal") |"
    echo
  } >>"$OUT"
  pg_psql "$PG_PORT_S" -c "DROP DATABASE storage_old" -c "DROP DATABASE storage_new" >/dev/null
}

# ------------------------------------------------------------------------------------------ week
run_week() {
  local base d day cutoff l0 t0 oldwal newwal oldms newms oldsize newsize oldrows newrows
  base="$(date -u -d '+2 days' +%Y-%m-%d)"
  log "week: $WEEK_DAYS days × $WEEK_DAY_EVENTS events, old layout"
  fresh_db week_old 6
  seed_groups week_old
  l0="$(lsn)"; t0="$(now_ms)"
  for ((d = 0; d < WEEK_DAYS; d++)); do
    day="$(date -u -d "$base + $d days" +%Y-%m-%d)"
    insert_day week_old "$day" "$WEEK_DAY_EVENTS"
    cutoff="$(date -u -d "$day + 1 day - 7 days" +%Y-%m-%d) 00:00:00+00"
    old_retention week_old "$cutoff"
    q week_old -c "VACUUM group_events" >/dev/null
  done
  oldms=$(($(now_ms) - t0)); oldwal="$(wal_since "$l0")"
  oldsize="$(log_size week_old)"; oldrows="$(q week_old -c "SELECT count(*) FROM group_events")"

  log "week: $WEEK_DAYS days × $WEEK_DAY_EVENTS events, partitioned"
  fresh_db week_new 0
  seed_groups week_new
  l0="$(lsn)"; t0="$(now_ms)"
  for ((d = 0; d < WEEK_DAYS; d++)); do
    day="$(date -u -d "$base + $d days" +%Y-%m-%d)"
    day_partition week_new "$day"
    insert_day week_new "$day" "$WEEK_DAY_EVENTS"
    cutoff="$(date -u -d "$day + 1 day - 7 days" +%Y-%m-%d) 00:00:00+00"
    drop_partitions week_new "$cutoff"
  done
  newms=$(($(now_ms) - t0)); newwal="$(wal_since "$l0")"
  newsize="$(log_size week_new)"; newrows="$(q week_new -c "SELECT count(*) FROM group_events")"
  {
    echo "## A week of traffic, then some"
    echo
    echo "$WEEK_DAYS days of $WEEK_DAY_EVENTS events a day in $GROUPS_N groups, retention 7 days run after each day."
    echo "The old layout gets a VACUUM after every daily DELETE (its best case; autovacuum would come later)."
    echo
    echo "| layout | rows kept | group_events size (heap + indexes) | WAL written | time (inserts + retention) |"
    echo "|---|---:|---:|---:|---:|"
    echo "| one table (before 0007) | $oldrows | $(mb "$oldsize") | $(mb "$oldwal") | $((oldms / 1000)) s |"
    echo "| partitioned by day | $newrows | $(mb "$newsize") | $(mb "$newwal") | $((newms / 1000)) s |"
    echo
  } >>"$OUT"
  pg_psql "$PG_PORT_S" -c "DROP DATABASE week_old" -c "DROP DATABASE week_new" >/dev/null
}

for p in "${PARTS[@]}"; do "run_$p"; done
echo "At the end: \`$(uptime)\`." >>"$OUT"
log "wrote $OUT"
cat "$OUT"
