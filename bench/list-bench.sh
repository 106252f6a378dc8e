#!/usr/bin/env bash
# Read-path benchmark: lists and stats at 1,000,000 leads in one workspace (docs/benchmarks.md).
#
#   bench/list-bench.sh [--reseed] [--leads N] [--duration SECONDS] [--warmup SECONDS] [--connections C]
#                       [--only NAME[,NAME…]] [--no-build]
#
# Scenarios: list, status, assigned, search, search-phone, page5000, stats, sort-score, updated-since, cursor500k (wrk),
# bulk (a 100,000-lead set_status alone, under a paced list load — judged: ≤ 20 s, list p99 ≤ 2× the same load's
# idle p99, printed as PASS/FAIL — and under wrk's saturating loop — reported), search-cold (first request per term, curl),
# search-writes (wrk on search while leads are being created, BENCH_WRITES_PER_S per second, default 5).
#
# Builds the host (Release), starts it on an embedded PostgreSQL in $BENCH_DIR/pgdata (default
# /tmp/leads-bench: it must be reachable by the 'postgres' user when run as root), creates an API key for
# the workspace 'bench', seeds it with bench/seed-leads.sql when it has no leads (the data folder is reused
# across runs: seeding 1M leads takes several minutes; --reseed starts from a new cluster), then runs each
# scenario with wrk against 127.0.0.1 only, checks every response total against count(*) in psql, prints a
# table and stops the host. Nothing here runs in CI.
# Environment: BENCH_DIR, BENCH_HTTP_PORT (5190), BENCH_PG_SETTINGS, BENCH_QUIET_IDLE, BENCH_QUIET_WAIT,
# BENCH_MAX_OTHERS, BENCH_ATTEMPTS, BENCH_PACED_CONNECTIONS (4), BENCH_PACED_THINK_MS (10), BENCH_BULK_LEADS (100000),
# BENCH_BULK_TIMEOUT (600 s), BENCH_BULK_SATURATED (1; 0 skips the reported saturated run) (see below and docs/benchmarks.md). The host's own settings come from the environment as
# usual, e.g. Bulk__DutyCycle=0.5.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/leads-bench}
DATA_DIR=$BENCH_DIR/pgdata
export PGPASSFILE=$DATA_DIR/pgpass  # the embedded cluster's SCRAM password (written by the host)
HTTP_PORT=${BENCH_HTTP_PORT:-5190}
BASE=http://127.0.0.1:$HTTP_PORT
WORKSPACE=bench
LEADS=1000000
DURATION=25
# The first seconds after the host starts (and after each new statement) are spent compiling: .NET's tiered JIT
# recompiles hot methods with profile data for ~20-30 s under load. 20 s of warm-up per scenario measures the
# steady state a long-running service is in, not its first minute.
WARMUP=20
CONNECTIONS=16
THREADS=2
ONLY=""
RESEED=0
BUILD=1
# Extra PostgreSQL settings for the bench cluster, e.g. BENCH_PG_SETTINGS=shared_buffers=2GB,work_mem=8MB.
# Unset: the embedded cluster exactly as the host configures it (docs/benchmarks.md compares the two).
PG_SETTINGS=${BENCH_PG_SETTINGS-}
# The member whose leads the assignedTo scenario lists (one of the 10 the seed creates) and the search term
# (a common surname that also occurs in one company name).
MEMBER_NAME="Eleanor Shellstrop"
SEARCH_TERM=garcia
# A phone-number search as people type it (spec: digits match phones whatever their formatting).
SEARCH_PHONE="583-55"

while [[ $# -gt 0 ]]; do
  case $1 in
    --reseed) RESEED=1 ;;
    --leads) LEADS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }
# Other developers build on this machine. Before each measurement wait (up to QUIET_WAIT s) until at least
# QUIET_IDLE % of the CPU is idle; during it, account for every CPU jiffy: the host, our PostgreSQL and wrk
# versus everyone else. A run where others took more than MAX_OTHERS % of the machine is repeated (up to
# ATTEMPTS times) and the least disturbed attempt is reported, with that share.
QUIET_IDLE=${BENCH_QUIET_IDLE:-90}
QUIET_WAIT=${BENCH_QUIET_WAIT:-900}
MAX_OTHERS=${BENCH_MAX_OTHERS:-10}
ATTEMPTS=${BENCH_ATTEMPTS:-3}
HZ=$(getconf CLK_TCK)
# "busy total" jiffies over all CPUs (idle = idle + iowait).
cpu_stat() { local a=($(head -1 /proc/stat)); echo "$(( a[1]+a[2]+a[3]+a[6]+a[7]+a[8] )) $(( a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]+a[8] ))"; }
cpu_idle_pct() {
  local a b
  a=($(cpu_stat)); sleep 3; b=($(cpu_stat))
  echo $(( 100 - 100 * (b[0] - a[0]) / (b[1] - a[1] > 0 ? b[1] - a[1] : 1) ))
}
wait_quiet() {
  local waited=0
  while :; do
    IDLE=$(cpu_idle_pct)
    [[ $IDLE -ge $QUIET_IDLE ]] && return
    if [[ $waited -ge $QUIET_WAIT ]]; then log "CPU still busy (${IDLE}% idle) after ${waited}s: measuring anyway"; return; fi
    [[ $waited -eq 0 ]] && log "CPU only ${IDLE}% idle: waiting for other work to finish (up to ${QUIET_WAIT}s)"
    sleep 7; waited=$(( waited + 10 ))
  done
}
# Jiffies used so far by the host, and by our cluster (live processes plus backends the postmaster reaped).
proc_jiffies() {
  local f
  f=($(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null)) || { echo 0; return; }
  [[ ${#f[@]} -gt 15 ]] || { echo 0; return; }
  echo $(( f[11] + f[12] + f[13] + f[14] ))   # utime stime cutime cstime (stat fields 14–17)
}
host_jiffies() { proc_jiffies "$HOST_PID"; }
pg_jiffies() {
  local pm total=0 p
  pm=$(head -1 "$DATA_DIR/postmaster.pid")
  for p in "$pm" $(ps -o pid= --ppid "$pm"); do total=$(( total + $(proc_jiffies "$p") )); done
  echo "$total"
}
# Jiffies used so far by this script's reaped children (wrk, curl, psql…), from the builtin `times`. It must run in
# this shell, not in a $(…) subshell (whose children are not wrk), so it is called as `children_jiffies VAR`.
children_jiffies() {
  times >"$BENCH_DIR/.times"
  printf -v "$1" '%s' "$(tail -1 "$BENCH_DIR/.times" | awk -v hz="$HZ" '{ t = 0; for (i = 1; i <= NF; i++) { split($i, b, "m"); sub("s", "", b[2]); t += b[1] * 60 + b[2] } printf "%d", t * hz }')"
}

missing=()
for tool in wrk jq curl psql; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sed 's/^psql$/postgresql-client/' | tr '\n' ' ')
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing $pkgs"
    apt-get install -y -q $pkgs >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $pkgs >/dev/null; }
  else
    echo "missing tools: ${missing[*]} (Debian: apt-get install $pkgs)" >&2; exit 2
  fi
fi
command -v dotnet >/dev/null || { echo "the .NET 10 SDK (dotnet) is required" >&2; exit 2; }

if curl -s -o /dev/null "$BASE/health/live"; then
  echo "something already answers on $BASE: stop it or set BENCH_HTTP_PORT" >&2; exit 2
fi

HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
if [[ $BUILD -eq 1 ]]; then
  log "building Release"
  dotnet build -c Release "$ROOT/src/Host" -nologo -v q -clp:ErrorsOnly >&2
fi
[[ -x $HOST_BIN ]] || { echo "$HOST_BIN not built: run without --no-build" >&2; exit 2; }

pg_ctl_as_owner() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$bin/pg_ctl" "$@"; else "$bin/pg_ctl" "$@"; fi
}

mkdir -p "$BENCH_DIR"
[[ $(id -u) -eq 0 ]] && chmod 755 "$BENCH_DIR"
if [[ $RESEED -eq 1 && -e $DATA_DIR ]]; then
  log "--reseed: removing $DATA_DIR"
  if [[ -f $DATA_DIR/postmaster.pid ]]; then pg_ctl_as_owner stop -D "$DATA_DIR" -m fast -w >/dev/null 2>&1 || true; fi
  rm -rf "$DATA_DIR"
fi
# A cluster left running by an interrupted run would be adopted and then never stopped: stop it first.
if [[ -f $DATA_DIR/postmaster.pid ]]; then pg_ctl_as_owner stop -D "$DATA_DIR" -m fast -w >/dev/null 2>&1 || true; fi

HOST_ARGS=(--Database:DataDirectory="$DATA_DIR" --Logging:Format=simple --Logging:LogLevel:Default=Warning)
HOST_PID=""
stop_host() {
  if [[ -n $HOST_PID ]] && kill -0 "$HOST_PID" 2>/dev/null; then
    log "stopping the host (pid $HOST_PID)"
    kill -TERM "$HOST_PID"
    wait "$HOST_PID" 2>/dev/null || true
  fi
  HOST_PID=""
}
trap stop_host EXIT
trap 'exit 130' INT TERM

start_host() {
  log "starting the host on $BASE (data: $DATA_DIR)"
  "$HOST_BIN" --urls "$BASE" "${HOST_ARGS[@]}" --RateLimit:PerKeyPerMinute=100000000 >>"$BENCH_DIR/host.log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 180); do
    curl -sf -o /dev/null "$BASE/health/ready" && return
    kill -0 "$HOST_PID" 2>/dev/null || { cat "$BENCH_DIR/host.log" >&2; echo "the host exited" >&2; exit 1; }
    sleep 1
  done
  echo "the host did not become ready; see $BENCH_DIR/host.log" >&2; exit 1
}
: >"$BENCH_DIR/host.log"
start_host

KEY=$("$HOST_BIN" keys create --workspace "$WORKSPACE" --scope full --label bench "${HOST_ARGS[@]}" 2>/dev/null)
PG_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
PSQL=(psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d leads -v ON_ERROR_STOP=1)
q() { "${PSQL[@]}" -qAt -c "$1"; }

WS_ID=$(q "SELECT id FROM access.workspaces WHERE name = '$WORKSPACE'")
have=$(q "SELECT coalesce(sum(n), 0) FROM leads.lead_counts WHERE workspace_id = '$WS_ID'")
if [[ $have -eq 0 ]]; then
  log "seeding $LEADS leads (several minutes for 1M)"
  t0=$(date +%s)
  "${PSQL[@]}" -v workspace="$WORKSPACE" -v n="$LEADS" -f "$ROOT/bench/seed-leads.sql" >&2
  log "seeded in $(( $(date +%s) - t0 )) s"
elif [[ $have -ne $LEADS ]]; then
  echo "workspace '$WORKSPACE' in $DATA_DIR holds $have leads, not $LEADS: run with --reseed" >&2; exit 1
else
  log "reusing the seeded data folder ($have leads)"
fi

# PostgreSQL settings of the bench cluster: ALTER SYSTEM in its own data folder (reset to stock first), then
# a restart of the host (which restarts the embedded cluster) when one needs it.
want_settings=()
[[ -n $PG_SETTINGS ]] && IFS=',' read -r -a want_settings <<<"$PG_SETTINGS"
q "ALTER SYSTEM RESET ALL" >/dev/null
for kv in "${want_settings[@]}"; do q "ALTER SYSTEM SET ${kv%%=*} = '${kv#*=}'" >/dev/null; done
q "SELECT pg_reload_conf()" >/dev/null
sleep 1
if [[ $(q "SELECT count(*) FROM pg_settings WHERE pending_restart") -gt 0 ]]; then
  log "restarting to apply PostgreSQL settings: ${PG_SETTINGS:-stock}"
  stop_host
  start_host
  PG_PORT=$(sed -n 4p "$DATA_DIR/postmaster.pid")
  PSQL=(psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d leads -v ON_ERROR_STOP=1)
fi
PG_SHOWN=$(q "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'jit', 'max_connections')")

MEMBER_UUID=$(q "SELECT id FROM access.members WHERE workspace_id = '$WS_ID' AND name = '$MEMBER_NAME' AND deleted_at IS NULL")
MEMBER_ID=$(curl -sf -H "X-API-Key: $KEY" "$BASE/api/users" | jq -r --arg n "$MEMBER_NAME" '.[] | select(.name == $n) | .id')
[[ -n $MEMBER_UUID && -n $MEMBER_ID ]] || { echo "member '$MEMBER_NAME' not found: reseed" >&2; exit 1; }

# name # path # total as the API reports it (jq) # the same total counted independently in SQL # p99 target (ms)
W="workspace_id = '$WS_ID'"
T=$SEARCH_TERM
# The spec's search, written independently of the endpoint's SQL: a substring of first, last or full name, email or company.
# With a second argument (the digits of a query that looks like a phone number), also a substring of the phone's digits.
search_count_sql() {
  local digits=""
  [[ -n ${2:-} ]] && digits=" OR strpos(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), '$2') > 0"
  echo "SELECT count(*) FROM leads.leads WHERE $W AND (strpos(lower(first_name), '$1') > 0 OR strpos(lower(last_name), '$1') > 0 OR strpos(lower(first_name || ' ' || last_name), '$1') > 0 OR strpos(lower(email), '$1') > 0 OR strpos(lower(company), '$1') > 0$digits)"
}
SCENARIOS=(
  "list#/api/leads#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W#30"
  "status#/api/leads?status=qualified#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W AND status = 'qualified'#30"
  "assigned#/api/leads?assignedTo=$MEMBER_ID#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W AND assigned_to = '$MEMBER_UUID'#30"
  "search#/api/leads?search=$T#.pagination.total#$(search_count_sql "$T")#100"
  "search-phone#/api/leads?search=$(jq -rn --arg t "$SEARCH_PHONE" '$t|@uri')#.pagination.total#$(search_count_sql "$SEARCH_PHONE" "$(tr -cd 0-9 <<<"$SEARCH_PHONE")")#100"
  "page5000#/api/leads?page=5000#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W#2x list"
  "stats#/api/leads/stats#[.total, .byStatus.new, .byStatus.contacted, .byStatus.qualified, .byStatus.converted, .byStatus.closed, .unassigned] | map(tostring) | join(\",\")#SELECT concat_ws(',', count(*), count(*) FILTER (WHERE status = 'new'), count(*) FILTER (WHERE status = 'contacted'), count(*) FILTER (WHERE status = 'qualified'), count(*) FILTER (WHERE status = 'converted'), count(*) FILTER (WHERE status = 'closed'), count(*) FILTER (WHERE assigned_to IS NULL)) FROM leads.leads WHERE $W#20"
)
# Spec §11: sorted first pages, an incremental sync's first page, and a cursor page 500,000 leads deep. The seed's
# updated_at is its created_at, so updatedSince = the 1,000th most recent update selects the last ~1,000 changes.
SINCE=$(q "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM leads.leads WHERE $W ORDER BY updated_at DESC LIMIT 1 OFFSET 999")
DEEP_CURSOR=""
if [[ -z $ONLY || ",$ONLY," == *",cursor500k,"* ]]; then
  # The cursor after lead 500,000 in the default order (page 25,000 of 20); following it reads leads 500,001–500,020.
  DEEP_CURSOR=$(curl -sf -H "X-API-Key: $KEY" "$BASE/api/leads?page=25000&limit=20" | jq -r .pagination.nextCursor)
  [[ -n $DEEP_CURSOR && $DEEP_CURSOR != null ]] || { echo "no cursor after page 25,000" >&2; exit 1; }
fi
SCENARIOS+=(
  "sort-score#/api/leads?sort=-score#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W#30"
  "updated-since#/api/leads?sort=updatedAt&updatedSince=$SINCE#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W AND updated_at >= '$SINCE'::timestamptz#30"
  "cursor500k#/api/leads?cursor=$DEEP_CURSOR#.pagination.total#SELECT count(*) FROM leads.leads WHERE $W#30"
)

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results-$STAMP.md
{
  echo "Run $STAMP: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $("${PSQL[@]}" -qAt -c 'SHOW server_version' | cut -d' ' -f1) PostgreSQL," \
       "$LEADS leads, wrk -t$THREADS -c$CONNECTIONS, ${WARMUP}s warm-up + ${DURATION}s per scenario; search term '$SEARCH_TERM'."
  echo
  echo "PostgreSQL: $PG_SHOWN."
  echo
  echo "| scenario | path | total (API) | count(*) | exact | req/s | p50 ms | p99 ms | max ms | target p99 | met | CPU ms/req host + PG | CPU: host / PostgreSQL / wrk / others | load avg 1 min (start → end) |"
  echo "|---|---|---:|---:|---|---:|---:|---:|---:|---|---|---|---|---|"
} >"$OUT"

FAILED=0
LIST_P50=""
LIST_P99=""
for s in "${SCENARIOS[@]}"; do
  IFS='#' read -r name path jqexpr sql target <<<"$s"
  if [[ -n $ONLY && ",$ONLY," != *",$name,"* ]]; then continue; fi
  body=$(curl -sf -H "X-API-Key: $KEY" "$BASE$path") || { log "$name: request failed"; FAILED=1; continue; }
  api_total=$(jq -r "$jqexpr" <<<"$body")
  sql_total=$(q "$sql")
  exact=yes
  [[ $api_total == "$sql_total" ]] || { exact=NO; FAILED=1; }
  if [[ $name == cursor500k ]]; then
    # The page after a cursor 500,000 deep is leads 500,001–500,020 in list order, checked against SQL.
    first=$(jq -r '.data[0].createdAt' <<<"$body")
    want=$(q "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM leads.leads WHERE $W ORDER BY created_at DESC, id DESC OFFSET 500000 LIMIT 1")
    [[ $first == "$want" && $(jq '.data | length' <<<"$body") -eq 20 ]] || { exact="NO (first $first, want $want)"; FAILED=1; }
  fi
  if [[ $name == page5000 ]]; then
    rows=$(jq '.data | length' <<<"$body")
    want=$(( sql_total >= 100000 ? 20 : (sql_total > 99980 ? sql_total - 99980 : 0) ))
    [[ $rows -eq $want ]] || { exact="NO ($rows rows, want $want)"; FAILED=1; }
  fi

  best=""
  for attempt in $(seq 1 "$ATTEMPTS"); do
    wait_quiet
    log "$name: warm-up ${WARMUP}s"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "X-API-Key: $KEY" "$BASE$path" >/dev/null
    load=$(load_avg)
    log "$name: measuring ${DURATION}s (attempt $attempt; CPU ${IDLE}% idle before, load average $load)"
    c0=($(cpu_stat)); h0=$(host_jiffies); p0=$(pg_jiffies); children_jiffies w0
    result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "X-API-Key: $KEY" -s "$ROOT/bench/wrk-report.lua" "$BASE$path" | grep '^RESULT')
    c1=($(cpu_stat)); h1=$(host_jiffies); p1=$(pg_jiffies); children_jiffies w1
    load_after=$(load_avg)
    # Shares of the whole machine (all cores) during the measurement.
    span=$(( c1[1] - c0[1] > 0 ? c1[1] - c0[1] : 1 ))
    host_pct=$(( 100 * (h1 - h0) / span )); pg_pct=$(( 100 * (p1 - p0) / span )); wrk_pct=$(( 100 * (w1 - w0) / span ))
    others_pct=$(( 100 * (c1[0] - c0[0] - (h1 - h0) - (p1 - p0) - (w1 - w0)) / span ))
    (( others_pct < 0 )) && others_pct=0
    # Little's law: 16 connections, each always waiting for exactly one response, make the true mean latency
    # connections × duration / requests. wrk's own mean must agree; once (p99 1,449 ms beside a server-side p99
    # of 8–12 ms in every second) it reported a tail its request count makes impossible. Such an attempt is
    # repeated like a disturbed one and only reported when no consistent attempt exists.
    read -r _ _ _ _ _ n _ _ wrk_mean <<<"$result"
    little=$(awk -v c="$CONNECTIONS" -v d="$DURATION" -v n="$n" 'BEGIN { printf "%.2f", (n > 0 ? c * d * 1000 / n : 0) }')
    consistent=$(awk -v w="$wrk_mean" -v l="$little" 'BEGIN { print (w <= 1.25 * l + 1) ? 1 : 0 }')
    log "$name: $result; CPU: host ${host_pct}%, PostgreSQL ${pg_pct}%, wrk ${wrk_pct}%, others ${others_pct}%;" \
        "wrk mean $wrk_mean ms, Little's law $little ms$([[ $consistent -eq 1 ]] || echo ' — INCONSISTENT')"
    if [[ -z $best ]] || (( consistent > best_consistent || (consistent == best_consistent && others_pct < best_others) )); then
      best=$result; best_others=$others_pct; best_consistent=$consistent; best_cpu="$host_pct% / $pg_pct% / $wrk_pct% / $others_pct%"
      best_ms=$(awk -v h=$(( h1 - h0 )) -v p=$(( p1 - p0 )) -v n="$(cut -d' ' -f6 <<<"$result")" -v hz="$HZ" \
        'BEGIN { printf "%.2f + %.2f", 1000 * h / hz / n, 1000 * p / hz / n }')
      best_load="${load%% *} → ${load_after%% *}"
    fi
    [[ $others_pct -le $MAX_OTHERS && $consistent -eq 1 ]] && break
  done
  [[ $best_consistent -eq 1 ]] || { log "$name: wrk's latencies disagree with its throughput in every attempt"; exact="$exact; wrk inconsistent"; }
  read -r _ rps p50 p99 max reqs non2xx sockerr _ <<<"$best"
  if [[ $non2xx -ne 0 || $sockerr -ne 0 ]]; then
    log "$name: $non2xx error responses, $sockerr socket errors"; exact="$exact; $non2xx errors"; FAILED=1
  fi
  [[ $name == list ]] && { LIST_P50=$p50; LIST_P99=$p99; }
  if [[ $target == "2x list" ]]; then
    # Both quantiles: a wide tail on page 1 alone must not make a slow deep page look fine.
    target_text="≤ 2× list (p50 $(awk -v l="${LIST_P50:-0}" 'BEGIN { print 2 * l }'), p99 $(awk -v l="${LIST_P99:-0}" 'BEGIN { print 2 * l }') ms)"
    met=$(awk -v a="$p50" -v b="$p99" -v la="${LIST_P50:-0}" -v lb="${LIST_P99:-0}" \
      'BEGIN { print (la > 0 && a <= 2 * la && b <= 2 * lb) ? "yes" : "no" }')
  else
    target_text="≤ $target ms"
    met=$(awk -v p="$p99" -v l="$target" 'BEGIN { print (p <= l) ? "yes" : "no" }')
  fi
  printf '| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
    "$name" "${path//$MEMBER_ID/usr_…}" "$api_total" "$sql_total" "$exact" "$rps" "$p50" "$p99" "$max" "$target_text" "$met" \
    "$best_ms" "$best_cpu" "$best_load" >>"$OUT"
done

# Cold searches: the first request for each term, which pays for the exact count (nothing remembered yet), one at
# a time with curl; each total checked against count(*). Then the scenario search under writes: wrk on the search
# while another client creates WRITES_PER_S leads per second, each of which makes the remembered total stale.
cold_terms=(smith gmail martin lopez coffee logistics anna walker)
if [[ -z $ONLY || ",$ONLY," == *",search-cold,"* ]]; then
  wait_quiet
  times=()
  for t in "${cold_terms[@]}"; do
    out=$(curl -s -o "$BENCH_DIR/cold.json" -w '%{time_total}' -H "X-API-Key: $KEY" "$BASE/api/leads?search=$t")
    api_total=$(jq -r .pagination.total "$BENCH_DIR/cold.json")
    sql_total=$(q "$(search_count_sql "$t")")
    [[ $api_total == "$sql_total" ]] || { log "search-cold $t: total $api_total, count(*) $sql_total"; FAILED=1; }
    ms=$(awk -v t="$out" 'BEGIN { printf "%.1f", t * 1000 }')
    times+=("$ms")
    log "search-cold $t: $api_total matches, ${ms} ms"
    echo "| search-cold | \`/api/leads?search=$t\` (first request) | $api_total | $sql_total | $([[ $api_total == "$sql_total" ]] && echo yes || echo NO) | – | $ms | – | – | – | – | – | – | $(load_avg | cut -d' ' -f1) |" >>"$OUT"
  done
fi
WRITES_PER_S=${BENCH_WRITES_PER_S:-5}
if [[ -z $ONLY || ",$ONLY," == *",search-writes,"* ]]; then
  wait_quiet
  log "search-writes: wrk on search=$SEARCH_TERM while creating $WRITES_PER_S leads/s"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -H "X-API-Key: $KEY" "$BASE/api/leads?search=$SEARCH_TERM" >/dev/null
  ( i=0; end=$(( $(date +%s) + DURATION )); while [[ $(date +%s) -lt $end ]]; do
      curl -s -o /dev/null -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -X POST "$BASE/api/leads" \
        -d "{\"firstName\":\"Bench\",\"lastName\":\"Writer$i\",\"email\":\"writer.$STAMP.$i@bench.example\"}"
      i=$((i + 1)); sleep "$(awk -v r="$WRITES_PER_S" 'BEGIN { print 1 / r }')"
    done ) &
  WRITER=$!
  result=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "X-API-Key: $KEY" -s "$ROOT/bench/wrk-report.lua" "$BASE/api/leads?search=$SEARCH_TERM" | grep '^RESULT')
  wait "$WRITER" || true
  read -r _ rps p50 p99 max reqs non2xx sockerr _ <<<"$result"
  writes=$(q "SELECT count(*) FROM leads.leads WHERE $W AND email LIKE 'writer.$STAMP.%'")
  body=$(curl -sf -H "X-API-Key: $KEY" "$BASE/api/leads?search=$SEARCH_TERM")
  api_total=$(jq -r .pagination.total <<<"$body")
  sql_total=$(q "$(search_count_sql "$T")")
  [[ $api_total == "$sql_total" && $non2xx -eq 0 ]] || FAILED=1
  log "search-writes: $result; $writes leads written"
  echo "| search-writes | \`/api/leads?search=$SEARCH_TERM\` while $writes leads were created ($WRITES_PER_S/s) | $api_total | $sql_total | $([[ $api_total == "$sql_total" ]] && echo yes || echo NO) | $rps | $p50 | $p99 | $max | – | – | – | – | $(load_avg | cut -d' ' -f1) |" >>"$OUT"
  # The bench's workspace must hold exactly LEADS leads for the next run.
  q "DELETE FROM leads.leads WHERE $W AND email LIKE 'writer.$STAMP.%'" >/dev/null
fi

# Spec §12: a bulk set_status on the 100,000 newest leads, timed from the request to `completed`, three times, the
# status alternating so that most leads change each time:
#   alone  — no other load: the job's own time and the CPU it costs per lead (host + PostgreSQL, load-independent);
#   paced  — under a paced list load (PACED_CONNECTIONS connections, each waiting PACED_THINK_MS between a response and
#            its next request: a fixed load well below saturation, like people and integrations reading lists), with
#            the list's p99 against the same paced load's idle p99. The targets (≤ 20 s; p99 ≤ 2× idle) are judged here;
#   saturated — under wrk's closed loop at $CONNECTIONS connections, which on its own takes every core (any concurrent
#            work must lengthen its queue), with its p99 against the saturated idle p99: reported, not judged.
# Each run checks matched = count(*), one status_changed event with the bulkId per changed lead, and `completed`.
PACED_CONNECTIONS=${BENCH_PACED_CONNECTIONS:-4}
PACED_THINK_MS=${BENCH_PACED_THINK_MS:-10}
BULK_LEADS=${BENCH_BULK_LEADS:-100000}
BULK_VERDICT=""
if [[ -z $ONLY || ",$ONLY," == *",bulk,"* ]]; then
  FROM=$(q "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM leads.leads WHERE $W ORDER BY created_at DESC, id DESC OFFSET $(( BULK_LEADS - 1 )) LIMIT 1")
  WANT=$(q "SELECT count(*) FROM leads.leads WHERE $W AND created_at >= '$FROM'::timestamptz")
  # wrk's arguments but the duration, per load model (wrk itself is started in the background, so that its PID is $!).
  paced_wrk=(-t"$THREADS" -c"$PACED_CONNECTIONS" --latency -H "X-API-Key: $KEY" -s "$ROOT/bench/wrk-paced.lua" "$BASE/api/leads" -- "$PACED_THINK_MS")
  saturating_wrk=(-t"$THREADS" -c"$CONNECTIONS" --latency -H "X-API-Key: $KEY" -s "$ROOT/bench/wrk-report.lua" "$BASE/api/leads")
  # idle_result MODEL: the list's RESULT line under that load model alone (warm-up, then DURATION seconds).
  idle_result() {
    local -n args=$1
    wrk -d"${WARMUP}s" "${args[@]}" >/dev/null
    wrk -d"${DURATION}s" "${args[@]}" | grep '^RESULT'
  }
  # bulk_run MODEL (none|paced_wrk|saturating_wrk): one bulk action under that load; sets TOOK (ms), CHANGED, EVENTS,
  # RESULT (the load's RESULT line), CPU_LEAD (host + PostgreSQL CPU µs per changed lead), WAL_LEAD (the cluster's WAL
  # per changed lead, with the share that is full-page images: what each lead's index entries and events cost in
  # writes, and how much of it the first change of a page after a checkpoint adds) and OK. An action not
  # completed within BULK_TIMEOUT seconds fails the scenario and skips the runs after it (they would queue behind it).
  BULK_TIMEOUT=${BENCH_BULK_TIMEOUT:-600}
  BULK_ABORTED=0
  bulk_run() {
    local model=$1 to body url st wrk_pid="" h0 p0 h1 p1 t0 w0 w1
    to=$( [[ $(q "SELECT count(*) FILTER (WHERE status = 'closed') * 2 > count(*) FROM leads.leads WHERE $W AND created_at >= '$FROM'::timestamptz") == t ]] && echo contacted || echo closed)
    if [[ $model != none ]]; then
      local -n args=$model
      wrk -d"${WARMUP}s" "${args[@]}" >/dev/null
      wrk -d"$(( BULK_TIMEOUT + 60 ))s" "${args[@]}" >"$BENCH_DIR/bulk-load.txt" &
      wrk_pid=$!
      sleep 2
    fi
    LOAD_START=$(load_avg | cut -d' ' -f1)
    w0=$(q "SELECT wal_bytes || ' ' || wal_fpi FROM pg_stat_wal")
    h0=$(host_jiffies); p0=$(pg_jiffies); t0=$(date +%s%3N)
    body=$(curl -sf -H "X-API-Key: $KEY" -H 'Content-Type: application/json' -X POST "$BASE/api/leads/bulk" \
      -d "{\"filter\":{\"startDate\":\"$FROM\"},\"action\":\"set_status\",\"status\":\"$to\"}")
    url=$(jq -r .statusUrl <<<"$body"); MATCHED=$(jq -r .matched <<<"$body")
    while :; do
      st=$(curl -sf -H "X-API-Key: $KEY" "$BASE$url"); [[ $(jq -r .status <<<"$st") == completed || $(jq -r .status <<<"$st") == failed ]] && break
      (( $(date +%s%3N) - t0 > BULK_TIMEOUT * 1000 )) && { log "bulk ($model): not finished after $BULK_TIMEOUT s"; BULK_ABORTED=1; break; }
      sleep 0.2
    done
    TOOK=$(( $(date +%s%3N) - t0 ))
    h1=$(host_jiffies); p1=$(pg_jiffies)
    w1=$(q "SELECT wal_bytes || ' ' || wal_fpi FROM pg_stat_wal")
    RESULT="RESULT 0 0 0 0 0 0 0 0"
    if [[ -n $wrk_pid ]]; then
      kill -INT "$wrk_pid" 2>/dev/null || true; wait "$wrk_pid" 2>/dev/null || true
      RESULT=$(grep '^RESULT' "$BENCH_DIR/bulk-load.txt" || echo "RESULT 0 0 0 0 0 0 0 0")
    fi
    CHANGED=$(jq -r .changed <<<"$st")
    EVENTS=$(q "SELECT count(*) FROM leads.events WHERE $W AND type = 'status_changed' AND data ->> 'bulkId' = '$(jq -r .id <<<"$st")'")
    CPU_LEAD=$(awk -v h=$(( h1 - h0 )) -v p=$(( p1 - p0 )) -v n="$CHANGED" -v hz="$HZ" \
      'BEGIN { printf "%.0f + %.0f", 1e6 * h / hz / (n > 0 ? n : 1), 1e6 * p / hz / (n > 0 ? n : 1) }')
    WAL_LEAD=$(awk -v a="$w0" -v b="$w1" -v n="$CHANGED" 'BEGIN { split(a, x, " "); split(b, y, " "); m = (n > 0 ? n : 1)
      printf "%.1f KB (%.2f full-page images)", (y[1] - x[1]) / 1024 / m, (y[2] - x[2]) / m }')
    OK=$([[ $MATCHED == "$WANT" && $(jq -r .status <<<"$st") == completed && $EVENTS == "$CHANGED" && $CHANGED -gt 0 ]] && echo yes || echo NO)
    [[ $OK == yes ]] || FAILED=1
    log "bulk ($model): set_status $to, $(jq -c '{status, matched, processed, changed}' <<<"$st") in ${TOOK} ms; $EVENTS events; CPU µs/lead host + PG $CPU_LEAD; WAL per lead $WAL_LEAD; load: $RESULT"
  }
  bulk_row() {  # model, idle RESULT, verdict text
    local rps p50 p99 max ip99
    read -r _ rps p50 p99 max _ <<<"$RESULT"; read -r _ _ _ ip99 _ <<<"$2"
    echo "| bulk ($1) | \`set_status\` on \`startDate=$FROM\` (matched $MATCHED = count(*) $WANT; changed $CHANGED; $EVENTS events) | – | – | $OK | list meanwhile: $rps | $p50 | $p99 | $max | list p99 idle ${ip99:-–} ms → $p99 ms | $3 | CPU µs/lead host + PG: $CPU_LEAD$([[ $1 == alone ]] || echo " (the list load's included)"); WAL/lead: $WAL_LEAD | – | $LOAD_START → $(load_avg | cut -d' ' -f1) |" >>"$OUT"
  }
  # An action left unfinished by an interrupted run resumes when the host starts (BulkRecovery) and would run before
  # ours on the one bulk worker: let it finish first.
  for i in $(seq 1 "$BULK_TIMEOUT"); do
    [[ $(q "SELECT count(*) FROM import.bulk_actions WHERE status IN ('queued', 'running')") -eq 0 ]] && break
    [[ $i -eq 1 ]] && log "bulk: waiting for an unfinished bulk action of an earlier run to complete"
    sleep 1
  done
  wait_quiet
  log "bulk: $BULK_LEADS leads (count(*) $WANT); alone"
  bulk_run none
  bulk_row alone "" "$(awk -v t="$TOOK" 'BEGIN { printf "%.1f s", t / 1000 }')"
  if [[ $BULK_ABORTED -eq 0 ]]; then
    wait_quiet
    log "bulk: the list idle under the paced load ($PACED_CONNECTIONS connections, ${PACED_THINK_MS} ms think time)"
    PACED_IDLE=$(idle_result paced_wrk)
    log "bulk: paced idle $PACED_IDLE"
    bulk_run paced_wrk
    read -r _ _ _ paced_p99 _ <<<"$RESULT"; read -r _ _ _ idle_p99 _ <<<"$PACED_IDLE"
    BULK_VERDICT=$(awk -v t="$TOOK" -v p="$paced_p99" -v l="$idle_p99" -v a="$BULK_ABORTED" -v n="$MATCHED" 'BEGIN {
      ok = (a == 0 && t <= 20000 && l > 0 && p > 0 && p <= 2 * l);
      printf "%s: set_status of %d leads in %.1f s (target ≤ 20 s), list p99 %.2f ms = %.2f× idle %.2f ms under the paced load (target ≤ 2×)",
        ok ? "PASS" : "FAIL", n, t / 1000, p, (l > 0 ? p / l : 0), l }')
    bulk_row "paced, judged" "$PACED_IDLE" "$(cut -d: -f1 <<<"$BULK_VERDICT") ($(awk -v t="$TOOK" -v p="$paced_p99" -v l="$idle_p99" 'BEGIN { printf "%.1f s, %.2f×", t / 1000, (l > 0 ? p / l : 0) }'))"
  else
    BULK_VERDICT="FAIL: the action alone took over $BULK_TIMEOUT s"
  fi
  [[ $BULK_VERDICT == PASS* ]] || FAILED=1
  if [[ $BULK_ABORTED -eq 0 && ${BENCH_BULK_SATURATED:-1} != 0 ]]; then
    wait_quiet
    log "bulk: the list idle under wrk's closed loop ($CONNECTIONS connections)"
    SAT_IDLE=$(idle_result saturating_wrk)
    log "bulk: saturated idle $SAT_IDLE"
    bulk_run saturating_wrk
    read -r _ _ _ sat_p99 _ <<<"$RESULT"; read -r _ _ _ sidle_p99 _ <<<"$SAT_IDLE"
    bulk_row "saturated, reported" "$SAT_IDLE" "$(awk -v t="$TOOK" -v p="$sat_p99" -v l="$sidle_p99" 'BEGIN { printf "%.1f s, %.2f×", t / 1000, (l > 0 ? p / l : 0) }')"
  fi
fi

stop_host
echo
cat "$OUT"
echo
echo "(saved to $OUT)"
[[ -n $BULK_VERDICT ]] && echo "bulk $BULK_VERDICT"
exit $FAILED
