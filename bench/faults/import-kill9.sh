#!/usr/bin/env bash
# Fault test: kill -9 the host halfway through a 200,000-row CSV import, start it again, and check that the
# import finishes with every row imported exactly once. Prints PASS or FAIL (exit 0 / 1).
#
#   bench/faults/import-kill9.sh [ROWS] [--no-build]      default 200000
#
# The embedded PostgreSQL is its own process and survives the kill; the restarted host adopts it, and its
# import recovery re-enqueues the interrupted import at once (no wait for Hangfire's invisibility timeout).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=200000
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in --no-build) BUILD=0 ;; [0-9]*) ROWS=$1 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-import}
PORT=${FAULT_PORT:-5193}
NAME=import-kill9
CSV=/tmp/leads-fault-$ROWS.csv
source "$ROOT/bench/lib.sh"

fault_csv
fault_start

import_until_half "$CSV" kill
host_kill9
KILLED_AT=$(now_ms)
echo "killed -9 at processedRows=$P of $T; restarting (load avg $(load_avg))"
host_start
for _ in $(seq 1 1800); do
  S=$(import_status); ST=$(echo "$S" | field status)
  [ "$ST" = completed ] || [ "$ST" = failed ] && break
  sleep 0.5
done
DONE_AT=$(now_ms)
UUID=$(sql -c "SELECT id FROM import.imports ORDER BY created_at DESC LIMIT 1")
LEADS=$(sql -c "SELECT count(*) FROM leads.leads WHERE import_id = '$UUID'")
DISTINCT=$(sql -c "SELECT count(DISTINCT (email, phone, first_name, last_name, company)) FROM leads.leads WHERE import_id = '$UUID'")
ATTEMPTS=$(sql -c "SELECT attempts FROM import.imports WHERE id = '$UUID'")
echo "status=$ST created=$(echo "$S" | field created) processedRows=$(echo "$S" | field processedRows) leads=$LEADS distinct=$DISTINCT attempts=$ATTEMPTS"
echo "completed $(( (DONE_AT - KILLED_AT) / 1000 )) s after the kill (restart included); load avg $(load_avg)"
EXPECTED_DISTINCT=$(python3 -c "import csv,sys; r=csv.reader(open('$CSV', encoding='utf-8')); next(r); print(len({tuple(x) for x in r}))")
if [ "$ST" = completed ] && [ "$LEADS" -eq "$ROWS" ] && [ "$(echo "$S" | field created)" -eq "$ROWS" ] && [ "$ATTEMPTS" -ge 2 ]; then
  echo "PASS: $LEADS leads for $ROWS rows after kill -9 at $P ($EXPECTED_DISTINCT distinct rows in the file, $DISTINCT distinct leads)"
else
  echo "FAIL"; exit 1
fi
