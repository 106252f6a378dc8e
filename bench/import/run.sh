#!/usr/bin/env bash
# CSV import benchmark (docs/benchmarks.md, "CSV import").
#
#   bench/import/run.sh [ROWS]        default 1,000,000 rows (~70 MB plain, ~130 MB spreadsheet)
#   BENCH_STYLE=plain|spreadsheet     default plain; spreadsheet: BOM, CRLF, Excel headers, extra columns, US phones in
#                                     seven formats (15% with unassigned area codes), 0.5% malformed emails (generate.py)
#
# Generates the file, starts the Release host on a fresh embedded cluster, uploads the file, polls the import to
# `completed`, and reports wall time (upload start → completed) and the host's peak RSS (VmHWM). Then loads the same
# file with psql's \copy into a copy of leads.leads with the same columns, defaults, checks and indexes
# (CREATE TABLE … LIKE … INCLUDING ALL) on the same cluster, for the baseline (a spreadsheet file's extra columns go
# into metadata on both sides). Checks the outcome against what the generator wrote in FILE.expect.json: every row
# kept except the malformed emails, exactly the expected duplicates, every phone stored with its key. Needs python3,
# curl, psql.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROWS=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/leads-bench-import}
PORT=${BENCH_PORT:-5192}
STYLE=${BENCH_STYLE:-plain}
CSV=${BENCH_CSV:-/tmp/leads-bench-$STYLE-$ROWS.csv}  # made once per style and size

rm -rf "$WORK" && mkdir -p "$WORK" && chmod 755 "$WORK"
[ -s "$CSV" ] && [ -s "$CSV.expect.json" ] || python3 "$ROOT/bench/import/generate.py" "$ROWS" "$CSV" --style "$STYLE"
chmod 644 "$CSV"; [ -f "$CSV.copy.csv" ] && chmod 644 "$CSV.copy.csv"
dotnet build -c Release "$ROOT/src/Host" -v q -nologo >/dev/null

dotnet "$ROOT/src/Host/bin/Release/net10.0/Leads.Host.dll" --urls "http://127.0.0.1:$PORT" \
  --Database:DataDirectory="$WORK/data" --Logging:Format=simple >"$WORK/host.log" 2>&1 &
HOST=$!
stop() { kill "$HOST" 2>/dev/null || true; wait "$HOST" 2>/dev/null || true; }
trap stop EXIT
KEY=
for _ in $(seq 1 180); do
  KEY=$(grep -o '5l_live_[A-Za-z0-9]*' "$WORK/host.log" | head -1 || true)
  [ -n "$KEY" ] && curl -fs "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break
  sleep 1
done
[ -n "$KEY" ] || { echo "host did not start with a bootstrap key; see $WORK/host.log"; exit 1; }

PGPORT=$(sed -n 4p "$WORK/data/postmaster.pid")
export PGPASSFILE=$WORK/data/pgpass  # the embedded cluster's SCRAM password (written by the host)
PSQL=(psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d leads -v ON_ERROR_STOP=1)
"${PSQL[@]}" -c "CHECKPOINT"  # both sides start from a fresh checkpoint
echo "rows: $ROWS   file: $(du -h "$CSV" | cut -f1)   load before: $(uptime | sed 's/.*load average: //')"
T0=$(date +%s.%N)
ID=$(curl -fsS -H "X-API-Key: $KEY" -F "file=@$CSV;type=text/csv" "http://127.0.0.1:$PORT/api/leads/import" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
T1=$(date +%s.%N)
while true; do
  S=$(curl -fsS -H "X-API-Key: $KEY" "http://127.0.0.1:$PORT/api/leads/imports/$ID")
  STATUS=$(echo "$S" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
  [ "$STATUS" = completed ] || [ "$STATUS" = failed ] && break
  sleep 0.2
done
T2=$(date +%s.%N)
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$HOST/status")
echo "$S" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("status:", s["status"], " rows:", s["totalRows"], " created:", s["created"], " duplicates:", s["duplicates"], " failed:", s["failed"], " reason:", s.get("failureReason"))'
IMPORT=$(echo "$T2 - $T0" | bc)
printf 'upload: %.1f s   import total (upload start -> completed): %.1f s   host peak RSS (VmHWM): %d MB\n' \
  "$(echo "$T1 - $T0" | bc)" "$IMPORT" $((HWM / 1024))

# The outcome, against the generator's expectations and in SQL written apart from the service's.
CHECK=$("${PSQL[@]}" -tA -F ' ' <<SQL
SELECT count(*), count(*) FILTER (WHERE duplicate_of IS NOT NULL), count(phone_e164),
       count(*) FILTER (WHERE phone_e164 ~ '^\+1(247|275|327|384|422|532|627|653|742|753|853|955|976)'),
       count(*) FILTER (WHERE phone IS NOT NULL AND phone_e164 IS NULL),
       (SELECT count(*) FROM import.row_errors WHERE message NOT LIKE 'email is not a valid address.%')
FROM leads.leads WHERE import_id = (SELECT id FROM import.imports ORDER BY created_at DESC LIMIT 1)
SQL
)
python3 - "$CSV.expect.json" "$S" $CHECK <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); s = json.loads(sys.argv[2])
leads, dups, keyed, unassigned, unkeyed, other_errors = map(int, sys.argv[3:9])
checks = [
    ("kept every row but the malformed emails", s["created"] == leads == e["rows"] - e["malformed"] and s["failed"] == e["malformed"]),
    ("refused only for the email", other_errors == 0),
    ("flagged exactly the expected duplicates", s["duplicates"] == dups == e["duplicates"]),
    ("every phone stored with its E.164 key", keyed == e["phones"] and unkeyed == 0),
    ("unassigned area codes kept", unassigned == e["unassigned"]),
]
for name, ok in checks: print(("PASS " if ok else "FAIL ") + name)
print(f"expected {e}; created {s['created']}, failed {s['failed']}, duplicates {s['duplicates']}, keyed {keyed}, unassigned {unassigned}")
PY

WS=$("${PSQL[@]}" -tA -c "SELECT id FROM access.workspaces LIMIT 1")
"${PSQL[@]}" <<SQL
CREATE SCHEMA IF NOT EXISTS bench;
DROP TABLE IF EXISTS bench.leads_copy;
CREATE TABLE bench.leads_copy (LIKE leads.leads INCLUDING ALL);
ALTER TABLE bench.leads_copy
  ALTER COLUMN id SET DEFAULT gen_random_uuid(), ALTER COLUMN workspace_id SET DEFAULT '$WS',
  ALTER COLUMN channel SET DEFAULT 'import', ALTER COLUMN created_actor_type SET DEFAULT 'import';
CHECKPOINT;
SQL
C0=$(date +%s.%N)
if [ -f "$CSV.copy.csv" ]; then
  "${PSQL[@]}" -c "\\copy bench.leads_copy (email, first_name, last_name, phone, company, metadata) FROM '$CSV.copy.csv' WITH (FORMAT csv, HEADER true)"
else
  "${PSQL[@]}" -c "\\copy bench.leads_copy (email, first_name, last_name, phone, company) FROM '$CSV' WITH (FORMAT csv, HEADER true)"
fi
C1=$(date +%s.%N)
COPY=$(echo "$C1 - $C0" | bc)
printf '\\copy baseline: %.1f s   ratio import/\\copy: %.2f   load after: %s\n' "$COPY" "$(echo "$IMPORT / $COPY" | bc -l)" "$(uptime | sed 's/.*load average: //')"
