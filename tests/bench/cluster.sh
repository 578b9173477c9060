#!/bin/sh
# cluster.sh [--nodes K] [--clients N] [--json FILE] [--label TEXT] [-- LOADGEN FLAGS...]
#
# One room of N people spread over K venued nodes of one venue (issue 15):
# a throwaway redis-server with deploy/redis/venued.conf, K nodes joined to
# it and (K > 1) sharing a database on a throwaway PostgreSQL (tests/pg.sh),
# and venue-loadgen sending its clients round-robin over the nodes
# (--also), so that its probes on every node time the entries of movers on
# every other node too. Every node, Redis and PostgreSQL are pinned to CPU 0 and the
# generator to CPU 1: the figures are what the whole venue costs on one
# core, and the loadgen's JSON line has each node's share (server.nodes).
#
# Everything is on 127.0.0.1 and every process is stopped on the way out.
# Binaries: build-bench (BENCHMARKS.md, "The C load generator"), or
# VENUED_BIN and LOADGEN_BIN.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
venued=${VENUED_BIN:-$root/build-bench/server/venued}
loadgen=${LOADGEN_BIN:-$root/build-bench/tests/venue-loadgen}
nodes=1
clients=200
json=
label=

while [ $# -gt 0 ]; do
    case $1 in
    --nodes) nodes=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "cluster.sh: unknown flag $1 (see the head of this file)" >&2; exit 2 ;;
    esac
done
case $nodes in
[1-8]) ;;
*) echo "cluster.sh: --nodes must be 1 to 8, not $nodes" >&2; exit 2 ;;
esac
for bin in "$venued" "$loadgen"; do
    [ -x "$bin" ] || { echo "cluster.sh: no $bin (build build-bench first, BENCHMARKS.md)" >&2; exit 2; }
done
command -v redis-server >/dev/null || { echo "cluster.sh: redis-server is not installed" >&2; exit 2; }

tmp=$(mktemp -d)
pids=
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    [ ! -d "$tmp/pg" ] || sh "$root/tests/pg.sh" stop "$tmp/pg"
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait (at most 15 s) until the URL answers and its body matches the pattern.
wait_for() {
    i=0
    while [ $i -lt 150 ]; do
        if curl -fsS --max-time 1 "$1" 2>/dev/null | grep -q "$2"; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "cluster.sh: $1 did not show $2 in 15 s" >&2
    return 1
}

rport=$(free_port)
taskset -c 0 redis-server "$root/deploy/redis/venued.conf" --port "$rport" --requirepass bench \
    --dir "$tmp" >"$tmp/redis.log" 2>&1 &
pids="$pids $!"
i=0
until redis-cli -p "$rport" -a bench --no-auth-warning ping 2>/dev/null | grep -q PONG; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "cluster.sh: redis-server did not start" >&2; exit 1; }
    sleep 0.1
done

# Several nodes share one PostgreSQL database, as they must (README).
if [ "$nodes" -gt 1 ]; then
    chmod 755 "$tmp" # as root, PostgreSQL runs as its own user (pg.sh)
    taskset -c 0 sh "$root/tests/pg.sh" start "$tmp/pg" >/dev/null
    pg=$(cat "$tmp/pg/url")
    psql -X -q -d "$pg/postgres" -c 'CREATE DATABASE bench' >/dev/null
fi

first=
also=
k=1
while [ $k -le "$nodes" ]; do
    port=$(free_port)
    mkdir -p "$tmp/n$k"
    if [ "$nodes" -gt 1 ]; then
        cluster="--redis redis://:bench@127.0.0.1:$rport/0 --node-id n$k --database $pg/bench"
    else
        cluster=
    fi
    # shellcheck disable=SC2086 # cluster is three flags or none
    taskset -c 0 "$venued" --port "$port" --bind 127.0.0.1 --data "$tmp/n$k" \
        --scenes "$root/tests/bench/venue" --web "$root/web-client" --queue-max 16777216 \
        --queue-frames 4096 --hello-rate 1000000 --hello-burst 1000000 $cluster \
        >"$tmp/n$k.log" 2>&1 &
    pid=$!
    pids="$pids $pid"
    if [ -z "$first" ]; then
        first="--port $port --pid $pid"
    else
        also="${also:+$also,}$port:$pid"
    fi
    eval "port_$k=$port"
    k=$((k + 1))
done
k=1
while [ $k -le "$nodes" ]; do
    eval "port=\$port_$k"
    if [ "$nodes" -gt 1 ]; then
        wait_for "http://127.0.0.1:$port/healthz" "\"nodes\":$nodes"
    else
        wait_for "http://127.0.0.1:$port/healthz" '"ok":true'
    fi
    k=$((k + 1))
done

# shellcheck disable=SC2086 # first is four words, also one
"$loadgen" $first ${also:+--also "$also"} --clients "$clients" --gen-cpu 1 \
    --label "${label:-$nodes node(s), $clients clients}" ${json:+--json "$json"} "$@"
