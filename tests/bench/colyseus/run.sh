#!/bin/sh
# run.sh - one Colyseus run of the venued avatar workload (issue 13):
# starts server.mjs on a free port of 127.0.0.1, pinned to CPU 0, runs
# load.mjs against it pinned to CPU 1 (when taskset exists and there are
# two CPUs), stops the server and prints the result. Every flag but the
# ones below goes to load.mjs unchanged (see node load.mjs --help).
#
#   cd tests/bench/colyseus && npm ci
#   ./run.sh --clients 400 --probes 10 --duration 20 --warmup 5 --json out.jsonl
#
# Own flags: --server-cpu N, --loadgen-cpu N (default 0 and 1),
# --no-pin (run both unpinned). The exit status is load.mjs's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  echo
  exec node load.mjs --help
fi
if [ ! -d node_modules/colyseus.js ]; then
  echo "run.sh: no node_modules here: run npm ci in $here first" >&2
  exit 2
fi

server_cpu=0 loadgen_cpu=1 pin=1 duration=20 warmup=5 jointimeout=60
set -- "$@" --end-of-flags
while [ "$1" != --end-of-flags ]; do
  case "$1" in
    --server-cpu) server_cpu=${2:?--server-cpu needs a CPU number}; shift 2; continue ;;
    --loadgen-cpu) loadgen_cpu=${2:?--loadgen-cpu needs a CPU number}; shift 2; continue ;;
    --no-pin) pin=0; shift; continue ;;
    --duration) duration=${2:?--duration needs a value} ;;
    --warmup) warmup=${2:?--warmup needs a value} ;;
    --join-timeout) jointimeout=${2:?--join-timeout needs a value} ;;
  esac
  set -- "$@" "$1"
  shift
done
shift # --end-of-flags
case "$server_cpu$loadgen_cpu" in *[!0-9]*) echo "run.sh: --server-cpu and --loadgen-cpu take a CPU number" >&2; exit 2 ;; esac

srv_pin='' gen_pin=''
if [ "$pin" = 1 ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  srv_pin="taskset -c $server_cpu" gen_pin="taskset -c $loadgen_cpu"
elif [ "$pin" = 1 ]; then
  echo "run.sh: no taskset or fewer than 2 CPUs: running unpinned" >&2
fi

# a free port: let the kernel pick one, then hand it to the server
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# the server's own bound: the run's length plus joins and slack, so it never outlives us by much
max_secs=$(node -e "console.log(Math.ceil(Number('$jointimeout')+Number('$warmup')+Number('$duration')+90))")
log=$(mktemp)
# shellcheck disable=SC2086
$srv_pin node server.mjs --port "$port" --max-secs "$max_secs" >"$log" 2>&1 &
spid=$!
trap 'kill "$spid" 2>/dev/null || true; rm -f "$log"' EXIT INT TERM
i=0
until grep -q '"ready":true' "$log"; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$spid" 2>/dev/null; then
    echo "run.sh: the server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
# taskset execs node, so $spid is the server's own pid
rc=0
# shellcheck disable=SC2086
$gen_pin node load.mjs --port "$port" --pid "$spid" "$@" || rc=$?
kill "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
if grep -qv -e '"ready":true' -e 'stopping' "$log"; then
  echo "run.sh: server log:" >&2
  grep -v '"ready":true' "$log" >&2 || true
fi
exit $rc
