# Shared by the scripts in bench/faults/ (source it; it defines functions and a few variables, runs nothing):
# the Release host on its own embedded PostgreSQL cluster, pg_ctl as the cluster's owner, psql, JSON fields.
#
#   FAULT_DIR=/tmp/leads-fault-x PORT=5196 NAME=x; source "$ROOT/bench/lib.sh"
#   fault_start; … host_kill9; host_start; … pg_restart
#
# Expects ROOT (the repository), FAULT_DIR (the cluster lives in $FAULT_DIR/pgdata, the host's log in
# $FAULT_DIR/host.log), PORT (HTTP, on 127.0.0.1) and NAME (log prefix). HOST_ARGS may be extended before
# host_start. Everything stays on loopback.

BASE=http://127.0.0.1:$PORT
DATA=$FAULT_DIR/pgdata
# The embedded cluster takes a SCRAM password only; the host keeps it in the data folder (readable by its owner and root).
export PGPASSFILE=$DATA/pgpass
HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
HOST_ARGS=(--Database:DataDirectory="$DATA" --Logging:Format=simple --RateLimit:PerKeyPerMinute=100000000)
HOST_PID=""
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

log() { printf '[%s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*" >&2; }
now_ms() { date +%s%3N; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

build_host() { dotnet build -c Release "$ROOT/src/Host" -nologo -v q -clp:ErrorsOnly >&2; }

# A new, empty $FAULT_DIR that the postgres system user can reach (the cluster runs as postgres when we are root).
fresh_dir() {
  if [[ -f $DATA/postmaster.pid ]]; then pgctl stop -D "$DATA" -m fast -w >/dev/null 2>&1 || true; fi
  rm -rf "$FAULT_DIR" && mkdir -p "$FAULT_DIR" && chmod 755 "$FAULT_DIR"
}

# Starts the host in the background (log appended to $FAULT_DIR/host.log) and waits until /health/ready is 200.
host_start() {
  if curl -s -o /dev/null "$BASE/health/live"; then echo "something already answers on $BASE: stop it or choose another port" >&2; exit 2; fi
  "$HOST_BIN" --urls "$BASE" "${HOST_ARGS[@]}" >>"$FAULT_DIR/host.log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 180); do
    curl -fs -o /dev/null "$BASE/health/ready" && return 0
    kill -0 "$HOST_PID" 2>/dev/null || break
    sleep 1
  done
  echo "host did not start; see $FAULT_DIR/host.log" >&2; exit 1
}

host_kill9() { kill -9 "$HOST_PID"; wait "$HOST_PID" 2>/dev/null || true; HOST_PID=""; }

# SIGTERM and wait: the host stops the cluster it started.
host_stop() {
  if [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; then kill -TERM "$HOST_PID"; wait "$HOST_PID" 2>/dev/null || true; fi
  HOST_PID=""
}

host_alive() { [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; }

# A new full-scope key for the workspace (created when missing), through the CLI on the same cluster.
host_key() { "$HOST_BIN" keys create --workspace "$1" --scope full "${HOST_ARGS[@]}" --Logging:LogLevel:Default=Warning 2>/dev/null; }

# pg_ctl as the cluster's owner (PostgreSQL refuses to run as root).
pgctl() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$PGBIN/pg_ctl" "$@"; else "$PGBIN/pg_ctl" "$@"; fi; }
pg_port() { sed -n 4p "$DATA/postmaster.pid"; }
pg_stop() { pgctl stop -D "$DATA" -m fast -w >/dev/null; }
# Starts the stopped cluster again on the given port, with the options the host uses.
pg_start() {
  pgctl start -D "$DATA" -w -l "$DATA/server.log" -o "-p $1 -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" >/dev/null
}
pg_restart() { pgctl restart -D "$DATA" -m fast -w -l "$DATA/server.log" >/dev/null; }

# psql against the host's database: one value per line, unaligned. Extra arguments go to psql (e.g. -v, -f).
sql() { psql -X -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port)" -U postgres -d leads "$@"; }

# curl with the key; -f so an HTTP error fails the call.
api() { curl -fsS -H "X-API-Key: $KEY" "$@"; }

# What every fault script does first: an empty $FAULT_DIR, the Release host built (unless BUILD=0), `cleanup` run
# on exit, the host started and KEY set for workspace 'fault'. The default cleanup stops the host and any cluster
# left behind; a script that needs more defines its own `cleanup` after sourcing this file.
cleanup() { host_stop; [[ -f $DATA/postmaster.pid ]] && pg_stop 2>/dev/null || true; }
fault_start() {
  fresh_dir
  if [[ ${BUILD:-1} -eq 1 ]]; then build_host; fi
  trap cleanup EXIT
  host_start
  KEY=$(host_key fault)
}

# The import scripts' input: bench/import/generate.py's file of $ROWS rows (seed 7) at $CSV, made once per size.
fault_csv() { [ -s "$CSV" ] || python3 "$ROOT/bench/import/generate.py" "$ROWS" "$CSV" --seed 7; }

# The status JSON of import $ID.
import_status() { api "$BASE/api/leads/imports/$ID"; }

# One member of a JSON object on stdin (null prints as empty).
field() { python3 -c "import json,sys; v=json.load(sys.stdin).get('$1'); print('' if v is None else v)"; }

# Uploads CSV file $1 as an import and returns once half its rows are processed — the fault point of the import
# scripts; sets ID, and P and T (processedRows, totalRows) as last seen. Fails the script if the import completes
# first ($2 names the fault in that message).
import_until_half() {
  ID=$(api -F "file=@$1;type=text/csv" "$BASE/api/leads/import" | field id)
  log "import $ID of $ROWS rows uploaded; waiting for 50% (load avg $(load_avg))"
  local s
  while true; do
    s=$(import_status); P=$(echo "$s" | field processedRows); T=$(echo "$s" | field totalRows)
    [ -n "$T" ] && [ "$T" -gt 0 ] && [ $((P * 2)) -ge "$T" ] && return
    [ "$(echo "$s" | field status)" = completed ] && { echo "FAIL: finished before the $2 point"; exit 1; }
    sleep 0.1
  done
}

# "same" when the leads exported to CSV file $2 (email, firstName, lastName, phone, company per line) are the data rows
# of import file $1 as a multiset — no row lost, none imported twice; else how many differ each way.
same_rows() {
  python3 - "$1" "$2" <<'PY'
import csv, sys
from collections import Counter
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    r = csv.reader(f); header = next(r)
    order = [header.index(c) for c in ("email", "firstName", "lastName", "phone", "company")]
    want = Counter(tuple(row[i].strip() for i in order) for row in r)
with open(sys.argv[2], encoding="utf-8", newline="") as f:
    got = Counter(tuple(row) for row in csv.reader(f))
print("same" if want == got else f"differ: {sum((want - got).values())} file rows missing, {sum((got - want).values())} extra leads")
PY
}
