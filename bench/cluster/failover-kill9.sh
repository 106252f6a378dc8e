#!/usr/bin/env bash
# Fault test: the primary dies (kill -9) during a CSV import and a burst of API writes; pg_auto_failover promotes the
# synchronous standby. Prints PASS or FAIL (exit 0 / 1).
#
#   bench/cluster/failover-kill9.sh [ROWS] [--no-build] [--keep]     default 200000 rows
#
# Starts (bench/cluster/lib.sh) a pg_auto_failover monitor, a primary and a synchronous standby, two API nodes and
# one worker node on the multi-host connection string; uploads ROWS rows from bench/import/generate.py to api1; starts
# 4 clients that POST /api/leads in a loop (clients 1 and 3 to api1, 2 and 4 to api2; each write has its own email;
# every 4th turn also a list read);
# when the import has processed 40% of the rows, kills -9 the primary node — its pg_autoctl keeper, its postmaster and
# every backend, as when the machine dies — and lets the monitor promote the standby. Asserts:
#   - the import completes: created = ROWS, failed = 0, exactly ROWS leads carry its ID and they are the file's rows
#     as a multiset (none lost, none imported twice);
#   - every write answered 2xx is in the database (read from the new primary);
#   - writes recover within 30 s: the first 2xx write sent after the kill is answered less than 30 s after the kill;
#   - every answer is a 2xx, a 503 database_unavailable or a client-side timeout (never a 500);
#   - the standby is the primary now, and no service node was restarted (the three processes are the ones started).
# --keep leaves the formation and nodes running afterwards (stop them with bench/cluster/down.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=200000
BUILD=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in --no-build) BUILD=0 ;; --keep) KEEP=1 ;; [0-9]*) ROWS=$1 ;; *) echo "unknown option $1" >&2; exit 2 ;; esac; shift
done
NAME=failover-kill9
CSV=/tmp/leads-fault-$ROWS.csv
source "$ROOT/bench/cluster/lib.sh"
RUN_DIR=$CLUSTER_DIR/run
KEEP_DIR=${FAILOVER_LOGS:-/tmp/leads-failover-last}
WRITERS=()

cleanup() {
  [[ -f ${RUN_DIR:-/nonexistent}/stop ]] || touch "$RUN_DIR/stop" 2>/dev/null || true
  for p in "${WRITERS[@]}"; do kill "$p" 2>/dev/null || true; done
  # The run's request log, the nodes' and keepers' logs outlive the formation.
  rm -rf "$KEEP_DIR" && mkdir -p "$KEEP_DIR" && cp -r "$RUN_DIR" "$CLUSTER_DIR"/*.log "$KEEP_DIR/" 2>/dev/null || true
  if [[ $KEEP -eq 0 ]]; then nodes_stop; cluster_destroy; fi
}
trap cleanup EXIT

[ -s "$CSV" ] || python3 "$ROOT/bench/import/generate.py" "$ROWS" "$CSV" --seed 7
if [[ $BUILD -eq 1 ]]; then build_host; fi
log "load avg $(load_avg)"
cluster_create
mkdir -p "$RUN_DIR"
nodes_start
for n in "${!NODE_PID[@]}"; do echo "${NODE_PID[$n]}" >"$CLUSTER_DIR/$n.pid"; done
KEY=$(cluster_key failover)
[[ $KEY == 5l_* ]] || { echo "could not create a key"; exit 1; }
API1=http://127.0.0.1:${API_PORTS[0]}
API2=http://127.0.0.1:${API_PORTS[1]}
api() { curl -fsS -m 10 -H "X-API-Key: $KEY" "$@"; }

# Client $1 writes until $RUN_DIR/stop exists (at most 15 minutes): one line per write, "start_ms end_ms status email",
# in writes.$1; and reads a list page every 4th turn ("end_ms status" in reads.$1).
writer() {
  local base=$API1 i=0 out
  (( $1 % 2 == 0 )) && base=$API2
  local deadline=$(( $(date +%s) + 900 ))
  while [[ ! -f $RUN_DIR/stop && $(date +%s) -lt $deadline ]]; do
    i=$((i + 1))
    local email="w$1-$i@failover.test" start
    start=$(now_ms)
    out=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
          -X POST "$base/api/leads" -d "{\"firstName\":\"Writer$1\",\"lastName\":\"N$i\",\"email\":\"$email\"}" || true)
    echo "$start $(now_ms) ${out:-000} $email" >>"$RUN_DIR/writes.$1"
    [[ ${out:-000} == 2* ]] || sleep 0.2
    # Every 4th turn a list read (ConnectionStrings:LeadsRead, the standby while there is one).
    if (( i % 4 == 0 )); then
      out=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" "$base/api/leads?limit=5" || true)
      echo "$(now_ms) ${out:-000}" >>"$RUN_DIR/reads.$1"
    fi
  done
}

ID=$(api -F "file=@$CSV;type=text/csv" "$API1/api/leads/import" | field id)
log "import $ID of $ROWS rows uploaded to api1; 4 writers start"
for c in 1 2 3 4; do writer "$c" & WRITERS+=($!); done
P=0; T=0
while true; do
  S=$(api "$API1/api/leads/imports/$ID"); P=$(echo "$S" | field processedRows); T=$(echo "$S" | field totalRows)
  [[ -n $T && $T -gt 0 && $((P * 5)) -ge $((T * 2)) ]] && break
  [[ $(echo "$S" | field status) == completed ]] && { echo "FAIL: the import finished before the kill point"; exit 1; }
  sleep 0.2
done
OLD=$(primary_node)
[[ $OLD == node1 ]] || { echo "FAIL: expected node1 to be the primary, found '$OLD'"; exit 1; }
# Where the service's connections are (the write string lists node2 first, the read string node1 first).
backends() { psql -X -tA -h 127.0.0.1 -p "$1" -U postgres -d leads -c "SELECT count(*) FROM pg_stat_activity WHERE datname = 'leads' AND backend_type = 'client backend' AND pid <> pg_backend_pid()"; }
ON_PRIMARY=$(backends "${PG_PORTS[0]}"); ON_STANDBY=$(backends "${PG_PORTS[1]}")
KILLED_AT=$(now_ms)
node_kill9 "$OLD"
log "kill -9 of the primary ($OLD: keeper, postmaster, backends) at processedRows=$P of $T; load avg $(load_avg)"
wait_state 'node2:(wait_primary|primary):(wait_primary|primary)' 120
PROMOTED_AT=$(now_ms)
log "node2 promoted $(( PROMOTED_AT - KILLED_AT )) ms after the kill: $(formation_state)"

ST=""
for _ in $(seq 1 1800); do
  if S=$(api "$API1/api/leads/imports/$ID" 2>/dev/null); then ST=$(echo "$S" | field status); fi
  [[ $ST == completed || $ST == failed ]] && break
  sleep 0.5
done
DONE_AT=$(now_ms)
sleep 5 # a few more writes on the new primary
touch "$RUN_DIR/stop"
for p in "${WRITERS[@]}"; do wait "$p" 2>/dev/null || true; done
WRITERS=()
echo "$S"

cat "$RUN_DIR"/writes.* | sort -n >"$RUN_DIR/writes.txt"
awk '$3 ~ /^2/ {print $4}' "$RUN_DIR/writes.txt" >"$RUN_DIR/acknowledged.txt"
ACKED=$(wc -l <"$RUN_DIR/acknowledged.txt")
SENT=$(wc -l <"$RUN_DIR/writes.txt")
FOUND=$(sql -v ON_ERROR_STOP=1 <<SQL | tail -1
CREATE TEMP TABLE acked (email text);
\copy acked FROM '$RUN_DIR/acknowledged.txt'
SELECT count(*) FROM acked a WHERE EXISTS (SELECT 1 FROM leads.leads l WHERE l.email = a.email);
SQL
)
# The first write that was sent after the kill and answered 2xx: when the answer came.
FIRST_OK=$(awk -v k="$KILLED_AT" '$1 >= k && $3 ~ /^2/ {print $2; exit}' "$RUN_DIR/writes.txt")
# The longest time without any acknowledged write, across the 4 clients.
GAP=$(awk '$3 ~ /^2/ {if (last && $2 - last > g) g = $2 - last; if ($2 > last) last = $2} END {print g + 0}' "$RUN_DIR/writes.txt")
FAILED_WRITES=$(awk '$3 !~ /^2/' "$RUN_DIR/writes.txt" | wc -l)
cat "$RUN_DIR"/reads.* | sort -n >"$RUN_DIR/reads.txt"
READS=$(wc -l <"$RUN_DIR/reads.txt"); READS_OK=$(awk '$2 == 200' "$RUN_DIR/reads.txt" | wc -l)
# Anything but 2xx, 503 (database unavailable) or a client timeout is a failure of the service.
OTHER=$(( $(awk '$3 !~ /^2/ && $3 != 503 && $3 != "000"' "$RUN_DIR/writes.txt" | wc -l) + $(awk '$2 != 200 && $2 != 503 && $2 != "000"' "$RUN_DIR/reads.txt" | wc -l) ))
STATUSES=$(awk '{print $3}' "$RUN_DIR/writes.txt" | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')
UUID=$(sql -c "SELECT id FROM import.imports WHERE status = 'completed' ORDER BY created_at DESC LIMIT 1")
LEADS=$(sql -c "SELECT count(*) FROM leads.leads WHERE import_id = '$UUID'")
ATTEMPTS=$(sql -c "SELECT attempts FROM import.imports WHERE id = '$UUID'")
sql -c "COPY (SELECT coalesce(email, ''), coalesce(first_name, ''), coalesce(last_name, ''), coalesce(phone, ''), coalesce(company, '')
             FROM leads.leads WHERE import_id = '$UUID') TO STDOUT WITH (FORMAT csv)" >"$RUN_DIR/imported.csv"
SAME=$(same_rows "$CSV" "$RUN_DIR/imported.csv")
NOW_PRIMARY=$(primary_node)

RECOVERY=""
[[ -n $FIRST_OK ]] && RECOVERY=$(( FIRST_OK - KILLED_AT ))
echo "import: status=$ST created=$(echo "$S" | field created) failed=$(echo "$S" | field failed) leads=$LEADS attempts=$ATTEMPTS rows=$SAME;" \
     "completed $(( (DONE_AT - KILLED_AT) / 1000 )) s after the kill"
echo "writes: $SENT sent ($STATUSES), $ACKED acknowledged (2xx), $FOUND of them in the database, $FAILED_WRITES failed (no 2xx);" \
     "first acknowledged write sent after the kill answered ${RECOVERY:-never} ms after it; longest gap between acknowledged writes $GAP ms"
echo "failover: killed $OLD at processedRows=$P of $T; node2 promoted after $(( PROMOTED_AT - KILLED_AT )) ms (as the monitor reported it); primary now: $NOW_PRIMARY; load avg $(load_avg)"
echo "list reads: $READS, $READS_OK answered 200 (the others 503 while no primary answered: API keys are checked on the primary)"
echo "before the kill: $ON_PRIMARY service connections on the primary, $ON_STANDBY on the standby (list/stats reads, prefer-standby)"
ok=1
[[ $ST == completed && $(echo "$S" | field created) -eq $ROWS && $(echo "$S" | field failed) -eq 0 ]] || ok=0
[[ $LEADS -eq $ROWS && $SAME == same && $P -lt $ROWS ]] || ok=0
[[ $ACKED -gt 0 && $FOUND -eq $ACKED ]] || { echo "lost writes: $((ACKED - FOUND))"; ok=0; }
[[ $OTHER -eq 0 ]] || { echo "$OTHER answers other than 2xx, 503 or a client timeout (see $KEEP_DIR/run)"; ok=0; }
[[ -n $RECOVERY && $RECOVERY -lt 30000 ]] || { echo "writes did not recover within 30 s"; ok=0; }
[[ $NOW_PRIMARY == node2 && $ON_STANDBY -gt 0 ]] || ok=0
if nodes_alive; then echo "nodes: api1 ${NODE_PID[api1]}, api2 ${NODE_PID[api2]}, worker ${NODE_PID[worker]} — the processes started at the beginning"; else echo "a node died"; ok=0; fi
if [[ $ok -eq 1 ]]; then echo "PASS: $LEADS leads for $ROWS rows, $FOUND of $ACKED acknowledged writes, writes back after $RECOVERY ms"; else echo FAIL; exit 1; fi
