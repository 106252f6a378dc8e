#!/usr/bin/env bash
# Stops what bench/cluster/up.sh (or failover-kill9.sh --keep) started: the service's nodes, then the formation, and
# removes $CLUSTER_DIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=cluster-down
source "$ROOT/bench/cluster/lib.sh"
for f in "$CLUSTER_DIR"/api1.pid "$CLUSTER_DIR"/api2.pid "$CLUSTER_DIR"/worker.pid; do
  [[ -f $f ]] || continue
  pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
done
cluster_destroy
echo "stopped"
