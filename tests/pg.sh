#!/bin/sh
# pg.sh - a throwaway PostgreSQL server for the tests, in a folder of its
# own, listening on 127.0.0.1 only, trusting local connections.
#
#   tests/pg.sh start DIR   initdb (first time) and start; DIR/url then
#                           holds postgresql://venue@127.0.0.1:PORT
#   tests/pg.sh stop DIR    stop it and remove DIR
#
# initdb refuses to run as root: as root, the server runs as the postgres
# user Debian's package creates.
set -eu

cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL's server is not installed (Debian: postgresql)" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U venue -A trust -E UTF8 --locale=C.UTF-8 \
            --lc-ctype=C >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A free port: the kernel's choice for a socket bound to port 0.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://venue@127.0.0.1:$port" >"$dir/url"
    cat "$dir/url"
    ;;
stop)
    [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*)
    echo "pg.sh: start or stop, not $cmd" >&2
    exit 2
    ;;
esac
