#!/usr/bin/env bash
# What each group of leads.leads' indexes costs a single-row insert (docs/benchmarks.md, "Intake": "What each index
# costs"). On the intake bench's cluster (bench/intake/intake-bench.sh seeds it; it must not be running), with pgbench:
# 16 clients, single-row INSERTs in autocommit into a copy of leads.leads (CREATE TABLE … LIKE … INCLUDING ALL: every
# column, check and index; no triggers) for S seconds per variant, then the same with one group of indexes dropped, each
# from the full set. Prints inserts/s and PostgreSQL CPU ms per insert (its processes' jiffies from /proc) per variant,
# and the load average. The copy starts empty, as the bench's floor does: index depth grows with the table, so these are
# lower bounds for a 1M-lead table, and the differences between variants are the figures to read.
#
#   bench/intake/index-costs.sh [--seconds S]      (default 15; about 7 × S seconds in all)
#
# Environment: BENCH_DIR (default /tmp/leads-intake-bench), BENCH_PG_PORT (default 5122). Loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-intake-bench}
SECONDS_EACH=15
while [[ $# -gt 0 ]]; do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
FAULT_DIR=$BENCH_DIR PORT=0 NAME=index-costs
source "$ROOT/bench/lib.sh"
[[ -f $DATA/PG_VERSION ]] || { echo "no cluster in $DATA: run bench/intake/intake-bench.sh first" >&2; exit 2; }
[[ -f $DATA/postmaster.pid ]] && { echo "the cluster in $DATA is running: stop it (or the bench using it) first" >&2; exit 2; }
command -v pgbench >/dev/null || { echo "pgbench missing (Debian: apt-get install postgresql-contrib)" >&2; exit 2; }

pg_start "${BENCH_PG_PORT:-5122}"
cleanup() { sql -c "DROP SCHEMA IF EXISTS bench_index CASCADE" >/dev/null 2>&1 || true; pg_stop 2>/dev/null || true; }
trap cleanup EXIT

HZ=$(getconf CLK_TCK)
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

WS=$(sql -c "SELECT id FROM access.workspaces WHERE name = 'bench'")
cat >"$BENCH_DIR/index-costs.sql" <<EOF
\set p random(1, 2000000000)
INSERT INTO bench_index.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                               status, score, created_score, metadata, channel, created_actor_type, created_actor_id, created_actor_name)
VALUES (leads.uuid_v7(), '$WS', 'p' || :p || '@floor.bench', 'p' || :p || '@floor.bench', 'Intake', 'Person ' || :p,
        '+33 6 ' || lpad((:p % 100000000)::text, 8, '0'), '+336' || lpad((:p % 100000000)::text, 8, '0'), 'Bench Co ' || (:p % 997),
        'new', 55, 55, '{}', 'api', 'api_key', 'key_floor', 'floor');
EOF

# name|indexes dropped from the full set (regular expression over index names; empty: none)
VARIANTS=(
  "all indexes (the floor)|"
  "without the two trigram GIN (search, phone digits)|trgm"
  "without the five list-order indexes (updated, score, last name, company, created)|_ws_(updated|score|last_name|company|created)_idx"
  "without the four filter indexes (status, assignee, source, duplicates)|_ws_(status|assigned|source|duplicate)_created_idx"
  "without the three suggestion indexes|suggest"
  "without the two match-key indexes (email, phone)|_ws_(email_norm|phone_e164)_idx"
  "primary key only|^(?!.*pkey)"
)
printf '\n| variant | indexes | inserts/s | PG CPU ms per insert | load avg 1 min |\n|---|---:|---:|---:|---|\n'
for v in "${VARIANTS[@]}"; do
  name=${v%%|*} drop=${v#*|}
  # The copy's indexes under their own names (LIKE … INCLUDING INDEXES would rename them), less the variant's.
  sql -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS bench_index CASCADE; CREATE SCHEMA bench_index;
          CREATE TABLE bench_index.leads (LIKE leads.leads INCLUDING ALL EXCLUDING INDEXES)" >/dev/null
  sql -c "SELECT indexname || ' ' || replace(indexdef, ' ON leads.leads ', ' ON bench_index.leads ')
          FROM pg_indexes WHERE schemaname = 'leads' AND tablename = 'leads'" |
    while read -r ix def; do
      if [[ -z $drop ]] || ! perl -e 'exit(($ARGV[0] =~ /$ARGV[1]/) ? 0 : 1)' "$ix" "$drop"; then sql -c "$def" >/dev/null; fi
    done
  n_ix=$(sql -c "SELECT count(*) FROM pg_indexes WHERE schemaname = 'bench_index' AND tablename = 'leads'")
  load=$(load_avg)
  p0=$(pg_jiffies)
  out=$(pgbench -n -h 127.0.0.1 -p "$(pg_port)" -U postgres -c 16 -j 2 -T "$SECONDS_EACH" -f "$BENCH_DIR/index-costs.sql" leads 2>/dev/null)
  sleep 2
  p1=$(pg_jiffies)
  tps=$(awk '/^tps/ { printf "%.0f", $3 }' <<<"$out")
  n=$(awk '/number of transactions actually processed/ { split($6, a, "/"); print a[1] }' <<<"$out")
  ms=$(awk -v j=$(( p1 - p0 )) -v n="$n" -v hz="$HZ" 'BEGIN { printf "%.3f", (n > 0 ? 1000 * j / hz / n : 0) }')
  printf '| %s | %s | %s | %s | %s → %s |\n' "$name" "$n_ix" "$tps" "$ms" "${load%% *}" "$(load_avg | cut -d' ' -f1)"
done
