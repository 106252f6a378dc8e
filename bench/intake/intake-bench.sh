#!/usr/bin/env bash
# Intake on one primary: POST /api/leads (a new lead per request: validation, normalisation, duplicate check under its
# advisory locks, insert, timeline event, counters, change log — one transaction) at a fixed concurrency.
#
#   bench/intake/intake-bench.sh [--connections C] [--duration S] [--warmup S] [--no-build]    defaults 8, 20, 10
#
# Starts the Release host on its own embedded cluster in /tmp/leads-intake (bench/lib.sh), creates a key, runs wrk (2 threads) first for --warmup seconds
# and then for --duration seconds, and checks that the workspace holds one lead per 2xx answer (plus at most the
# requests still in flight when wrk stopped) and that no request failed. Loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONNECTIONS=8
DURATION=20
WARMUP=10
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --connections) CONNECTIONS=$2; shift ;; --duration) DURATION=$2; shift ;; --warmup) WARMUP=$2; shift ;;
    --no-build) BUILD=0 ;; *) echo "unknown option $1" >&2; exit 2 ;;
  esac; shift
done
FAULT_DIR=${INTAKE_DIR:-/tmp/leads-intake}
PORT=${INTAKE_PORT:-5134}
NAME=intake
source "$ROOT/bench/lib.sh"
fault_start
KEY=$(host_key intake)
run() { wrk -t2 -c"$CONNECTIONS" -d"${1}s" --latency -s "$ROOT/bench/intake/intake.lua" "$BASE" -- "$KEY" "$2" | grep '^RESULT'; }
log "warm-up ${WARMUP}s at $CONNECTIONS connections (load avg $(load_avg))"
W=$(run "$WARMUP" warm)
LOAD_BEFORE=$(load_avg)
R=$(run "$DURATION" measured)
LOAD_AFTER=$(load_avg)
read -r _ RPS P50 P99 MAX REQ NON2XX SOCK _ <<<"$R"
read -r _ _ _ _ _ WREQ WNON2XX WSOCK _ <<<"$W"
LEADS=$(sql -c "SELECT count(*) FROM leads.leads l JOIN access.workspaces w ON w.id = l.workspace_id WHERE w.name = 'intake'")
EXPECTED=$(( REQ - NON2XX - SOCK + WREQ - WNON2XX - WSOCK ))
echo "intake: $RPS req/s, p50 $P50 ms, p99 $P99 ms, max $MAX ms; $REQ requests in ${DURATION}s at $CONNECTIONS connections," \
     "$NON2XX non-2xx, $SOCK socket errors; load avg $LOAD_BEFORE → $LOAD_AFTER"
# wrk stops counting at the deadline with up to one request per connection still in flight; the host completes those.
echo "leads in the workspace: $LEADS (2xx answers counted by wrk: $EXPECTED; up to $((2 * CONNECTIONS)) more were in flight when the two runs ended)"
if [[ $LEADS -ge $EXPECTED && $LEADS -le $((EXPECTED + 2 * CONNECTIONS)) && $NON2XX -eq 0 && $SOCK -eq 0 ]]; then echo PASS; else echo FAIL; exit 1; fi
