#!/usr/bin/env bash
# Starts a pg_auto_failover formation (monitor :5531, primary :5532, synchronous standby :5533) and the service on it
# (API nodes :5131 and :5132, worker node :5133), prints a full-scope key, and leaves it all running.
#
#   bench/cluster/up.sh [--no-build]       then: bench/cluster/down.sh
#
# Try a failover by hand: `bench/cluster/lib.sh`'s node_kill9 (or `pg_autoctl perform failover` as postgres with
# XDG_CONFIG_HOME etc. as in as_pg), and watch `pg_autoctl show state` or formation_state.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=cluster-up
source "$ROOT/bench/cluster/lib.sh"
[[ ${1:-} == --no-build ]] || build_host
cluster_create
nodes_start
for n in "${!NODE_PID[@]}"; do echo "${NODE_PID[$n]}" >"$CLUSTER_DIR/$n.pid"; done
echo "key: $(cluster_key demo)"
echo "API: http://127.0.0.1:${API_PORTS[0]} and http://127.0.0.1:${API_PORTS[1]}; formation: $(formation_state)"
