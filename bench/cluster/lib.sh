# Shared by bench/cluster/*.sh (source it; it defines functions and variables, runs nothing): a pg_auto_failover
# formation on this machine — monitor, primary, synchronous standby — and the service's nodes against it, everything
# on loopback. Expects ROOT (the repository). Ports: PostgreSQL 5531 (monitor), 5532, 5533 (the two data nodes);
# HTTP 5131, 5132 (API nodes), 5133 (worker node). CLUSTER_DIR (default /tmp/leads-cluster) holds it all, including
# pg_autoctl's own configuration and state (XDG_* point there), so removing it leaves nothing behind.

CLUSTER_DIR=${CLUSTER_DIR:-/tmp/leads-cluster}
MON_PORT=5531
PG_PORTS=(5532 5533)
API_PORTS=(5131 5132)
WORKER_PORT=5133
PGBIN=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
HOST_BIN=$ROOT/src/Host/bin/Release/net10.0/Leads.Host
MONITOR_URI="postgres://autoctl_node@127.0.0.1:$MON_PORT/pg_auto_failover?sslmode=disable"
# Both data nodes: the service picks the primary for writes and prefers the standby for list, stats and export reads
# (MultiHost.ForWrites / ForReads add Target Session Attributes). Each string lists first the node it must NOT pick
# while node1 is the primary, so the figures also show that the role, not the order, decides. Timeout: a dead host's
# connect attempt gives up after 5 s instead of 15.
WRITE_CS="Host=127.0.0.1:${PG_PORTS[1]},127.0.0.1:${PG_PORTS[0]};Database=leads;Username=postgres;Timeout=5"
READ_CS="Host=127.0.0.1:${PG_PORTS[0]},127.0.0.1:${PG_PORTS[1]};Database=leads;Username=postgres;Timeout=5"
NODE_ARGS=(--ConnectionStrings:Leads="$WRITE_CS" --ConnectionStrings:LeadsRead="$READ_CS" --Logging:Format=simple
           --Logging:LogLevel:Default=Warning --RateLimit:PerKeyPerMinute=100000000)
declare -A NODE_PID=() KEEPER_PID=()

# bench/lib.sh's helpers (log, now_ms, load_avg, field, same_rows, build_host); its single-host functions are not used,
# and `sql` below replaces its own.
FAULT_DIR=$CLUSTER_DIR PORT=${API_PORTS[0]} NAME=${NAME:-cluster}
source "$ROOT/bench/lib.sh"

# pg_auto_failover's Debian package, installed when missing (root only; PostgreSQL itself runs as postgres).
ensure_pg_auto_failover() {
  command -v pg_autoctl >/dev/null && return
  log "installing postgresql-15-auto-failover"
  apt-get install -y postgresql-15-auto-failover >/dev/null || { apt-get update >/dev/null && apt-get install -y postgresql-15-auto-failover >/dev/null; }
}

# pg_autoctl (and psql) as postgres, with its configuration and state under $CLUSTER_DIR.
as_pg() {
  local envs=(XDG_CONFIG_HOME="$CLUSTER_DIR/xdg/config" XDG_DATA_HOME="$CLUSTER_DIR/xdg/data" XDG_RUNTIME_DIR="$CLUSTER_DIR/xdg/run"
              PG_CONFIG="$PGBIN/pg_config" PATH="$PGBIN:$PATH")
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- env "${envs[@]}" "$@"; else env "${envs[@]}" "$@"; fi
}

monitor_sql() { psql -X -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $MON_PORT -U postgres -d pg_auto_failover -c "$1"; }

# psql on whichever data node is the primary now (libpq's own multi-host failover).
sql() { psql -X -tA -v ON_ERROR_STOP=1 "host=127.0.0.1,127.0.0.1 port=${PG_PORTS[0]},${PG_PORTS[1]} dbname=leads user=postgres target_session_attrs=read-write connect_timeout=5" "$@"; }

# "node1:primary:primary node2:secondary:secondary": name, reported and goal state of each data node.
formation_state() { monitor_sql "SELECT string_agg(nodename || ':' || reportedstate || ':' || goalstate, ' ' ORDER BY nodeid) FROM pgautofailover.node" 2>/dev/null; }

# Waits (up to $2 s, default 180) until formation_state matches the regex $1.
wait_state() {
  local s=""
  for _ in $(seq 1 $(( ${2:-180} * 2 ))); do
    s=$(formation_state || true)
    [[ $s =~ $1 ]] && return 0
    sleep 0.5
  done
  echo "formation did not reach /$1/ (last: $s); logs in $CLUSTER_DIR/*.log" >&2; return 1
}

# `pg_autoctl run` for the node in $CLUSTER_DIR/$1, in the background in a session of its own, so that its process
# group is exactly the keeper and the Postgres it supervises; that group's id (the keeper's pid) in KEEPER_PID[$1]
# and $CLUSTER_DIR/$1.keeper.pid.
keeper_run() {
  as_pg setsid pg_autoctl run --pgdata "$CLUSTER_DIR/$1" >>"$CLUSTER_DIR/$1.log" 2>&1 &
  local pidfile="$CLUSTER_DIR/xdg/run/pg_autoctl$CLUSTER_DIR/$1/pg_autoctl.pid" keeper=""
  for _ in $(seq 1 80); do
    [[ -s $pidfile ]] && keeper=$(head -1 "$pidfile") && kill -0 "$keeper" 2>/dev/null && break
    keeper=""; sleep 0.25
  done
  [[ -n $keeper && $(ps -o pgid= -p "$keeper" | tr -d ' ') == "$keeper" ]] || { echo "pg_autoctl for $1 did not start in a session of its own" >&2; exit 1; }
  KEEPER_PID[$1]=$keeper
  echo "$keeper" >"$CLUSTER_DIR/$1.keeper.pid"
}

# A new formation: monitor, then node1 (becomes primary), then node2 (pg_basebackup from node1, then synchronous
# standby). The monitor's health checks are tightened from their defaults (5 s period, 20 s before a node is
# unhealthy, 30 s demote timeout) so that a dead primary is replaced within seconds rather than a minute.
cluster_create() {
  ensure_pg_auto_failover
  cluster_destroy
  mkdir -p "$CLUSTER_DIR"/xdg/{config,data,run}
  chmod 700 "$CLUSTER_DIR/xdg/run"
  [[ $(id -u) -eq 0 ]] && chown -R postgres "$CLUSTER_DIR"
  log "creating the monitor on $MON_PORT"
  as_pg pg_autoctl create monitor --pgdata "$CLUSTER_DIR/monitor" --pgport $MON_PORT --hostname 127.0.0.1 --listen 127.0.0.1 \
    --auth trust --no-ssl --pgctl "$PGBIN/pg_ctl" >>"$CLUSTER_DIR/monitor.log" 2>&1
  keeper_run monitor
  for _ in $(seq 1 60); do monitor_sql "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_period = 1000" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000" >/dev/null
  monitor_sql "ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000" >/dev/null
  monitor_sql "SELECT pg_reload_conf()" >/dev/null
  local i
  for i in 1 2; do
    log "creating node$i on ${PG_PORTS[$((i - 1))]}"
    as_pg pg_autoctl create postgres --pgdata "$CLUSTER_DIR/node$i" --pgport "${PG_PORTS[$((i - 1))]}" --hostname 127.0.0.1 \
      --listen 127.0.0.1 --name "node$i" --dbname leads --monitor "$MONITOR_URI" --auth trust --no-ssl --pgctl "$PGBIN/pg_ctl" \
      >>"$CLUSTER_DIR/node$i.log" 2>&1
    # pg_autoctl sizes Postgres for the whole machine (shared_buffers = 1/4 of RAM, 6 GB here, and 8 GB of kept WAL per
    # node); on a machine shared by two data nodes, the monitor, the service and neighbours, keep them modest.
    as_pg sh -c "printf '%s\n' \"shared_buffers = '256MB'\" \"wal_keep_size = '1GB'\" \"maintenance_work_mem = '128MB'\" \
      >>'$CLUSTER_DIR/node$i/postgresql.auto.conf'"
    keeper_run "node$i"
    if [[ $i -eq 1 ]]; then wait_state 'node1:single:single' 120; fi
  done
  wait_state 'node1:primary:primary node2:secondary:secondary' 300
  # A throwaway benchmark formation: the data nodes keep durability on (fsync, synchronous commit to the standby).
  log "formation ready: $(formation_state); on node1: synchronous_standby_names $(sql -c 'SHOW synchronous_standby_names'), shared_buffers $(sql -c 'SHOW shared_buffers')"
}

# Stops every keeper (and so every Postgres) of the formation and removes $CLUSTER_DIR.
cluster_destroy() {
  local n pid
  for n in node1 node2 monitor; do
    [[ -f $CLUSTER_DIR/$n.keeper.pid ]] || continue
    pid=$(cat "$CLUSTER_DIR/$n.keeper.pid")
    if kill -0 "$pid" 2>/dev/null; then as_pg pg_autoctl stop --pgdata "$CLUSTER_DIR/$n" --fast >/dev/null 2>&1 || true; fi
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    # Only a group the keeper leads (keeper_run checked it): never the caller's own.
    [[ $(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') == "$pid" ]] && kill -9 -- -"$pid" 2>/dev/null || true
  done
  for n in node1 node2 monitor; do
    if [[ -f $CLUSTER_DIR/$n/postmaster.pid ]]; then
      pid=$(head -1 "$CLUSTER_DIR/$n/postmaster.pid")
      kill -0 "$pid" 2>/dev/null && as_pg "$PGBIN/pg_ctl" stop -D "$CLUSTER_DIR/$n" -m immediate >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$CLUSTER_DIR"
}

# The data node that is primary now (node1 or node2).
primary_node() { monitor_sql "SELECT nodename FROM pgautofailover.node WHERE reportedstate IN ('primary', 'wait_primary', 'single') AND goalstate IN ('primary', 'wait_primary', 'single') ORDER BY nodeid LIMIT 1"; }

# kill -9 of a whole data node, as when its machine dies: its keeper's process group (pg_autoctl and its services),
# the postmaster and every backend, all in one signal round; nothing restarts it.
node_kill9() {
  local n=$1 keeper postmaster pids
  keeper=$(cat "$CLUSTER_DIR/$n.keeper.pid")
  postmaster=$(head -1 "$CLUSTER_DIR/$n/postmaster.pid")
  pids="$(pgrep -g "$keeper" | tr '\n' ' ') $postmaster $(pgrep -P "$postmaster" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  kill -9 $pids 2>/dev/null || true
}

# The service's nodes. node_start NAME PORT ROLE [extra args]: Release host in the background, log in
# $CLUSTER_DIR/NAME.log, waits for /health/ready; its pid in NODE_PID[NAME].
node_start() {
  local name=$1 port=$2 role=$3; shift 3
  if curl -s -o /dev/null "http://127.0.0.1:$port/health/live"; then echo "something already answers on port $port" >&2; exit 2; fi
  "$HOST_BIN" --urls "http://127.0.0.1:$port" --role "$role" "${NODE_ARGS[@]}" "$@" >>"$CLUSTER_DIR/$name.log" 2>&1 &
  NODE_PID[$name]=$!
  for _ in $(seq 1 180); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/health/ready" && return 0
    kill -0 "${NODE_PID[$name]}" 2>/dev/null || break
    sleep 1
  done
  echo "node $name did not start; see $CLUSTER_DIR/$name.log" >&2; exit 1
}

# Two API nodes and one worker node on the formation; the first API node applies the migrations.
nodes_start() {
  node_start api1 "${API_PORTS[0]}" api
  node_start api2 "${API_PORTS[1]}" api --Database:MigrateOnStartup=false
  node_start worker "$WORKER_PORT" worker --Database:MigrateOnStartup=false
  log "nodes up: api1 :${API_PORTS[0]} (pid ${NODE_PID[api1]}), api2 :${API_PORTS[1]} (pid ${NODE_PID[api2]}), worker :$WORKER_PORT (pid ${NODE_PID[worker]})"
}

nodes_stop() {
  local n
  for n in "${!NODE_PID[@]}"; do kill -TERM "${NODE_PID[$n]}" 2>/dev/null || true; done
  for n in "${!NODE_PID[@]}"; do wait "${NODE_PID[$n]}" 2>/dev/null || true; done
  NODE_PID=()
}

nodes_alive() { local n; for n in "${!NODE_PID[@]}"; do kill -0 "${NODE_PID[$n]}" 2>/dev/null || return 1; done; }

# A new full-scope key for workspace $1 through the CLI verb, on the multi-host string like the nodes.
cluster_key() { "$HOST_BIN" keys create --workspace "$1" --scope full "${NODE_ARGS[@]}" 2>/dev/null; }
