#!/usr/bin/env bash
# Write-path benchmark: single-lead intake (POST /api/leads) at 16 connections (docs/benchmarks.md, "Intake").
#
#   bench/intake/intake-bench.sh [--leads N] [--duration SECONDS] [--warmup SECONDS] [--connections C] [--floor-seconds S]
#                         [--only one,spread,floor] [--no-build]
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default /tmp/leads-intake-bench,
# reused across runs), seeds the workspace 'bench' with N leads (default 1,000,000; bench/seed-leads.sql) when it has
# none, then:
#   one     wrk, C connections (one per thread), all into 'bench': a new person per request, 2% repeats of earlier
#           people (bench/intake/intake-wrk.lua), warm-up then the measured run;
#   spread  the same with one connection on each of C workspaces 'intake-1' … 'intake-C';
#   floor   pgbench, C clients, a single-row INSERT per transaction into a copy of leads.leads with all its indexes
#           (schema bench_floor, dropped afterwards) on the same cluster: the database's own pace for this table.
# After each wrk run, checks against independent SQL: the list total and every stats figure, every counter row of the
# workspace against GROUP BY over its leads, and every duplicate flag of the run's people (each person exactly one
# primary — the oldest of its leads —, every repeat flagged against it on email and phone). Then deletes the run's
# leads, so the next run starts from the same N. Prints a table with leads/s, p50/p99/max, the ratio to the floor, the
# CPU ms per lead of the host and of PostgreSQL, the leads per group-commit batch (the host's leads.intake.batch_size
# histogram; BENCH_HOST_ARGS="--Intake:BatchMax=1" runs without batching) and the load average, then PASS (every run at ≥ 1,500 leads/s with
# p99 ≤ 50 ms and exact afterwards) or FAIL; exits 1 when a check or a request failed, 3 when only a target was missed.
# Environment: BENCH_DIR, BENCH_HTTP_PORT (5121), BENCH_HOST_ARGS (extra host settings). Loopback only; nothing here runs in CI.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-intake-bench}
LEADS=1000000
DURATION=60
# .NET's tiered JIT keeps recompiling hot methods with profile data well into the first minute under this load
# (perf: 30% of the host's CPU in the tiered-compilation thread 30–45 s after start on the shared 2 cores); the
# warm-up runs it out, so that the measurement shows the steady state of a long-running service.
WARMUP=45
CONNECTIONS=16
FLOOR_SECONDS=30
ONLY=one,spread,floor
BUILD=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --leads) LEADS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --floor-seconds) FLOOR_SECONDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
want() { [[ ",$ONLY," == *",$1,"* ]]; }

FAULT_DIR=$BENCH_DIR PORT=${BENCH_HTTP_PORT:-5121} NAME=intake
source "$ROOT/bench/lib.sh"
HOST_ARGS+=(--Logging:LogLevel:Default=Warning)
# Extra host settings for an experiment, e.g. BENCH_HOST_ARGS="--Database:Server:shared_buffers=" (PostgreSQL's stock value).
read -r -a extra <<<"${BENCH_HOST_ARGS:-}"
HOST_ARGS+=("${extra[@]}")

missing=()
for tool in wrk jq curl psql pgbench; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^psql$/postgresql-client/; s/^pgbench$/postgresql-contrib/' | sort -u | tr '\n' ' ')
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing $pkgs"
    apt-get install -y -q $pkgs >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $pkgs >/dev/null; }
  else
    echo "missing tools: ${missing[*]} (Debian: apt-get install $pkgs)" >&2; exit 2
  fi
fi

mkdir -p "$BENCH_DIR"; [[ $(id -u) -eq 0 ]] && chmod 755 "$BENCH_DIR"
# A cluster left running by an interrupted run would be adopted and never stopped: stop it first.
[[ -f $DATA/postmaster.pid ]] && { pg_stop 2>/dev/null || true; }
[[ $BUILD -eq 1 ]] && { log "building Release"; build_host; }
cleanup() {
  host_alive && [[ -f $DATA/postmaster.pid ]] && sql -c "DROP SCHEMA IF EXISTS bench_floor CASCADE" >/dev/null 2>&1 || true
  host_stop; [[ -f $DATA/postmaster.pid ]] && pg_stop 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
host_start
PSQL=(psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port)" -U postgres -d leads)

KEY=$(host_key bench)
WS=$(sql -c "SELECT id FROM access.workspaces WHERE name = 'bench'")
have=$(sql -c "SELECT count(*) FROM leads.leads WHERE workspace_id = '$WS' AND email NOT LIKE '%@intake.bench'")
if [[ $have -eq 0 ]]; then
  log "seeding $LEADS leads into 'bench' (several minutes for 1M)"
  "${PSQL[@]}" -q -v workspace=bench -v n="$LEADS" -f "$ROOT/bench/seed-leads.sql" >/dev/null
elif [[ $have -ne $LEADS ]]; then
  echo "workspace 'bench' in $BENCH_DIR holds $have leads, not $LEADS: remove $BENCH_DIR" >&2; exit 1
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results-$STAMP.md
FAILED=0
PG_SHOWN=$(sql -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'synchronous_commit', 'max_connections', 'wal_level', 'max_wal_size', 'checkpoint_timeout')")
{
  echo "Run $STAMP: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $(sql -c 'SHOW server_version' | cut -d' ' -f1) ($PG_SHOWN);"
  echo "$LEADS leads in 'bench'; wrk -t$CONNECTIONS -c$CONNECTIONS, ${WARMUP} s warm-up + ${DURATION} s; a new person per request, 2% repeats."
  echo
  echo "| run | leads/s | p50 ms | p99 ms | max ms | requests | repeats | errors | exact afterwards | ratio to floor | CPU ms/lead host + PG | WAL per lead | leads per batch | load avg 1 min (start → end) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---:|---|"
} >"$OUT"

# The run's leads of one workspace: email_norm ends in @intake.bench.
RUN="email_norm LIKE '%@intake.bench'"

# Every check of one workspace after a run, in SQL written independently of the service's (prints failures, one a line).
check_workspace() {
  local ws=$1 key=$2 failures=""
  local total stats want_stats
  total=$(curl -fsS -H "X-API-Key: $key" "$BASE/api/leads?limit=1" | jq -r .pagination.total)
  [[ $total == "$(sql -c "SELECT count(*) FROM leads.leads WHERE workspace_id = '$ws'")" ]] || failures+="list total $total; "
  stats=$(curl -fsS -H "X-API-Key: $key" "$BASE/api/leads/stats" |
    jq -r '[.total, .byStatus.new, .byStatus.contacted, .byStatus.qualified, .byStatus.converted, .byStatus.closed, .duplicates, .unassigned] | map(tostring) | join(",")')
  want_stats=$(sql -c "SELECT concat_ws(',', count(*), count(*) FILTER (WHERE status = 'new'), count(*) FILTER (WHERE status = 'contacted'),
      count(*) FILTER (WHERE status = 'qualified'), count(*) FILTER (WHERE status = 'converted'), count(*) FILTER (WHERE status = 'closed'),
      count(*) FILTER (WHERE duplicate_of IS NOT NULL), count(*) FILTER (WHERE assigned_to IS NULL)) FROM leads.leads WHERE workspace_id = '$ws'")
  [[ $stats == "$want_stats" ]] || failures+="stats $stats, SQL $want_stats; "
  # Every counter key, summed over its slots, against the rows.
  local counters
  counters=$(sql -c "
    WITH c AS (SELECT status, assigned_to, source_id, is_duplicate, sum(n) AS n FROM leads.lead_counts
               WHERE workspace_id = '$ws' GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0),
         r AS (SELECT status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'::uuid) AS assigned_to,
                      coalesce(source_id, '00000000-0000-0000-0000-000000000000'::uuid) AS source_id, duplicate_of IS NOT NULL AS is_duplicate, count(*) AS n
               FROM leads.leads WHERE workspace_id = '$ws' GROUP BY 1, 2, 3, 4)
    SELECT count(*) FROM ((TABLE c EXCEPT TABLE r) UNION ALL (TABLE r EXCEPT TABLE c)) x")
  [[ $counters -eq 0 ]] || failures+="$counters counter keys differ from the rows; "
  # Each person of the run: exactly one primary, the oldest of its leads; every other lead of it points there, on email and phone.
  local dups
  dups=$(sql -c "
    WITH run AS (SELECT id, email_norm, phone_e164, duplicate_of, created_at,
                        (SELECT g.matched_on FROM duplicates.group_members g WHERE g.lead_id = leads.id) AS duplicate_matched_on,
                        first_value(id) OVER (PARTITION BY email_norm ORDER BY created_at, id) AS first_id,
                        count(*) OVER (PARTITION BY email_norm) AS leads_of_person
                 FROM leads.leads WHERE workspace_id = '$ws' AND $RUN)
    SELECT concat_ws(',',
      count(*) FILTER (WHERE id = first_id AND duplicate_of IS NOT NULL),
      count(*) FILTER (WHERE id <> first_id AND duplicate_of IS DISTINCT FROM first_id),
      count(*) FILTER (WHERE id <> first_id AND duplicate_matched_on IS DISTINCT FROM ARRAY['email', 'phone']),
      count(*) FILTER (WHERE phone_e164 IS NULL),
      (SELECT count(*) FROM leads.leads o WHERE o.workspace_id = '$ws' AND NOT ($RUN) AND o.duplicate_of IN (SELECT id FROM run)))
    FROM run")
  [[ $dups == "0,0,0,0,0" ]] || failures+="duplicate flags: first lead flagged, repeat not on the first, matchedOn, no phone, others flagged = $dups; "
  echo "$failures"
}

# CPU jiffies of a process (utime stime cutime cstime) and of the cluster (postmaster, its live children and the
# backends it reaped): CPU per lead is what load from other work on the machine distorts least.
proc_jiffies() {
  local f
  f=($(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null)) || { echo 0; return; }
  [[ ${#f[@]} -gt 15 ]] || { echo 0; return; }
  echo $(( f[11] + f[12] + f[13] + f[14] ))
}
pg_jiffies() {
  local pm total=0 p
  pm=$(head -1 "$DATA/postmaster.pid")
  for p in "$pm" $(ps -o pid= --ppid "$pm"); do total=$(( total + $(proc_jiffies "$p") )); done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
cpu_ms() { awk -v j="$1" -v n="$2" -v hz="$HZ" 'BEGIN { printf "%.2f", (n > 0 ? 1000 * j / hz / n : 0) }'; }

# The group commit's batches so far (the host's leads.intake.batch_size histogram): "<sum> <count>".
batch_stats() {
  curl -fsS "$BASE/metrics" 2>/dev/null | awk '/^leads_intake_batch_size[a-z_]*_sum/ { s += $NF } /^leads_intake_batch_size[a-z_]*_count/ { c += $NF } END { printf "%d %d", s, c }'
}

run_leads() { sql -c "SELECT count(*) FROM leads.leads WHERE workspace_id = ANY('{$1}'::uuid[]) AND $RUN"; }
delete_run() {
  log "deleting the run's leads"
  # The run's group rows first: duplicates.group_members points at its leads without a cascade.
  sql -c "DELETE FROM duplicates.group_members WHERE workspace_id = ANY('{$1}'::uuid[]) AND (lead_id IN (SELECT id FROM leads.leads WHERE workspace_id = ANY('{$1}'::uuid[]) AND $RUN) OR primary_id IN (SELECT id FROM leads.leads WHERE workspace_id = ANY('{$1}'::uuid[]) AND $RUN)); DELETE FROM leads.leads WHERE workspace_id = ANY('{$1}'::uuid[]) AND $RUN" >/dev/null
}

# One wrk run (warm-up, then measured) with the given keys over the given workspaces; appends a table row.
intake_run() {
  local name=$1 wss=$2; shift 2
  local keys=("$@")
  delete_run "$wss"
  log "$name: warm-up ${WARMUP}s (load average $(load_avg))"
  wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$ROOT/bench/intake/intake-wrk.lua" "$BASE" -- 0 "${keys[@]}" >/dev/null
  local load0 result load1
  load0=$(load_avg)
  log "$name: measuring ${DURATION}s (load average $load0)"
  local h0 p0 h1 p1
  local b0 b1
  b0=$(batch_stats)
  h0=$(proc_jiffies "$HOST_PID"); p0=$(pg_jiffies)
  local w0 w1
  w0=$(sql -c "SELECT wal_bytes || ' ' || wal_fpi || ' ' || (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) FROM pg_stat_wal")
  result=$(wrk -t"$CONNECTIONS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/bench/intake/intake-wrk.lua" "$BASE" -- 1000000 "${keys[@]}" | grep '^RESULT')
  h1=$(proc_jiffies "$HOST_PID"); p1=$(pg_jiffies)
  b1=$(batch_stats)
  w1=$(sql -c "SELECT wal_bytes || ' ' || wal_fpi || ' ' || (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) FROM pg_stat_wal")
  load1=$(load_avg)
  log "$name: $result"
  local _ rps p50 p99 max reqs non2xx sockerr mean repeats
  read -r _ rps p50 p99 max reqs non2xx sockerr mean repeats <<<"$result"
  local failures="" i=0 ws
  for ws in ${wss//,/ }; do failures+=$(check_workspace "$ws" "${keys[$i]}"); i=$(( i + 1 )); done
  local written
  written=$(run_leads "$wss")
  [[ $non2xx -eq 0 && $sockerr -eq 0 ]] || failures+="$non2xx error responses, $sockerr socket errors; "
  local exact=yes
  [[ -z $failures ]] || { exact="NO: $failures"; FAILED=1; log "$name: $failures"; }
  local wal
  wal=$(awk -v a="$w0" -v b="$w1" -v n="$reqs" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.1f KB, %.2f FPI; %d checkpoints", (y[1] - x[1]) / 1024 / n, (y[2] - x[2]) / n, y[3] - x[3] }')
  local per_batch
  per_batch=$(awk -v a="$b0" -v b="$b1" 'BEGIN { split(a, x, " "); split(b, y, " ");
    if (y[2] > x[2]) printf "%.2f (%d batches)", (y[1] - x[1]) / (y[2] - x[2]), y[2] - x[2]; else printf "–" }')
  RESULTS+=("$name|$rps|$p50|$p99|$max|$reqs|$repeats|$(( non2xx + sockerr ))|$exact ($written leads of the run checked)|$(cpu_ms $(( h1 - h0 )) "$reqs") + $(cpu_ms $(( p1 - p0 )) "$reqs")|$wal|$per_batch|${load0%% *} → ${load1%% *}")
  delete_run "$wss"
}

RESULTS=()
if want one; then intake_run "one workspace (1M leads), $CONNECTIONS connections" "$WS" "$KEY"; fi

if want spread; then
  keys=(); wss=""
  for i in $(seq 1 "$CONNECTIONS"); do
    keys+=("$(host_key "intake-$i")")
    wss+="${wss:+,}$(sql -c "SELECT id FROM access.workspaces WHERE name = 'intake-$i'")"
  done
  intake_run "$CONNECTIONS workspaces, 1 connection each" "$wss" "${keys[@]}"
fi

FLOOR=""
if want floor; then
  log "floor: pgbench, $CONNECTIONS clients, ${FLOOR_SECONDS}s of single-row INSERTs into a copy of leads.leads (load average $(load_avg))"
  sql -c "DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor;
          CREATE TABLE bench_floor.leads (LIKE leads.leads INCLUDING ALL)" >/dev/null
  cat >"$BENCH_DIR/floor.sql" <<EOF
\set p random(1, 2000000000)
INSERT INTO bench_floor.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                               status, score, created_score, metadata, channel, created_actor_type, created_actor_id, created_actor_name)
VALUES (leads.uuid_v7(), '$WS', 'p' || :p || '@floor.bench', 'p' || :p || '@floor.bench', 'Intake', 'Person ' || :p,
        '+33 6 ' || lpad((:p % 100000000)::text, 8, '0'), '+336' || lpad((:p % 100000000)::text, 8, '0'), 'Bench Co ' || (:p % 997),
        'new', 55, 55, '{}', 'api', 'api_key', 'key_floor', 'floor');
EOF
  floor_load0=$(load_avg)
  p0=$(pg_jiffies)
  floor_out=$(pgbench -n -h 127.0.0.1 -p "$(pg_port)" -U postgres -c "$CONNECTIONS" -j 2 -T "$FLOOR_SECONDS" -f "$BENCH_DIR/floor.sql" leads 2>/dev/null)
  sleep 2  # pgbench's backends have exited: let the postmaster reap them, so that their CPU is in its cutime
  p1=$(pg_jiffies)
  FLOOR=$(awk '/^tps/ { printf "%.0f", $3 }' <<<"$floor_out")
  floor_n=$(awk '/number of transactions actually processed/ { split($6, a, "/"); print a[1] }' <<<"$floor_out")
  floor_lat=$(awk '/latency average/ { print $4 }' <<<"$floor_out")
  floor_load1=$(load_avg)
  log "floor: $FLOOR inserts/s"
  sql -c "DROP SCHEMA bench_floor CASCADE" >/dev/null
  echo "| bare INSERT floor (pgbench) | $FLOOR | mean $floor_lat | – | – | $floor_n | – | – | – | 1.00 | – + $(cpu_ms $(( p1 - p0 )) "$floor_n") | – | – | ${floor_load0%% *} → ${floor_load1%% *} |" >>"$OUT"
fi

VERDICT=PASS
for r in "${RESULTS[@]}"; do
  IFS='|' read -r name rps p50 p99 max reqs repeats errors exact cpu wal batch load <<<"$r"
  ratio="–"
  [[ -n $FLOOR && $FLOOR -gt 0 ]] && ratio=$(awk -v a="$rps" -v b="$FLOOR" 'BEGIN { printf "%.2f", a / b }')
  met=$(awk -v r="$rps" -v p="$p99" 'BEGIN { print (r >= 1500 && p <= 50) ? "target met" : "target missed" }')
  [[ $met == "target met" && $exact == yes* ]] || VERDICT="FAIL"
  echo "| $name ($met) | $rps | $p50 | $p99 | $max | $reqs | $repeats | $errors | $exact | $ratio | $cpu | $wal | $batch | $load |" >>"$OUT"
done

host_stop
echo
cat "$OUT"
echo
echo "(saved to $OUT; targets: ≥ 1,500 leads/s and p99 ≤ 50 ms, every run exact afterwards)"
[[ ${#RESULTS[@]} -gt 0 ]] || VERDICT="FAIL (no intake run)"
echo "$VERDICT"
echo "$VERDICT" >>"$OUT"
# 1: a check failed (a wrong total, stat, counter or flag, or a failed request); 3: exact, but a target was missed.
[[ $FAILED -eq 0 ]] || exit 1
[[ $VERDICT == PASS ]] || exit 3
exit 0
