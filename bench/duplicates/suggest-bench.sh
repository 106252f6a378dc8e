#!/usr/bin/env bash
# Duplicate-suggestion benchmark (spec §10): one lead's suggestions, p99 ≤ 50 ms at 1,000,000 leads, and precision.
#
#   bench/duplicates/suggest-bench.sh [--leads N] [--pairs N] [--requests N] [--no-build] [--reuse]
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default /tmp/leads-bench-suggest),
# seeds N leads (default 1,000,000) with bench/seed-leads.sql (realistic names: every full name is shared by many
# leads), then plants --pairs (default 200) cases through the API. For a random seeded lead L (first/last name and
# company set): a twin T — same name, the company with a suffix changed ("Acme Inc" → "Acme Corp"), a gmail address,
# no phone, so detection does not flag it — and a decoy D with L's first name only. Then it times --requests
# (default 1,000) GET /api/leads/:id/duplicates?include=suggested with curl, on random seeded leads and the planted L's,
# and prints min/median/p99/max. Precision: T must be in L's top 3 in ≥ 95% of the pairs, and no D may ever appear.
# --reuse keeps an existing seeded data folder. Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FAULT_DIR=${BENCH_DIR:-/tmp/leads-bench-suggest}
PORT=${BENCH_HTTP_PORT:-5197}
NAME=suggest-bench
LEADS=1000000
PAIRS=200
REQUESTS=1000
BUILD=1
REUSE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --leads) LEADS=$2; shift ;;
    --pairs) PAIRS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --no-build) BUILD=0 ;;
    --reuse) REUSE=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done
source "$ROOT/bench/lib.sh"
for tool in curl jq psql; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
[[ $BUILD -eq 1 ]] && { log "building Release"; build_host; }
if [[ $REUSE -eq 0 || ! -d $DATA ]]; then fresh_dir; fi
trap cleanup EXIT
host_start
KEY=$(host_key bench)
H=(-H "X-API-Key: $KEY" -H "Content-Type: application/json")

have=$(sql -c "SELECT count(*) FROM leads.leads")
if [[ $have -eq 0 ]]; then
  log "seeding $LEADS leads"
  t0=$(now_ms)
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port)" -U postgres -d leads -v workspace=bench -v n="$LEADS" -f "$ROOT/bench/seed-leads.sql" >&2
  log "seeded in $(( ($(now_ms) - t0) / 1000 )) s"
fi

log "planting $PAIRS twin/decoy pairs"
mapfile -t picks < <(sql -F $'\t' -c "SELECT id, first_name, last_name, company FROM leads.leads
  WHERE first_name IS NOT NULL AND last_name IS NOT NULL AND company IS NOT NULL AND duplicate_of IS NULL
  ORDER BY hashtext(id::text || '$PAIRS') LIMIT $PAIRS")
pairs=()
for row in "${picks[@]}"; do
  IFS=$'\t' read -r id first last company <<<"$row"
  base=${company% Inc}; base=${base% LLC}; base=${base% Ltd}; base=${base% Group}
  twin_company="$base Corp"
  n=${#pairs[@]}
  t=$(curl -fsS "${H[@]}" -X POST "$BASE/api/leads" \
      -d "$(jq -nc --arg f "$first" --arg l "$last" --arg c "$twin_company" --arg e "twin$n.$RANDOM@gmail.com" '{firstName:$f,lastName:$l,company:$c,email:$e}')" | jq -r .id)
  d=$(curl -fsS "${H[@]}" -X POST "$BASE/api/leads" \
      -d "$(jq -nc --arg f "$first" --arg e "decoy$n.$RANDOM@decoy.io" '{firstName:$f,lastName:"Zzyzx",company:"Unrelated Holdings",email:$e}')" | jq -r .id)
  pairs+=("$id $t $d")
done

log "timing $REQUESTS requests"
mapfile -t randoms < <(sql -c "SELECT id FROM leads.leads ORDER BY hashtext(id::text) LIMIT $REQUESTS")
times=(); hits=0; decoys=0; checked=0
for i in $(seq 0 $(( REQUESTS - 1 ))); do
  if (( i < ${#pairs[@]} )); then read -r lid tid did <<<"${pairs[$i]}"; lead=$(python3 "$ROOT/bench/duplicates/typeid.py" "$lid"); else lead=${randoms[$i]}; tid=""; fi
  out=$(curl -s -o "$FAULT_DIR/s.json" -w '%{http_code} %{time_total}' "${H[@]}" "$BASE/api/leads/$lead/duplicates?include=suggested")
  code=${out% *}; t=${out#* }
  [[ $code == 200 ]] || { cat "$FAULT_DIR/s.json" >&2; echo "request for $lead answered $code" >&2; exit 1; }
  times+=("$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')")
  if [[ -n $tid ]]; then
    checked=$((checked + 1))
    jq -e --arg t "$tid" '[.suggested[:3][].id] | index($t) != null' "$FAULT_DIR/s.json" >/dev/null && hits=$((hits + 1))
    jq -e --arg d "$did" '[.suggested[].id] | index($d) != null' "$FAULT_DIR/s.json" >/dev/null && decoys=$((decoys + 1))
  fi
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
n=${#times[@]}
pick() { sed -n "$1p" <<<"$sorted"; }
echo "suggestions: $(sql -c "SELECT count(*) FROM leads.leads") leads, $n requests; load avg $(load_avg)"
echo "ms: min $(pick 1)  median $(pick $(( (n + 1) / 2 )))  p99 $(pick $(( (n * 99 + 99) / 100 )))  max $(pick "$n")  (target p99 ≤ 50)"
echo "precision: twin in top 3 for $hits of $checked planted pairs (target ≥ 95%); first-name-only decoys suggested: $decoys (target 0)"
