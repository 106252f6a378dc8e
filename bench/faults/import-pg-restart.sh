#!/usr/bin/env bash
# Fault test: restart PostgreSQL halfway through a 200,000-row CSV import, without touching the host, and check
# that the import still finishes with every row imported exactly once. Prints PASS or FAIL (exit 0 / 1).
#
#   bench/faults/import-pg-restart.sh [ROWS] [--down SECONDS] [--no-build]     default 200000 rows, --down 0
#
# Starts the Release host on an embedded cluster in $FAULT_DIR (default /tmp/leads-fault-pgrestart), uploads a
# CSV from bench/import/generate.py, and when processedRows reaches half of totalRows restarts PostgreSQL:
# `pg_ctl restart -m fast` as the cluster's owner, or with --down N: stop, wait N seconds, start on the same port.
# Then waits (up to 15 min) for the import to finish and asserts:
#   - status completed, created = ROWS, failed = 0;
#   - exactly ROWS leads carry the import's ID, and their (email, firstName, lastName, phone, company) are the
#     file's rows as a multiset: no row lost, none imported twice;
#   - the restart really interrupted the import (processedRows < ROWS when PostgreSQL went down);
#   - the host process is the one started at the beginning (it was never restarted).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=200000
DOWN=0
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in --down) DOWN=$2; shift ;; --no-build) BUILD=0 ;; [0-9]*) ROWS=$1 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-pgrestart}
PORT=${FAULT_PORT:-5196}
NAME=import-pg-restart
CSV=/tmp/leads-fault-$ROWS.csv
source "$ROOT/bench/lib.sh"

fault_csv
fault_start
FIRST_PID=$HOST_PID

UPLOAD_AT=$(now_ms)
import_until_half "$CSV" restart
PGPORT=$(pg_port)
DOWN_AT=$(now_ms)
if [[ $DOWN -eq 0 ]]; then
  log "processedRows=$P of $T: pg_ctl restart -m fast"
  pg_restart
else
  log "processedRows=$P of $T: stopping PostgreSQL for ${DOWN}s"
  pg_stop; sleep "$DOWN"; pg_start "$PGPORT"
fi
UP_AT=$(now_ms)
log "PostgreSQL is back after $((UP_AT - DOWN_AT)) ms; waiting for the import to finish"
ST=""
for _ in $(seq 1 1800); do
  # Right after the restart the host's pool may still hand out a dead connection: a failed poll is retried.
  if S=$(import_status 2>/dev/null); then ST=$(echo "$S" | field status); fi
  [ "$ST" = completed ] || [ "$ST" = failed ] && break
  sleep 0.5
done
DONE_AT=$(now_ms)
echo "$S"

UUID=$(sql -c "SELECT id FROM import.imports ORDER BY created_at DESC LIMIT 1")
LEADS=$(sql -c "SELECT count(*) FROM leads.leads WHERE import_id = '$UUID'")
ATTEMPTS=$(sql -c "SELECT attempts FROM import.imports WHERE id = '$UUID'")
sql -c "COPY (SELECT coalesce(email, ''), coalesce(first_name, ''), coalesce(last_name, ''), coalesce(phone, ''), coalesce(company, '')
             FROM leads.leads WHERE import_id = '$UUID') TO STDOUT WITH (FORMAT csv)" >"$FAULT_DIR/imported.csv"
SAME=$(same_rows "$CSV" "$FAULT_DIR/imported.csv")
ERRORS=$(grep -c 'fail:' "$FAULT_DIR/host.log" || true)
echo "status=$ST created=$(echo "$S" | field created) failed=$(echo "$S" | field failed) leads=$LEADS attempts=$ATTEMPTS multiset=$SAME"
echo "restart at processedRows=$P of $T, $(( (DOWN_AT - UPLOAD_AT) / 1000 )) s after the upload; PostgreSQL down $((UP_AT - DOWN_AT)) ms;" \
     "import completed $(( (DONE_AT - UP_AT) / 1000 )) s after PostgreSQL was back; $ERRORS error lines in the host log; load avg $(load_avg)"
ok=1
[ "$ST" = completed ] && [ "$(echo "$S" | field created)" -eq "$ROWS" ] && [ "$(echo "$S" | field failed)" -eq 0 ] || ok=0
[ "$LEADS" -eq "$ROWS" ] && [ "$SAME" = same ] && [ "$P" -lt "$ROWS" ] || ok=0
if host_alive && [ "$HOST_PID" = "$FIRST_PID" ]; then echo "host: still the first process (pid $FIRST_PID), never restarted"; else echo "host died"; ok=0; fi
if [[ $ok -eq 1 ]]; then echo "PASS: $LEADS leads for $ROWS rows after a PostgreSQL restart at $P"; else echo FAIL; exit 1; fi
