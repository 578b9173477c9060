#!/usr/bin/env node
// load.mjs - a load benchmark for venued: many avatars in one room.
//
// Starts a venued (or measures one already running on 127.0.0.1), forks
// worker processes that open N WebSocket clients (subprotocol venue.v1),
// each says hello and joins one room; a fraction of them then walk and send
// poses at a given rate. After a warm-up it measures for a fixed time:
// connect+join time, poses frames and bytes per client per second, pose
// entries per frame, end-to-end pose latency (probe clients stamp a pose,
// observer clients time when they see it), the server's CPU and RSS from
// /proc, and tick duration, drops and fan-out bytes from /metrics.
//
//   node tests/bench/load.mjs --clients 500 --duration 20
//   node tests/bench/load.mjs --help
//
// Everything is bounded in time and stops by itself. It only ever talks to
// 127.0.0.1. The load generator shares the machine with the server; its
// own CPU use is measured and reported beside the server's.

import { fork, spawn, execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { openPaced } from './pace.mjs';

const HERE = import.meta.dirname;
const ROOT = process.env.VENUE_ROOT ?? path.resolve(HERE, '../..');
const HOST = '127.0.0.1'; // never anything else

/* Milliseconds on CLOCK_MONOTONIC: the same clock in every process on the
 * machine, so a probe's send time and an observer's receive time compare. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

const OPTIONS = {
  clients: [100, 'simulated avatars, all in one room'],
  movers: [1.0, 'fraction of the clients that walk and send poses (0..1)'],
  rate: [20, 'poses per second each mover sends'],
  duration: [20, 'measured seconds'],
  warmup: [3, 'seconds of walking before the measurement starts'],
  workers: [0, 'load-generator processes (0: min(cores, ceil(clients/100)))'],
  probes: [4, 'movers that stamp poses for the latency measurement'],
  'probe-interval': [250, 'milliseconds between a probe\'s stamps (above the tick period)'],
  observers: [20, 'clients that read every poses frame (entries, tick gaps, probe sightings)'],
  'connect-rate': [200, 'connections opened per second, all workers together'],
  'join-timeout': [60, 'seconds allowed for all clients to connect and join'],
  speed: [1.4, 'walking speed in m/s (the server allows 10)'],
  settle: [0, 'seconds to wait after everyone joined before anyone walks (lets the join traffic drain)'],
  'walk-ramp': [0, 'seconds over which the movers start walking (0: all in the first period)'],
  room: ['arena', 'room to join'],
  bin: ['', 'venued to start (default $VENUED_BIN, else build-bench/server/venued)'],
  scenes: [path.join(ROOT, 'tests/bench/venue'), 'scene folder for the venued started here'],
  web: [path.join(ROOT, 'web-client'), 'web folder for the venued started here'],
  'server-flag': [[], 'extra venued flag NAME=VALUE (repeatable), e.g. tick-hz=30'],
  port: [0, 'measure a venued already listening on 127.0.0.1:PORT instead of starting one'],
  pid: [0, 'with --port: that venued\'s pid, for CPU and RSS'],
  label: ['', 'free text stored with the result'],
  json: ['', 'append the result as one JSON line to this file'],
  'quiet-wait': [0, 'first wait up to this many seconds for the machine to be under 25% busy (shared machines)'],
  check: [false, 'smoke mode: exit 1 unless the basic numbers are sane'],
  timeline: [false, 'also print the server\'s per-second timeline (ticks, drops, CPU) from connect to end'],
  ingest: [0, 'NGSI-LD notifications per second posted to /ngsi-ld/v1/notify from the walk to the end (0: none)'],
  'ingest-entities': [6, 'entities per notification (the arena\'s showcase binds bench-0..5)'],
};

/* The key the venued started here takes for the ingest. */
const INGEST_KEY = 'load-mjs-ingest-key-0123456789';

/* Flags the started venued gets unless --server-flag overrides them: a big
 * crowd's joined roster (about 200 bytes a person) and its poses frames
 * (about 95 bytes an entry) must fit the outgoing queue; every client
 * comes from one address, faster than --hello-rate lets one address in. */
const SERVER_DEFAULTS = {
  'queue-max': 16 * 1024 * 1024, 'queue-frames': 4096, 'hello-rate': 1000000, 'hello-burst': 1000000,
};

function usage() {
  const lines = ['usage: node tests/bench/load.mjs [--flag value]...', ''];
  for (const [k, [def, help]] of Object.entries(OPTIONS))
    lines.push(`  --${k.padEnd(16)} ${help}${Array.isArray(def) || def === '' || def === false ? '' : ` (${def})`}`);
  lines.push('', `The started venued also gets ${Object.entries(SERVER_DEFAULTS).map(([k, v]) => `--${k} ${v}`).join(' ')}.`);
  return lines.join('\n');
}

function parseArgs(argv) {
  const o = {};
  for (const [k, [def]] of Object.entries(OPTIONS)) o[k] = Array.isArray(def) ? [] : def;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(usage()); process.exit(0); }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m || !(m[1] in OPTIONS)) throw new Error(`unknown argument ${a}\n${usage()}`);
    const def = OPTIONS[m[1]][0];
    if (typeof def === 'boolean') { o[m[1]] = true; continue; }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    if (Array.isArray(def)) o[m[1]].push(v);
    else if (typeof def === 'number') {
      o[m[1]] = Number(v);
      if (!Number.isFinite(o[m[1]])) throw new Error(`--${m[1]}: not a number: ${v}`);
    } else o[m[1]] = v;
  }
  if (!(o.clients >= 1) || !Number.isInteger(o.clients)) throw new Error('--clients: a whole number >= 1');
  if (!(o.movers >= 0 && o.movers <= 1)) throw new Error('--movers: a fraction 0..1');
  if (!(o.rate > 0 && o.rate <= 60)) throw new Error('--rate: 0 < rate <= 60 (the server\'s default pose limit)');
  if (!(o.duration > 0 && o.duration <= 3600)) throw new Error('--duration: 0 < seconds <= 3600');
  if (!(o.speed > 0 && o.speed < 10)) throw new Error('--speed: below the server\'s 10 m/s');
  if (!(o.settle >= 0 && o.settle <= 600)) throw new Error('--settle: 0..600 seconds');
  if (!(o['walk-ramp'] >= 0 && o['walk-ramp'] <= o.warmup)) throw new Error('--walk-ramp: 0..warmup seconds');
  if (!(o['probe-interval'] >= 150)) throw new Error('--probe-interval: at least 150 ms (two ticks of 50 ms and some)');
  return o;
}

/* ---- small helpers ---------------------------------------------------------- */

function pct(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return { n: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null };
  return {
    n: s.length, min: s[0], p10: pct(s, 0.1), p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99), max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/* utime+stime in clock ticks, from /proc/PID/stat (fields 14 and 15). */
function procTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return null; }
}
/* [ns on a CPU, ns runnable but waiting for one] of PID's main thread. */
function schedStat(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return [f[0], f[1]];
  } catch { return null; }
}
function procMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) ?? [])[1] ?? NaN);
    return { rssKB: kb('VmRSS'), hwmKB: kb('VmHWM') };
  } catch { return null; }
}
/* Machine CPU busy in % (100 per core) over the next ms milliseconds. */
async function busyOver(ms) {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  return (100 * os.availableParallelism() * (b[0] - a[0])) / Math.max(1, b[1] - a[1]);
}
/* Whole-machine CPU: [busy, total] ticks from the first line of /proc/stat. */
function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - f[3] - f[4], total];
}
let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* keep 100 */ }

function httpGet(port, p, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: p, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/* One NGSI-LD notification of k AirQualityObserved entities, normalized. */
function notification(k, seq) {
  const at = new Date().toISOString();
  const data = [];
  for (let i = 0; i < k; i++) {
    data.push({
      id: `urn:ngsi-ld:AirQualityObserved:bench-${i}`, type: 'AirQualityObserved',
      no2: { type: 'Property', value: 20 + ((seq + i) % 50), unitCode: 'GQ', observedAt: at },
      pm10: { type: 'Property', value: 10 + ((seq * 3 + i) % 30), unitCode: 'GQ', observedAt: at },
      temperature: { type: 'Property', value: 12.5, unitCode: 'CEL', observedAt: at },
    });
  }
  return JSON.stringify({ id: `urn:ngsi-ld:Notification:bench-${seq}`, type: 'Notification',
    subscriptionId: 'urn:ngsi-ld:Subscription:bench', notifiedAt: at, data });
}

function httpPost(port, p, headers, body, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, path: p, method: 'POST', timeout: timeoutMs,
      headers: { ...headers, 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/*
 * Post o.ingest notifications a second, paced on the clock, from start to
 * end; counts what the window [winStart, winEnd) got. Bounded: it stops
 * at end, and never has more than 64 requests in flight.
 */
async function ingestLoad(o, port, start, end, winStart, winEnd) {
  const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${INGEST_KEY}` };
  const st = { sent: 0, ok: 0, busy: 0, failed: 0, ms: [] };
  const pending = new Set();
  await sleep(Math.max(0, start - now()));
  for (let seq = 0; now() < end; seq++) {
    const due = start + (seq * 1000) / o.ingest;
    if (due > now()) await sleep(due - now());
    if (now() >= end) break;
    if (pending.size >= 64) { await Promise.race(pending); continue; }
    const t0 = now(), inWin = t0 >= winStart && t0 < winEnd;
    const p = httpPost(port, '/ngsi-ld/v1/notify', headers, notification(o['ingest-entities'], seq)).then((status) => {
      if (!inWin) return;
      st.sent++;
      if (status === 200) { st.ok++; st.ms.push(now() - t0); } else if (status === 429) st.busy++; else st.failed++;
    }, () => { if (inWin) { st.sent++; st.failed++; } });
    pending.add(p);
    p.finally(() => pending.delete(p));
  }
  await Promise.allSettled([...pending]);
  return st;
}

/* Prometheus text: { 'name{labels}': value }. */
function parseProm(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#') continue;
    const i = line.lastIndexOf(' ');
    out[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return out;
}
async function scrape(port) {
  const t = now();
  try {
    const r = await httpGet(port, '/metrics');
    return { t, t1: now(), m: r.status === 200 ? parseProm(r.body) : null };
  } catch (err) {
    return { t, t1: now(), m: null, error: String(err.message ?? err) };
  }
}

/* Quantile of a Prometheus histogram's delta between two scrapes, by
 * linear interpolation inside the bucket (as histogram_quantile does). */
function histQuantile(a, b, name, q) {
  const les = Object.keys(b).filter((k) => k.startsWith(`${name}_bucket{le="`))
    .map((k) => ({ k, le: k.includes('+Inf') ? Infinity : Number(/le="([^"]+)"/.exec(k)[1]) }))
    .sort((x, y) => x.le - y.le);
  const cum = les.map(({ k, le }) => ({ le, c: (b[k] ?? 0) - (a[k] ?? 0) }));
  const total = cum.length ? cum[cum.length - 1].c : 0;
  if (!total) return null;
  const rank = q * total;
  let prevLe = 0, prevC = 0;
  for (const { le, c } of cum) {
    if (c >= rank) {
      if (le === Infinity) return { above: prevLe };
      return { value: prevLe + (le - prevLe) * (c > prevC ? (rank - prevC) / (c - prevC) : 1), bucket: [prevLe, le] };
    }
    prevLe = le; prevC = c;
  }
  return null;
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, HOST, r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/* ---- walking ---------------------------------------------------------------- */

/* The walkable area of a scene as the server sees it (boxes and polygons
 * on the floor), minus portal triggers (walking into one would take the
 * avatar to another room). */
function makeFloor(scene) {
  const shapes = (scene.walk ?? []).map((w) => (w.polygon ? { poly: w.polygon } : { min: w.min, max: w.max }));
  const portals = (scene.portals ?? []).map((p) => p.trigger);
  const inShape = (s, x, z) => {
    if (s.min) return x >= s.min[0] && x <= s.max[0] && z >= s.min[1] && z <= s.max[1];
    let inside = false;
    const v = s.poly;
    for (let i = 0, j = v.length - 1; i < v.length; j = i++) {
      if ((v[i][1] > z) !== (v[j][1] > z) && x < ((v[j][0] - v[i][0]) * (z - v[i][1])) / (v[j][1] - v[i][1]) + v[i][0])
        inside = !inside;
    }
    return inside;
  };
  const M = 0.5; // stay half a metre clear of edges and portals
  const ok = (x, z) => shapes.some((s) => inShape(s, x, z)) &&
    !portals.some((t) => x >= t.min[0] - M && x <= t.max[0] + M && z >= t.min[2] - M && z <= t.max[2] + M);
  return (x, z) => ok(x, z) && ok(x + M, z) && ok(x - M, z) && ok(x, z + M) && ok(x, z - M);
}

/* ============================================================================ */
/* Worker: drives its share of the clients.                                      */
/* ============================================================================ */

function runWorker() {
  let cfg = null;
  let floor = null;
  const clients = [];
  let go = null; // { walkStart, winStart, winEnd, probes: [uid] }
  let probePats = []; // Buffer of '"u-...","p":[' per probe, same order as go.probes
  const sightings = []; // [probeIdx, stamp, t] first seen by an observer
  const intervals = []; // ms between consecutive poses frames at an observer
  const stampSends = []; // [probeIdx, stamp, t] when a probe sent a new stamp
  const lag = monitorEventLoopDelay({ resolution: 10 });
  let sendTimer = null;
  let reported = false;

  const ID_PAT = Buffer.from('{"id":"');
  const POSES_HEAD = '{"type":"poses","tick":'.length;

  function send(c, obj) {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  function onPoses(c, data, t) {
    const inWin = go && t >= go.winStart && t < go.winEnd;
    if (inWin) c.frames++;
    if (!c.observer || !go) return;
    // tick: digits right after the fixed head
    let tick = 0;
    for (let k = POSES_HEAD; k < data.length; k++) {
      const d = data[k] - 48;
      if (d < 0 || d > 9) break;
      tick = tick * 10 + d;
    }
    if (inWin) {
      if (c.lastTick && tick > c.lastTick + 1) c.tickGaps += tick - c.lastTick - 1;
      if (c.lastFrameAt) intervals.push(t - c.lastFrameAt);
      let n = 0;
      for (let k = data.indexOf(ID_PAT, POSES_HEAD); k >= 0; k = data.indexOf(ID_PAT, k + 20)) n++;
      c.entries += n;
      c.entryFrames++;
      if (n < c.entriesMin) c.entriesMin = n;
      if (n > c.entriesMax) c.entriesMax = n;
    }
    c.lastTick = tick;
    c.lastFrameAt = t;
    for (let j = 0; j < probePats.length; j++) {
      const k = data.indexOf(probePats[j], POSES_HEAD);
      if (k < 0) continue;
      const s = k + probePats[j].length;
      const e = data.indexOf(93, s); // ']'
      const y = Number(data.toString('latin1', s, e).split(',')[1]);
      if (!(y >= 0.9)) continue; // not stamped yet
      const stamp = Math.round((y - 1) * 1000);
      if (stamp !== c.seen[j]) {
        c.seen[j] = stamp;
        sightings.push([j, stamp, t]);
      }
    }
  }

  function onMessage(c, data, t) {
    // Every server message starts {"type":" (9 bytes): the type decides
    // how much work the message is worth.
    if (go && t >= go.winStart && t < go.winEnd) c.bytes += data.length;
    const b9 = data[9], b10 = data[10];
    if (b9 === 112 && b10 === 111 && data[13] === 115 && data[14] === 34) return onPoses(c, data, t); // poses
    if (b9 === 112 && b10 === 114) { c.presence++; return; } // presence
    if (b9 === 106) return onJoined(c, data, t); // joined
    let m;
    try { m = JSON.parse(data.toString()); } catch { c.errors.unparsable = (c.errors.unparsable ?? 0) + 1; return; }
    if (m.type === 'welcome') {
      c.uid = m.user.id;
      tickHz = m.tick_hz;
      send(c, { type: 'join', id: 2, room: cfg.room });
    } else if (m.type === 'pose') { // server correction
      c.corrections[m.reason] = (c.corrections[m.reason] ?? 0) + 1;
      c.p = m.p.slice();
    } else if (m.type === 'error') {
      c.errors[m.code] = (c.errors[m.code] ?? 0) + 1;
      if (!c.joinedAt && !c.failed) fail(c, `error ${m.code}: ${m.message}`);
    }
  }

  function onJoined(c, data, t) {
    if (c.joinedAt) { c.rejoins++; return; }
    // Our own entry holds the spawn pose: find it without parsing a roster
    // that may be a megabyte.
    const k = data.indexOf(`{"id":"${c.uid}"`);
    const s = k < 0 ? -1 : data.indexOf('"p":[', k);
    if (s < 0) return fail(c, 'joined without our own entry');
    const e = data.indexOf(']', s);
    c.p = data.toString('latin1', s + 5, e).split(',').map(Number);
    c.joinedAt = t;
    c.joinMs = t - c.startedAt;
    pending--;
    maybeReady();
  }

  function fail(c, why) {
    if (c.failed || c.joinedAt) return;
    c.failed = why;
    pending--;
    try { c.ws.terminate(); } catch { /* gone */ }
    maybeReady();
  }

  let pending = 0;
  let tickHz = null;
  function maybeReady() {
    if (pending > 0 || !cfg || opened < cfg.clients.length) return;
    process.send({
      ev: 'ready',
      joined: clients.filter((c) => c.joinedAt).map((c) => [c.i, c.joinMs]),
      failed: clients.filter((c) => c.failed).map((c) => [c.i, c.failed]),
      probes: clients.filter((c) => c.probe && c.joinedAt).map((c) => [c.i, c.uid]),
      tickHz,
    });
  }

  let opened = 0;
  function open(spec) {
    const c = {
      ...spec, ws: null, uid: null, p: [0, 0, 0], yaw: Math.random() * 2 * Math.PI, startedAt: now(),
      joinedAt: 0, joinMs: 0, failed: null, rejoins: 0, frames: 0, bytes: 0, presence: 0,
      entries: 0, entryFrames: 0, entriesMin: Infinity, entriesMax: 0, lastTick: 0, tickGaps: 0,
      seen: [], corrections: {}, errors: {}, closed: null, nextSend: 0, lastSend: 0, stamp: -1, y: 0, sent: 0,
    };
    clients.push(c);
    opened++;
    pending++;
    const ws = new WebSocket(cfg.url, 'venue.v1', {
      perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 256 * 1024 * 1024, handshakeTimeout: 30000,
    });
    c.ws = ws;
    ws.on('open', () => send(c, { type: 'hello', id: 1, name: `bench-${c.i}` }));
    ws.on('message', (data) => onMessage(c, data, now()));
    ws.on('error', (err) => { c.lastError = String(err.message ?? err); });
    ws.on('close', (code, reason) => {
      c.closed = { code, reason: String(reason), t: now() };
      if (!c.joinedAt) fail(c, `closed ${code} ${reason} ${c.lastError ?? ''}`.trim());
    });
  }

  /* One timer walks every mover whose next pose is due, so the sends of a
   * worker spread evenly over the period instead of leaving in bursts. */
  function walkStep() {
    const t = now();
    if (t >= go.winEnd) return;
    const period = 1000 / cfg.rate;
    for (const c of clients) {
      if (!c.mover || !c.joinedAt || c.nextSend > t || c.ws.readyState !== WebSocket.OPEN) continue;
      const dt = Math.min(0.25, (t - (c.lastSend || t - period)) / 1000);
      c.nextSend = c.nextSend + period > t ? c.nextSend + period : t + period;
      c.lastSend = t;
      // wander: turn a little now and then, turn away from edges
      if (Math.random() < 0.02) c.yaw += (Math.random() - 0.5) * 2;
      let step = cfg.speed * dt;
      let x = c.p[0] - Math.sin(c.yaw) * step, z = c.p[2] - Math.cos(c.yaw) * step;
      for (let tries = 0; tries < 8 && !floor(x, z); tries++) {
        c.yaw = Math.random() * 2 * Math.PI;
        x = c.p[0] - Math.sin(c.yaw) * step;
        z = c.p[2] - Math.cos(c.yaw) * step;
      }
      if (floor(x, z)) { c.p[0] = x; c.p[2] = z; }
      sendPose(c);
    }
  }

  function sendPose(c) {
    const h = c.yaw / 2;
    c.ws.send(`{"type":"pose","p":[${c.p[0].toFixed(3)},${c.y.toFixed(3)},${c.p[2].toFixed(3)}],` +
      `"q":[0,${Math.sin(h).toFixed(5)},0,${Math.cos(h).toFixed(5)}]}`);
    c.sent++;
  }

  /*
   * A probe's k-th stamp leaves at a random moment of its k-th interval, as
   * an extra pose where it stands (its regular poses then carry the stamp
   * on), so the wait for the server's next tick is uniform over the tick
   * period rather than fixed by the phase between the probe's own sends
   * and the ticks. Stamps are at least a tick apart, so none is
   * overwritten before a tick takes it.
   */
  function scheduleStamp(c, k) {
    const margin = 1000 / (tickHz || 20) + 10;
    const at = go.walkStart + k * cfg.probeInterval + Math.random() * Math.max(0, cfg.probeInterval - margin);
    if (at >= go.winEnd) return;
    setTimeout(() => {
      if (c.ws.readyState === WebSocket.OPEN) {
        c.stamp = k;
        c.y = 1 + (k % 4000) / 1000; // the stamp rides in the height, which the server keeps
        sendPose(c);
        stampSends.push([c.probeIdx, k % 4000, now()]);
      }
      scheduleStamp(c, k + 1);
    }, Math.max(0, at - now()));
  }

  function report() {
    if (reported) return;
    reported = true;
    clearInterval(sendTimer);
    lag.disable();
    const span = (go.winEnd - go.winStart) / 1000;
    process.send({
      ev: 'result',
      clients: clients.filter((c) => c.joinedAt).map((c) => ({
        i: c.i, mover: c.mover, observer: c.observer,
        framesPerSec: c.frames / span, bytesPerSec: c.bytes / span,
        entries: c.entries, entryFrames: c.entryFrames,
        entriesMin: c.entryFrames ? c.entriesMin : null, entriesMax: c.entryFrames ? c.entriesMax : null,
        tickGaps: c.tickGaps, corrections: c.corrections, errors: c.errors, rejoins: c.rejoins,
        closed: c.closed && c.closed.t < go.winEnd ? { code: c.closed.code, reason: c.closed.reason, inWindow: c.closed.t >= go.winStart } : null,
        sent: c.sent,
      })),
      sightings, stampSends, intervals: summary(intervals),
      lagMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    });
  }

  process.on('message', (msg) => {
    if (msg.cmd === 'init') {
      cfg = msg.cfg;
      floor = makeFloor(cfg.scene);
      openPaced(cfg.clients, cfg.connectRate, open);
      maybeReady(); // a worker with no clients is ready at once
      setTimeout(() => {
        for (const c of clients) if (!c.joinedAt) fail(c, 'not joined in time');
      }, cfg.joinTimeoutMs).unref();
    } else if (msg.cmd === 'go') {
      go = msg;
      probePats = go.probes.map((uid) => Buffer.from(`"${uid}","p":[`));
      for (const c of clients) {
        c.seen = go.probes.map(() => null);
        c.probeIdx = go.probes.indexOf(c.uid);
        // each mover starts at its own phase in the period, or somewhere in the ramp
        c.nextSend = go.walkStart + Math.random() * Math.max(1000 / cfg.rate, cfg.walkRampMs);
      }
      const t = now();
      for (const c of clients) if (c.probe && c.joinedAt) scheduleStamp(c, 0);
      setTimeout(() => {
        sendTimer = setInterval(walkStep, 4);
      }, Math.max(0, go.walkStart - t));
      setTimeout(() => { lag.reset(); lag.enable(); }, Math.max(0, go.winStart - t));
      // stamps are sent until a second before the end; their sightings
      // may come late when the server is saturated: wait for them
      setTimeout(report, Math.max(0, go.winEnd - t) + 1500);
    } else if (msg.cmd === 'exit') {
      for (const c of clients) { try { c.ws.terminate(); } catch { /* gone */ } }
      setTimeout(() => process.exit(0), 50);
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone: stop
}

/* ============================================================================ */
/* Parent: starts venued, the workers, and measures.                             */
/* ============================================================================ */

async function startServer(o) {
  const bin = o.bin || process.env.VENUED_BIN || path.join(ROOT, 'build-bench/server/venued');
  if (!fs.existsSync(bin)) throw new Error(`no venued at ${bin}: build it (see BENCHMARKS.md) or pass --bin`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-bench-'));
  const flags = { ...SERVER_DEFAULTS };
  if (o.ingest) Object.assign(flags, { 'ingest-key': INGEST_KEY, 'ingest-rate': Math.max(50, Math.ceil(o.ingest * 2)) });
  for (const kv of o['server-flag']) {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`--server-flag ${kv}: expected NAME=VALUE`);
    flags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', HOST, '--data', dataDir, '--scenes', o.scenes, '--web', o.web];
    for (const [k, v] of Object.entries(flags)) args.push(`--${k}`, String(v));
    let log = '';
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d) => { log += d; if (log.length > 100000) log = log.slice(-50000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = null;
    const done = new Promise((r) => child.on('close', (code, signal) => { exited = { code, signal }; r(exited); }));
    const end = Date.now() + 15000;
    while (Date.now() < end && !exited) {
      try { if ((await httpGet(port, '/healthz', 1000)).status === 200) break; } catch { /* not yet */ }
      await sleep(50);
    }
    if (!exited && Date.now() < end) {
      return {
        port, pid: child.pid, bin, args, flags, dataDir, log: () => log, exited: () => exited,
        async stop() {
          if (!exited) child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 10000);
          const r = await done;
          clearTimeout(t);
          fs.rmSync(dataDir, { recursive: true, force: true });
          return r;
        },
      };
    }
    if (!exited) child.kill('SIGKILL');
    await done;
    if (!/cannot listen/.test(log)) {
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`venued did not start:\n${log}`);
    }
  }
  throw new Error('venued: no free port after 3 tries');
}

function cpuInfo() {
  const ci = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(ci) ?? [])[1] ?? 'unknown';
  return { nproc: os.availableParallelism(), model, memGB: +(os.totalmem() / 2 ** 30).toFixed(1), kernel: os.release() };
}

async function runParent(o) {
  // what the rest of the machine is doing before we start
  let background = await busyOver(1000);
  for (let end = Date.now() + o['quiet-wait'] * 1000, said = 0; background > 25 && Date.now() < end;) {
    if (Date.now() - said > 30000) {
      process.stderr.write(`load.mjs: machine ${background.toFixed(0)}% busy before the start; waiting for < 25%\n`);
      said = Date.now();
    }
    background = await busyOver(2000);
  }

  const t00 = now();
  const hardDeadline = setTimeout(() => {
    console.error('load.mjs: overall time limit reached, stopping');
    cleanup().finally(() => process.exit(2));
  }, (o['join-timeout'] + o.settle + o.warmup + o.duration + 60) * 1000);
  hardDeadline.unref();

  let server = null;
  const workers = [];
  let cleaned = false;
  async function cleanup() {
    if (cleaned) return;
    cleaned = true;
    for (const w of workers) { try { w.send({ cmd: 'exit' }); } catch { /* gone */ } }
    await sleep(300);
    for (const w of workers) { try { w.kill('SIGKILL'); } catch { /* gone */ } }
    if (server) await server.stop();
  }
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.once(sig, () => { cleanup().finally(() => process.exit(130)); });

  let port = o.port, pid = o.pid;
  if (!port) {
    server = await startServer(o);
    port = server.port;
    pid = server.pid;
  }
  const sceneRes = await httpGet(port, `/api/scenes/${o.room}`);
  if (sceneRes.status !== 200) throw new Error(`/api/scenes/${o.room}: ${sceneRes.status} ${sceneRes.body}`);
  const scene = JSON.parse(sceneRes.body);
  const m0 = await scrape(port);

  // who is who: movers first, probes among them; observers spread out
  const N = o.clients;
  const nMovers = Math.round(N * o.movers);
  const nProbes = Math.min(o.probes, nMovers);
  const nObs = Math.min(o.observers, N);
  const observers = new Set();
  for (let j = 0; j < nObs; j++) observers.add(Math.floor((j * N) / nObs));
  const W = o.workers || Math.max(1, Math.min(os.availableParallelism(), Math.ceil(N / 100)));
  const specs = Array.from({ length: W }, () => []);
  for (let i = 0; i < N; i++)
    specs[i % W].push({ i, mover: i < nMovers, probe: i < nProbes, observer: observers.has(i) });

  const results = [];
  const ready = [];
  let onEv;
  for (let w = 0; w < W; w++) {
    const child = fork(import.meta.filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('message', (m) => onEv(w, m));
    child.on('exit', (code) => { if (!results[w]) console.error(`load.mjs: worker ${w} exited (${code}) early`); });
    workers.push(child);
  }
  const waitAll = (key, arr, ms) => new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    const prev = onEv;
    onEv = (w, m) => {
      if (m.ev === key) arr[w] = m;
      else prev?.(w, m);
      if (arr.filter(Boolean).length === W) { clearTimeout(t); resolve(); }
    };
  });

  // once a second from here to the end: the server's counters, for transients
  const timeline = [];
  let prevTl = null;
  let tlBusy = false;
  const tlTimer = setInterval(async () => {
    if (tlBusy) return;
    tlBusy = true;
    const sc = await scrape(port);
    const cpu = pid ? procTicks(pid) : null;
    tlBusy = false;
    if (!sc.m) return;
    const g = (k) => sc.m[k] ?? 0;
    const cur = {
      t: sc.t1, ticks: g('venue_tick_duration_seconds_count'), tickSum: g('venue_tick_duration_seconds_sum'),
      stale: g('venue_frames_dropped_total{reason="stale_poses"}'), queueFull: g('venue_frames_dropped_total{reason="queue_full"}'),
      fanout: g(`venue_fanout_bytes_total{room="${o.room}"}`), sqlN: g('venue_sqlite_write_seconds_count'), sqlSum: g('venue_sqlite_write_seconds_sum'),
      posesIn: g('venue_messages_in_total{type="pose"}'), sessions: g(`venue_room_sessions{room="${o.room}"}`), cpu,
    };
    if (prevTl) {
      const dt = (cur.t - prevTl.t) / 1000;
      const d = (k) => (cur[k] - prevTl[k]) / dt;
      timeline.push({
        at: +((cur.t - tConnect) / 1000).toFixed(1), sessions: cur.sessions, ticks: +d('ticks').toFixed(1),
        tickMeanMs: cur.ticks > prevTl.ticks ? +((1000 * (cur.tickSum - prevTl.tickSum)) / (cur.ticks - prevTl.ticks)).toFixed(2) : null,
        stale: Math.round(d('stale')), queueFull: Math.round(d('queueFull')), fanoutMBps: +(d('fanout') / 1e6).toFixed(1),
        posesIn: Math.round(d('posesIn')), sqlWrites: Math.round(d('sqlN')), sqlMs: +(1000 * (cur.sqlSum - prevTl.sqlSum)).toFixed(1),
        cpuPct: cpu !== null && prevTl.cpu !== null ? Math.round((100 * (cur.cpu - prevTl.cpu)) / CLK_TCK / dt) : null,
      });
    }
    prevTl = cur;
  }, 1000);
  const tConnect = now();
  const readyP = waitAll('ready', ready, (o['join-timeout'] + 5) * 1000);
  for (let w = 0; w < W; w++) {
    workers[w].send({
      cmd: 'init',
      cfg: {
        url: `ws://${HOST}:${port}/ws`, room: o.room, scene, clients: specs[w], rate: o.rate, speed: o.speed,
        probeInterval: o['probe-interval'], walkRampMs: o['walk-ramp'] * 1000, connectRate: o['connect-rate'] / W, joinTimeoutMs: o['join-timeout'] * 1000,
      },
    });
  }
  process.stderr.write(`load.mjs: ${N} clients, ${W} workers, venued pid ${pid} on port ${port}: connecting...\n`);
  await readyP;
  const tReady = now();
  const connectSecs = (tReady - tConnect) / 1000;
  const joinTimes = ready.flatMap((r) => r?.joined.map(([, ms]) => ms) ?? []);
  const failed = ready.flatMap((r) => r?.failed ?? []);
  const probeList = ready.flatMap((r) => r?.probes ?? []).sort((a, b) => a[0] - b[0]);
  const probeUids = probeList.map(([, uid]) => uid);
  const welcomeHz = ready.find((r) => r?.tickHz)?.tickHz;
  const mJoined = await scrape(port);
  process.stderr.write(`load.mjs: ${joinTimes.length}/${N} joined in ${connectSecs.toFixed(1)} s; ` +
    `${o.settle ? `settling ${o.settle} s, ` : ''}walking ${o.warmup} s, then measuring ${o.duration} s\n`);

  const tickHz = welcomeHz ?? 20;
  const walkStart = now() + 200 + o.settle * 1000;
  const winStart = walkStart + o.warmup * 1000;
  const winEnd = winStart + o.duration * 1000;
  const resultP = waitAll('result', results, winEnd - now() + 15000);
  for (const w of workers) w.send({ cmd: 'go', walkStart, winStart, winEnd, probes: probeUids });
  const ingestP = o.ingest ? ingestLoad(o, port, walkStart, winEnd, winStart, winEnd) : null;

  // /proc and /metrics at the window's edges, RSS every second
  const pids = () => workers.map((w) => w.pid);
  const cpuSnap = () => ({
    t: now(), server: pid ? procTicks(pid) : null, workers: pids().map(procTicks), self: procTicks(process.pid),
    machine: machineTicks(), serverSched: pid ? schedStat(pid) : null, workersSched: pids().map(schedStat),
  });
  let rssMax = 0;
  const rssTimer = setInterval(() => { const m = pid && procMem(pid); if (m) rssMax = Math.max(rssMax, m.rssKB); }, 1000);
  await sleep(Math.max(0, winStart - now()));
  const c0 = cpuSnap();
  const s0 = await scrape(port);
  await sleep(Math.max(0, winEnd - now()));
  const c1 = cpuSnap();
  const s1 = await scrape(port);
  clearInterval(rssTimer);
  const mem = pid ? procMem(pid) : null;
  await resultP;
  const ing = ingestP ? await ingestP : null;
  const sEnd = await scrape(port);
  clearInterval(tlTimer);
  const phase = (at) => { const t = tConnect + at * 1000; return t < tReady ? 'join' : t < walkStart ? 'settle' : t < winStart ? 'warm-up' : t < winEnd ? 'measure' : 'end'; };
  for (const e of timeline) e.phase = phase(e.at);

  const wallC = (c1.t - c0.t) / 1000;
  const pctOf = (a, b) => (a === null || b === null ? null : (100 * (b - a)) / CLK_TCK / wallC);
  const serverCpu = pid ? pctOf(c0.server, c1.server) : null;
  const workerCpu = c0.workers.map((a, k) => pctOf(a, c1.workers[k]));
  const selfCpu = pctOf(c0.self, c1.self);
  const waitPct = (a, b) => (a && b ? (100 * (b[1] - a[1])) / 1e6 / (c1.t - c0.t) : null);
  const serverWait = waitPct(c0.serverSched, c1.serverSched);
  const workersWait = c0.workersSched.map((a, k) => waitPct(a, c1.workersSched[k]));
  const machineBusy = (100 * os.availableParallelism() * (c1.machine[0] - c0.machine[0])) / (c1.machine[1] - c0.machine[1]);

  // clients
  const all = results.flatMap((r) => r?.clients ?? []);
  const frames = summary(all.map((c) => c.framesPerSec));
  const bytes = summary(all.map((c) => c.bytesPerSec));
  const obs = all.filter((c) => c.observer && c.entryFrames);
  const entryFrames = obs.reduce((a, c) => a + c.entryFrames, 0);
  const entries = {
    mean: entryFrames ? obs.reduce((a, c) => a + c.entries, 0) / entryFrames : null,
    min: obs.length ? Math.min(...obs.map((c) => c.entriesMin)) : null,
    max: obs.length ? Math.max(...obs.map((c) => c.entriesMax)) : null,
    observers: obs.length,
  };
  const tickGaps = obs.reduce((a, c) => a + c.tickGaps, 0);
  const iv = results.map((r) => r?.intervals).filter((x) => x?.n);
  const frameIntervalMs = iv.length ? { p50: Math.max(...iv.map((x) => x.p50)), p99: Math.max(...iv.map((x) => x.p99)), max: Math.max(...iv.map((x) => x.max)) } : null;
  const sum = (key) => {
    const out = {};
    for (const c of all) for (const [k, v] of Object.entries(c[key])) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const closes = {};
  for (const c of all) if (c.closed) { const k = `${c.closed.code} ${c.closed.reason}`.trim(); closes[k] = (closes[k] ?? 0) + 1; }
  const noPoses = all.filter((c) => c.framesPerSec === 0).length;

  // latency: a stamp sent in the window, seen by an observer
  const sendAt = new Map();
  for (const r of results) for (const [p, s, t] of r?.stampSends ?? []) if (t >= winStart && t < winEnd - 1000) sendAt.set(`${p}/${s}`, t);
  const lat = [];
  const seenKeys = new Map();
  for (const r of results) for (const [p, s, t] of r?.sightings ?? []) {
    const t0 = sendAt.get(`${p}/${s}`);
    if (t0 === undefined) continue;
    lat.push(t - t0);
    seenKeys.set(`${p}/${s}`, (seenKeys.get(`${p}/${s}`) ?? 0) + 1);
  }
  // every observer but the probe itself should see each stamp
  const probeObservers = (p) => all.filter((c) => c.observer).length - (observers.has(probeList[p][0]) ? 1 : 0);
  let expected = 0;
  for (const key of sendAt.keys()) expected += probeObservers(Number(key.split('/')[0]));
  const latency = { ...summary(lat), stamps: sendAt.size, missed: Math.max(0, expected - lat.length) };
  const lagMs = {
    p99: Math.max(...results.map((r) => r?.lagMs.p99 ?? 0)),
    max: Math.max(...results.map((r) => r?.lagMs.max ?? 0)),
  };

  // server metrics over the window
  const M = (k) => (s0.m && s1.m ? (s1.m[k] ?? 0) - (s0.m[k] ?? 0) : null);
  const span = s0.m && s1.m ? (s1.t1 - s0.t1) / 1000 : null;
  const dropNames = ['stale_poses', 'queue_full', 'replay_full', 'rate_limited', 'closed_slow'];
  const dropped = {}, droppedRun = {};
  for (const d of dropNames) {
    dropped[d] = M(`venue_frames_dropped_total{reason="${d}"}`);
    droppedRun[d] = sEnd.m ? sEnd.m[`venue_frames_dropped_total{reason="${d}"}`] ?? 0 : null;
  }
  const tq = (q) => (s0.m && s1.m ? histQuantile(s0.m, s1.m, 'venue_tick_duration_seconds', q) : null);
  const ticks = M('venue_tick_duration_seconds_count');
  const tickSum = M('venue_tick_duration_seconds_sum');
  const srv = {
    cpuPct: serverCpu, runqueueWaitPct: serverWait, rssMB: mem ? mem.rssKB / 1024 : null, rssMaxMB: rssMax ? rssMax / 1024 : null, hwmMB: mem ? mem.hwmKB / 1024 : null,
    ticksPerSec: ticks !== null ? ticks / span : null, tickMeanMs: ticks ? (1000 * tickSum) / ticks : null,
    tickP50: tq(0.5), tickP99: tq(0.99),
    posesInPerSec: M('venue_messages_in_total{type="pose"}') / span,
    posesOutPerSec: M('venue_messages_out_total{type="poses"}') / span,
    fanoutMBps: M(`venue_fanout_bytes_total{room="${o.room}"}`) / span / 1e6,
    dropped, droppedRun,
    closedRun: sEnd.m ? { flood: sEnd.m['venue_closed_total{reason="flood"}'], too_slow: sEnd.m['venue_closed_total{reason="too_slow"}'] } : null,
    joinP99: mJoined.m ? histQuantile(m0.m ?? {}, mJoined.m, 'venue_join_latency_seconds', 0.99) : null,
    scrapeErrors: [s0, s1, sEnd].filter((s) => s.error).map((s) => s.error),
  };

  const result = {
    label: o.label, when: new Date().toISOString(), machine: cpuInfo(), node: process.version,
    config: {
      clients: N, movers: nMovers, moverFraction: o.movers, rate: o.rate, duration: o.duration, warmup: o.warmup,
      workers: W, settle: o.settle, walkRamp: o['walk-ramp'], probes: nProbes, observers: nObs, room: o.room, connectRate: o['connect-rate'], speed: o.speed, tickHz,
      server: server ? { bin: server.bin, flags: server.flags } : { port, pid },
    },
    join: { joined: joinTimes.length, failed: failed.length, failures: failed.slice(0, 5), seconds: connectSecs, ms: summary(joinTimes) },
    clients: { framesPerSec: frames, bytesPerSec: bytes, noPoses, entries, tickGaps, frameIntervalMs, corrections: sum('corrections'), errors: sum('errors'), closes, rejoins: all.reduce((a, c) => a + c.rejoins, 0) },
    latency, server: srv,
    ingest: ing ? { rate: o.ingest, entities: o['ingest-entities'], sent: ing.sent, ok: ing.ok, busy: ing.busy, failed: ing.failed,
      okPerSec: ing.ok / o.duration, ms: summary(ing.ms) } : null,
    loadgen: { cpuPct: workerCpu.reduce((a, b) => a + (b ?? 0), 0) + (selfCpu ?? 0), workersPct: workerCpu, parentPct: selfCpu, lagMs, runqueueWaitPct: workersWait },
    machineBusyPct: machineBusy, timeline,
    otherBusyPct: machineBusy - (serverCpu ?? 0) - (workerCpu.reduce((a, b) => a + (b ?? 0), 0) + (selfCpu ?? 0)),
    backgroundBusyPct: background,
  };

  await cleanup();
  const serverExit = server?.exited();
  result.server.exit = serverExit ?? null;
  result.totalSeconds = (now() - t00) / 1000;
  if (server && serverExit && (serverExit.code !== 0 || serverExit.signal)) result.server.logTail = server.log().slice(-2000);
  console.log(format(result));
  if (o.timeline) {
    console.log('  timeline (per second; t from the first connection):');
    console.log('     t  phase    sessions ticks tick-ms  stale/s  fan-out MB/s  poses-in/s  sqlite writes (ms)  CPU%');
    for (const e of timeline)
      console.log(`  ${e.at.toFixed(0).padStart(4)}  ${e.phase.padEnd(8)} ${String(e.sessions).padStart(8)} ${String(e.ticks).padStart(5)} ${String(e.tickMeanMs ?? '-').padStart(7)} ` +
        `${String(e.stale).padStart(8)} ${String(e.fanoutMBps).padStart(13)} ${String(e.posesIn).padStart(11)} ${`${e.sqlWrites} (${e.sqlMs})`.padStart(19)} ${String(e.cpuPct ?? '-').padStart(5)}`);
  }
  if (o.json) fs.appendFileSync(o.json, JSON.stringify(result) + '\n');
  if (o.check) {
    const problems = checkSane(result);
    if (problems.length) {
      console.log(`CHECK FAILED:\n  ${problems.join('\n  ')}`);
      if (server) console.log(`venued log tail:\n${server.log().slice(-2000)}`);
      process.exitCode = 1;
    } else console.log('check: ok');
  }
  clearTimeout(hardDeadline);
}

/* The smoke test's bar: the tool works and the numbers make sense. */
function checkSane(r) {
  const p = [];
  const c = r.config;
  const hz = c.tickHz;
  if (r.join.joined !== c.clients) p.push(`${r.join.failed} of ${c.clients} clients did not join: ${JSON.stringify(r.join.failures)}`);
  if (c.movers > 1) {
    if (!(r.clients.framesPerSec.min >= 0.8 * hz)) p.push(`a client got only ${r.clients.framesPerSec.min?.toFixed(1)} poses frames/s (tick ${hz}/s)`);
    if (!(r.clients.framesPerSec.max <= 1.1 * hz)) p.push(`a client got ${r.clients.framesPerSec.max?.toFixed(1)} poses frames/s, more than the tick rate ${hz}/s`);
    if (!(r.clients.entries.mean >= 0.75 * (c.movers - 1))) p.push(`poses frames held ${r.clients.entries.mean?.toFixed(1)} entries on average, ${c.movers} movers`);
    if (!(r.latency.n > 0)) p.push('no probe pose was seen by an observer');
    if (r.latency.missed) p.push(`${r.latency.missed} probe stamps never seen`);
    if (!(r.latency.p50 < 1000 / hz + 100)) p.push(`median pose latency ${r.latency.p50?.toFixed(1)} ms`);
  }
  for (const [k, v] of Object.entries(r.server.droppedRun)) if (v) p.push(`server dropped ${v} frames (${k})`);
  if (!(r.server.ticksPerSec >= 0.9 * hz)) p.push(`server ticked ${r.server.ticksPerSec?.toFixed(1)}/s`);
  if (Object.keys(r.clients.closes).length) p.push(`connections closed during the run: ${JSON.stringify(r.clients.closes)}`);
  if (Object.keys(r.clients.errors).length) p.push(`errors from the server: ${JSON.stringify(r.clients.errors)}`);
  if (Object.keys(r.clients.corrections).length) p.push(`pose corrections: ${JSON.stringify(r.clients.corrections)}`);
  const ex = r.server.exit;
  if (ex && (ex.code !== 0 || ex.signal)) p.push(`venued exited with ${JSON.stringify(ex)} after SIGTERM`);
  if (r.server.scrapeErrors.length) p.push(`/metrics: ${r.server.scrapeErrors.join('; ')}`);
  return p;
}

function format(r) {
  const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const q = (h) => (!h ? '-' : h.above !== undefined ? `>${h.above * 1000} ms` : `${f(h.value * 1000, 2)} ms`);
  const c = r.config, s = r.server, cl = r.clients;
  const kb = (x) => f(x / 1024, 1);
  const nz = (o) => Object.entries(o).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `venued load: ${c.clients} clients in "${c.room}", ${c.movers} moving at ${c.rate}/s (${f(100 * c.moverFraction, 0)}%), ` +
      `${c.workers} workers, ${c.duration} s measured after ${c.warmup} s walking`,
    `  connect+join   ${r.join.joined}/${c.clients} joined in ${f(r.join.seconds)} s at ${c.connectRate}/s; per client p50 ${f(r.join.ms.p50)} ms, p95 ${f(r.join.ms.p95)} ms, max ${f(r.join.ms.max)} ms`,
    `  poses frames   per client per s: min ${f(cl.framesPerSec.min)} p10 ${f(cl.framesPerSec.p10)} median ${f(cl.framesPerSec.p50)} max ${f(cl.framesPerSec.max)} (tick ${c.tickHz}/s); clients with none: ${cl.noPoses}`,
    `  entries/frame  mean ${f(cl.entries.mean)} (min ${cl.entries.min ?? '-'}, max ${cl.entries.max ?? '-'}) over ${cl.entries.observers} observers; ticks missed: ${cl.tickGaps}`,
    `  frame interval at observers: p50 ${f(cl.frameIntervalMs?.p50)} ms, p99 ${f(cl.frameIntervalMs?.p99)} ms, max ${f(cl.frameIntervalMs?.max)} ms (worst worker)`,
    `  latency        p50 ${f(r.latency.p50)} ms, p95 ${f(r.latency.p95)} ms, p99 ${f(r.latency.p99)} ms, max ${f(r.latency.max)} ms ` +
      `(n=${r.latency.n}, ${r.latency.stamps} stamps, ${r.latency.missed} missed; includes the 0-${f(1000 / c.tickHz, 0)} ms wait for the tick)`,
    `  bytes/client/s min ${kb(cl.bytesPerSec.min)} KiB, median ${kb(cl.bytesPerSec.p50)} KiB, max ${kb(cl.bytesPerSec.max)} KiB ` +
      `(all clients: ${f((cl.bytesPerSec.mean * cl.bytesPerSec.n) / 1e6)} MB/s)`,
    `  server         CPU ${f(s.cpuPct, 0)}% of a core, runnable but waiting for a CPU ${f(s.runqueueWaitPct, 0)}% of the time, RSS ${f(s.rssMB, 0)} MiB (max sampled ${f(s.rssMaxMB, 0)}, peak ${f(s.hwmMB, 0)})`,
    `  server tick    ${f(s.ticksPerSec)}/s, mean ${f(s.tickMeanMs, 2)} ms, p50 ${q(s.tickP50)}, p99 ${q(s.tickP99)} (from buckets)`,
    `  server flow    poses in ${f(s.posesInPerSec, 0)}/s, poses frames out ${f(s.posesOutPerSec, 0)}/s, fan-out ${f(s.fanoutMBps)} MB/s queued`,
    `  dropped        in window: ${nz(s.dropped)}; whole run: ${nz(s.droppedRun)}`,
    `  closes/errors  closed: ${nz(cl.closes)}; errors: ${nz(cl.errors)}; corrections: ${nz(cl.corrections)}`,
    ...(r.ingest ? [`  ingest         ${f(r.ingest.okPerSec)} notifications/s applied of ${r.ingest.rate}/s asked (${r.ingest.entities} entities each); ` +
      `refused busy ${r.ingest.busy}, failed ${r.ingest.failed}; answer p50 ${f(r.ingest.ms.p50)} ms, p99 ${f(r.ingest.ms.p99)} ms`] : []),
    `  load generator CPU ${f(r.loadgen.cpuPct, 0)}% of a core (workers ${r.loadgen.workersPct.map((x) => f(x, 0)).join('+')}, parent ${f(r.loadgen.parentPct, 0)}), ` +
      `event-loop lag p99 ${f(r.loadgen.lagMs.p99)} ms, max ${f(r.loadgen.lagMs.max)} ms, waiting for a CPU ${r.loadgen.runqueueWaitPct.map((x) => f(x, 0)).join('+')}%`,
    `  machine        ${f(r.machineBusyPct, 0)}% busy of ${r.machine.nproc * 100}% (server and load generator share ${r.machine.nproc} cores); ` +
      `other processes ${f(r.otherBusyPct, 0)}% during, ${f(r.backgroundBusyPct, 0)}% before the run`,
  ].join('\n');
}

if (process.argv[2] === '--worker') {
  runWorker();
} else {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (err) { console.error(String(err.message)); process.exit(2); }
  runParent(o).catch((err) => { console.error(`load.mjs: ${err.stack ?? err}`); process.exit(1); });
}
