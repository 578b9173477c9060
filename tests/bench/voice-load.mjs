#!/usr/bin/env node
// voice-load.mjs - what Janus costs for venued's voice: CPU, memory and
// bandwidth per client, for a breakout and for a plenary, with headless
// Chromium as the participants.
//
//   node tests/bench/voice-load.mjs --scenario breakout   # 30 people, each hears the other 29
//   node tests/bench/voice-load.mjs --scenario plenary    # 3 speakers, 200 listeners
//   node tests/bench/voice-load.mjs --scenario idle       # the rooms made, nobody connected
//   node tests/bench/voice-load.mjs --scenario plenary --engine aiortc   # cheaper participants
//   node tests/bench/voice-load.mjs --help
//
// Run as root: Janus never offers a loopback ICE candidate, so the whole run
// happens in a network namespace of its own (tests/voice/netns.mjs: lo and a
// TUN address, no route out, a PID namespace that takes every process with
// it when the run ends). Inside it:
//   - Janus from venued's own configuration (server/voice/janus-config.sh,
//     through tests/voice/janus.mjs), with a wider RTP port range;
//   - the VideoRooms as server/voice/janus.c makes them (audio-only, Opus,
//     audiolevel_event, the admin_key), one Janus token per participant
//     (admin API add_token) in the room's allowed list;
//   - Chromium (/usr/bin/chromium, fake microphone) with several simulated
//     participants per page. Each participant is what web-client/js/voice.js
//     does: its own Janus session (janus.js over the WebSocket API, no ICE
//     server), a publisher handle joined as a participant (publishing the
//     fake microphone, audio only, if it speaks), and one multistream
//     subscriber handle for the voices it hears;
//   - or, with --engine aiortc, the same participants as Python processes
//     (tests/bench/voice_peer.py, aiortc from Debian, many per process):
//     the same Janus requests and real WebRTC (ICE, DTLS-SRTP), but what
//     they receive is decrypted, counted and dropped, never decoded or
//     played, and a speaker sends pre-encoded Opus. They cost far less CPU
//     than Chromium, so the full sizes fit on the machine beside Janus;
//   - once everyone is connected (webrtcup and every remote track; bounded),
//     it samples for --secs: Janus' CPU (utime+stime from /proc/PID/stat, %
//     of one core) and RSS (VmRSS), the simulated clients' (Chromium or the
//     Python workers) and the rest of the machine's CPU (so that a reader knows what Janus shared the cores with), and the
//     bytes each PeerConnection sent and received (Chromium: getStats
//     outbound-rtp and inbound-rtp; aiortc: the RTP it sent and decrypted;
//     per publisher and per listener), with the namespace's lo
//     counters beside them: every media packet crosses lo once, so lo_pps
//     against expected_media_pps (50 a second a stream) says how much of
//     what should flow did.
// It prints one JSON line (`{"tool":"voice-load",...}`) and a Markdown table.
// Exit 0: measured; 3: measured, but not every PeerConnection came up in
// --connect-timeout (the numbers are for those that did); 1: failed; 2:
// cannot run here (not root, no janus, no Chromium, no janus.js, no aiortc).
//
// Before it starts Janus it waits (--wait-load, at most --wait-load-max s)
// until the machine's 1-minute load average is under a limit: the cores are
// shared with other people's builds. It runs anyway after that, and says so
// (load.waited_s, load.quiet in the JSON).
//
// Environment: VOICE_LOAD_JANUS_LOG=FILE keeps Janus' log of the run;
// VOICE_LOAD_DEBUG=1 logs each subscriber's connection time;
// VOICE_LOAD_CHROMIUM_ARGS adds Chromium flags; PYTHON (default
// /usr/bin/python3, Debian's, which has python3-aiortc) runs voice_peer.py;
// CHROMIUM, VENUE_ROOT as in tests/voice/netns.mjs.
//
// Traffic stays in the namespace: the pages come from a small HTTP server on
// its 127.0.0.1, Janus' APIs are on its 127.0.0.1, media goes over its TUN
// address. No STUN server is configured anywhere (each page, and each
// worker, records every PeerConnection's iceServers: ice_servers_used in the
// JSON).

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, TUN_ADDR, inNetns, netnsAvailable, enterNetns, launchChromium, stopAll } from '../voice/netns.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const JANUS_JS = join(ROOT, 'node_modules/janus-gateway/dist/janus.es.js');
const ADAPTER_JS = join(ROOT, 'node_modules/webrtc-adapter/out/adapter.js');
const PYTHON = process.env.PYTHON || '/usr/bin/python3';
const PEER_PY = join(ROOT, 'tests/bench/voice_peer.py');

const SCENARIOS = {
  breakout: { people: 30, perPage: 5 },
  plenary: { people: 200, perPage: 50 }, /* listeners; the 3 speakers come on top */
  idle: { people: 0, perPage: 1, what: 'both rooms made, nobody connected' },
};

const OPTIONS = {
  scenario: ['breakout', 'breakout | plenary | idle'],
  secs: [30, 'seconds measured once everyone is connected (1..600)'],
  listeners: [null, 'plenary: listeners instead of 200 (1..500); breakout: people instead of 30 (2..60)'],
  'per-page': [null, 'participants per Chromium page (default: breakout 5, plenary 50, so that a page receives at most about 150 streams; 1..100)'],
  concurrency: [2, 'participants connecting at once per page (1..20)'],
  'connect-timeout': [300, 'seconds allowed for everyone to connect (10..900); the run measures whoever made it'],
  'pc-timeout': [45, 'seconds allowed for one PeerConnection to come up (5..120)'],
  settle: [5, 'seconds between the last connection and the measurement (0..60)'],
  play: [false, 'also play every voice heard in a muted <audio> element, as the page does (Chromium then decodes every stream)'],
  engine: ['chromium', 'the simulated participants: chromium (headless pages) or aiortc (tests/bench/voice_peer.py: real WebRTC, nothing decoded)'],
  procs: [null, 'aiortc: worker processes for the participants (default 2; a plenary\'s speakers get one more of their own; 1..16)'],
  'wait-load': [1.0, 'wait until the 1-minute load average is under this before starting (0: do not wait)'],
  'wait-load-max': [600, 'seconds to wait for that at most (0..1800); the run then starts anyway'],
  help: [false, 'this text'],
};

function usage() {
  const lines = Object.entries(OPTIONS).map(([k, [d, what]]) => `  --${k}${typeof d === 'boolean' ? '' : ' N'}  ${what}${d !== null && typeof d !== 'boolean' ? ` (default ${d})` : ''}`);
  return `usage: node tests/bench/voice-load.mjs --scenario breakout|plenary|idle [--secs N] [options]\n${lines.join('\n')}\n`;
}

function parseArgs(argv) {
  const o = Object.fromEntries(Object.entries(OPTIONS).map(([k, [d]]) => [k, d]));
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in OPTIONS)) throw new Error(`unknown argument ${argv[i]}\n${usage()}`);
    const k = m[1];
    if (typeof OPTIONS[k][0] === 'boolean') {
      o[k] = true;
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    o[k] = v;
  }
  if (o.help) return o;
  if (!(o.scenario in SCENARIOS)) throw new Error(`--scenario: ${o.scenario} is not breakout, plenary or idle`);
  if (!['chromium', 'aiortc'].includes(o.engine)) throw new Error(`--engine: ${o.engine} is not chromium or aiortc`);
  o['wait-load'] = Number(o['wait-load']);
  if (!(o['wait-load'] >= 0 && o['wait-load'] <= 100)) throw new Error('--wait-load: not a number in 0..100');
  const int = (k, lo, hi) => {
    if (o[k] === null) return;
    const n = Number(o[k]);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`--${k}: ${o[k]} is not an integer in ${lo}..${hi}`);
    o[k] = n;
  };
  int('secs', 1, 600);
  int('per-page', 1, 100);
  int('concurrency', 1, 20);
  int('connect-timeout', 10, 900);
  int('pc-timeout', 5, 120);
  int('settle', 0, 60);
  int('procs', 1, 16);
  int('wait-load-max', 0, 1800);
  if (o.scenario === 'breakout') int('listeners', 2, 60);
  else int('listeners', 1, 500);
  return o;
}

let opt;
try {
  opt = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`voice-load: ${e.message}\n`);
  process.exit(2);
}
if (opt.help) {
  process.stdout.write(usage());
  process.exit(0);
}

/* Outside the namespace: say plainly what is missing, then run again inside one. */
if (!inNetns()) {
  const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  const why = netnsAvailable()
    || (!which('janus') && 'the janus binary is not installed (Debian package janus)')
    || (opt.scenario !== 'idle' && opt.engine === 'chromium' && !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (Debian package chromium)`)
    || (opt.scenario !== 'idle' && opt.engine === 'chromium' && (!existsSync(JANUS_JS) || !existsSync(ADAPTER_JS))
      && 'node_modules has no janus-gateway or webrtc-adapter (npm ci)')
    || (opt.scenario !== 'idle' && opt.engine === 'aiortc'
      && spawnSync(PYTHON, ['-c', 'import aiortc, websockets, av'], { timeout: 30000 }).status !== 0
      && `${PYTHON} cannot import aiortc, websockets and av (Debian packages python3-aiortc, python3-websockets)`)
    || null;
  if (why) {
    process.stderr.write(`voice-load: cannot run: ${why}\n`);
    process.exit(2);
  }
  await enterNetns(import.meta.url); /* never returns here */
}

/* ------------------------------------------------------------------ inside */

const ns = await enterNetns(import.meta.url);
const { startJanus, JanusClient } = await import('../voice/janus.mjs');

const log = (s) => process.stderr.write(`voice-load: ${s}\n`);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/* Other people build on these cores: wait, bounded, until the machine is
 * quiet, and say how long it took and whether it got there. */
const loadWait = { limit: opt['wait-load'], waited_s: 0, quiet: null }; /* quiet: null when not waited for */
if (opt['wait-load'] > 0) {
  const t0 = Date.now();
  let said = false;
  while (os.loadavg()[0] >= opt['wait-load'] && Date.now() - t0 < opt['wait-load-max'] * 1000) {
    if (!said) log(`waiting for the 1-minute load average (${os.loadavg()[0].toFixed(2)}) to fall under ${opt['wait-load']} (at most ${opt['wait-load-max']} s)`);
    said = true;
    await sleep(5000);
  }
  loadWait.waited_s = Math.round((Date.now() - t0) / 1000);
  loadWait.quiet = os.loadavg()[0] < opt['wait-load'];
  if (!loadWait.quiet) log(`the load average is still ${os.loadavg()[0].toFixed(2)} after ${loadWait.waited_s} s: running anyway`);
}

/* The whole run is bounded: connecting, settling, measuring, and a minute for the rest. */
const overallMs = (opt['connect-timeout'] + opt.settle + opt.secs + 180) * 1000;
const watchdog = setTimeout(async () => {
  log(`the run took over ${Math.round(overallMs / 1000)} s: stopping`);
  await Promise.race([stopAll(), sleep(15000)]);
  process.exit(1);
}, overallMs);
watchdog.unref();

/* ---- /proc ---- */

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); /* f[0] is field 3 (state) */
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), user: Number(f[11]), sys: Number(f[12]) };
  } catch {
    return null;
  }
}

function procStatus(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) || [])[1] || 0);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), threads: kb('Threads') };
  } catch {
    return null;
  }
}

/* The simulated clients: in this PID namespace, every process but this one,
 * Janus and the TUN holder is Chromium (playwright does not say which pid it
 * started) or a voice_peer.py worker. CPU ticks summed, and how many processes. */
const GENERATOR_COMM = { chromium: /^chrom/, aiortc: /^python/ };
function generatorTicks(janusPid) {
  let sum = 0;
  let sys = 0;
  let n = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid || pid === janusPid) continue;
    let comm = '';
    try {
      comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (!GENERATOR_COMM[opt.engine].test(comm)) continue;
    const st = procStat(d);
    if (!st) continue;
    sum += st.ticks;
    sys += st.sys;
    n++;
  }
  return { ticks: sum, sys, procs: n };
}

/* The whole machine (/proc/stat is not per namespace): busy and total jiffies
 * over all CPUs, and of them the time in interrupts and softirqs. The kernel
 * here accounts softirq time apart from the task it interrupts, so the
 * delivery of each packet over lo is in softirq, not in Janus' stime. */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total, steal: f[7] || 0, irq: (f[5] || 0) + (f[6] || 0) };
}

/* Bytes sent on this namespace's lo (/proc/net is per namespace; /sys here is the host's).
 * Media between the browsers and Janus goes there: both ends are the TUN address, a local one. */
function loBytes() {
  try {
    const line = readFileSync('/proc/net/dev', 'utf8').split('\n').find((l) => /^\s*lo:/.test(l));
    const f = line.split(':')[1].trim().split(/\s+/);
    return { bytes: Number(f[8]), pkts: Number(f[9]) };
  } catch {
    return { bytes: 0, pkts: 0 };
  }
}

/* This namespace's UDP counters (/proc/net/snmp): datagrams delivered, and
 * those dropped because a socket's receive buffer was full (a receiver that
 * fell behind) or no socket had the port. */
function udpStats() {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const k = lines[0].split(/\s+/).slice(1);
    const v = lines[1].split(/\s+/).slice(1).map(Number);
    const o = Object.fromEntries(k.map((name, n) => [name, v[n]]));
    return { in: o.InDatagrams, rcvbuf_errors: o.RcvbufErrors, no_ports: o.NoPorts, in_errors: o.InErrors };
  } catch {
    return null;
  }
}

const pct = (ticks, secs) => (100 * ticks) / CLK_TCK / secs;
const r1 = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10) / 10);
const r2 = (x) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 100) / 100);
const quant = (xs, q) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/* ---- the pages ---- */

const PAGE = `<!doctype html><meta charset="utf-8"><title>voice-load</title>
<script src="/adapter.js"></script>
<script type="module" src="/bench.js"></script>`;

/* window.bench.{join, listen, stats} on janus.js: one entry per simulated participant. */
const BENCH_JS = `const { default: Janus } = await import('/janus.es.js');
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const parts = new Map();
let server = null;
window.iceConfigs = [];
const RealPC = window.RTCPeerConnection;
window.RTCPeerConnection = function (cfg, ...rest) {
  window.iceConfigs.push(JSON.stringify((cfg && cfg.iceServers) || []));
  return new RealPC(cfg, ...rest);
};
window.RTCPeerConnection.prototype = RealPC.prototype;
await new Promise((r) => Janus.init({ debug: false, callback: r }));
/* How late this page's timers ran: a page that stalls cannot keep its Janus sessions alive. */
let lastBeat = performance.now();
let maxGap = 0;
setInterval(() => { const t = performance.now(); maxGap = Math.max(maxGap, t - lastBeat - 250); lastBeat = t; }, 250);

function within(p, ms, what) {
  let t;
  return Promise.race([p.finally(() => clearTimeout(t)),
    new Promise((_, rej) => { t = setTimeout(() => rej(new Error(what + ': not up in ' + ms / 1000 + ' s')), ms); })]);
}

function session(token) {
  return new Promise((resolve, reject) => {
    const j = new Janus({ server, token, iceServers: [], success: () => resolve(j),
      error: (e) => reject(new Error('janus session: ' + e)) });
  });
}

function attach(j, cb) {
  return new Promise((resolve, reject) => {
    j.attach({ plugin: 'janus.plugin.videoroom', ...cb, success: resolve, error: (e) => reject(new Error('attach: ' + e)) });
  });
}

/* A participant: a session and a publisher handle joined to the room; it publishes the fake microphone if it speaks. */
async function join({ url, i, token, room, id, publish, timeoutMs }) {
  server = url;
  const p = { i, id, token, pub: null, sub: null, downs: 0, mids: new Set(), els: [] };
  parts.set(i, p);
  const t0 = performance.now();
  let ok, fail;
  const done = new Promise((res, rej) => { ok = res; fail = rej; });
  done.catch(() => {}); /* awaited below; a failure before that is not unhandled */
  const work = (async () => {
    p.janus = await session(token);
    p.pub = await attach(p.janus, {
      onmessage: (msg, jsep) => {
        if (msg.error) { fail(new Error('publisher ' + id + ': ' + msg.error)); return; }
        if (msg.videoroom === 'joined') {
          p.joinedMs = performance.now() - t0;
          if (!publish) { ok(); return; }
          p.pub.createOffer({ tracks: [{ type: 'audio', capture: true, recv: false }],
            success: (offer) => p.pub.send({ message: { request: 'publish' }, jsep: offer }),
            error: (e) => fail(new Error('createOffer: ' + (e.message || e))) });
        }
        if (jsep) p.pub.handleRemoteJsep({ jsep });
      },
      webrtcState: (on, why) => {
        if (on) { p.pubUpMs = performance.now() - t0; ok(); }
        else { p.downs++; fail(new Error('publisher ' + id + ' PeerConnection down: ' + why)); }
      },
    });
    p.pub.send({ message: { request: 'join', ptype: 'publisher', room, id, display: 'bench ' + id, token } });
    await done;
  })();
  await within(work, timeoutMs, 'publisher ' + id);
  return { joinedMs: p.joinedMs, upMs: publish ? p.pubUpMs : null };
}

/* Its multistream subscriber: every feed in one handle; up when webrtcup came and every track is there. */
async function listen({ i, room, feeds, play, timeoutMs }) {
  const p = parts.get(i);
  const t0 = performance.now();
  let ok, fail, up = false;
  const done = new Promise((res, rej) => { ok = res; fail = rej; });
  done.catch(() => {});
  const check = () => { if (up && p.mids.size >= feeds.length) { p.subUpMs = performance.now() - t0; ok(); } };
  const work = (async () => {
    p.sub = await attach(p.janus, {
      onmessage: (msg, jsep) => {
        if (msg.error) { fail(new Error('subscriber ' + p.id + ': ' + msg.error)); return; }
        if (jsep) {
          p.offer = (p.offer || 0) + 1;
          p.sub.createAnswer({ jsep, tracks: [],
            success: (answer) => p.sub.send({ message: { request: 'start' }, jsep: answer }),
            error: (e) => fail(new Error('createAnswer: ' + (e.message || e))) });
        }
      },
      onremotetrack: (track, mid, on) => {
        if (track.kind !== 'audio') return;
        if (on && !p.mids.has(mid)) {
          p.mids.add(mid);
          if (play) {
            const el = document.createElement('audio');
            el.muted = true;
            el.srcObject = new MediaStream([track]);
            document.body.appendChild(el);
            el.play().catch(() => {});
            p.els.push(el);
          }
        }
        check();
      },
      iceState: (state) => { p.ice = state; },
      webrtcState: (on, why) => {
        if (on) { up = true; check(); }
        else { p.downs++; fail(new Error('subscriber ' + p.id + ' PeerConnection down: ' + why)); }
      },
    });
    p.sub.send({ message: { request: 'join', ptype: 'subscriber', room, streams: feeds.map((feed) => ({ feed })), token: p.token } });
    await done;
  })();
  await within(work, timeoutMs, 'subscriber ' + p.id).catch((e) => {
    throw new Error(e.message + ' (webrtcup ' + up + ', tracks ' + p.mids.size + '/' + feeds.length + ', ICE ' + p.ice + ', offer ' + p.offer + ', page timers late by up to ' + Math.round(maxGap) + ' ms)');
  });
  return { upMs: p.subUpMs, tracks: p.mids.size, maxGapMs: maxGap };
}

const pcOf = (h) => (h && h.webrtcStuff && h.webrtcStuff.pc) || null;

/* Counters of every PeerConnection of this page, now. */
async function stats() {
  const out = [];
  await Promise.all([...parts.values()].map(async (p) => {
    const r = { i: p.i, downs: p.downs, up: null, down: null };
    const pub = pcOf(p.pub);
    if (pub) {
      const s = await pub.getStats();
      r.up = { bytes: 0, hdr: 0, pkts: 0, t: 0 };
      s.forEach((x) => {
        if (x.type === 'outbound-rtp' && x.kind === 'audio') {
          r.up.bytes += x.bytesSent || 0; r.up.hdr += x.headerBytesSent || 0; r.up.pkts += x.packetsSent || 0;
          r.up.t = Math.max(r.up.t, x.timestamp);
        }
      });
    }
    const sub = pcOf(p.sub);
    if (sub) {
      const s = await sub.getStats();
      r.down = [];
      r.downT = 0;
      s.forEach((x) => {
        if (x.type === 'inbound-rtp' && x.kind === 'audio') {
          r.downT = Math.max(r.downT, x.timestamp);
          r.down.push([x.id, x.bytesReceived || 0, x.headerBytesReceived || 0, x.packetsReceived || 0,
            x.packetsLost || 0, x.concealedSamples || 0, x.totalSamplesReceived || 0, x.jitter || 0]);
        }
      });
    }
    out.push(r);
  }));
  return { t: performance.now(), parts: out, maxGapMs: maxGap };
}

window.bench = { join, listen, stats, count: () => parts.size };
window.benchReady = true;
`;

function serve() {
  const files = {
    '/bench.html': ['text/html', PAGE],
    '/bench.js': ['text/javascript', BENCH_JS],
    '/janus.es.js': ['text/javascript', readFileSync(JANUS_JS)],
    '/adapter.js': ['text/javascript', readFileSync(ADAPTER_JS)],
  };
  const srv = http.createServer((req, res) => {
    const f = files[new URL(req.url, 'http://x').pathname];
    if (!f && req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

/* ---- Janus: tokens and rooms ---- */

async function makeRooms(j, rooms) {
  const env = j.env;
  const admin = await j.connect(true);
  const api = await j.connect(false);
  for (const room of rooms) {
    for (const token of room.tokens) {
      const a = await admin.request({ janus: 'add_token', token, plugins: ['janus.plugin.videoroom'] }, { admin: true });
      if (a.janus !== 'success') throw new Error(`add_token: ${JSON.stringify(a)}`);
    }
  }
  const s = await api.request({ janus: 'create' }, { secret: true });
  if (s.janus !== 'success') throw new Error(`create: ${JSON.stringify(s)}`);
  const session_id = s.data.id;
  const keepalive = setInterval(() => api.request({ janus: 'keepalive', session_id }, { secret: true }).catch(() => {}), 20000);
  const h = await api.request({ janus: 'attach', session_id, plugin: 'janus.plugin.videoroom' }, { secret: true });
  if (h.janus !== 'success') throw new Error(`attach: ${JSON.stringify(h)}`);
  for (const room of rooms) {
    /* As server/voice/janus.c send_room_create does. */
    const made = await api.request({ janus: 'message', session_id, handle_id: h.data.id, body: {
      request: 'create', room: room.number, permanent: false, description: room.name, admin_key: env.JANUS_ROOM_KEY,
      allowed: room.tokens, audiolevel_event: true, audio_active_packets: 40, audio_level_average: 25,
      publishers: room.publishers, audiocodec: 'opus', notify_joining: false,
    } }, { secret: true });
    if (made.plugindata?.data?.videoroom !== 'created') throw new Error(`create room: ${JSON.stringify(made)}`);
  }
  return { close() { clearInterval(keepalive); admin.close(); api.close(); } };
}

/* ---- the run ---- */

function participants(sc) {
  const base = SCENARIOS[sc];
  const list = [];
  if (sc === 'breakout') {
    const n = opt.listeners ?? base.people;
    for (let i = 0; i < n; i++) list.push({ i, id: 1000 + i, speaks: true, room: 'breakout' });
    for (const p of list) p.feeds = list.filter((q) => q !== p).map((q) => q.id);
  } else if (sc === 'plenary') {
    const n = opt.listeners ?? base.people;
    const speakers = [];
    for (let i = 0; i < 3; i++) speakers.push({ i, id: 1000 + i, speaks: true, room: 'plenary', feeds: [] });
    list.push(...speakers);
    for (let i = 0; i < n; i++) list.push({ i: 3 + i, id: 2000 + i, speaks: false, room: 'plenary', feeds: speakers.map((s) => s.id) });
  }
  for (const p of list) p.token = `bench-${process.pid}-${p.id}-${Math.random().toString(36).slice(2, 10)}`;
  return list;
}

/* Pages (or workers): the speakers of a plenary on one of their own; everyone
 * else perPage at a time (aiortc: spread over --procs workers). */
function paginate(sc, list) {
  const crowd = sc === 'plenary' ? list.filter((p) => !p.speaks).length : list.length;
  const per = opt.engine === 'aiortc' ? Math.max(1, Math.ceil(crowd / (opt.procs ?? 2)))
    : opt['per-page'] ?? SCENARIOS[sc].perPage;
  const pages = [];
  const groups = sc === 'plenary' ? [list.filter((p) => p.speaks), list.filter((p) => !p.speaks)] : [list];
  for (const g of groups) for (let k = 0; k < g.length; k += per) pages.push(g.slice(k, k + per));
  return pages;
}

/* Where simulated participants live: a Chromium page or a voice_peer.py
 * worker, behind the same four calls (what window.bench has). */
async function chromiumHosts(groups, browser, base) {
  const hosts = [];
  for (const [k, g] of groups.entries()) {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('crash', () => errors.push(`page ${k} crashed`));
    page.on('console', (m) => {
      if (m.type() === 'error' && errors.length < 20) errors.push(`console: ${m.text()}`);
    });
    await page.goto(`${base}/bench.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 20000 });
    hosts.push({
      group: g, k, errors,
      join: (o) => page.evaluate((x) => window.bench.join(x), o),
      listen: (o) => page.evaluate((x) => window.bench.listen(x), o),
      stats: () => page.evaluate(() => window.bench.stats()),
      ice: () => page.evaluate(() => window.iceConfigs),
      close: async () => {},
    });
  }
  return hosts;
}

/* A voice_peer.py worker: JSON lines both ways, answers matched by seq. It
 * ends when its stdin closes, or after maxSecs on its own. */
function aiortcHost(group, k, maxSecs) {
  const proc = spawn(PYTHON, [PEER_PY, '--max-secs', String(maxSecs)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const errors = [];
  const waiting = new Map();
  let seq = 0;
  let buf = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buf += d;
    for (let n = buf.indexOf('\n'); n >= 0; n = buf.indexOf('\n')) {
      const line = buf.slice(0, n);
      buf = buf.slice(n + 1);
      let m;
      try {
        m = JSON.parse(line);
      } catch {
        continue;
      }
      const w = waiting.get(m.seq);
      waiting.delete(m.seq);
      if (w) w(m);
    }
  });
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    for (const l of d.split('\n')) if (l.trim() && errors.length < 20) errors.push(`worker ${k}: ${l.trim()}`);
  });
  const gone = new Promise((r) => proc.once('exit', r));
  proc.once('exit', (c, sig) => {
    for (const w of waiting.values()) w({ ok: false, error: `worker ${k} exited (${c ?? sig})` });
    waiting.clear();
  });
  proc.stdin.on('error', () => {}); /* a worker gone: its answers say so */
  const call = (o) => new Promise((resolve, reject) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      reject(new Error(`worker ${k} is gone`));
      return;
    }
    const s = ++seq;
    waiting.set(s, (m) => (m.ok ? resolve(m.r) : reject(new Error(m.error))));
    proc.stdin.write(`${JSON.stringify({ ...o, seq: s })}\n`);
  });
  process.on('exit', () => proc.kill('SIGKILL'));
  return {
    group, k, errors, pid: proc.pid,
    join: (o) => call({ op: 'join', ...o }),
    listen: (o) => call({ op: 'listen', ...o }),
    stats: () => call({ op: 'stats' }),
    ice: async () => (await call({ op: 'ice' })).ice,
    close: async () => {
      proc.stdin.end();
      await Promise.race([gone, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

/* A page's answer within ms, or an error: a stalled page must not hold the run. */
async function bounded(promise, ms, what) {
  let t;
  const late = new Promise((_, rej) => {
    t = setTimeout(() => rej(new Error(`${what}: the page did not answer in ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(t);
  }
}

async function pool(items, n, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const it = items[next++];
      await fn(it);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

function gitCommit() {
  const r = spawnSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function version(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10000 });
  const m = re.exec(`${r.stdout || ''}${r.stderr || ''}`);
  return m ? m[1] : null;
}

async function main() {
  const sc = opt.scenario;
  const loadBefore = os.loadavg();
  const list = participants(sc);
  /* publishers: what janus.c gives a room, its capacity capped at VOICE_PUBLISHERS (100). */
  const roomDefs = [];
  if (sc === 'breakout' || sc === 'idle') {
    roomDefs.push({ key: 'breakout', number: 880001, name: 'bench breakout', publishers: sc === 'idle' ? 30 : list.length,
      tokens: sc === 'idle' ? [] : list.map((p) => p.token) });
  }
  if (sc === 'plenary' || sc === 'idle') {
    roomDefs.push({ key: 'plenary', number: 880002, name: 'bench plenary', publishers: 100,
      tokens: sc === 'idle' ? [] : list.map((p) => p.token) });
  }
  const roomNo = Object.fromEntries(roomDefs.map((r) => [r.key, r.number]));

  /* Janus, on our config, with a port per PeerConnection and some to spare. */
  const rtpPorts = `40000-${40000 + Math.max(200, 2 * list.length + 100)}`;
  const j = await startJanus({ extra: ['--rtp-ports', rtpPorts, '--ice-enforce', TUN_ADDR] });
  if (!j) throw new Error('no janus binary');
  const janusPid = j.proc.pid;
  const result = {
    tool: 'voice-load', scenario: sc, date: new Date().toISOString(),
    commit: gitCommit(), janus: version('janus', ['--version'], /Janus version: \d+ \(([^)]+)\)/),
    engine: opt.engine,
    chromium: sc === 'idle' || opt.engine !== 'chromium' ? null : version(CHROMIUM, ['--version'], /Chromium ([\d.]+)/),
    aiortc: sc === 'idle' || opt.engine !== 'aiortc' ? null
      : version(PYTHON, ['-c', 'import aiortc; print("aiortc", aiortc.__version__)'], /aiortc ([\d.]+)/),
    nproc: os.cpus().length, secs: opt.secs, play: opt.play,
    speakers: list.filter((p) => p.speaks).length, listeners: list.filter((p) => p.feeds?.length).length,
    what: sc === 'breakout' ? `${list.length} people, each publishing and hearing the other ${list.length - 1}`
      : sc === 'plenary' ? `3 speakers, ${list.length - 3} listeners each hearing the 3` : SCENARIOS.idle.what,
    janus_pid_ns: janusPid, ns_addr: ns.addr,
  };
  let rooms = null;
  let srv = null;
  let pages = [];
  try {
    rooms = await makeRooms(j, roomDefs);
    const janusStart = procStatus(janusPid);
    result.janus_rss_mb_rooms = r1(janusStart.rssKb / 1024);

    /* ---- connect everyone ---- */
    const connect = { pcs_expected: 0, pcs_up: 0, errors: [], pc_ms: [] };
    const tConnect0 = Date.now();
    const jt0 = procStat(janusPid).ticks;
    if (list.length) {
      const groups = paginate(sc, list);
      if (opt.engine === 'aiortc') {
        pages = groups.map((g, k) => aiortcHost(g, k, Math.ceil(overallMs / 1000)));
      } else {
        srv = await serve();
        const base = `http://127.0.0.1:${srv.address().port}`;
        const browser = await launchChromium({ args: (process.env.VOICE_LOAD_CHROMIUM_ARGS || '').split(' ').filter(Boolean) });
        pages = await chromiumHosts(groups, browser, base);
      }
      result.pages = pages.length;
      result.per_page = pages.map((p) => p.group.length);
      const deadline = tConnect0 + opt['connect-timeout'] * 1000;
      const pcMs = opt['pc-timeout'] * 1000;
      const left = () => Math.max(1000, Math.min(pcMs, deadline - Date.now()));
      const record = (what) => (e) => {
        if (connect.errors.length < 20) connect.errors.push(`${what}: ${String(e.message || e).split('\n')[0]}`);
      };
      /* First every participant joins (the speakers publish), then each subscribes to what it hears. */
      connect.pcs_expected = list.filter((p) => p.speaks).length + list.filter((p) => p.feeds.length).length;
      const joined = new Set();
      await Promise.all(pages.map((page) => pool(page.group, opt.concurrency, async (p) => {
        if (Date.now() > deadline) return;
        const ms = left();
        const r = await bounded(page.join({
          url: j.url, i: p.i, token: p.token, room: roomNo[p.room], id: p.id, publish: p.speaks, timeoutMs: ms,
        }), ms + 10000, `join ${p.id}`).catch(record(`join ${p.id}`));
        if (!r) return;
        joined.add(p.i);
        if (p.speaks && r.upMs != null) {
          connect.pcs_up++;
          connect.pc_ms.push(r.upMs);
        }
      })));
      connect.publishers_s = r1((Date.now() - tConnect0) / 1000);
      await Promise.all(pages.map((page) => pool(page.group.filter((p) => p.feeds.length && joined.has(p.i)), opt.concurrency, async (p) => {
        if (Date.now() > deadline) return;
        const ms = left();
        const r = await bounded(page.listen({
          i: p.i, room: roomNo[p.room], feeds: p.feeds, play: opt.play, timeoutMs: ms,
        }), ms + 10000, `listen ${p.id}`).catch(record(`listen ${p.id}`));
        if (!r) return;
        if (process.env.VOICE_LOAD_DEBUG) log(`listen ${p.id}: up in ${Math.round(r.upMs)} ms, page timers late by up to ${Math.round(r.maxGapMs)} ms`);
        connect.pcs_up++;
        connect.pc_ms.push(r.upMs);
      })));
    }
    const connectSecs = (Date.now() - tConnect0) / 1000;
    result.connect = {
      pcs_expected: connect.pcs_expected, pcs_up: connect.pcs_up, complete: connect.pcs_up === connect.pcs_expected,
      wall_s: r1(connectSecs), publishers_s: connect.publishers_s ?? null,
      pc_ms_p50: r1(quant(connect.pc_ms, 0.5)), pc_ms_p95: r1(quant(connect.pc_ms, 0.95)), pc_ms_max: r1(quant(connect.pc_ms, 1)),
      janus_cpu_s: r2((procStat(janusPid).ticks - jt0) / CLK_TCK), errors: connect.errors,
    };
    log(`connected ${connect.pcs_up}/${connect.pcs_expected} PeerConnections in ${connectSecs.toFixed(1)} s`
      + (connect.errors.length ? `; first errors: ${connect.errors.slice(0, 3).join('; ')}` : ''));
    if (opt.settle) await sleep(opt.settle * 1000);

    /* ---- measure ---- */
    /* A page that does not answer in 60 s counts as one with no PeerConnection. */
    let pagesLate = 0;
    const snapStats = async () => Promise.all(pages.map((page) => bounded(page.stats(), 60000, 'stats')
      .catch(() => {
        pagesLate++;
        return { t: 0, parts: [], maxGapMs: null };
      })));
    const s0 = await snapStats();
    const t0 = Date.now();
    const j0s = procStat(janusPid);
    const j0 = j0s.ticks;
    const c0 = generatorTicks(janusPid);
    const m0 = machineTicks();
    const h0 = process.cpuUsage();
    const lo0 = loBytes();
    const udp0 = udpStats();
    const rss = [];
    const perSec = [];
    let prevJ = j0;
    let prevT = t0;
    let threads = 0;
    while (Date.now() - t0 < opt.secs * 1000) {
      await sleep(Math.min(1000, opt.secs * 1000 - (Date.now() - t0)));
      const st = procStatus(janusPid);
      const jt = procStat(janusPid)?.ticks;
      if (!st || jt === undefined) throw new Error('janus exited during the measurement');
      rss.push(st.rssKb);
      threads = Math.max(threads, st.threads);
      const now = Date.now();
      if (now - prevT >= 500) perSec.push(pct(jt - prevJ, (now - prevT) / 1000));
      prevJ = jt;
      prevT = now;
    }
    const secs = (Date.now() - t0) / 1000;
    const j1s = procStat(janusPid);
    const j1 = j1s.ticks;
    const c1 = generatorTicks(janusPid);
    const m1 = machineTicks();
    const h1 = process.cpuUsage(h0);
    const lo1 = loBytes();
    const udp1 = udpStats();
    const s1 = await snapStats();
    if (process.env.VOICE_LOAD_DEBUG) log(`stats: ${JSON.stringify(s0[0].parts[0])} -> ${JSON.stringify(s1[0].parts[0])}`);
    const end = procStatus(janusPid);

    const janusPct = pct(j1 - j0, secs);
    const chromePct = pct(c1.ticks - c0.ticks, secs);
    const harnessPct = (100 * (h1.user + h1.system)) / 1e6 / secs;
    /* /proc/stat counts jiffies of every CPU: busy over the window, in % of one core. */
    const machinePct = (100 * (m1.busy - m0.busy)) / ((m1.total - m0.total) / result.nproc);
    result.cpu = {
      janus_pct: r1(janusPct), janus_user_pct: r1(pct(j1s.user - j0s.user, secs)), janus_sys_pct: r1(pct(j1s.sys - j0s.sys, secs)),
      janus_pct_max_1s: r1(Math.max(0, ...perSec)), janus_pct_min_1s: r1(perSec.length ? Math.min(...perSec) : null),
      generator_pct: r1(chromePct), generator_sys_pct: r1(pct(c1.sys - c0.sys, secs)), generator_procs: c1.procs, harness_pct: r1(harnessPct),
      ...(opt.engine === 'chromium' ? { chromium_pct: r1(chromePct), chromium_procs: c1.procs } : {}),
      machine_pct: r1(machinePct), irq_softirq_pct: r1((100 * (m1.irq - m0.irq)) / ((m1.total - m0.total) / result.nproc)), steal_pct: r1((100 * (m1.steal - m0.steal)) / ((m1.total - m0.total) / result.nproc)), other_pct: r1(machinePct - janusPct - chromePct - harnessPct),
      of: `% of one core; the machine has ${result.nproc}`,
    };
    result.janus_mem = {
      rss_mb_start: r1((rss[0] ?? end.rssKb) / 1024), rss_mb_peak: r1(Math.max(end.rssKb, ...rss) / 1024),
      rss_mb_end: r1(end.rssKb / 1024), hwm_mb: r1(end.hwmKb / 1024), threads,
    };

    /* ---- bandwidth, per PeerConnection ---- */
    const byI = (snaps) => {
      const m = new Map();
      snaps.forEach((s, k) => s.parts.forEach((p) => m.set(p.i, { ...p, t: s.t, page: k })));
      return m;
    };
    const a = byI(s0);
    const b = byI(s1);
    const kbps = (bytes, dt) => (bytes * 8) / dt / 1000;
    const WIRE = 8 + 20 + 10; /* UDP + IPv4 + SRTP auth tag, per packet, not in getStats */
    const up = { payload: [], rtp: [], wire: [], pps: [] };
    const down = { payload: [], rtp: [], wire: [], pps: [] };
    let streamsFlowing = 0;
    let streamsSeen = 0;
    let lost = 0;
    let pkts = 0;
    let concealed = 0;
    let samples = 0;
    const jitters = [];
    let downs = 0;
    for (const [i, p1] of b) {
      const p0 = a.get(i);
      if (!p0) continue;
      downs += p1.downs;
      /* Each PeerConnection's own stats time: a busy page answers late, its counters are still of that moment. */
      if (p1.up && p0.up && p1.up.t > p0.up.t) {
        const dt = (p1.up.t - p0.up.t) / 1000;
        const db = p1.up.bytes - p0.up.bytes;
        const dh = p1.up.hdr - p0.up.hdr;
        const dp = p1.up.pkts - p0.up.pkts;
        up.payload.push(kbps(db, dt));
        up.rtp.push(kbps(db + dh, dt));
        up.wire.push(kbps(db + dh + dp * WIRE, dt));
        up.pps.push(dp / dt);
      }
      /* A subscriber that never got media has no stats time: left out. */
      if (p1.down && p0.down && p0.downT > 0 && p1.downT > p0.downT) {
        const dt = (p1.downT - p0.downT) / 1000;
        const before = new Map(p0.down.map((x) => [x[0], x]));
        let db = 0;
        let dh = 0;
        let dp = 0;
        for (const x of p1.down) {
          const y = before.get(x[0]) || [x[0], 0, 0, 0, 0, 0, 0, 0];
          streamsSeen++;
          if (x[3] - y[3] > 0) streamsFlowing++;
          db += x[1] - y[1];
          dh += x[2] - y[2];
          dp += x[3] - y[3];
          lost += x[4] - y[4];
          concealed += x[5] - y[5];
          samples += x[6] - y[6];
          jitters.push(x[7]);
        }
        pkts += dp;
        down.payload.push(kbps(db, dt));
        down.rtp.push(kbps(db + dh, dt));
        down.wire.push(kbps(db + dh + dp * WIRE, dt));
        down.pps.push(dp / dt);
      }
    }
    const summary = (o) => ({
      n: o.payload.length, payload_kbps: r1(mean(o.payload)), rtp_kbps: r1(mean(o.rtp)), wire_kbps: r1(mean(o.wire)),
      wire_kbps_min: r1(o.wire.length ? Math.min(...o.wire) : null), wire_kbps_max: r1(o.wire.length ? Math.max(...o.wire) : null),
      pps: r1(mean(o.pps)),
    });
    const streamsExpected = list.reduce((s, p) => s + (p.feeds?.length || 0), 0);
    result.bw = {
      per_publisher_up: summary(up),
      per_listener_down: summary(down),
      streams_expected: streamsExpected, streams_seen: streamsSeen, streams_flowing: streamsFlowing,
      /* Packets the listeners' browsers counted, of the 50 a second each stream should bring. */
      received_pct: r1(streamsExpected ? (100 * down.pps.reduce((x, y) => x + y, 0)) / (50 * streamsExpected) : null),
      per_stream_down_wire_kbps: r1(streamsSeen ? down.wire.reduce((x, y) => x + y, 0) / streamsSeen : null),
      loss_pct: r2(pkts + lost > 0 ? (100 * lost) / (pkts + lost) : null),
      jitter_ms_p50: r1(jitters.length ? 1000 * quant(jitters, 0.5) : null),
      concealed_pct: r2(samples > 0 ? (100 * concealed) / samples : null),
      pc_downs: downs,
      lo_total_kbps: r1(kbps(lo1.bytes - lo0.bytes, secs)),
      lo_pps: r1((lo1.pkts - lo0.pkts) / secs),
      /* UDP datagrams a second delivered to sockets, and dropped at a full receive buffer or a closed port */
      udp: udp0 && udp1 ? Object.fromEntries(Object.keys(udp0).map((key) => [`${key}_per_s`, r1((udp1[key] - udp0[key]) / secs)])) : null,
      /* Opus in 20 ms packets: 50 a second on each stream, up and down. */
      expected_media_pps: 50 * (streamsExpected + list.filter((p) => p.speaks).length),
      note: 'payload: RTP payload (getStats bytes); rtp: + RTP headers; wire: + UDP, IPv4 and SRTP tag (38 B a packet); lo_total, lo_pps: every packet in the namespace (media, RTCP, signalling; lo counts 14 B more a packet), counted once',
    };
    const errs = pages.flatMap((p) => p.errors);
    const ice = await Promise.all(pages.map((page) => bounded(page.ice(), 20000, 'ice').catch(() => [])));
    result.pages_without_stats = pagesLate;
    result.page_timers_late_ms_max = r1(Math.max(0, ...s1.map((x) => x.maxGapMs ?? 0)));
    result.ice_servers_used = ice.flat().filter((c) => c !== '[]').length;
    result.page_errors = errs.slice(0, 10);
    result.load = { before: loadBefore.map(r2), after: os.loadavg().map(r2), ...loadWait };
    return result;
  } finally {
    if (rooms) rooms.close();
    await Promise.race([stopAll(), sleep(20000)]);
    await Promise.all(pages.map((p) => p.close()));
    if (srv) srv.close();
    const janusLog = join(j.dir, 'janus.log');
    /* VOICE_LOAD_JANUS_LOG=FILE keeps Janus' log of the run there. */
    if (process.env.VOICE_LOAD_JANUS_LOG && existsSync(janusLog)) copyFileSync(janusLog, process.env.VOICE_LOAD_JANUS_LOG);
    await j.cleanup();
  }
}

function table(r) {
  const c = r.connect;
  const bw = r.bw;
  const head = `| scenario | PCs up | connect s (PC p50 / max ms) | Janus CPU % (max 1 s) | Janus RSS MB (rooms / end / peak) | threads | up kbit/s per publisher | down kbit/s per listener | per stream | streams flowing | packets received % | loss % | lo packets/s (expected media) | ${r.engine} CPU % | other % | load 1 min before / after |`;
  const sep = '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const row = `| ${r.scenario}${r.play ? ' (played)' : ''} | ${c.pcs_up}/${c.pcs_expected} | ${c.wall_s} (${c.pc_ms_p50 ?? '-'} / ${c.pc_ms_max ?? '-'}) | ${r.cpu.janus_pct} (${r.cpu.janus_pct_max_1s}) | `
    + `${r.janus_rss_mb_rooms} / ${r.janus_mem.rss_mb_end} / ${r.janus_mem.rss_mb_peak} | ${r.janus_mem.threads} | `
    + `${bw.per_publisher_up.wire_kbps ?? '-'} | ${bw.per_listener_down.wire_kbps ?? '-'} | ${bw.per_stream_down_wire_kbps ?? '-'} | `
    + `${bw.streams_flowing}/${bw.streams_expected} | ${bw.received_pct ?? '-'} | ${bw.loss_pct ?? '-'} | ${bw.lo_pps} (${bw.expected_media_pps}) | ${r.cpu.generator_pct} | ${r.cpu.other_pct} | ${r.load.before[0]} / ${r.load.after[0]} |`;
  return `${head}\n${sep}\n${row}\n`;
}

let code = 0;
try {
  const r = await main();
  process.stdout.write(`${JSON.stringify(r)}\n\n${table(r)}`);
  if (!r.connect.complete) {
    log(`only ${r.connect.pcs_up} of ${r.connect.pcs_expected} PeerConnections came up: the numbers are for those`);
    code = 3;
  }
} catch (e) {
  log(`failed: ${e.stack || e.message}`);
  code = 1;
}
clearTimeout(watchdog);
process.exit(code);
