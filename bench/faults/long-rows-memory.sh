#!/usr/bin/env bash
# Memory bound by bytes (issue #16 item 1): import an 80 MB file of 80 rows of 1,000,000 characters each and
# report the host's RSS growth over the import (sampled every 0.2 s from /proc). Before import chunks were capped
# by bytes, 80 such rows took the host from 248 to 473 MB. Prints PASS when growth ≤ LIMIT_MB (default 64).
#
#   bench/faults/long-rows-memory.sh [--no-build]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=1
[[ ${1:-} == --no-build ]] && BUILD=0
FAULT_DIR=${FAULT_DIR:-/tmp/leads-fault-longrows}
PORT=${FAULT_PORT:-5111}
NAME=long-rows
LIMIT_MB=${LIMIT_MB:-64}
CSV=/tmp/leads-longrows-80x1MB.csv
source "$ROOT/bench/lib.sh"

[ -s "$CSV" ] || python3 - "$CSV" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,firstName,note\n")
    for i in range(80):
        head = f"row{i}@x.io,Row{i},"
        f.write(head + "n" * (1_000_000 - len(head)) + "\n")
PY
fault_start
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$HOST_PID/status"; }

# Warm up the import path once with a small file, so JIT and pools are not counted as growth.
api -F "file=@-;filename=warm.csv;type=text/csv" "$BASE/api/leads/import" <<<$'email\nwarm@x.io' >/dev/null
sleep 3
BASE_KB=$(rss_kb)
MAX_KB=$BASE_KB
log "host RSS before: $((BASE_KB / 1024)) MB; uploading $(($(stat -c %s "$CSV") / 1048576)) MB (load avg $(load_avg))"
( while kill -0 "$HOST_PID" 2>/dev/null; do rss_kb; sleep 0.2; done ) >"$FAULT_DIR/rss.log" &
SAMPLER=$!
ID=$(api -F "file=@$CSV;type=text/csv" "$BASE/api/leads/import" | field id)
for _ in $(seq 1 1200); do
  S=$(import_status); ST=$(echo "$S" | field status)
  [ "$ST" = completed ] || [ "$ST" = failed ] && break
  sleep 0.5
done
kill "$SAMPLER" 2>/dev/null || true
MAX_KB=$(sort -n "$FAULT_DIR/rss.log" | tail -1)
GROWTH=$(( (MAX_KB - BASE_KB) / 1024 ))
echo "status=$ST totalRows=$(echo "$S" | field totalRows) failed=$(echo "$S" | field failed) rss_before=$((BASE_KB / 1024))MB rss_max=$((MAX_KB / 1024))MB growth=${GROWTH}MB load=$(load_avg)"
if [ "$ST" = completed ] && [ "$GROWTH" -le "$LIMIT_MB" ]; then echo PASS; else echo FAIL; exit 1; fi
