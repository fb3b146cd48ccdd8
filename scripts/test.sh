#!/usr/bin/env bash
# shellcheck disable=SC2317  # on_exit runs from the EXIT trap
# Test: builds the solution, runs the .NET tests against a private PostgreSQL and Redis, then
# the JS end-to-end tests against two server nodes, and ends with one line
# "N passed, M failed". M counts failed tests plus failed steps (build, a node that never got
# ready, a runner that crashed, no tests at all), so the exit code is 0 exactly when M is 0.
#
# Own ports and dirs, apart from scripts/run.sh: PostgreSQL .data/test-pg on 127.0.0.1:25433,
# Redis .data/test-redis on 127.0.0.1:26380, a Redis Cluster (3 masters, 3 replicas)
# .data/test-redis-cluster on 127.0.0.1:27000-27005 (bus 27010-27015), e2e nodes on 5091 and 5092, logs in
# .data/test-logs. Everything it starts is stopped on exit, also on failure or Ctrl-C.
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT" || exit 1
# shellcheck source=scripts/lib.sh
source "$REPO_ROOT/scripts/lib.sh"

# Each port may be moved with an environment variable of the same name (two runs side by side).
PG_TEST_PORT="${PG_TEST_PORT:-25433}"
REDIS_TEST_PORT="${REDIS_TEST_PORT:-26380}"
REDIS_CLUSTER_TEST_PORT="${REDIS_CLUSTER_TEST_PORT:-27000}" # the next five, and +10..+15 for the cluster bus
E2E_PORT1="${E2E_PORT1:-5091}"
E2E_PORT2="${E2E_PORT2:-5092}"
E2E_DB=realtime_e2e
DATA="$REPO_ROOT/.data"
LOGS="$DATA/test-logs"
RUN="$DATA/test-run"

TESTS_PASSED=0
TESTS_FAILED=0
STEPS_FAILED=()

step_failed() {
  STEPS_FAILED+=("$1")
  log "FAILED: $1"
}

on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  _stop_all  # lib.sh: the nodes in NODE_PIDFILES, PostgreSQL, Redis
  # An abort (a die in the bootstrap, a signal) is a failure even when no step recorded one.
  if ((rc != 0 && ${#STEPS_FAILED[@]} == 0 && TESTS_FAILED == 0)); then
    STEPS_FAILED+=("aborted (exit $rc)")
  fi
  local step
  for step in "${STEPS_FAILED[@]}"; do log "failed step: $step"; done
  echo "$TESTS_PASSED passed, $((TESTS_FAILED + ${#STEPS_FAILED[@]})) failed"
  if ((${#STEPS_FAILED[@]} > 0 || TESTS_FAILED > 0)); then exit 1; fi
  exit 0
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Adds up the per-assembly summaries of dotnet test (VSTest: "Passed!  - Failed: 0, Passed:
# 12, ..."; Microsoft.Testing.Platform: "failed: 0" / "succeeded: 12" under "Test run
# summary"). Prints "passed failed found" where found is 0 when no summary was seen.
parse_dotnet_test() {
  awk '
    /(Passed|Failed)! +- +Failed: *[0-9]+, *Passed: *[0-9]+/ {
      line = $0
      sub(/.*Failed: */, "", line); f = line + 0
      line = $0
      sub(/.*Passed: */, "", line); p = line + 0
      failed += f; passed += p; found = 1; next
    }
    /Test run summary:/ { mtp = 1; next }
    mtp && /^ *failed: *[0-9]+/ { line = $0; sub(/.*failed: */, "", line); mf += line; mfound = 1 }
    mtp && /^ *succeeded: *[0-9]+/ { line = $0; sub(/.*succeeded: */, "", line); mp += line; mfound = 1 }
    END {
      if (found) print passed + 0, failed + 0, 1
      else if (mfound) print mp + 0, mf + 0, 1
      else print 0, 0, 0
    }' "$1"
}

# Adds up node --test TAP totals ("# pass N", "# fail N", "# cancelled N").
parse_node_test() {
  awk '
    /^# pass [0-9]+/ { p += $3; found = 1 }
    /^# fail [0-9]+/ { f += $3 }
    /^# cancelled [0-9]+/ { f += $3 }
    END { print p + 0, f + 0, found + 0 }' "$1"
}

show_tail() {
  local file="$1"
  [[ -f "$file" ]] || return 0
  echo "----- last lines of $file -----" >&2
  tail -n 40 "$file" >&2
  echo "-----" >&2
}

mkdir -p "$LOGS" "$RUN"

# ------------------------------------------------------------------ bootstrap
ensure_packages
# The web sample's real-browser test (tests/e2e/web-browser.test.mjs) drives Debian's chromium.
if ! command -v chromium >/dev/null; then
  log "installing chromium (apt-get)"
  sudo_=(); ((EUID == 0)) || sudo_=(sudo)
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  "${sudo_[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
    || die "could not install chromium"
fi
for tool in dotnet node npm; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
pg_start "$DATA/test-pg" "$PG_TEST_PORT" test
redis_start "$DATA/test-redis" "$REDIS_TEST_PORT" test
redis_cluster_start "$DATA/test-redis-cluster" "$REDIS_CLUSTER_TEST_PORT"

# ------------------------------------------------------------------ read replica
# A streaming hot standby of the test PostgreSQL (.data/test-pg-standby on 127.0.0.1:25439,
# PG_REPLICA_TEST_PORT moves it): every test node reads through it (ConnectionStrings__PostgresRead),
# and the replica tests pause its replay and stop and start it (REALTIME_TEST_PG_READ_DIR, _BIN).
PG_REPLICA_TEST_PORT="${PG_REPLICA_TEST_PORT:-25439}"
pg_allow_replication "$PG_DIR" "$PG_TEST_PORT"
pg_standby_start "$PG_TEST_PORT" "$DATA/test-pg-standby" "$PG_REPLICA_TEST_PORT"
export REALTIME_TEST_PG_READ="Host=127.0.0.1;Port=$PG_REPLICA_TEST_PORT;Username=postgres;Database=postgres"
export REALTIME_TEST_PG_READ_DIR="$STANDBY_DIR" REALTIME_TEST_PG_BIN="$PG_BIN"
log "REALTIME_TEST_PG_READ=$REALTIME_TEST_PG_READ"

# For the .NET tests: an admin connection (tests create their own databases), the test Redis,
# and the redis-server binary for tests that run their own.
export REALTIME_TEST_PG="Host=127.0.0.1;Port=$PG_TEST_PORT;Username=postgres;Database=postgres"
export REALTIME_TEST_REDIS="127.0.0.1:$REDIS_TEST_PORT"
REALTIME_TEST_REDIS_CLUSTER="$(printf '127.0.0.1:%s,' "${REDIS_CLUSTER_PORTS[@]:0:3}")"
export REALTIME_TEST_REDIS_CLUSTER="${REALTIME_TEST_REDIS_CLUSTER%,}"
REALTIME_REDIS_SERVER_BIN="$(command -v redis-server)"
export REALTIME_REDIS_SERVER_BIN
log "REALTIME_TEST_PG=$REALTIME_TEST_PG REALTIME_TEST_REDIS=$REALTIME_TEST_REDIS REALTIME_TEST_REDIS_CLUSTER=$REALTIME_TEST_REDIS_CLUSTER"

# ------------------------------------------------------------------ build
BUILD_OK=0
log "dotnet build Realtime.sln -c Release"
if timeout -k 30s 15m dotnet build Realtime.sln -c Release -nologo -v minimal 2>&1 | tee "$LOGS/build.log"; then
  BUILD_OK=1
else
  step_failed "dotnet build Realtime.sln -c Release"
fi

# ------------------------------------------------------------------ .NET client package
# The client library packs as a NuGet package (README inside, warnings are errors); a missing .nupkg counts as a failure.
if ((BUILD_OK)); then
  log "dotnet pack client-samples/dotnet/Realtime.Client -c Release"
  rm -rf "$RUN/pack"
  if timeout -k 30s 5m dotnet pack client-samples/dotnet/Realtime.Client -c Release --no-build -nologo -v minimal -o "$RUN/pack" 2>&1 \
      | tee "$LOGS/pack.log" && compgen -G "$RUN/pack/Realtime.Client.*.nupkg" >/dev/null; then
    log "packed $(basename "$(compgen -G "$RUN/pack/Realtime.Client.*.nupkg" | head -1)")"
  else
    step_failed "dotnet pack client-samples/dotnet/Realtime.Client"
  fi
fi

# ------------------------------------------------------------------ .NET tests
if ((BUILD_OK)); then
  log "dotnet test Realtime.sln -c Release"
  # A test that hangs for 5 minutes is killed and reported instead of stalling the run.
  timeout -k 30s 45m dotnet test Realtime.sln -c Release --no-build \
    --blame-hang-timeout 5m --blame-hang-dump-type none 2>&1 | tee "$LOGS/dotnet-test.log"
  rc=${PIPESTATUS[0]}
  read -r p f found < <(parse_dotnet_test "$LOGS/dotnet-test.log")
  TESTS_PASSED=$((TESTS_PASSED + p))
  TESTS_FAILED=$((TESTS_FAILED + f))
  log "dotnet test: $p passed, $f failed (exit $rc)"
  if ((rc == 124 || rc == 137)); then
    step_failed "dotnet test timed out"
  elif ((rc != 0 && f == 0)); then
    step_failed "dotnet test exited $rc without a failed test (crash or aborted run)"
  elif ((found == 0)); then
    log "dotnet test found no tests"
  fi
fi

# ------------------------------------------------------------------ JS end-to-end tests
# run_node_tests NAME PROTOCOL [FILE...]: node --test in tests/e2e against the e2e nodes, the JS
# clients on PROTOCOL (REALTIME_E2E_PROTOCOL); counted, its log in $LOGS/NAME.log.
run_node_tests() {
  local name="$1" protocol="$2"; shift 2
  log "node --test (tests/e2e, $protocol) $*"
  (
    cd tests/e2e &&
      REALTIME_E2E_URL="http://127.0.0.1:$E2E_PORT1" REALTIME_E2E_URL2="http://127.0.0.1:$E2E_PORT2" REALTIME_E2E_PROTOCOL="$protocol" \
        timeout -k 10s 10m node --test --test-reporter=tap "$@"
  ) 2>&1 | tee "$LOGS/$name.log"
  local rc=${PIPESTATUS[0]} p f found
  read -r p f found < <(parse_node_test "$LOGS/$name.log")
  TESTS_PASSED=$((TESTS_PASSED + p))
  TESTS_FAILED=$((TESTS_FAILED + f))
  log "$name: $p passed, $f failed (exit $rc)"
  if ((rc == 124 || rc == 137)); then
    step_failed "node --test ($name) timed out"
  elif ((rc != 0 && f == 0)); then
    step_failed "node --test ($name) exited $rc without a failed test"
  elif ((found == 0)); then
    step_failed "node --test ($name) ran no test"
  fi
  if ((rc != 0)); then
    show_tail "$LOGS/e2e-node-1.log"
    show_tail "$LOGS/e2e-node-2.log"
  fi
}

run_e2e() {
  log "npm ci (tests/e2e)"
  if ! (cd tests/e2e && timeout -k 10s 5m npm ci --no-audit --no-fund --loglevel=error) 2>&1 | tee "$LOGS/npm-ci.log"; then
    step_failed "npm ci in tests/e2e"
    return
  fi
  local sample
  for sample in client-samples/node client-samples/web; do
    log "npm ci ($sample)"
    if ! (cd "$sample" && timeout -k 10s 5m npm ci --no-audit --no-fund --loglevel=error) 2>&1 | tee -a "$LOGS/npm-ci.log"; then
      step_failed "npm ci in $sample"
      return
    fi
  done

  log "fresh database $E2E_DB"
  if ! pg_recreate_db "$PG_TEST_PORT" "$E2E_DB"; then
    step_failed "create database $E2E_DB"
    return
  fi
  redis-cli -h 127.0.0.1 -p "$REDIS_TEST_PORT" flushall >/dev/null

  local env=(
    ASPNETCORE_ENVIRONMENT=Development
    "ConnectionStrings__Postgres=Host=127.0.0.1;Port=$PG_TEST_PORT;Username=postgres;Database=$E2E_DB"
    "ConnectionStrings__Redis=127.0.0.1:$REDIS_TEST_PORT"
    # Web Push for the demo app (the web sample's round trip): a fresh VAPID pair from the server's own verb.
    "Realtime__Apps__demo__Secret=realtime-demo-development-secret-0001"
    Realtime__WebPush__AllowLoopbackHttp=true
    # The web sample served by the nodes with the dev sign-in: the browser test uses the one-URL flow.
    "Realtime__DevSample__Path=$REPO_ROOT/client-samples/web"
  )
  local vapid
  if ! vapid="$(dotnet "$SERVER_DLL" vapid-keys --app demo)"; then
    step_failed "vapid-keys"
    return
  fi
  mapfile -t -O "${#env[@]}" env <<<"$vapid"
  NODE_PIDFILES+=("$RUN/e2e-node-1.pid" "$RUN/e2e-node-2.pid")
  # One after the other: the second node finds the migrations applied.
  log "starting e2e nodes on $E2E_PORT1 and $E2E_PORT2 (logs in $LOGS)"
  node_start "$RUN/e2e-node-1.pid" "$LOGS/e2e-node-1.log" "$E2E_PORT1" e2e-node-1 "${env[@]}"
  if ! wait_ready "http://127.0.0.1:$E2E_PORT1" 90 "$(cat "$RUN/e2e-node-1.pid")"; then
    step_failed "e2e node 1 not ready on 127.0.0.1:$E2E_PORT1"
    show_tail "$LOGS/e2e-node-1.log"
    return
  fi
  node_start "$RUN/e2e-node-2.pid" "$LOGS/e2e-node-2.log" "$E2E_PORT2" e2e-node-2 "${env[@]}"
  if ! wait_ready "http://127.0.0.1:$E2E_PORT2" 90 "$(cat "$RUN/e2e-node-2.pid")"; then
    step_failed "e2e node 2 not ready on 127.0.0.1:$E2E_PORT2"
    show_tail "$LOGS/e2e-node-2.log"
  fi

  # Everything on JSON, then the JS client's and the web page's tests again on MessagePack.
  run_node_tests e2e json
  run_node_tests e2e-messagepack messagepack client-samples.test.mjs web-browser.test.mjs

  node_stop "$RUN/e2e-node-1.pid"
  node_stop "$RUN/e2e-node-2.pid"
}

if ((BUILD_OK)); then
  run_e2e
fi

if ((TESTS_PASSED + TESTS_FAILED == 0)); then
  step_failed "no tests ran"
fi
exit 0 # on_exit prints the summary and sets the exit code
