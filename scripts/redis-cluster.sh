#!/usr/bin/env bash
# A local Redis Cluster on loopback: 3 masters + 3 replicas, for tests and the demo.
#
#   scripts/redis-cluster.sh start [BASE_PORT]   # ports BASE..BASE+5 (default 7101..7106)
#   REDIS_CLUSTER_MASTERS=1 scripts/redis-cluster.sh start [BASE_PORT]   # one shard: BASE, BASE+1
#   scripts/redis-cluster.sh stop  [BASE_PORT]
#   scripts/redis-cluster.sh status [BASE_PORT]
#
# `start` waits for cluster_state:ok on every node and for every replica to be in sync, then
# prints the line to use: REDIS_CLUSTER_NODES=127.0.0.1:BASE,...  Data lives in
# ${PINLIVE_CLUSTER_DIR:-/tmp/pinlive-redis-cluster-BASE} and is deleted by `stop`.
# Killing one master leaves the other slots serving (--cluster-require-full-coverage no); its
# replica takes over after --cluster-node-timeout (REDIS_CLUSTER_NODE_TIMEOUT_MS, default 2000).
set -euo pipefail

cmd="${1:-}"
base="${2:-7101}"
dir="${PINLIVE_CLUSTER_DIR:-${TMPDIR:-/tmp}/pinlive-redis-cluster-$base}"
node_timeout="${REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}"
masters="${REDIS_CLUSTER_MASTERS:-3}"
if [[ "$masters" != 1 && "$masters" != 3 ]]; then echo "redis-cluster: REDIS_CLUSTER_MASTERS is 1 or 3" >&2; exit 2; fi
ports=()
for ((i = 0; i < masters * 2; i++)); do ports+=($((base + i))); done

cli() { redis-cli -h 127.0.0.1 -p "$1" "${@:2}"; }

wait_for() { # seconds, description, command...
  local until=$((SECONDS + $1)) what="$2"
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= until)); then
      echo "redis-cluster: timed out waiting for $what" >&2
      return 1
    fi
    sleep 0.1
  done
}

cluster_ok() {
  for p in "${ports[@]}"; do cli "$p" cluster info | grep -q '^cluster_state:ok' || return 1; done
}

replicas_synced() {
  local synced=0
  for p in "${ports[@]}"; do
    if cli "$p" info replication | grep -q '^role:slave'; then
      cli "$p" info replication | grep -q '^master_link_status:up' || return 1
      synced=$((synced + 1))
    fi
  done
  ((synced == masters))
}

start() {
  command -v redis-server >/dev/null || { echo "redis-cluster: redis-server not found (apt-get install redis-server)" >&2; exit 1; }
  for p in "${ports[@]}"; do
    if cli "$p" ping >/dev/null 2>&1; then
      echo "redis-cluster: port $p already answers; stop it first ($0 stop $base)" >&2
      exit 1
    fi
  done
  rm -rf "$dir"
  for p in "${ports[@]}"; do
    mkdir -p "$dir/$p"
    redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --dir "$dir/$p" \
      --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$node_timeout" \
      --cluster-require-full-coverage no --cluster-replica-validity-factor 0 \
      --save "" --appendonly no --hz 50
  done
  for p in "${ports[@]}"; do wait_for 10 "redis on $p" cli "$p" ping; done
  local nodes=()
  for p in "${ports[@]}"; do nodes+=("127.0.0.1:$p"); done
  if ((masters == 3)); then
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
      { cat "$dir/create.log" >&2; exit 1; }
  else
    # `--cluster create` wants three masters: one shard is made by hand (every slot, one replica).
    cli "${ports[0]}" cluster addslotsrange 0 16383 >/dev/null
    cli "${ports[1]}" cluster meet 127.0.0.1 "${ports[0]}" >/dev/null
    local id
    id=$(cli "${ports[0]}" cluster myid)
    wait_for 10 "the replica meets the master" bash -c "redis-cli -p ${ports[1]} cluster nodes | grep -q $id"
    cli "${ports[1]}" cluster replicate "$id" >/dev/null
  fi
  wait_for 30 "cluster_state:ok" cluster_ok
  wait_for 30 "replicas in sync" replicas_synced
  local joined
  joined=$(IFS=,; echo "${nodes[*]}")
  echo "REDIS_CLUSTER_NODES=$joined"
}

stop() {
  ports=()
  for i in 0 1 2 3 4 5; do ports+=($((base + i))); done
  for p in "${ports[@]}"; do
    cli "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  # A node that did not answer (stopped by kill -STOP, say) goes by its pid file.
  for p in "${ports[@]}"; do
    if [[ -f "$dir/$p/redis.pid" ]]; then
      pid=$(cat "$dir/$p/redis.pid")
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
  done
  rm -rf "$dir"
}

status() {
  for p in "${ports[@]}"; do
    printf '%s ' "$p"
    cli "$p" info replication 2>/dev/null | grep '^role:' | tr -d '\r' || echo "down"
  done
  cli "${ports[0]}" cluster info 2>/dev/null | grep '^cluster_state' || true
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status [BASE_PORT]" >&2
    exit 2
    ;;
esac
