#!/usr/bin/env bash
# Diagnostic beside list-bench.sh: where PostgreSQL's time goes per scenario, from pg_stat_statements
# (with track_planning). Needs the cluster list-bench.sh seeded; loads only 127.0.0.1.
#
#   bench/statements.sh '/api/leads' '/api/leads/stats' '/api/leads?search=garcia'
#
# Starts the Release host on that cluster (build it first, e.g. with list-bench.sh), enables
# pg_stat_statements for the run (a restart), then per path: 5 s of wrk warm-up, a reset, 15 s of wrk at
# 16 connections, and the top statements by planning + execution time. Leaves the cluster's settings as it
# found them (list-bench.sh resets them anyway).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-bench}
DATA_DIR=$BENCH_DIR/pgdata
export PGPASSFILE=$DATA_DIR/pgpass  # the embedded cluster's SCRAM password (written by the host)
BASE=http://127.0.0.1:${BENCH_HTTP_PORT:-5190}
HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
ARGS=(--Database:DataDirectory="$DATA_DIR" --Logging:Format=simple --Logging:LogLevel:Default=Warning)
[[ -x $HOST_BIN && -f $DATA_DIR/PG_VERSION ]] || { echo "run bench/list-bench.sh first" >&2; exit 2; }
[[ $# -gt 0 ]] || { sed -n '2,10p' "$0"; exit 2; }

HOST_PID=""
start_host() {
  "$HOST_BIN" --urls "$BASE" "${ARGS[@]}" --RateLimit:PerKeyPerMinute=100000000 >>"$BENCH_DIR/statements-host.log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 120); do curl -sf -o /dev/null "$BASE/health/ready" && break; sleep 1; done
  PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
}
stop_host() { [[ -n $HOST_PID ]] && kill -TERM "$HOST_PID" && wait "$HOST_PID" || true; HOST_PID=""; }
trap stop_host EXIT
q() { psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d leads -qAt -c "$1"; }

start_host
KEY=$("$HOST_BIN" keys create --workspace bench --scope full --label statements "${ARGS[@]}" 2>/dev/null)
if [[ $(q "SHOW shared_preload_libraries") != *pg_stat_statements* ]]; then
  q "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  stop_host; start_host
fi
q "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1
q "ALTER SYSTEM SET pg_stat_statements.track_planning = on"
q "SELECT pg_reload_conf()" >/dev/null
echo "PostgreSQL: shared_buffers=$(q 'SHOW shared_buffers'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for path in "$@"; do
  wrk -t2 -c16 -d5s -H "X-API-Key: $KEY" "$BASE$path" >/dev/null
  q "SELECT pg_stat_statements_reset()" >/dev/null
  echo "== $path"
  wrk -t2 -c16 -d15s -H "X-API-Key: $KEY" "$BASE$path" | grep -E "Requests/sec|Latency"
  psql -X -h 127.0.0.1 -p "$PORT" -U postgres -d leads -P pager=off -c "
    SELECT calls, round(mean_plan_time::numeric, 3) AS plan_ms, round(mean_exec_time::numeric, 3) AS exec_ms,
           round(((total_plan_time + total_exec_time) / sum(total_plan_time + total_exec_time) OVER () * 100)::numeric, 1) AS pct,
           shared_blks_hit / calls AS hit, shared_blks_read / calls AS read,
           left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements WHERE calls > 10 ORDER BY total_plan_time + total_exec_time DESC LIMIT 8"
done
q "DROP EXTENSION IF EXISTS pg_stat_statements"
q "ALTER SYSTEM RESET pg_stat_statements.track_planning"
q "ALTER SYSTEM RESET shared_preload_libraries"
