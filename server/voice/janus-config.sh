#!/usr/bin/env bash
# janus-config.sh OUTDIR [--ws-port P] [--admin-port P] [--rtp-ports A-B]
#                        [--bind IP] [--ice-enforce LIST] [--event-loops N]
#
# Write a Janus configuration for venued into OUTDIR from the templates in
# janus/ beside this script: only the AudioBridge and VideoRoom plugins
# and the WebSocket transport, the APIs on 127.0.0.1 (the browsers' one
# on --bind), token auth on. The secrets are random, made once and kept
# in OUTDIR/secrets.env (mode 0600): rewriting the files keeps them, so a
# running venued and a restarted Janus still agree.
#
# OUTDIR/secrets.env holds JANUS_API_SECRET, JANUS_ADMIN_SECRET,
# JANUS_ROOM_KEY, JANUS_WS_URL and JANUS_ADMIN_URL, for venued's flags.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: janus-config.sh OUTDIR [--ws-port P] [--admin-port P] [--rtp-ports A-B] [--bind IP] [--ice-enforce LIST] [--event-loops N]}
shift
ws_port=8188
admin_port=7188
rtp_ports=20000-20100
bind=127.0.0.1
ice_enforce=
# Janus' media threads: one per CPU, shared by every handle. Janus' default
# is a thread per handle, 400 of them for a plenary, and the context
# switches between them cost more than the forwarding (BENCHMARKS.md,
# "Voice: Janus").
event_loops=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
    case "$1" in
    --ws-port) ws_port=$2 ;;
    --admin-port) admin_port=$2 ;;
    --rtp-ports) rtp_ports=$2 ;;
    --bind) bind=$2 ;;
    --ice-enforce) ice_enforce=$2 ;;
    --event-loops) event_loops=$2 ;;
    *)
        echo "janus-config.sh: unknown option $1" >&2
        exit 2
        ;;
    esac
    shift 2
done
for p in "--ws-port=$ws_port" "--admin-port=$admin_port" "--event-loops=$event_loops"; do
    case "${p#*=}" in
    '' | *[!0-9]* | 0)
        echo "janus-config.sh: ${p%%=*}: not a positive number: ${p#*=}" >&2
        exit 2
        ;;
    esac
done
case "$rtp_ports" in
[0-9]*-[0-9]*) ;;
*)
    echo "janus-config.sh: --rtp-ports: not a range A-B: $rtp_ports" >&2
    exit 2
    ;;
esac

libdir=
for d in /usr/lib/x86_64-linux-gnu/janus /usr/lib/aarch64-linux-gnu/janus /usr/lib/janus; do
    [ -d "$d/plugins" ] && libdir=$d && break
done
if [ -z "$libdir" ]; then
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
    [ -n "$multiarch" ] && [ -d "/usr/lib/$multiarch/janus/plugins" ] && libdir=/usr/lib/$multiarch/janus
fi
if [ -z "$libdir" ]; then
    echo "janus-config.sh: Janus' plugins are not installed (Debian package janus)" >&2
    exit 1
fi

mkdir -p "$out"
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
if [ ! -f "$out/secrets.env" ]; then
    (
        umask 077
        printf 'JANUS_API_SECRET=%s\nJANUS_ADMIN_SECRET=%s\nJANUS_ROOM_KEY=%s\n' \
            "$(secret)" "$(secret)" "$(secret)" >"$out/secrets.env"
    )
fi
# shellcheck disable=SC1091
. "$out/secrets.env"

enforce=""
[ -z "$ice_enforce" ] || enforce="	ice_enforce_list = \"$ice_enforce\""
render() { # template output
    sed -e "s|@DIR@|$out|g" -e "s|@LIBDIR@|$libdir|g" \
        -e "s|@API_SECRET@|$JANUS_API_SECRET|g" -e "s|@ADMIN_SECRET@|$JANUS_ADMIN_SECRET|g" \
        -e "s|@ROOM_KEY@|$JANUS_ROOM_KEY|g" -e "s|@RTP_PORTS@|$rtp_ports|g" \
        -e "s|@WS_PORT@|$ws_port|g" -e "s|@ADMIN_PORT@|$admin_port|g" -e "s|@BIND@|$bind|g" \
        -e "s|@ICE_ENFORCE@|$enforce|g" -e "s|@EVENT_LOOPS@|$event_loops|g" "$1" >"$2"
}
for t in "$here"/janus/*.jcfg.in; do
    name=${t##*/}
    render "$t" "$out/${name%.in}"
done
chmod 600 "$out"/*.jcfg
{
    grep -E '^JANUS_(API_SECRET|ADMIN_SECRET|ROOM_KEY)=' "$out/secrets.env"
    printf 'JANUS_WS_URL=ws://%s:%s\nJANUS_ADMIN_URL=ws://127.0.0.1:%s\n' "$bind" "$ws_port" "$admin_port"
} >"$out/secrets.env.new"
chmod 600 "$out/secrets.env.new"
mv "$out/secrets.env.new" "$out/secrets.env"
