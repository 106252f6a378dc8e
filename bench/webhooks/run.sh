#!/usr/bin/env bash
# Outbound webhook benchmark (docs/benchmarks.md, "Outbound webhooks").
#
#   bench/webhooks/run.sh [ROWS] [up|down]     default 100,000 rows, receiver up
#
# Starts the Release host (port 5491) on a fresh embedded cluster with Webhooks:AllowPrivateTargets=true, subscribes
# a local receiver (bench/webhooks/receiver.py, port 5492) to lead.created, imports ROWS rows and reports: the import's
# own time (upload → completed), the time until the receiver holds every lead.created event (distinct event ids),
# and the host's peak RSS. `down`: the receiver is not running during the import and starts once it completed —
# every event must still arrive (the back-off's first steps are 5 s and 30 s, so expect up to ~35 s of wait).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${1:-100000}
MODE=${2:-up}
WORK=${BENCH_DIR:-/tmp/feed-bench-webhooks}
PORT=5491
RPORT=5492
CSV=${BENCH_CSV:-/tmp/feed-bench-$ROWS.csv}

rm -rf "$WORK" && mkdir -p "$WORK" && chmod 755 "$WORK"
[ -s "$CSV" ] || python3 "$ROOT/bench/import/generate.py" "$ROWS" "$CSV"
chmod 644 "$CSV"
dotnet build -c Release "$ROOT/src/Host" -v q -nologo >/dev/null

dotnet "$ROOT/src/Host/bin/Release/net10.0/Leads.Host.dll" --urls "http://127.0.0.1:$PORT" \
  --Database:DataDirectory="$WORK/data" --Logging:Format=simple --Webhooks:AllowPrivateTargets=true >"$WORK/host.log" 2>&1 &
HOST=$!
RECV=
stop() { kill "$HOST" 2>/dev/null || true; wait "$HOST" 2>/dev/null || true; [ -n "$RECV" ] && kill "$RECV" 2>/dev/null || true; }
trap stop EXIT
KEY=
for _ in $(seq 1 180); do
  KEY=$(grep -o '5l_live_[A-Za-z0-9]*' "$WORK/host.log" | head -1 || true)
  [ -n "$KEY" ] && curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
[ -n "$KEY" ] || { echo "host did not start with a bootstrap key; see $WORK/host.log"; exit 1; }

STATE="$WORK/received"
echo "0 0" >"$STATE"
start_receiver() { python3 "$ROOT/bench/webhooks/receiver.py" "$RPORT" "$STATE" & RECV=$!; }
[ "$MODE" = up ] && start_receiver
curl -fsS -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  -d "{\"url\": \"http://127.0.0.1:$RPORT/hook\", \"events\": [\"lead.created\"]}" "http://127.0.0.1:$PORT/api/webhook-subscriptions" >/dev/null

echo "rows: $ROWS   mode: receiver $MODE   load before: $(uptime | sed 's/.*load average: //')"
T0=$(date +%s.%N)
ID=$(curl -fsS -H "X-API-Key: $KEY" -F "file=@$CSV;type=text/csv" "http://127.0.0.1:$PORT/api/leads/import" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
while true; do
  S=$(curl -fsS -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/api/leads/imports/$ID")
  STATUS=$(echo "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$STATUS" = completed ] || [ "$STATUS" = failed ] && break
  sleep 0.2
done
T1=$(date +%s.%N)
CREATED=$(echo "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])')
[ "$MODE" = down ] && start_receiver
DEADLINE=$(( $(date +%s) + 600 ))
received() { local n; n=$(cut -d' ' -f1 "$STATE" 2>/dev/null); echo "${n:-0}"; }
while [ "$(received)" -lt "$CREATED" ] && [ "$(date +%s)" -lt "$DEADLINE" ]; do sleep 0.2; done
T2=$(date +%s.%N)
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$HOST/status")
read -r GOT REQS <"$STATE"
printf 'import: %.1f s (%s created)   all lead.created delivered: %.1f s after the import completed   received: %s distinct in %s requests   host peak RSS (VmHWM): %d MB   load after: %s\n' \
  "$(echo "$T1 - $T0" | bc)" "$CREATED" "$(echo "$T2 - $T1" | bc)" "$GOT" "$REQS" $((HWM / 1024)) "$(uptime | sed 's/.*load average: //')"
[ "$GOT" -ge "$CREATED" ] || { echo "LOST EVENTS: $GOT of $CREATED"; exit 1; }
