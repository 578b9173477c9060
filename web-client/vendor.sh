#!/bin/sh
# vendor.sh - copy the npm-provided files the browser loads into DEST
# (web-client/vendor for ./venue, the installed web folder for cmake
# --install): three.js and its addons, the projector view's QR code
# generator, pdf.js and its worker (slides), janus.js with webrtc-adapter
# (voice). venued serves them itself: no CDN, no bundler.
# Usage: vendor.sh NODE_MODULES DEST
set -eu
nm=$1
dest=$2
[ -d "$nm/three" ] || { echo "vendor.sh: $nm has no three.js: run npm ci first" >&2; exit 1; }
mkdir -p "$dest/three/addons" "$dest/qrcode-generator" "$dest/pdfjs" "$dest/janus"
cp "$nm/three/build/three.module.js" "$nm/three/build/three.core.js" "$dest/three/"
cp -r "$nm/three/examples/jsm/." "$dest/three/addons/"
cp "$nm/qrcode-generator/dist/qrcode.mjs" "$dest/qrcode-generator/"
cp "$nm/pdfjs-dist/build/pdf.min.mjs" "$nm/pdfjs-dist/build/pdf.worker.min.mjs" "$dest/pdfjs/"
cp "$nm/janus-gateway/dist/janus.es.js" "$dest/janus/janus.es.js"
cp "$nm/webrtc-adapter/out/adapter.js" "$dest/janus/adapter.js"
