#!/usr/bin/env bash
# Merge benchmark (issue "Duplicates"): merging two leads with 1,000 events each, target ≤ 50 ms.
#
#   bench/merge/merge-bench.sh [--pairs N] [--events N] [--no-build]
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default
# /tmp/leads-bench-merge; reachable by the 'postgres' user when run as root), creates N pairs of leads
# through the API, gives each lead N events (set-based INSERT in psql — what the events are does not change
# the merge's work), then times each POST /api/leads/:id/merge with curl and prints min/median/p95/max.
# Each merge is checked: 200, eventsMoved = events, the survivor's timeline total counts both leads' events,
# the duplicate answers 404 lead_merged. Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-bench-merge}
DATA_DIR=$BENCH_DIR/pgdata
export PGPASSFILE=$DATA_DIR/pgpass  # the embedded cluster's SCRAM password (written by the host)
PORT=${BENCH_HTTP_PORT:-5194}
BASE=http://127.0.0.1:$PORT
PAIRS=30
EVENTS=1000
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --pairs) PAIRS=$2; shift ;;
    --events) EVENTS=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
log() { printf '[merge-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in curl jq psql; do command -v $tool >/dev/null || { echo "missing $tool (apt-get install curl jq postgresql-client)" >&2; exit 2; }; done

HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
if [[ $BUILD -eq 1 ]]; then log "building Release"; dotnet build -c Release "$ROOT/src/Host" -nologo -v q -clp:ErrorsOnly >&2; fi
mkdir -p "$BENCH_DIR"; if [[ $(id -u) -eq 0 ]]; then chmod 755 "$BENCH_DIR"; fi
HOST_ARGS=(--Database:DataDirectory="$DATA_DIR" --Logging:Format=simple --Logging:LogLevel:Default=Warning --RateLimit:PerKeyPerMinute=100000000)
"$HOST_BIN" --urls "$BASE" "${HOST_ARGS[@]}" >"$BENCH_DIR/host.log" 2>&1 &
HOST_PID=$!
trap 'kill -TERM $HOST_PID 2>/dev/null; wait $HOST_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf -o /dev/null "$BASE/health/ready" && break; sleep 1; done
curl -sf -o /dev/null "$BASE/health/ready" || { cat "$BENCH_DIR/host.log" >&2; exit 1; }
KEY=$("$HOST_BIN" keys create --workspace merge-bench --scope full --label bench "${HOST_ARGS[@]}" 2>/dev/null)
PSQL=(psql -X -qAt -h 127.0.0.1 -p "$(sed -n 4p "$DATA_DIR/postmaster.pid")" -U postgres -d leads -v ON_ERROR_STOP=1)
H=(-H "X-API-Key: $KEY" -H "Content-Type: application/json")

uuid_of() { "${PSQL[@]}" -c "SELECT id FROM leads.leads WHERE email = '$1'"; }
seed_events() { # lead uuid → EVENTS event rows on it
  "${PSQL[@]}" -c "INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name, created_at)
    SELECT leads.uuid_v7(), l.workspace_id, l.id, 'status_changed', jsonb_build_object('from','new','to','contacted'),
           'api_key', 'key_bench', 'bench', now() - make_interval(secs => g)
    FROM leads.leads l, generate_series(1, $EVENTS) g WHERE l.id = '$1'"
}

times=()
run=$(date +%s)
# The first merges pay for JIT compilation and cold caches: run WARMUP of them unmeasured.
WARMUP=5
for i in $(seq 1 $(( PAIRS + WARMUP ))); do
  s=$(curl -sf "${H[@]}" -X POST "$BASE/api/leads" -d "{\"email\":\"s$i.$run@acme.io\",\"firstName\":\"S$i\",\"notes\":\"survivor\"}" | jq -r .id)
  d=$(curl -sf "${H[@]}" -X POST "$BASE/api/leads" -d "{\"email\":\"d$i.$run@acme.io\",\"lastName\":\"D$i\",\"company\":\"Initech\",\"notes\":\"duplicate\"}" | jq -r .id)
  seed_events "$(uuid_of "s$i.$run@acme.io")"
  seed_events "$(uuid_of "d$i.$run@acme.io")"
  out=$(curl -s -o "$BENCH_DIR/merge.json" -w '%{http_code} %{time_total}' "${H[@]}" -X POST "$BASE/api/leads/$s/merge" -d "{\"duplicateId\":\"$d\"}")
  code=${out% *}; t=${out#* }
  [[ $code == 200 ]] || { cat "$BENCH_DIR/merge.json" >&2; echo "merge $i answered $code" >&2; exit 1; }
  ev=$(curl -s "${H[@]}" "$BASE/api/leads/$s/events?limit=5")
  moved=$(jq -r '[.data[] | select(.type == "merged")][0].data.eventsMoved' <<<"$ev" 2>/dev/null || { echo "events of $s: $ev" >&2; exit 1; })
  [[ $moved == "$EVENTS" ]] || { echo "merge $i moved $moved events, expected $EVENTS" >&2; exit 1; }
  # The survivor's timeline holds both leads' events: 2 × EVENTS + merged (+ score_changed) + created.
  total=$(jq -r .pagination.total <<<"$ev")
  (( total >= 2 * EVENTS + 2 && total <= 2 * EVENTS + 3 )) || { echo "survivor $i shows $total timeline entries, expected $(( 2 * EVENTS + 2 ))-$(( 2 * EVENTS + 3 ))" >&2; exit 1; }
  [[ $(curl -s -o /dev/null -w '%{http_code}' "${H[@]}" "$BASE/api/leads/$d") == 404 ]] || { echo "duplicate $i still answers" >&2; exit 1; }
  if [[ $i -gt $WARMUP ]]; then times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')"); fi
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
n=${#times[@]}
pick() { sed -n "$1p" <<<"$sorted"; }
echo "merges: $n pairs × $EVENTS events each; load avg $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ms: min $(pick 1)  median $(pick $(( (n + 1) / 2 )))  p95 $(pick $(( (n * 95 + 99) / 100 )))  max $(pick "$n")  (target ≤ 50)"
