#!/usr/bin/env bash
# Slow clients cannot hurt other tenants (issue #16 item 6): one key starts 120 trickling CSV uploads and 50 slow
# downloads at once (alternately an async export file and GET /api/leads/export, which reads its snapshot into a spool
# at the database's pace), while a second workspace lists (p50/p99 of GET /api/leads) and writes
# (POST /api/leads). Compares the second workspace's figures with the same measurement idle, counts the slow
# clients' answers (202/200 served, 429 too_many_transfers refused; anything else is an error), and samples the
# database's busy backends (in a transaction or a statement) and connections during the load, and the host's CPU ms per
# measured request (user + system time of the host process over the measurement: the figure that does not depend on
# what else the machine runs).
# Prints PASS when the second workspace's list p99 and write p99 stay within 2× idle and nothing errors.
#
#   bench/faults/slow-clients.sh [--no-build]      (UPLOADS=120 DOWNLOADS=50 RATE=6k REQS=400 to change)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-slow}
PORT=${FAULT_PORT:-5513}
NAME=slow-clients
UPLOADS=${UPLOADS:-120}
DOWNLOADS=${DOWNLOADS:-50}
RATE=${RATE:-6k}          # per slow client; above Transfers:MinBytesPerSecond (4 KiB/s), so none is cut off
REQS=${REQS:-400}         # list requests (and as many writes / 4) per measurement, 4 at a time
source "$ROOT/bench/lib.sh"
fault_start
trap 'cleanup; rm -rf "$FAULT_DIR"' EXIT   # unattended: stop the host and its cluster, then delete the data
KEY2=$(host_key other)

# Workspace 'other': 2,000 leads to list. Workspace 'fault' (the slow key): 2,000 leads and a completed async export.
python3 - "$FAULT_DIR/seed.csv" "$FAULT_DIR/trickle.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,firstName,lastName,company\n")
    for i in range(2000): f.write(f"seed{i}@example.com,First{i},Last{i},Company {i % 50}\n")
with open(sys.argv[2], "w") as f:   # ~120 KB: about 20 s at 6 KiB/s
    f.write("email,firstName\n")
    i = 0
    while f.tell() < 120_000: f.write(f"trickle{i}@example.com,Trickle {i}\n"); i += 1
PY
wait_import() { for _ in $(seq 1 300); do [[ $(curl -fsS -H "X-API-Key: $1" "$BASE/api/leads/imports/$2" | field status) == completed ]] && return; sleep 1; done; echo "import $2 did not complete" >&2; exit 1; }
for k in "$KEY" "$KEY2"; do
  id=$(curl -fsS -H "X-API-Key: $k" -F "file=@$FAULT_DIR/seed.csv;type=text/csv" "$BASE/api/leads/import" | field id)
  wait_import "$k" "$id"
done
EXP=$(api -H 'Content-Type: application/json' -d '{}' "$BASE/api/leads/exports" | field id)
for _ in $(seq 1 120); do [[ $(api "$BASE/api/leads/exports/$EXP" | field status) == completed ]] && break; sleep 1; done
log "seeded: 2 × 2,000 leads, export $EXP of $(api "$BASE/api/leads/exports/$EXP" | field byteCount) bytes"

# The second workspace's list and write latencies (ms), 4 requests at a time; prints "p50 p99 errors".
measure() {
  local kind=$1 n=$2
  seq 1 "$n" | xargs -P4 -I{} sh -c '
    if [ "$0" = list ]; then
      curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -H "X-API-Key: $1" "$2/api/leads?limit=20&page=$(( ({} % 50) + 1 ))"
    else
      curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -H "X-API-Key: $1" -H "Content-Type: application/json" \
        -d "{\"email\":\"w{}-$$@example.com\"}" "$2/api/leads"
    fi' "$kind" "$KEY2" "$BASE" >"$FAULT_DIR/$kind.txt"
  awk '{ if ($1 !~ /^20[01]$/) err++; print $2 * 1000 }' "$FAULT_DIR/$kind.txt" | sort -n | awk -v n="$n" -v e="$(awk '$1 !~ /^20[01]$/' "$FAULT_DIR/$kind.txt" | wc -l)" \
    '{ a[NR] = $1 } END { printf "%.1f %.1f %d\n", a[int(NR * 0.5)], a[int(NR * 0.99)], e }'
}
# CPU time (ms, user + system) the host process has used so far.
host_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$HOST_PID/stat"; }
measure list 40 >/dev/null   # warm-up
C0=$(host_cpu_ms)
read -r IDLE_L50 IDLE_L99 IDLE_LERR < <(measure list "$REQS")
read -r IDLE_W50 IDLE_W99 IDLE_WERR < <(measure write $((REQS / 4)))
IDLE_CPU=$(awk -v a="$C0" -v b="$(host_cpu_ms)" -v n=$((REQS + REQS / 4)) 'BEGIN { printf "%.2f", (b - a) / n }')
log "idle: list p50 ${IDLE_L50} ms p99 ${IDLE_L99} ms; write p50 ${IDLE_W50} ms p99 ${IDLE_W99} ms (load $(load_avg))"

# The slow clients: all at once, each reporting its status code.
mkdir -p "$FAULT_DIR/slow"
SLOW_PIDS=()
for i in $(seq 1 "$UPLOADS"); do
  curl -s -o /dev/null -w "%{http_code}\n" --limit-rate "$RATE" -H "X-API-Key: $KEY" -H "Content-Type: text/csv" \
    --data-binary "@$FAULT_DIR/trickle.csv" "$BASE/api/leads/import" >"$FAULT_DIR/slow/up$i" 2>/dev/null &
  SLOW_PIDS+=($!)
done
for i in $(seq 1 "$DOWNLOADS"); do
  if (( i % 2 )); then url="$BASE/api/leads/exports/$EXP/file"; else url="$BASE/api/leads/export"; fi
  curl -s -o /dev/null -w "%{http_code}\n" --limit-rate "$RATE" -H "X-API-Key: $KEY" "$url" >"$FAULT_DIR/slow/down$i" 2>/dev/null &
  SLOW_PIDS+=($!)
done
( for _ in $(seq 1 40); do
    sql -c "SELECT count(*) FILTER (WHERE state <> 'idle'), count(*) FROM pg_stat_activity WHERE datname = 'leads' AND backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null | tr '|' ' '
    sleep 0.5
  done ) >"$FAULT_DIR/backends.txt" &
SAMPLER=$!
sleep 2
LOAD_DURING=$(load_avg)
C0=$(host_cpu_ms)
read -r LOAD_L50 LOAD_L99 LOAD_LERR < <(measure list "$REQS")
read -r LOAD_W50 LOAD_W99 LOAD_WERR < <(measure write $((REQS / 4)))
# Includes the slow transfers' own work during the measurement, so it is an upper bound per measured request.
LOAD_CPU=$(awk -v a="$C0" -v b="$(host_cpu_ms)" -v n=$((REQS + REQS / 4)) 'BEGIN { printf "%.2f", (b - a) / n }')
log "under slow clients: list p50 ${LOAD_L50} ms p99 ${LOAD_L99} ms; write p50 ${LOAD_W50} ms p99 ${LOAD_W99} ms (load $LOAD_DURING)"
wait "$SAMPLER" 2>/dev/null || true
for j in "${SLOW_PIDS[@]}"; do wait "$j" 2>/dev/null || true; done

codes() { cat "$FAULT_DIR"/slow/"$1"* | sort | uniq -c | awk '{ printf "%s×%s ", $1, $2 }'; }
UP=$(codes up); DOWN=$(codes down)
SLOW_ERR=$(cat "$FAULT_DIR"/slow/* | grep -vcE '^(200|202|429)$' || true)
BUSY_MAX=$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$FAULT_DIR/backends.txt")
CONN_MAX=$(awk '{ if ($2 > m) m = $2 } END { print m + 0 }' "$FAULT_DIR/backends.txt")
log "slow uploads: $UP; slow downloads: $DOWN; busy backends at most $BUSY_MAX of $CONN_MAX connections"

echo "| | idle | $UPLOADS trickling uploads + $DOWNLOADS slow downloads (one key) |"
echo "|---|---|---|"
echo "| other workspace: list p50 / p99 | $IDLE_L50 / $IDLE_L99 ms | $LOAD_L50 / $LOAD_L99 ms |"
echo "| other workspace: write p50 / p99 | $IDLE_W50 / $IDLE_W99 ms | $LOAD_W50 / $LOAD_W99 ms |"
echo "| other workspace: errors | $((IDLE_LERR + IDLE_WERR)) | $((LOAD_LERR + LOAD_WERR)) |"
echo "| slow key: uploads / downloads | | $UP/ $DOWN|"
echo "| busy backends (max) / connections (max) | | $BUSY_MAX / $CONN_MAX |"
echo "| host CPU ms per measured request (slow transfers' work included under load) | $IDLE_CPU | $LOAD_CPU |"
echo "| load average | | $LOAD_DURING |"
ok=$(awk -v a="$IDLE_L99" -v b="$LOAD_L99" -v c="$IDLE_W99" -v d="$LOAD_W99" 'BEGIN { print (b <= 2 * a && d <= 2 * c) ? 1 : 0 }')
if [[ $ok -eq 1 && $SLOW_ERR -eq 0 && $((LOAD_LERR + LOAD_WERR)) -eq 0 ]]; then echo PASS; else echo "FAIL (p99 over 2× idle, or errors: slow $SLOW_ERR, other workspace $((LOAD_LERR + LOAD_WERR)))"; exit 1; fi
