#!/usr/bin/env bash
# The list's p99 during bulk actions under one host configuration, for comparing configurations (docs/benchmarks.md,
# "Bulk actions and the list's p99"). Reuses the cluster bench/list-bench.sh seeded (run that first): starts the
# Release host on it with the given environment, then RUNS times: the paced list load of list-bench's bulk scenario
# (4 connections, 10 ms think time) for 15 s idle, then the same load during one set_status of the 100,000 newest
# leads (the status alternating, so every lead changes), and prints the two p99s, their ratio and the action's time.
#
#   bench/bulk-latency-ab.sh LABEL [NAME=VALUE ...]
#   e.g. bench/bulk-latency-ab.sh one-stream Bulk__Streams=1
#
# Environment: BENCH_DIR (/tmp/leads-bench), BENCH_HTTP_PORT (5190), BENCH_RUNS (3), BENCH_BULK_LEADS (100000),
# BENCH_SETTLE (60: seconds between the host's start and the first window — a host that was down at the hour runs the
# missed hourly webhook retention job right after it starts, which reads the whole feed table; see docs/benchmarks.md).
# Appends its lines to $BENCH_DIR/bulk-latency-ab.txt too. Not a pass/fail judgement: list-bench.sh's bulk scenario is.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -ge 1 ]] || { sed -n '2,12p' "$0"; exit 2; }
LABEL=$1; shift
BENCH_DIR=${BENCH_DIR:-/tmp/leads-bench}
DATA_DIR=$BENCH_DIR/pgdata
BASE=http://127.0.0.1:${BENCH_HTTP_PORT:-5190}
RUNS=${BENCH_RUNS:-3}
BULK_LEADS=${BENCH_BULK_LEADS:-100000}
HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
export PGPASSFILE=$DATA_DIR/pgpass
[[ -x $HOST_BIN ]] || { echo "build the host first: dotnet build -c Release src/Host" >&2; exit 2; }
[[ -d $DATA_DIR ]] || { echo "no seeded cluster in $DATA_DIR: run bench/list-bench.sh first" >&2; exit 2; }
curl -s -o /dev/null "$BASE/health/live" && { echo "something already answers on $BASE" >&2; exit 2; }

HOST_ARGS=(--Database:DataDirectory="$DATA_DIR" --Logging:Format=simple --Logging:LogLevel:Default=Warning)
env "$@" "$HOST_BIN" --urls "$BASE" "${HOST_ARGS[@]}" --RateLimit:PerKeyPerMinute=100000000 >"$BENCH_DIR/ab-host.log" 2>&1 &
HOST_PID=$!
trap 'kill "$HOST_PID" 2>/dev/null; wait "$HOST_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null "$BASE/health/ready" && break; sleep 1; done
sleep "${BENCH_SETTLE:-60}"
KEY=$("$HOST_BIN" keys create --workspace bench --scope full --label ab "${HOST_ARGS[@]}" 2>/dev/null)
PG_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
q() { psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d leads -qAt -c "$1"; }
W="workspace_id = (SELECT id FROM access.workspaces WHERE name = 'bench')"
FROM=$(q "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM leads.leads WHERE $W ORDER BY created_at DESC, id DESC OFFSET $(( BULK_LEADS - 1 )) LIMIT 1")
paced=(-t2 -c4 --latency -H "X-API-Key: $KEY" -s "$ROOT/bench/wrk-paced.lua" "$BASE/api/leads" -- 10)
p99() { grep '^RESULT' | awk '{ print $4 }'; }
wrk -d10s "${paced[@]}" >/dev/null
for run in $(seq 1 "$RUNS"); do
  to=$( [[ $(q "SELECT count(*) FILTER (WHERE status = 'closed') * 2 > count(*) FROM leads.leads WHERE $W AND created_at >= '$FROM'") == t ]] && echo contacted || echo closed)
  idle=$(wrk -d15s "${paced[@]}" | p99)
  wrk -d900s "${paced[@]}" >"$BENCH_DIR/ab-load.txt" &
  wrk_pid=$!
  sleep 2
  t0=$(date +%s%3N)
  url=$(curl -sf -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -X POST "$BASE/api/leads/bulk" \
    -d "{\"filter\":{\"startDate\":\"$FROM\"},\"action\":\"set_status\",\"status\":\"$to\"}" | jq -r .statusUrl)
  until [[ $(curl -sf -H "X-API-Key: $KEY" "$BASE$url" | jq -r .status) =~ ^(completed|failed)$ ]]; do sleep 0.2; done
  took=$(( $(date +%s%3N) - t0 ))
  kill -INT "$wrk_pid"; wait "$wrk_pid" || true
  busy=$(p99 <"$BENCH_DIR/ab-load.txt")
  line="$LABEL run $run ($*): list p99 idle $idle ms, during the action $busy ms = $(awk -v a="$busy" -v b="$idle" 'BEGIN { printf "%.2f", a / b }')×; set_status $to of $BULK_LEADS took $took ms; load $(cut -d' ' -f1 /proc/loadavg)"
  echo "$line" | tee -a "$BENCH_DIR/bulk-latency-ab.txt"
  sleep 5
done
