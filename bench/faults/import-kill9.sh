#!/usr/bin/env bash
# Fault test: kill -9 the host halfway through a 200,000-row CSV import, start it again, and check that the
# import finishes with every row imported exactly once. Prints PASS or FAIL (exit 0 / 1).
#
#   bench/faults/import-kill9.sh [ROWS]      default 200000
#
# The embedded PostgreSQL is its own process and survives the kill; the restarted host adopts it, and its
# import recovery re-enqueues the interrupted import at once (no wait for Hangfire's invisibility timeout).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${1:-200000}
WORK=${FAULT_DIR:-/tmp/leads-fault-import}
PORT=${FAULT_PORT:-5193}
CSV=/tmp/leads-fault-$ROWS.csv

rm -rf "$WORK" && mkdir -p "$WORK" && chmod 755 "$WORK"
[ -s "$CSV" ] || python3 "$ROOT/bench/import/generate.py" "$ROWS" "$CSV" --seed 7
dotnet build -c Release "$ROOT/src/Host" -v q -nologo >/dev/null
DLL="$ROOT/src/Host/bin/Release/net10.0/Leads.Host.dll"

HOST=
start_host() {
  dotnet "$DLL" --urls "http://127.0.0.1:$PORT" --Database:DataDirectory="$WORK/data" --Logging:Format=simple >>"$WORK/host.log" 2>&1 &
  HOST=$!
  for _ in $(seq 1 180); do
    curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "host did not start; see $WORK/host.log"; exit 1
}
pg_stop() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")")/pg_ctl" stop -D "$WORK/data" -m fast >/dev/null 2>&1 || true
  else pg_ctl stop -D "$WORK/data" -m fast >/dev/null 2>&1 || true; fi
}
cleanup() { [ -n "$HOST" ] && kill "$HOST" 2>/dev/null; wait 2>/dev/null || true; pg_stop; }
trap cleanup EXIT

start_host
KEY=$(grep -o '5l_live_[A-Za-z0-9]*' "$WORK/host.log" | head -1)
status() { curl -fsS -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/api/leads/imports/$ID"; }
field() { python3 -c "import json,sys; v=json.load(sys.stdin).get('$1'); print(0 if v is None else v)"; }

ID=$(curl -fsS -H "X-API-Key: $KEY" -F "file=@$CSV;type=text/csv" "http://127.0.0.1:$PORT/api/leads/import" | field id)
echo "import $ID of $ROWS rows uploaded; waiting for 50%"
while true; do
  S=$(status); P=$(echo "$S" | field processedRows); T=$(echo "$S" | field totalRows)
  [ "$T" -gt 0 ] && [ $((P * 2)) -ge "$T" ] && break
  [ "$(echo "$S" | field status)" = completed ] && { echo "FAIL: finished before the kill point"; exit 1; }
  sleep 0.1
done
kill -9 "$HOST"; wait "$HOST" 2>/dev/null || true
echo "killed -9 at processedRows=$P of $T; restarting"
start_host
for _ in $(seq 1 1800); do
  S=$(status); ST=$(echo "$S" | field status)
  [ "$ST" = completed ] || [ "$ST" = failed ] && break
  sleep 0.5
done
PGPORT=$(sed -n 4p "$WORK/data/postmaster.pid")
UUID=$(psql -X -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -d leads -c "SELECT id FROM import.imports ORDER BY created_at DESC LIMIT 1")
LEADS=$(psql -X -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -d leads -c "SELECT count(*) FROM leads.leads WHERE import_id = '$UUID'")
DISTINCT=$(psql -X -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -d leads -c "SELECT count(DISTINCT (email, phone, first_name, last_name, company)) FROM leads.leads WHERE import_id = '$UUID'")
ATTEMPTS=$(psql -X -tA -h 127.0.0.1 -p "$PGPORT" -U postgres -d leads -c "SELECT attempts FROM import.imports WHERE id = '$UUID'")
echo "status=$ST created=$(echo "$S" | field created) processedRows=$(echo "$S" | field processedRows) leads=$LEADS distinct=$DISTINCT attempts=$ATTEMPTS"
EXPECTED_DISTINCT=$(python3 -c "import csv,sys; r=csv.reader(open('$CSV', encoding='utf-8')); next(r); print(len({tuple(x) for x in r}))")
if [ "$ST" = completed ] && [ "$LEADS" -eq "$ROWS" ] && [ "$(echo "$S" | field created)" -eq "$ROWS" ] && [ "$ATTEMPTS" -ge 2 ]; then
  echo "PASS: $LEADS leads for $ROWS rows after kill -9 at $P ($EXPECTED_DISTINCT distinct rows in the file, $DISTINCT distinct leads)"
else
  echo "FAIL"; exit 1
fi
