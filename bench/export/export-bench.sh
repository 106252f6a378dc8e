#!/usr/bin/env bash
# CSV export benchmark (docs/benchmarks.md, "CSV export"): GET /api/leads/export of 1,000,000 leads against
# psql's \copy of the same SELECT, and the host's memory while it streams.
#
#   bench/export/export-bench.sh [--reseed] [--leads N] [--runs R] [--no-build]
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default
# /tmp/leads-export-bench; reused across runs, --reseed starts a new cluster), creates a key for workspace 'bench',
# seeds it when empty (bench/seed-leads.sql, the read-path bench's seed, then bench/export/seed-extras.sql:
# tags, duplicate flags, formula-like cells).
# Then, after one warm-up of each:
#   - psql: \copy (<the export's SELECT, read from src/…/ExportLeads/Data.cs>) TO file CSV HEADER, timed;
#   - API:  curl the export to /dev/null, timed, sampling the host's VmRSS every 100 ms (growth = peak − the
#           sample taken just before the request);
# R runs each (default 3), alternating; prints a table with the medians and the load average. Also checks the
# export's row count against count(*), and that a client disconnecting mid-export leaves no query running and no
# error in the host log. Targets: export ≤ 1.5× psql; RSS growth ≤ 64 MB. Nothing here runs in CI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-export-bench}
DATA_DIR=$BENCH_DIR/pgdata
export PGPASSFILE=$DATA_DIR/pgpass  # the embedded cluster's SCRAM password (written by the host)
HTTP_PORT=${BENCH_HTTP_PORT:-5194}
BASE=http://127.0.0.1:$HTTP_PORT
WORKSPACE=bench
LEADS=1000000
RUNS=3
RESEED=0
BUILD=1

while [[ $# -gt 0 ]]; do
  case $1 in
    --reseed) RESEED=1 ;;
    --leads) LEADS=$2; shift ;;
    --runs) RUNS=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[export-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for tool in curl psql awk; do command -v "$tool" >/dev/null || { echo "missing tool: $tool (Debian: apt-get install curl postgresql-client gawk)" >&2; exit 2; }; done
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 2; }
if curl -s -o /dev/null "$BASE/health/live"; then echo "something already answers on $BASE: stop it or set BENCH_HTTP_PORT" >&2; exit 2; fi

HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
if [[ $BUILD -eq 1 ]]; then
  log "building Release"
  dotnet build -c Release "$ROOT/src/Host" -nologo -v q -clp:ErrorsOnly >&2
fi
[[ -x $HOST_BIN ]] || { echo "$HOST_BIN not built: run without --no-build" >&2; exit 2; }

pg_ctl_as_owner() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$bin/pg_ctl" "$@"; else "$bin/pg_ctl" "$@"; fi
}

mkdir -p "$BENCH_DIR"
[[ $(id -u) -eq 0 ]] && chmod 755 "$BENCH_DIR"
if [[ -f $DATA_DIR/postmaster.pid ]]; then pg_ctl_as_owner stop -D "$DATA_DIR" -m fast -w >/dev/null 2>&1 || true; fi
if [[ $RESEED -eq 1 && -e $DATA_DIR ]]; then log "--reseed: removing $DATA_DIR"; rm -rf "$DATA_DIR"; fi

HOST_ARGS=(--Database:DataDirectory="$DATA_DIR" --Logging:Format=simple --Logging:LogLevel:Default=Warning)
HOST_PID=""
stop_host() {
  if [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; then
    log "stopping the host (pid $HOST_PID)"
    kill -TERM "$HOST_PID"
    wait "$HOST_PID" 2>/dev/null || true
  fi
  HOST_PID=""
}
trap stop_host EXIT
trap 'exit 130' INT TERM

log "starting the host on $BASE (data: $DATA_DIR)"
"$HOST_BIN" --urls "$BASE" "${HOST_ARGS[@]}" --RateLimit:PerKeyPerMinute=100000000 >"$BENCH_DIR/host.log" 2>&1 &
HOST_PID=$!
for _ in $(seq 1 180); do
  curl -sf -o /dev/null "$BASE/health/ready" && break
  kill -0 "$HOST_PID" 2>/dev/null || { cat "$BENCH_DIR/host.log" >&2; echo "the host exited" >&2; exit 1; }
  sleep 1
done
curl -sf -o /dev/null "$BASE/health/ready" || { echo "the host did not become ready; see $BENCH_DIR/host.log" >&2; exit 1; }

KEY=$("$HOST_BIN" keys create --workspace "$WORKSPACE" --scope read --label export-bench "${HOST_ARGS[@]}" 2>/dev/null)
PG_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
PSQL=(psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d leads -v ON_ERROR_STOP=1)
q() { "${PSQL[@]}" -qAt -c "$1"; }
WS_ID=$(q "SELECT id FROM access.workspaces WHERE name = '$WORKSPACE'")

have=$(q "SELECT count(*) FROM leads.leads WHERE workspace_id = '$WS_ID'")
if [[ $have -eq 0 ]]; then
  seed=$ROOT/bench/seed-leads.sql
  log "seeding $LEADS leads with ${seed#"$ROOT"/} (minutes for 1M)"
  t0=$(date +%s)
  "${PSQL[@]}" -v workspace="$WORKSPACE" -v n="$LEADS" -f "$seed" >&2
  log "seeded in $(( $(date +%s) - t0 )) s"
elif [[ $have -ne $LEADS ]]; then
  echo "workspace '$WORKSPACE' in $DATA_DIR holds $have leads, not $LEADS: run with --reseed" >&2; exit 1
else
  log "reusing the seeded data folder ($have leads)"
fi
"${PSQL[@]}" -v workspace="$WORKSPACE" -f "$ROOT/bench/export/seed-extras.sql" >&2

# The export's own statement, so both sides run the same joins: the raw string in Data.cs with the filter
# fragment for an unfiltered export (the workspace alone), on one line for \copy.
SQL=$(awk '/ExportSql = \$+"""/ { on = 1; next } on && /^ *""";/ { exit } on { print }' \
        "$ROOT/src/Modules/Leads/Features/ExportLeads/Data.cs" |
      sed -e "s/{where}/l.workspace_id = '$WS_ID'/" -e "s/{order}/l.created_at DESC, l.id DESC/" -e "s/{{LeadCsvExport.TagSeparator}}/;/" | tr '\n' ' ' | tr -s ' ' | sed 's/^ //')
[[ $SQL == SELECT* && $SQL != *"{"* ]] || { echo "could not read the export SQL from Data.cs: $SQL" >&2; exit 1; }
COPY_OUT=$BENCH_DIR/psql-copy.csv

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$HOST_PID/status"; }
# User + system CPU of the host process so far, in clock ticks (load-independent, unlike wall time).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$HOST_PID/stat"; }
TICKS=$(getconf CLK_TCK)

run_psql() {
  local t0 t1
  t0=$(now)
  "${PSQL[@]}" -q -c "\\copy ($SQL) TO '$COPY_OUT' CSV HEADER" >/dev/null
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}

# Prints "seconds bytes peak_growth_kb baseline_kb samples host_cpu_s"; writes the body to $1 (/dev/null for timing runs).
run_api() {
  local out=$1 samples=$BENCH_DIR/rss.samples base result
  base=$(rss_kb)
  local c0
  c0=$(cpu_ticks)
  : >"$samples"
  ( while kill -0 "$HOST_PID" 2>/dev/null; do rss_kb >>"$samples"; sleep 0.1; done ) &
  local sampler=$!
  result=$(curl -sf -o "$out" -w '%{time_total} %{size_download}' -H "X-API-Key: $KEY" "$BASE/api/leads/export")
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
  local peak
  peak=$(sort -n "$samples" | tail -1)
  echo "$result $(( ${peak:-$base} - base )) $base $(wc -l <"$samples") $(awk -v t="$(( $(cpu_ticks) - c0 ))" -v h="$TICKS" 'BEGIN { printf "%.1f", t / h }')"
}

log "checking the export against count(*)"
verify=$BENCH_DIR/api-export.csv
run_api "$verify" >/dev/null
api_rows=$(( $(wc -l <"$verify") - 1 ))
db_rows=$(q "SELECT count(*) FROM leads.leads WHERE workspace_id = '$WS_ID'")
[[ $api_rows -eq $db_rows ]] || { echo "export has $api_rows rows, the workspace $db_rows" >&2; exit 1; }
head -c 300 "$verify" | head -3 >&2
rm -f "$verify"

log "warm-up: psql"
run_psql >/dev/null
psql_rows=$(( $(wc -l <"$COPY_OUT") - 1 ))
[[ $psql_rows -eq $db_rows ]] || { echo "psql copy has $psql_rows rows, expected $db_rows" >&2; exit 1; }
COPY_BYTES=$(stat -c %s "$COPY_OUT")

PSQL_TIMES=() API_TIMES=() GROWTHS=() LOADS=() CPUS=()
API_BYTES=0 BASELINE=0
for i in $(seq 1 "$RUNS"); do
  LOADS+=("$(load_avg)")
  p=$(run_psql)
  read -r a bytes growth base samples cpu <<<"$(run_api /dev/null)"
  log "run $i: psql ${p}s, API ${a}s ($bytes bytes, host CPU ${cpu}s), RSS +$(( growth / 1024 )) MB over $(( base / 1024 )) MB ($samples samples); load $(load_avg)"
  PSQL_TIMES+=("$p") API_TIMES+=("$a") GROWTHS+=("$growth") CPUS+=("$cpu")
  API_BYTES=$bytes BASELINE=$base
done
rm -f "$COPY_OUT" "$BENCH_DIR/rss.samples"

log "disconnect check: a client that gives up after 1 s"
errors_before=$(grep -c -E '^(fail|crit):' "$BENCH_DIR/host.log" || true)
curl -s -o /dev/null --max-time 1 -H "X-API-Key: $KEY" "$BASE/api/leads/export" || true
sleep 2
still_running=$(q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%FROM tags.v_lead_tags t WHERE t.lead_id = l.id%' AND pid <> pg_backend_pid()")
errors_after=$(grep -c -E '^(fail|crit):' "$BENCH_DIR/host.log" || true)
disconnect="queries still running: $still_running, new error log entries: $(( errors_after - errors_before ))"
log "$disconnect"

psql_med=$(printf '%s\n' "${PSQL_TIMES[@]}" | median)
api_med=$(printf '%s\n' "${API_TIMES[@]}" | median)
growth_max=$(printf '%s\n' "${GROWTHS[@]}" | sort -n | tail -1)
ratio=$(awk -v a="$api_med" -v p="$psql_med" 'BEGIN { printf "%.2f", a / p }')
echo
echo "Run $(date -u +%Y-%m-%dT%H:%MZ): $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $(q 'SHOW server_version' | cut -d' ' -f1), $db_rows leads, $RUNS runs each."
echo
echo "| | psql \\copy | GET /api/leads/export |"
echo "|---|---:|---:|"
echo "| times (s) | ${PSQL_TIMES[*]} | ${API_TIMES[*]} |"
echo "| median (s) | $psql_med | $api_med |"
echo "| host CPU (s) | | ${CPUS[*]} |"
echo "| size (MB) | $(awk -v b="$COPY_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') | $(awk -v b="$API_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }') |"
echo
echo "- export / psql: ${ratio}× (target ≤ 1.5×: $(awk -v r="$ratio" 'BEGIN { print (r <= 1.5) ? "met" : "NOT met" }'))"
echo "- host RSS: baseline $(( BASELINE / 1024 )) MB, growth during the export (max over runs) $(( growth_max / 1024 )) MB (target ≤ 64 MB: $( (( growth_max <= 65536 )) && echo met || echo NOT met))"
echo "- load average (1/5/15) at each run's start: $(printf '%s; ' "${LOADS[@]}")"
echo "- disconnect after 1 s: $disconnect"
