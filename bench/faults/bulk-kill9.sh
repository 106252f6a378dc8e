#!/usr/bin/env bash
# Fault test: kill -9 the host halfway through a 100,000-lead bulk action (set_status), start it again, and check
# that the action completes with every lead changed exactly once and one status_changed event each (spec §12).
# Prints PASS or FAIL (exit 0 / 1).
#
#   bench/faults/bulk-kill9.sh [LEADS] [--no-build]      default 100000
#
# The embedded PostgreSQL survives the kill; the restarted host adopts it and BulkRecovery re-enqueues the action at
# once. Each chunk (Bulk:ChunkSize leads) commits with its done row and the action's progress, so the resumed run skips
# the committed chunks (with Bulk:Streams > 1, those committed by every stream) and applies the rest.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LEADS=100000
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in --no-build) BUILD=0 ;; [0-9]*) LEADS=$1 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-bulk}
PORT=${FAULT_PORT:-5197}
NAME=bulk-kill9
source "$ROOT/bench/lib.sh"

fault_start
WS=$(sql -c "SELECT id FROM access.workspaces WHERE name = 'fault'")
log "seeding $LEADS leads"
sql -c "INSERT INTO leads.leads (id, workspace_id, email, channel, created_actor_type)
        SELECT leads.uuid_v7(), '$WS', 'k' || i || '@bulk.example', 'api', 'api_key' FROM generate_series(1, $LEADS) i" >/dev/null

STARTED_AT=$(now_ms)
BODY=$(api -H 'Content-Type: application/json' -d '{"all":true,"action":"set_status","status":"contacted"}' "$BASE/api/leads/bulk")
URL=$(echo "$BODY" | field statusUrl); MATCHED=$(echo "$BODY" | field matched)
log "bulk action $(echo "$BODY" | field id) matched $MATCHED; waiting for 50% (load avg $(load_avg))"
while true; do
  S=$(api "$BASE$URL"); P=$(echo "$S" | field processed)
  [ $((P * 2)) -ge "$MATCHED" ] && break
  [ "$(echo "$S" | field status)" = completed ] && { echo "FAIL: finished before the kill point"; exit 1; }
  sleep 0.05
done
host_kill9
KILLED_AT=$(now_ms)
echo "killed -9 at processed=$P of $MATCHED; restarting (load avg $(load_avg))"
host_start
for _ in $(seq 1 1200); do
  S=$(api "$BASE$URL"); ST=$(echo "$S" | field status)
  [ "$ST" = completed ] || [ "$ST" = failed ] && break
  sleep 0.5
done
DONE_AT=$(now_ms)
UUID=$(sql -c "SELECT id FROM import.bulk_actions ORDER BY created_at DESC LIMIT 1")
CHANGED=$(sql -c "SELECT count(*) FROM leads.leads WHERE workspace_id = '$WS' AND status = 'contacted'")
EVENTS=$(sql -c "SELECT count(*) FROM leads.events WHERE workspace_id = '$WS' AND type = 'status_changed' AND data ->> 'bulkId' IS NOT NULL")
ONCE=$(sql -c "SELECT count(*) FROM (SELECT lead_id FROM leads.events WHERE workspace_id = '$WS' AND type = 'status_changed' GROUP BY lead_id HAVING count(*) = 1) x")
ATTEMPTS=$(sql -c "SELECT attempts FROM import.bulk_actions WHERE id = '$UUID'")
echo "status=$ST processed=$(echo "$S" | field processed) changed=$(echo "$S" | field changed) leads contacted=$CHANGED events=$EVENTS leads with exactly one event=$ONCE attempts=$ATTEMPTS"
echo "completed $(( (DONE_AT - KILLED_AT) / 1000 )) s after the kill (restart included), $(( (DONE_AT - STARTED_AT) / 1000 )) s after acceptance; load avg $(load_avg)"
if [ "$ST" = completed ] && [ "$CHANGED" -eq "$LEADS" ] && [ "$EVENTS" -eq "$LEADS" ] && [ "$ONCE" -eq "$LEADS" ] \
   && [ "$(echo "$S" | field changed)" -eq "$LEADS" ] && [ "$ATTEMPTS" -ge 2 ]; then
  echo "PASS: $LEADS leads changed exactly once, one event each, after kill -9 at $P"
else
  echo "FAIL"; exit 1
fi
