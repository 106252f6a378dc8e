#!/usr/bin/env bash
# Fault: PostgreSQL stopped and restarted under API load. Ends in PASS or FAIL.
#
#   bench/faults/pg-outage.sh [--outage SECONDS] [--no-build]
#
# Starts the Release host on an embedded cluster in $FAULT_DIR (default /tmp/leads-fault-pg), then runs 8
# concurrent request loops (GET /api/leads and POST /api/leads, curl with a 10 s timeout) against
# 127.0.0.1 for the whole run. After 10 s it stops PostgreSQL (pg_ctl stop -m fast), keeps it down for
# --outage seconds (default 8), and starts it again on the same port. Asserts:
#   - during the outage every answer is a 503 application/problem+json (code database_unavailable), none
#     hangs past the timeout, none is another 5xx;
#   - /health/ready is 503 during the outage and 200 after;
#   - the host recovers by itself (no restart): 200/201 again within 15 s, and reports the recovery time.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-pg}
PORT=${FAULT_HTTP_PORT:-5195}
NAME=pg-outage
OUTAGE=8
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in --outage) OUTAGE=$2; shift ;; --no-build) BUILD=0 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
source "$ROOT/bench/lib.sh"
HOST_ARGS+=(--Logging:LogLevel:Default=Warning)
cleanup() { kill "${LOOPS[@]}" 2>/dev/null || true; host_stop; }
LOOPS=()
fault_start
PGPORT=$(pg_port)

# Each loop appends "epoch_ms status seconds code" per request.
loop() {
  local i=0
  while :; do
    i=$((i + 1))
    local out
    if (( i % 2 )); then
      out=$(curl -s -m 10 -o "$FAULT_DIR/body.$1" -w '%{http_code} %{time_total}' -H "X-API-Key: $KEY" "$BASE/api/leads?limit=5" || echo "000 10")
    else
      out=$(curl -s -m 10 -o "$FAULT_DIR/body.$1" -w '%{http_code} %{time_total}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
            -X POST "$BASE/api/leads" -d "{\"firstName\":\"L$1-$i\"}" || echo "000 10")
    fi
    local code=""
    [[ ${out%% *} == 503 ]] && code=$(grep -o '"code":"[a-z_]*"' "$FAULT_DIR/body.$1" | head -1)
    echo "$(date +%s%3N) $out $code" >>"$FAULT_DIR/requests.$1"
  done
}
for n in $(seq 1 8); do loop "$n" & LOOPS+=($!); done
sleep 10
log "stopping PostgreSQL (port $PGPORT) for ${OUTAGE}s"
pg_stop
STOPPED_AT=$(date +%s%3N)
sleep 2
READY_DOWN=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE/health/ready")
sleep $(( OUTAGE > 2 ? OUTAGE - 2 : 0 ))
log "starting PostgreSQL again"
pg_start "$PGPORT"
UP_AT=$(date +%s%3N)
RECOVERED_AT=""
for _ in $(seq 1 150); do
  if [[ $(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "$BASE/api/leads?limit=1") == 200 ]]; then RECOVERED_AT=$(date +%s%3N); break; fi
  sleep 0.1
done
sleep 5
READY_UP=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$BASE/health/ready")
kill "${LOOPS[@]}" 2>/dev/null || true; wait "${LOOPS[@]}" 2>/dev/null || true
cat "$FAULT_DIR"/requests.* | sort -n >"$FAULT_DIR/all.txt"

# Requests that started after the stop completed (pg_ctl stop -m fast returned: on a loaded machine its shutdown
# checkpoint can take more than a second) and ended before the start began count as "during".
awk -v d="$STOPPED_AT" -v u="$UP_AT" '$1 - $3 * 1000 >= d && $1 <= u' "$FAULT_DIR/all.txt" >"$FAULT_DIR/during.txt"
awk -v u="$RECOVERED_AT" '$1 - $3 * 1000 > u + 1000' "$FAULT_DIR/all.txt" >"$FAULT_DIR/after.txt"
total=$(wc -l <"$FAULT_DIR/all.txt"); during=$(wc -l <"$FAULT_DIR/during.txt"); after=$(wc -l <"$FAULT_DIR/after.txt")
d503=$(awk '$2 == 503 && $4 == "\"code\":\"database_unavailable\""' "$FAULT_DIR/during.txt" | wc -l)
dbad=$(awk '$2 != 503' "$FAULT_DIR/during.txt" | wc -l)
dslow=$(awk '$3 >= 10' "$FAULT_DIR/during.txt" | wc -l)
abad=$(awk '$2 != 200 && $2 != 201' "$FAULT_DIR/after.txt" | wc -l)
ok=1
echo "requests: $total (during outage: $during, after recovery: $after); load avg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "during outage: $d503 × 503 database_unavailable, $dbad other answers, $dslow hit the 10 s timeout; max latency $(awk 'BEGIN{m=0} $3>m{m=$3} END{print m}' "$FAULT_DIR/during.txt") s"
echo "/health/ready: $READY_DOWN during, $READY_UP after"
if [[ -n $RECOVERED_AT ]]; then echo "recovered $(( (RECOVERED_AT - UP_AT) )) ms after PostgreSQL was back (no host restart); after recovery $abad non-2xx of $after"; else echo "NOT recovered within 15 s"; ok=0; fi
[[ $during -gt 0 && $d503 -eq $during && $dslow -eq 0 ]] || ok=0
[[ $READY_DOWN == 503 && $READY_UP == 200 && $after -gt 0 && $abad -eq 0 ]] || ok=0
host_alive || { echo "the host died"; ok=0; }
if [[ $ok -eq 1 ]]; then echo PASS; else echo FAIL; exit 1; fi
