#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup runs from the EXIT trap
# History and search benchmark (issue 13, SPEC §9):
#
#   bench/history.sh
#
#   search   SearchGroups on an app of HISTORY_GROUPS=100000 groups (names of two common words and a
#            number; one in ten Private, one in twenty disabled, a few rare words): latency per query
#            kind, sequential and 4 terminals at once (Realtime.Bench search, HISTORY_ROUNDS=300 each).
#   history  GetMessages in one group of HISTORY_EVENTS=10000 events (one in ten not a message): pages of
#            50 at the newest page, the middle and the oldest, and a scroll through all of it (Realtime.Bench history).
#   plans    the plans PostgreSQL chose for the server's own statements: a second node whose sessions load
#            auto_explain (log_analyze, buffers) answers one call of each query (Realtime.Bench probe);
#            its plans are taken from the PostgreSQL log.
#
# Own PostgreSQL (durable settings, fsync on) in .data/bench-history-pg on 127.0.0.1:$HISTORY_PG_PORT (25441),
# the measured node on $HISTORY_NODE_PORT (5189), the plan node on $HISTORY_EXPLAIN_PORT (5190). The groups
# and the big group's events are written with SQL (the shapes the server writes); every read goes through
# the hub (after VACUUM ANALYZE, the state autovacuum keeps a table in). Writes bench/results/<date>-history.md with the machine load (uptime) at start and end.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

PG_PORT_H="${HISTORY_PG_PORT:-25441}"
NODE_PORT_H="${HISTORY_NODE_PORT:-5189}"
EXPLAIN_PORT_H="${HISTORY_EXPLAIN_PORT:-5190}"
GROUPS_H="${HISTORY_GROUPS:-100000}"
EVENTS_H="${HISTORY_EVENTS:-10000}"
ROUNDS_H="${HISTORY_ROUNDS:-300}"
DB=realtime_history
DATA="$REPO_ROOT/.data"
RUN="$DATA/bench-history-run"
PGDIR="$DATA/bench-history-pg"
BENCH_DLL="$REPO_ROOT/bench/Realtime.Bench/bin/Release/net10.0/Realtime.Bench.dll"
STAMP="$(date -u +%Y-%m-%d-%H%M)"
OUT="$REPO_ROOT/bench/results/$STAMP-history.md"
mkdir -p "$RUN" "$REPO_ROOT/bench/results"

stop_on_exit  # lib.sh: the nodes and PostgreSQL on any exit

ensure_packages
pg_start "$PGDIR" "$PG_PORT_H"
pg_recreate_db "$PG_PORT_H" "$DB"
q() { pg_psql "$PG_PORT_H" -d "$DB" -tA "$@"; }

log "dotnet build (Release): server and bench"
dotnet build server/Realtime.Server -c Release -nologo -v quiet
dotnet build bench/Realtime.Bench -c Release -nologo -v quiet

CONN="Host=127.0.0.1;Port=$PG_PORT_H;Username=postgres;Database=$DB;Maximum Pool Size=50"
NODE_ENV=(ASPNETCORE_ENVIRONMENT=Development Realtime__RetentionEventsPerGroup=1000000 "${DEMO_APP_UNLIMITED[@]}")
NODE_PIDFILES+=("$RUN/node.pid")
log "starting the node on http://127.0.0.1:$NODE_PORT_H (log: $RUN/node.log); it migrates the database"
node_start "$RUN/node.pid" "$RUN/node.log" "$NODE_PORT_H" bench-history-node "${NODE_ENV[@]}" "ConnectionStrings__Postgres=$CONN"
wait_ready "http://127.0.0.1:$NODE_PORT_H" 90 "$(cat "$RUN/node.pid")" || die "the node is not ready; see $RUN/node.log"

UPTIME_START="$(uptime)"
log "seeding $GROUPS_H groups and a group of $EVENTS_H events"
seed_start=$SECONDS
q -c "
  WITH w AS (SELECT ARRAY['silver','river','forest','mountain','hiking','chess','music','coffee','travel','study',
                          'garden','ocean','city','night','sunny','book','film','code','design','photo',
                          'runner','yoga','cooking','family','friends','team','club','crew','lounge','corner'] AS a)
  INSERT INTO groups (app_id, group_id, type, name, owner_id, max_members, apply_join_option, invite_option,
                      disabled, created_at, last_modified, member_count)
  SELECT 'demo', 'seed-' || i,
         CASE WHEN i % 10 = 0 THEN 'Private' WHEN i % 7 = 0 THEN 'ChatRoom' ELSE 'Public' END,
         initcap(a[1 + (hashint4(i) & 2147483647) % 30]) || ' ' || a[1 + (hashint4(i * 7 + 3) & 2147483647) % 30] || ' ' || i,
         'seed-owner', 2000, CASE WHEN i % 7 = 0 THEN 'FreeAccess' ELSE 'NeedPermission' END,
         CASE WHEN i % 10 = 0 THEN 'Anyone' ELSE 'AdminsOnly' END, i % 20 = 5, now(), now(), 1
  FROM w, generate_series(1, $GROUPS_H) i" \
  -c "UPDATE groups SET name = 'Quokka fans ' || gid WHERE group_id IN ('seed-777', 'seed-7777', 'seed-77777', 'seed-70')" \
  -c "UPDATE groups SET name = 'Zqueen ' || gid WHERE group_id IN ('seed-1234', 'seed-54321')" >/dev/null
q -c "
  WITH g AS (
    INSERT INTO groups (app_id, group_id, type, name, owner_id, max_members, apply_join_option, invite_option,
                        created_at, last_modified, member_count, last_seq)
    VALUES ('demo', 'hist-big', 'Public', 'History bench', 'hist-owner', 2000, 'NeedPermission', 'AdminsOnly', now(), now(), 2, $EVENTS_H)
    RETURNING gid),
  m AS (
    INSERT INTO group_members (gid, app_id, user_id, role, joined_at, join_seq)
    SELECT gid, 'demo', u, r, now(), 0 FROM g, (VALUES ('hist-owner', 'Owner'), ('hist-reader', 'Member')) v(u, r)),
  w AS (
    INSERT INTO member_windows (gid, app_id, user_id, from_seq)
    SELECT gid, 'demo', u, 0 FROM g, (VALUES ('hist-owner'), ('hist-reader')) v(u))
  INSERT INTO group_events (gid, seq, id, type, actor, at, data)
  SELECT gid, s, gen_random_uuid(), CASE WHEN s % 10 = 0 THEN 'ProfileChanged' ELSE 'Message' END, 'hist-owner',
         now() - ($EVENTS_H - s) * interval '1 ms',
         CASE WHEN s % 10 = 0 THEN jsonb_build_object('changes', jsonb_build_object('notification', 'n' || s))
              ELSE jsonb_build_object('messageId', gen_random_uuid(), 'sender', 'hist-owner', 'text', 'a message of a typical length, number ' || s) END
  FROM g, generate_series(1, $EVENTS_H) s" \
  -c "VACUUM ANALYZE" >/dev/null
SEED_SECONDS=$((SECONDS - seed_start))
GROUP_ROWS="$(q -c "SELECT count(*) FROM groups WHERE app_id = 'demo'")"
SHOWN_ROWS="$(q -c "SELECT count(*) FROM groups WHERE app_id = 'demo' AND dissolved_at IS NULL AND type <> 'Private' AND NOT disabled")"

run_bench() { # run_bench SCENARIO URL [args...]
  local scenario="$1" url="$2"; shift 2
  timeout 900 dotnet "$BENCH_DLL" "$scenario" --urls "$url" --app demo "$@" 2> >(tee -a "$RUN/bench.log" >&2)
}

SEARCH_MD="$RUN/search.md" HISTORY_MD="$RUN/history.md"
log "search: $ROUNDS_H rounds per query"
run_bench search "http://127.0.0.1:$NODE_PORT_H" --rounds "$ROUNDS_H" >"$SEARCH_MD" || die "search scenario failed"
log "history: $ROUNDS_H rounds per depth"
run_bench history "http://127.0.0.1:$NODE_PORT_H" --rounds "$ROUNDS_H" >"$HISTORY_MD" || die "history scenario failed"
UPTIME_END="$(uptime)"

log "plans: a node whose sessions log their plans (auto_explain)"
LOGSTART="$(wc -l <"$PGDIR/postgres.log")"
NODE_PIDFILES+=("$RUN/explain.pid")
node_start "$RUN/explain.pid" "$RUN/explain.log" "$EXPLAIN_PORT_H" bench-history-explain "${NODE_ENV[@]}" \
  "ConnectionStrings__Postgres=$CONN;Options='-c session_preload_libraries=auto_explain -c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on -c auto_explain.log_buffers=on -c auto_explain.log_timing=on'"
wait_ready "http://127.0.0.1:$EXPLAIN_PORT_H" 90 "$(cat "$RUN/explain.pid")" || die "the plan node is not ready; see $RUN/explain.log"
run_bench probe "http://127.0.0.1:$EXPLAIN_PORT_H" >/dev/null || die "probe failed"
node_stop "$RUN/explain.pid"
# Each logged plan: its "duration: … plan:" line and the tab-indented lines after it; only the server's
# statements of this feature (they open with a comment naming their method).
PLANS="$RUN/plans.txt"
tail -n +"$((LOGSTART + 1))" "$PGDIR/postgres.log" | awk '
  function flush() { if (block ~ /(SearchGroups|GetMessages) \*\//) print block "\n"; block = "" }
  /plan:$/ { flush(); block = $0; next }
  /^\t/ && block != "" { block = block "\n" $0; next }
  { flush() }
  END { flush() }' >"$PLANS"
# In Markdown: one fenced block per plan, the statement's text replaced by its method (the SQL is in the server's source).
PLANS_MD="$RUN/plans.md"
awk '
  /plan:$/ { if (n++) print "```"; print "\n```"; line = $0; sub(/^.*duration: /, "duration: ", line); print line; inq = 0; next }
  /Query Text:/ { match($0, /(SearchGroups|GetMessages)/); print "Query Text: /* " substr($0, RSTART, RLENGTH) " */ (see the server source)"; inq = 1; next }
  inq && !/\(cost=|\(actual/ { next }
  /^$/ { next }
  { inq = 0; sub(/^\t/, ""); print }
  END { if (n) print "```" }' "$PLANS" >"$PLANS_MD"

COMMIT="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/results' || echo '+uncommitted')"
{
  echo "# History and search benchmark $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- commit: \`$COMMIT\` (branch $(git rev-parse --abbrev-ref HEAD))"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory"
  echo "- everything on this one machine, shared with other work: one node (Release, Development), PostgreSQL 15 (fsync on), the client"
  echo "- \`uptime\` at the start: $UPTIME_START"
  echo "- \`uptime\` at the end:   $UPTIME_END"
  echo "- seeded in ${SEED_SECONDS} s: $GROUP_ROWS groups of the app ($SHOWN_ROWS of them searchable: not Private, not disabled), and \`hist-big\` with $EVENTS_H events"
  echo
  cat "$SEARCH_MD"
  echo
  cat "$HISTORY_MD"
  echo
  echo "## plans"
  echo
  echo "PostgreSQL's own plans of the server's statements (auto_explain with ANALYZE and BUFFERS in the sessions of a second node on the same"
  echo "database, one call of each query above, in that order: SearchGroups \`a\`, \`riv\`, \`forest\`, \`zq\`, \`quokka\`, \`xylophonist\`, \`silver river\`;"
  echo "GetMessages newest, middle, oldest). Custom plans: the search runs with \`plan_cache_mode = force_custom_plan\`."
  cat "$PLANS_MD"
} >"$OUT"
log "wrote $OUT"
