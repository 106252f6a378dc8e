#!/usr/bin/env bash
# Duplicate-suggestion benchmark (spec §10, issue #12): one lead's suggestions p99 ≤ 50 ms at 1,000,000 leads, and
# precision on planted twins. Unattended; prints PASS or FAIL (exit 0 / 1) and removes everything it created.
#
#   bench/duplicates/suggest-bench.sh [--leads N] [--pairs N] [--requests N] [--no-build] [--keep] [--reuse]
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default /tmp/suggest-bench;
# HTTP on $BENCH_HTTP_PORT, default 5650, PostgreSQL on $BENCH_PG_PORT, default 5651), seeds N leads (default 1,000,000)
# with bench/seed-leads.sql, then bench/duplicates/suggest_check.py plants --pairs (default 200) originals with a twin
# each through the API — 60% realistic names that occur once, 20% random seeded leads, 20% seeded leads with the seed's
# 10 most common full names — plus a decoy per original (same first name and company, another last name) and, for the
# realistic names, a namesake at an unrelated company. It times --requests (default 1,000) GET
# /api/leads/:id/duplicates?include=suggested (the planted originals first, then random seeded leads) and prints
# min/median/p99/max, CPU ms per request (host + PostgreSQL, the load-independent figure), load average and precision
# per group. Targets: p99 ≤ 50 ms; twin in the top 3 for ≥ 95% of realistic names, and for ≥ 95% of seeded names when
# ties go its way; no decoy and no namesake ever suggested. ~6–8 minutes on a quiet 2-core machine, most of it seeding.
# --keep leaves the data folder; --reuse starts from a kept one (planted leads of the earlier run are deleted first).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FAULT_DIR=${BENCH_DIR:-/tmp/suggest-bench}
PORT=${BENCH_HTTP_PORT:-5650}
PG_PORT=${BENCH_PG_PORT:-5651}
NAME=suggest-bench
LEADS=1000000
PAIRS=200
REQUESTS=1000
BUILD=1
KEEP=0
REUSE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --leads) LEADS=$2; shift ;;
    --pairs) PAIRS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    --reuse) REUSE=1; KEEP=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
source "$ROOT/bench/lib.sh"
for tool in curl psql python3; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
started=$(now_ms)
cleanup() {
  host_stop
  [[ -f $DATA/postmaster.pid ]] && pg_stop 2>/dev/null || true
  if [[ $KEEP -eq 0 ]]; then rm -rf "$FAULT_DIR"; fi
}
[[ $BUILD -eq 1 ]] && { log "building Release"; build_host; }
if [[ $REUSE -eq 0 || ! -f $DATA/seeded ]]; then fresh_dir; fi
trap cleanup EXIT

# The host creates and migrates the cluster on a port of its own choosing; it is then restarted on ours and adopted.
if [[ ! -f $DATA/PG_VERSION ]]; then host_start; host_stop; fi
[[ -f $DATA/postmaster.pid ]] && pg_stop
pg_start "$PG_PORT"
host_start
KEY=$(host_key bench)
CLEAN=()

if [[ ! -f $DATA/seeded ]]; then
  log "seeding $LEADS leads (load avg $(load_avg))"
  t0=$(now_ms)
  sql -q -v workspace=bench -v n="$LEADS" -f "$ROOT/bench/seed-leads.sql" >/dev/null
  sql -c "SELECT now()" > "$DATA/seeded"
  log "seeded in $(( ($(now_ms) - t0) / 1000 )) s (load avg $(load_avg))"
else
  log "reusing $DATA: the leads an earlier run planted (created after the seed) are deleted first"
  CLEAN=(--clean-since "$(cat "$DATA/seeded")")
fi

set +e
python3 "$ROOT/bench/duplicates/suggest_check.py" --base "$BASE" --key "$KEY" --pg-port "$(pg_port)" --host-pid "$HOST_PID" \
  --data "$DATA" --pairs "$PAIRS" --requests "$REQUESTS" "${CLEAN[@]}"
rc=$?
set -e
log "done in $(( ($(now_ms) - started) / 1000 )) s"
exit $rc
