#!/usr/bin/env bash
# Fault test: kill -9 the host while an async CSV export (POST /api/leads/exports) is being written, start it
# again, and check that no partial file is ever offered and the export then finishes with every row.
# Prints PASS or FAIL (exit 0 / 1).
#
#   bench/faults/export-kill9.sh [--leads N] [--kill-after SECONDS] [--no-build]    defaults 300000, 2
#
# Starts the Release host on an embedded cluster in $FAULT_DIR (default /tmp/leads-fault-export), seeds N leads into
# workspace 'fault' with bench/seed-leads.sql plus bench/export/seed-extras.sql (tags, duplicate flags, formula-like
# cells), starts an export of every lead and, --kill-after seconds after it shows `running`, kills the host with
# kill -9 (the embedded PostgreSQL survives and is adopted by the restarted host). Asserts:
#   - at the kill the export is `running` and its file is 409 export_not_ready;
#   - with the host dead, the database holds no committed chunk of it and it is not `completed`;
#   - after the restart, at every poll (status, then file): a file is only ever offered whole (count(*) data rows),
#     a completed export always offers it, anything else is 409; it ends `completed` (within 10 min) and the
#     downloaded file has exactly count(*) data rows, rowCount = count(*) and byteCount bytes. A `failed` export fails the script: the product is meant to retry a killed run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEADS=300000
KILL_AFTER=2
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in --leads) LEADS=$2; shift ;; --kill-after) KILL_AFTER=$2; shift ;; --no-build) BUILD=0 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-export}
PORT=${FAULT_PORT:-5197}
NAME=export-kill9
source "$ROOT/bench/lib.sh"

fault_start

SEED_AT=$(now_ms)
log "seeding $LEADS leads (load avg $(load_avg))"
sql -q -v workspace=fault -v n="$LEADS" -f "$ROOT/bench/seed-leads.sql" >/dev/null
sql -q -v workspace=fault -f "$ROOT/bench/export/seed-extras.sql" >/dev/null
WS=$(sql -c "SELECT id FROM access.workspaces WHERE name = 'fault'")
COUNT=$(sql -c "SELECT count(*) FROM leads.leads WHERE workspace_id = '$WS'")
log "seeded $COUNT leads in $(( ($(now_ms) - SEED_AT) / 1000 )) s"

export_status() { api "$BASE/api/leads/exports/$ID"; }
file_code() { curl -s -o "$FAULT_DIR/file.csv" -w '%{http_code}' -H "X-API-Key: $KEY" "$BASE/api/leads/exports/$ID/file"; }
file_rows() { python3 -c "import csv; r=csv.reader(open('$FAULT_DIR/file.csv', encoding='utf-8', newline='')); print(sum(1 for _ in r) - 1)"; }
ok=1

START_AT=$(now_ms)
ID=$(api -H 'Content-Type: application/json' -d '{}' "$BASE/api/leads/exports" | field id)
UUID=$(sql -c "SELECT id FROM import.exports ORDER BY created_at DESC LIMIT 1")
log "export $ID started; waiting for running"
ST=""
for _ in $(seq 1 600); do ST=$(export_status | field status); [[ $ST != queued ]] && break; sleep 0.1; done
[[ $ST == running ]] || { echo "FAIL: the export is $ST before the kill (not running)"; exit 1; }
RUNNING_AT=$(now_ms)
sleep "$KILL_AFTER"
S=$(export_status); ST=$(echo "$S" | field status); CODE=$(file_code)
host_kill9
KILLED_AT=$(now_ms)
echo "kill -9 $(( (KILLED_AT - RUNNING_AT) / 1000 )).$(( (KILLED_AT - RUNNING_AT) % 1000 / 100 )) s after running ($(( (KILLED_AT - START_AT) / 1000 )) s after the POST): status=$ST, file HTTP $CODE"
[[ $ST == running && $CODE == 409 ]] || { echo "  expected running and 409"; ok=0; }

DB_STATUS=$(sql -c "SELECT status || ' attempts=' || attempts FROM import.exports WHERE id = '$UUID'")
CHUNKS=$(sql -c "SELECT count(*) FROM import.export_chunks WHERE export_id = '$UUID'")
echo "host dead: export $DB_STATUS, committed chunks $CHUNKS"
[[ $DB_STATUS != completed* && $CHUNKS -eq 0 ]] || { echo "  a partial file is visible"; ok=0; }

host_start
RESTARTED_AT=$(now_ms)
log "host restarted; polling the export"
SEEN=""
DONE_AT=""
for _ in $(seq 1 1200); do
  S=$(export_status); ST=$(echo "$S" | field status)
  [[ $ST == completed || $ST == failed ]] && DONE_AT=$(now_ms)
  [[ " $SEEN " == *" $ST "* ]] || { SEEN="$SEEN $ST"; log "status $ST ($(( ($(now_ms) - RESTARTED_AT) / 1000 )) s after the restart)"; }
  # The status is read first: a file answered after a non-completed status may come from a run that completed
  # in between, so whenever a file is offered it must be whole, and a completed export must offer one.
  CODE=$(file_code)
  if [[ $CODE == 200 ]]; then
    R=$(file_rows); [[ $R -eq $COUNT ]] || { echo "  a file of $R rows (of $COUNT) offered while the export said $ST"; ok=0; }
  elif [[ $CODE != 409 || $ST == completed ]]; then echo "  $ST export: file answered $CODE"; ok=0; fi
  [[ $ST == completed || $ST == failed ]] && break
  sleep 0.5
done
DONE_AT=${DONE_AT:-$(now_ms)}
echo "$S"
echo "after the restart: statuses seen:$SEEN; $ST $(( (DONE_AT - RESTARTED_AT) / 1000 )) s after the restart ($(( (DONE_AT - KILLED_AT) / 1000 )) s after the kill)"
if [[ $ST == completed ]]; then
  CODE=$(file_code)
  ROWS=$(file_rows)
  BYTES=$(stat -c %s "$FAULT_DIR/file.csv")
  echo "file: HTTP $CODE, $ROWS data rows (count(*) $COUNT, rowCount $(echo "$S" | field rowCount)), $BYTES bytes (byteCount $(echo "$S" | field byteCount))"
  [[ $CODE == 200 && $ROWS -eq $COUNT && $(echo "$S" | field rowCount) -eq $COUNT && $BYTES -eq $(echo "$S" | field byteCount) ]] || ok=0
else
  echo "export did not complete: $(echo "$S" | field failureReason)"; ok=0
fi
echo "attempts: $(sql -c "SELECT attempts FROM import.exports WHERE id = '$UUID'"); load avg $(load_avg)"
if [[ $ok -eq 1 ]]; then echo "PASS: killed while running, never completed with a partial file, completed with all $COUNT rows after the restart"; else echo FAIL; exit 1; fi
