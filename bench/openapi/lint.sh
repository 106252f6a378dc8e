#!/usr/bin/env bash
# Lints the published OpenAPI document with Spectral's `spectral:oas` ruleset and fails on any error
# (warnings are triaged in docs/openapi.md). Starts the Release host on its own embedded cluster on 127.0.0.1:$PORT,
# fetches /openapi/v1.json, lints it, stops the host.
#
#   bash bench/openapi/lint.sh            # PORT=5142 by default
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/openapi
FAULT_DIR=${FAULT_DIR:-/tmp/leads-openapi-lint} PORT=${PORT:-5142} NAME=openapi
source "$ROOT/bench/lib.sh"
trap 'host_stop' EXIT

(cd "$HERE" && [[ -d node_modules/@stoplight/spectral-cli ]] || npm ci --no-audit --no-fund >&2)
log "building the host"; build_host
fresh_dir; host_start
curl -fsS "$BASE/openapi/v1.json" -o "$FAULT_DIR/openapi.json"
host_stop
log "linting $(wc -c <"$FAULT_DIR/openapi.json") bytes"
cd "$HERE" && npx spectral lint --ruleset .spectral.yaml --fail-severity error "$FAULT_DIR/openapi.json"
