#!/bin/sh
# layers.sh [ROOT] - check that server/ stays in its layers:
#
#   common <- twin <- store <- core <- admin <- net <- voice <- cluster <- app
#
# A folder may include its own headers and those of the folders before it,
# never those of a folder after it; nothing below net/ includes
# <libwebsockets.h> or the transport's "server.h"; and no layer's
# CMakeLists.txt links a library of a layer above it. A higher layer's
# headers are whatever *.h files its folder holds, so a header added later
# is covered without editing this script.
#
# Prints FILE:LINE: and the rule broken for every offence; exits 0 when
# there is none, 1 when there is, 2 when ROOT does not look like the tree.
# CMake does not stop an upward include from compiling when the include
# directories happen to be visible (a test target linking several layers,
# a relative path), so this is checked on the sources themselves.

root=${1:-.}
server=$root/server
layers="common twin store core admin net voice cluster app"
libs="venue_common venue_twin venue_store venue_core venue_admin venue_net venue_voice venue_cluster venued"
order="common <- twin <- store <- core <- admin <- net <- voice <- cluster <- app"

for l in $layers; do
    if [ ! -d "$server/$l" ]; then
        echo "layers: $server/$l: no such folder (run from the repository root or pass it)" >&2
        exit 2
    fi
done

status=0
files=0

# Offences are printed from pipelines (subshells), so the verdict is taken
# from what they print: report prints what it is given and sets status.
offence() { # file line message
    printf '%s:%s: %s\n' "$1" "$2" "$3"
}
report() {
    if [ -n "$1" ]; then
        printf '%s\n' "$1"
        status=1
    fi
}

# The headers in layer folder $1, one per line.
headers_of() {
    for h in "$server/$1"/*.h; do
        [ -e "$h" ] && printf '%s\n' "${h##*/}"
    done
}

# The n-th word of a list ($1: n from 1, rest: the list).
nth() {
    n=$1
    shift
    eval "printf '%s' \"\${$n}\""
}

i=0
for layer in $layers; do
    i=$((i + 1))
    # Headers this layer may include: its own and the lower layers'. A name
    # found here is allowed even if a higher layer has a header of the same
    # name (the include resolves to the nearer one).
    allowed=
    higher=
    j=0
    for other in $layers; do
        j=$((j + 1))
        for h in $(headers_of "$other"); do
            if [ "$j" -le "$i" ]; then
                allowed="$allowed $h"
            else
                higher="$higher $other/$h"
            fi
        done
    done

    for f in "$server/$layer"/*.c "$server/$layer"/*.h; do
        [ -e "$f" ] || continue
        files=$((files + 1))
        # "LINE NAME" for each #include of the file.
        found=$(grep -n '^[[:space:]]*#[[:space:]]*include' "$f" |
            sed -n 's/^\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1 \2/p' |
            while read -r line inc; do
                base=${inc##*/}
                case $layer in
                common | twin | store | core | admin)
                    if [ "$base" = libwebsockets.h ]; then
                        offence "$f" "$line" "includes <$inc>: only server/net and the layers above it may include libwebsockets"
                        continue
                    fi
                    if [ "$base" = server.h ]; then
                        offence "$f" "$line" "includes \"$inc\": the transport's header (server/net) is not for server/$layer"
                        continue
                    fi
                    ;;
                esac
                case " $allowed " in
                *" $base "*) continue ;;
                esac
                for hh in $higher; do
                    if [ "${hh#*/}" = "$base" ]; then
                        offence "$f" "$line" "server/$layer includes \"$inc\" of server/${hh%%/*}, a higher layer ($order)"
                        break
                    fi
                done
            done)
        report "$found"
    done

    # Links: a layer's CMakeLists.txt names no library of a layer above.
    cm=$server/$layer/CMakeLists.txt
    if [ -e "$cm" ]; then
        k=$i
        while [ "$k" -lt 8 ]; do
            k=$((k + 1))
            lib=$(nth "$k" $libs)
            found=$(sed 's/#.*//' "$cm" | grep -n -w -- "$lib" | while IFS= read -r hit; do
                offence "$cm" "${hit%%:*}" "server/$layer links $lib, a higher layer ($order)"
            done)
            report "$found"
        done
    fi
done

if [ "$files" -eq 0 ]; then
    echo "layers: no sources found under $server" >&2
    exit 2
fi
if [ "$status" -ne 0 ]; then
    echo "layers: includes or links run upward (see above)"
    exit 1
fi
echo "layers: $files files in $order: no include or link runs upward"
exit 0
