#!/usr/bin/env node
// load.mjs - the venued avatar workload against a Colyseus server
// (server.mjs beside this file), driven by Colyseus's own client,
// colyseus.js (issue 13).
//
// N clients join one "avatars" room; M of them move, each sending a pose
// at H Hz with its own random phase in the period. K probe clients (among
// the N) time every avatar entry a patch changes. There is no coordinated
// omission: every pose carries the time it was *scheduled* to leave (in its
// y field, see stampOf below), and a probe's latency for an entry is its
// receive time minus that scheduled time, so a generator running late
// shows as latency instead of hiding it. Results: latency p50..max,
// freshness, patches and bytes per client per second, the server's CPU and
// RSS from /proc, the generator's own CPU. One JSON line with --json.
//
//   node load.mjs --port 2567 --pid 1234 --clients 400 --probes 10
//   node load.mjs --help
//
// Usually started by run.sh, which starts the server, pins it and this
// generator to different cores and stops the server. Everything is bounded
// in time and count; it only ever talks to 127.0.0.1.

import { fork, execFileSync } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, getStateCallbacks, Protocol } from 'colyseus.js';
import { flagUsage, parseFlags } from '../flags.mjs';
import { openPaced } from '../pace.mjs';

const HERE = import.meta.dirname;
const HOST = '127.0.0.1'; // never anything else

/* Milliseconds on CLOCK_MONOTONIC: the same clock in every process on the
 * machine, so a mover's scheduled time and a probe's receive time compare. */
const now = () => Number(process.hrtime.bigint()) / 1e6;

/*
 * The scheduled send time rides in the pose's y, a float32 on the wire:
 *   y = 1 + (t_ms mod 60000) / 1000        (1 <= y < 61)
 * float32 has a 24-bit significand, so in [32, 64) a step is 2^-18 of a
 * unit, 0.0038 ms here: the stamp survives the wire to a few microseconds.
 * A probe unwraps it against its own receive time r: the latency is
 * ((r - stamp) mod 60000), exact as long as latencies stay below 60 s.
 */
const WRAP_MS = 60000;
const stampOf = (tMs) => 1 + (tMs % WRAP_MS) / 1000;
const latencyOf = (y, r) => {
  const l = (r - (y - 1) * 1000) % WRAP_MS;
  return l < -1 ? l + WRAP_MS : l; // a hair below 0 is float32 rounding, not a wrap
};

const OPTIONS = {
  port: [0, 'the Colyseus server (server.mjs) on 127.0.0.1:PORT (required)'],
  pid: [0, 'that server\'s pid, for its CPU and RSS (required)'],
  clients: [400, 'clients (avatars) joining the room'],
  movers: [-1, 'how many of the clients send poses (default: all)'],
  rate: [20, 'poses per second each mover sends'],
  duration: [20, 'measured seconds'],
  warmup: [5, 'seconds of moving before the measurement starts'],
  probes: [10, 'clients (among the N) that time every changed entry'],
  workers: [0, 'generator processes for the non-probe clients (0: ceil(clients / 800); on one core, fewer processes wait less for each other)'],
  'probe-workers': [1, 'generator processes for the probes, apart from the others'],
  'connect-rate': [100, 'joins per second, all workers together'],
  'join-timeout': [60, 'seconds allowed for all clients to join'],
  'patch-ms': [50, 'the server\'s patch period (for freshness and the tick rate)'],
  'fresh-slack': [50, 'freshness: ms allowed beyond one patch period'],
  decode: ['probes', 'which clients decode patches: probes (the others count the bytes and drop them) or all (as real clients do; 400 saturate one core)'],
  label: ['', 'free text stored with the result'],
  json: ['', 'append the result as one JSON line to this file'],
};

const usage = () => flagUsage('usage: node load.mjs --port PORT --pid PID [--flag value]...', OPTIONS, 13,
  (k, def) => def === -1 || k === 'port' || k === 'pid');

function parseArgs(argv) {
  const o = parseFlags(argv, OPTIONS, usage());
  const whole = (k, lo, hi) => {
    if (!(Number.isInteger(o[k]) && o[k] >= lo && o[k] <= hi)) throw new Error(`--${k}: a whole number ${lo}..${hi}`);
  };
  if (!o.port) throw new Error('--port: required (start server.mjs first, or use run.sh)');
  whole('port', 1, 65535);
  if (!o.pid) throw new Error('--pid: required (the server\'s pid)');
  whole('pid', 1, 2 ** 31);
  whole('clients', 1, 5000);
  if (o.movers === -1) o.movers = o.clients;
  whole('movers', 0, o.clients);
  if (!(o.rate > 0 && o.rate <= 60)) throw new Error('--rate: 0 < poses per second <= 60');
  if (!(o.duration > 0 && o.duration <= 600)) throw new Error('--duration: 0 < seconds <= 600');
  if (!(o.warmup >= 0 && o.warmup <= 120)) throw new Error('--warmup: 0..120 seconds');
  whole('probes', 1, Math.min(50, o.clients));
  whole('workers', 0, 16);
  whole('probe-workers', 1, 16);
  if (!(o['connect-rate'] > 0 && o['connect-rate'] <= 1000)) throw new Error('--connect-rate: 0 < joins per second <= 1000');
  if (!(o['join-timeout'] >= 1 && o['join-timeout'] <= 600)) throw new Error('--join-timeout: 1..600 seconds');
  whole('patch-ms', 5, 1000);
  if (!(o['fresh-slack'] >= 0 && o['fresh-slack'] <= 1000)) throw new Error('--fresh-slack: 0..1000 ms');
  if (!['all', 'probes'].includes(o.decode)) throw new Error(`--decode: all or probes, not ${o.decode}`);
  return o;
}

/* ---- small helpers ---------------------------------------------------------- */

function pct(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
/* The same summary as tests/bench/load.mjs, with p90 and p99.9 added. */
function summary(values) {
  const s = Float64Array.from(values).sort();
  if (!s.length) return { n: 0, min: null, p10: null, p50: null, p90: null, p95: null, p99: null, p999: null, max: null, mean: null };
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n: s.length, min: s[0], p10: pct(s, 0.1), p50: pct(s, 0.5), p90: pct(s, 0.9), p95: pct(s, 0.95),
    p99: pct(s, 0.99), p999: pct(s, 0.999), max: s[s.length - 1], mean: sum / s.length,
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
/* utime+stime of every thread of PID (Node's GC and libuv threads count). */
function procStatus(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) ?? [])[1] ?? NaN);
    return { rssKB: kb('VmRSS'), hwmKB: kb('VmHWM'), cpus: (/^Cpus_allowed_list:\s*(\S+)/m.exec(s) ?? [])[1] ?? null };
  } catch { return null; }
}
/* [ns on a CPU, ns runnable but waiting for one] of PID's main thread. */
function schedStat(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return [f[0], f[1]];
  } catch { return null; }
}
/* Whole-machine CPU: [busy, total] ticks from the first line of /proc/stat. */
function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return [total - f[3] - f[4], total];
}
/* The machine's CPUs, not the ones this process may use: under taskset
 * os.availableParallelism() says 1. */
const NCPU = (fs.readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm) ?? [0]).length;
async function busyOver(ms) {
  const a = machineTicks();
  await sleep(ms);
  const b = machineTicks();
  return (100 * NCPU * (b[0] - a[0])) / Math.max(1, b[1] - a[1]);
}
let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { /* keep 100 */ }

function cpuInfo() {
  const ci = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = (/^model name\s*:\s*(.*)$/m.exec(ci) ?? [])[1] ?? 'unknown';
  return { nproc: NCPU, model, memGB: +(os.totalmem() / 2 ** 30).toFixed(1), kernel: os.release() };
}
function versions() {
  const v = (p) => { try { return JSON.parse(fs.readFileSync(path.join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { return null; } };
  return { '@colyseus/core': v('@colyseus/core'), '@colyseus/ws-transport': v('@colyseus/ws-transport'), '@colyseus/schema': v('@colyseus/schema'), 'colyseus.js': v('colyseus.js') };
}

/* ============================================================================ */
/* Worker: drives its share of the clients.                                      */
/* ============================================================================ */

function runWorker() {
  let cfg = null;
  let go = null; // { walkStart, winStart, winEnd, schedule: { sessionId: phaseMs } }
  const clients = [];
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const sendLate = []; // ms between a pose's scheduled and actual send, in the window
  let skipped = 0; // scheduled poses not sent because a newer one was already due
  let pending = 0, opened = 0;
  let sendTimer = null;
  let colyClient = null;

  function open(spec) {
    const c = {
      ...spec, room: null, sid: null, joinedAt: 0, joinMs: 0, failed: null, startedAt: now(),
      frames: 0, bytes: 0, patches: 0, closed: null, errors: {},
      recvAt: 0, entriesNow: 0, entries: 0, entryFrames: 0, entriesMin: Infinity, entriesMax: 0,
      lastPatchAt: 0, intervals: [], lat: [], arrivals: new Map(),
      x: Math.random() * 40 - 20, z: Math.random() * 40 - 20, yaw: Math.random() * 2 * Math.PI, next: 0,
    };
    clients.push(c);
    opened++;
    pending++;
    colyClient.joinById(cfg.roomId).then((room) => joined(c, room), (err) => fail(c, String(err?.message ?? err)));
  }

  function joined(c, room) {
    c.room = room;
    c.sid = room.sessionId;
    c.joinedAt = now();
    c.joinMs = c.joinedAt - c.startedAt;
    room.onLeave((code) => { c.closed = { code, t: now() }; });
    room.onError((code, message) => { c.errors[code] = (c.errors[code] ?? 0) + 1; void message; });
    if (c.probe) watchEntries(c, room);
    wrapSocket(c, room);
    pending--;
    maybeReady();
  }

  /*
   * Count every message and its bytes, and remember when a patch arrived,
   * before colyseus.js decodes it: the decode itself is client work, not
   * delivery delay. With --decode probes, other clients count the patch
   * and drop it undecoded (their CPU then goes to the probes and movers).
   */
  function wrapSocket(c, room) {
    const ws = room.connection.transport.ws;
    const orig = ws.onmessage;
    const decodeAll = cfg.decode === 'all';
    ws.onmessage = (ev) => {
      const t = now();
      const data = ev.data;
      const inWin = go && t >= go.winStart && t < go.winEnd;
      const isPatch = new Uint8Array(data, 0, 1)[0] === Protocol.ROOM_STATE_PATCH;
      if (inWin) {
        c.bytes += data.byteLength;
        c.frames++;
        if (isPatch) c.patches++;
      }
      if (isPatch && !c.probe && !decodeAll) return;
      // a probe's receive time is taken now, its decode runs after this
      // turn of the loop: the probes sharing a process all get their
      // arrival times before any of them spends time decoding
      if (c.probe) setImmediate(() => decoded(c, ws, orig, ev, t, isPatch, inWin));
      else decoded(c, ws, orig, ev, t, isPatch, inWin);
    };
  }

  function decoded(c, ws, orig, ev, t, isPatch, inWin) {
    c.recvAt = t;
    c.entriesNow = 0;
    orig.call(ws, ev);
    if (isPatch && c.probe && inWin) {
      if (c.lastPatchAt) c.intervals.push(t - c.lastPatchAt);
      c.entries += c.entriesNow;
      c.entryFrames++;
      if (c.entriesNow < c.entriesMin) c.entriesMin = c.entriesNow;
      if (c.entriesNow > c.entriesMax) c.entriesMax = c.entriesNow;
    }
    if (isPatch) c.lastPatchAt = t;
  }


  /* A probe hears of every avatar entry a patch changes, the documented way
   * (getStateCallbacks), and times it against its scheduled send. */
  function watchEntries(c, room) {
    const $ = getStateCallbacks(room);
    $(room.state).avatars.onAdd((a, key) => {
      $(a).onChange(() => {
        c.entriesNow++;
        if (!go || key === c.sid || !(key in go.schedule)) return;
        const r = c.recvAt;
        const l = latencyOf(a.y, r);
        const sched = r - l;
        if (sched < go.winStart || sched >= go.winEnd) return;
        c.lat.push(l);
        let arr = c.arrivals.get(key);
        if (!arr) c.arrivals.set(key, (arr = []));
        arr.push(sched, r);
      });
    });
  }

  function fail(c, why) {
    if (c.failed || c.joinedAt) return;
    c.failed = why;
    pending--;
    maybeReady();
  }

  function maybeReady() {
    if (pending > 0 || !cfg || opened < cfg.clients.length) return;
    process.send({
      ev: 'ready',
      joined: clients.filter((c) => c.joinedAt).map((c) => [c.i, c.joinMs]),
      failed: clients.filter((c) => c.failed).map((c) => [c.i, c.failed]),
      movers: clients.filter((c) => c.mover && c.joinedAt).map((c) => [c.i, c.sid]),
    });
  }

  /*
   * Movers in order of their phase; one 1 ms timer sends every pose that is
   * due. A mover that is more than a period behind sends only its newest
   * due pose (the older ones would be overwritten before a patch anyway)
   * and the skipped ones are counted: freshness still expects them.
   */
  function startMoving() {
    const P = 1000 / cfg.rate;
    const movers = clients.filter((c) => c.mover && c.joinedAt && c.sid in go.schedule);
    for (const c of movers) c.next = go.walkStart + go.schedule[c.sid];
    movers.sort((a, b) => a.next - b.next);
    let k = 0;
    const step = () => {
      const t = now();
      if (t >= go.winEnd) { clearInterval(sendTimer); return; }
      for (let n = 0; n < movers.length && movers[k].next <= t; n++) {
        const c = movers[k];
        let sched = c.next;
        const behind = Math.floor((t - sched) / P);
        if (behind > 0) { sched += behind * P; if (sched >= go.winStart) skipped += behind; }
        c.next = sched + P;
        if (sched >= go.winStart) sendLate.push(t - sched);
        sendPose(c, sched, P);
        k = (k + 1) % movers.length;
      }
    };
    sendTimer = setInterval(step, 1);
  }

  /* Walk at 1.4 m/s, turning a little, inside a 40 m square; y is the stamp. */
  function sendPose(c, sched, P) {
    if (c.closed) return;
    if (Math.random() < 0.02) c.yaw += (Math.random() - 0.5) * 2;
    const d = 1.4 * (P / 1000);
    let x = c.x - Math.sin(c.yaw) * d, z = c.z - Math.cos(c.yaw) * d;
    if (Math.abs(x) > 20 || Math.abs(z) > 20) { c.yaw += Math.PI; x = c.x; z = c.z; }
    c.x = x; c.z = z;
    const h = c.yaw / 2;
    c.room.send('pose', [x, stampOf(sched), z, 0, Math.sin(h), 0, Math.cos(h)]);
  }

  /*
   * Freshness of one probe: for every pose each other mover was scheduled
   * to send in the window, was that pose, or a newer one of the same
   * avatar, received by scheduled time + deadline? Poses overwritten
   * before a patch count as fresh when the newer one made it in time.
   */
  function freshness(c, deadline, P) {
    let expected = 0, fresh = 0;
    for (const [sid, phase] of Object.entries(go.schedule)) {
      if (sid === c.sid) continue;
      const arr = c.arrivals.get(sid) ?? [];
      let j = 0;
      const first = go.walkStart + phase + Math.ceil((go.winStart - go.walkStart - phase) / P) * P;
      for (let s = first; s < go.winEnd - deadline; s += P) {
        expected++;
        while (j < arr.length && arr[j] < s - 0.5) j += 2;
        if (j < arr.length && arr[j + 1] <= s + deadline) fresh++;
      }
    }
    return { expected, fresh };
  }

  function report() {
    clearInterval(sendTimer);
    lag.disable();
    const span = (go.winEnd - go.winStart) / 1000;
    const deadline = cfg.patchMs + cfg.freshSlack;
    const P = 1000 / cfg.rate;
    const probes = clients.filter((c) => c.probe && c.joinedAt);
    const lat = new Float32Array(probes.reduce((a, c) => a + c.lat.length, 0));
    let o = 0;
    for (const c of probes) { lat.set(c.lat, o); o += c.lat.length; }
    process.send({
      ev: 'result',
      clients: clients.filter((c) => c.joinedAt).map((c) => ({
        i: c.i, mover: c.mover, probe: c.probe,
        framesPerSec: c.patches / span, messagesPerSec: c.frames / span, bytesPerSec: c.bytes / span,
        entries: c.entries, entryFrames: c.entryFrames,
        entriesMin: c.entryFrames ? c.entriesMin : null, entriesMax: c.entryFrames ? c.entriesMax : null,
        errors: c.errors,
        closed: c.closed && c.closed.t < go.winEnd ? { code: c.closed.code, inWindow: c.closed.t >= go.winStart } : null,
        fresh: c.probe ? freshness(c, deadline, P) : null,
      })),
      lat, intervals: Float32Array.from(probes.flatMap((c) => c.intervals)),
      sendLate: Float32Array.from(sendLate), skipped,
      lagMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    });
  }

  process.on('message', (msg) => {
    if (msg.cmd === 'init') {
      cfg = msg.cfg;
      colyClient = new Client(`ws://${HOST}:${cfg.port}`);
      openPaced(cfg.clients, cfg.connectRate, open);
      maybeReady(); // a worker with no clients is ready at once
      setTimeout(() => {
        for (const c of clients) if (!c.joinedAt) fail(c, 'not joined in time');
      }, cfg.joinTimeoutMs).unref();
    } else if (msg.cmd === 'go') {
      go = msg;
      const t = now();
      setTimeout(startMoving, Math.max(0, go.walkStart - t - 5));
      setTimeout(() => { lag.reset(); lag.enable(); }, Math.max(0, go.winStart - t));
      // late entries of the last scheduled poses still count: wait for them
      setTimeout(report, Math.max(0, go.winEnd - t) + 1500);
    } else if (msg.cmd === 'exit') {
      for (const c of clients) { try { c.room?.connection.close(); } catch { /* gone */ } }
      setTimeout(() => process.exit(0), 100);
    }
  });
  process.on('disconnect', () => process.exit(0)); // the parent is gone: stop
}

/* ============================================================================ */
/* Parent: creates the room, forks the workers, measures.                        */
/* ============================================================================ */

/* The room is created over the matchmaker's HTTP route before anyone joins,
 * so the N joins all land in that one room (joinOrCreate racing could make
 * several). The seat this reserves is simply never used. */
async function createRoom(port) {
  const res = await fetch(`http://${HOST}:${port}/matchmake/create/avatars`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(5000),
  });
  const body = await res.json();
  const roomId = body?.room?.roomId ?? body?.roomId;
  if (!res.ok || !roomId) throw new Error(`creating the room: HTTP ${res.status} ${JSON.stringify(body)}`);
  return roomId;
}

async function runParent(o) {
  const background = await busyOver(1000);
  const loadavg = os.loadavg();
  const t00 = now();
  const hardDeadline = setTimeout(() => {
    console.error('load.mjs: overall time limit reached, stopping');
    cleanup().finally(() => process.exit(2));
  }, (o['join-timeout'] + o.warmup + o.duration + 60) * 1000);
  hardDeadline.unref();

  const workers = [];
  let cleaned = false;
  async function cleanup() {
    if (cleaned) return;
    cleaned = true;
    for (const w of workers) { try { w.send({ cmd: 'exit' }); } catch { /* gone */ } }
    await sleep(400);
    for (const w of workers) { try { w.kill('SIGKILL'); } catch { /* gone */ } }
  }
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { cleanup().finally(() => process.exit(130)); });

  if (!procStatus(o.pid)) throw new Error(`--pid ${o.pid}: no such process`);
  const roomId = await createRoom(o.port);

  // who is who: movers first; probes spread over all clients, like observers in tests/bench/load.mjs
  const N = o.clients, nMovers = o.movers, K = o.probes;
  const probes = new Set();
  for (let j = 0; j < K; j++) probes.add(Math.floor((j * N) / K));
  /* The probes get processes of their own: decoding a 400-entry patch
   * takes colyseus.js about 0.8 ms, which would delay the sends of every
   * mover sharing that event loop. */
  const Wm = Math.max(1, o.workers || Math.ceil((N - K) / 800));
  const Wp = Math.min(K, o['probe-workers']);
  const W = Wm + Wp;
  const specs = Array.from({ length: W }, () => []);
  for (let i = 0, m = 0, p = 0; i < N; i++) {
    const spec = { i, mover: i < nMovers, probe: probes.has(i) };
    if (spec.probe) specs[Wm + (p++ % Wp)].push(spec);
    else specs[m++ % Wm].push(spec);
  }

  const results = [], ready = [];
  let onEv = null;
  for (let w = 0; w < W; w++) {
    const child = fork(import.meta.filename, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    child.on('message', (m) => onEv?.(w, m));
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

  const tConnect = now();
  const readyP = waitAll('ready', ready, (o['join-timeout'] + 5) * 1000);
  for (let w = 0; w < W; w++) {
    workers[w].send({ cmd: 'init', cfg: {
      port: o.port, roomId, clients: specs[w], rate: o.rate, connectRate: Math.max(1, (o['connect-rate'] * specs[w].length) / N),
      joinTimeoutMs: o['join-timeout'] * 1000, patchMs: o['patch-ms'], freshSlack: o['fresh-slack'], decode: o.decode,
    } });
  }
  process.stderr.write(`load.mjs: ${N} clients (${nMovers} moving, ${K} probes), ${W} workers, Colyseus pid ${o.pid} on port ${o.port}, room ${roomId}: joining...\n`);
  await readyP;
  const connectSecs = (now() - tConnect) / 1000;
  const joinTimes = ready.flatMap((r) => r?.joined.map(([, ms]) => ms) ?? []);
  const failed = ready.flatMap((r) => r?.failed ?? []);
  process.stderr.write(`load.mjs: ${joinTimes.length}/${N} joined in ${connectSecs.toFixed(1)} s; moving ${o.warmup} s, then measuring ${o.duration} s\n`);

  // every mover's random phase, known to all probes so they know what to expect
  const P = 1000 / o.rate;
  const schedule = {};
  for (const r of ready) for (const [, sid] of r?.movers ?? []) schedule[sid] = Math.random() * P;
  const walkStart = now() + 300;
  const winStart = walkStart + o.warmup * 1000;
  const winEnd = winStart + o.duration * 1000;
  const resultP = waitAll('result', results, winEnd - now() + 20000);
  for (const w of workers) w.send({ cmd: 'go', walkStart, winStart, winEnd, schedule });

  const pids = () => workers.map((w) => w.pid);
  const snap = () => ({
    t: now(), server: procTicks(o.pid), workers: pids().map(procTicks), self: procTicks(process.pid),
    machine: machineTicks(), serverSched: schedStat(o.pid), workersSched: pids().map(schedStat),
  });
  let rssMax = 0;
  const rssTimer = setInterval(() => { const m = procStatus(o.pid); if (m) rssMax = Math.max(rssMax, m.rssKB); }, 1000);
  await sleep(Math.max(0, winStart - now()));
  const c0 = snap();
  await sleep(Math.max(0, winEnd - now()));
  const c1 = snap();
  clearInterval(rssTimer);
  const mem = procStatus(o.pid);
  const affinity = { server: mem?.cpus ?? null, loadgen: procStatus(process.pid)?.cpus ?? null };
  await resultP;
  await cleanup();

  const wallC = (c1.t - c0.t) / 1000;
  const pctOf = (a, b) => (a === null || b === null ? null : (100 * (b - a)) / CLK_TCK / wallC);
  const serverCpu = pctOf(c0.server, c1.server);
  const workerCpu = c0.workers.map((a, k) => pctOf(a, c1.workers[k]));
  const selfCpu = pctOf(c0.self, c1.self);
  const loadgenCpu = workerCpu.reduce((a, b) => a + (b ?? 0), 0) + (selfCpu ?? 0);
  const waitPct = (a, b) => (a && b ? (100 * (b[1] - a[1])) / 1e6 / (c1.t - c0.t) : null);
  const machineBusy = (100 * NCPU * (c1.machine[0] - c0.machine[0])) / (c1.machine[1] - c0.machine[1]);

  const all = results.flatMap((r) => r?.clients ?? []);
  const prb = all.filter((c) => c.probe && c.entryFrames);
  const entryFrames = prb.reduce((a, c) => a + c.entryFrames, 0);
  const iv = summary(results.flatMap((r) => (r ? [...r.intervals] : [])));
  const lat = results.flatMap((r) => (r ? [...r.lat] : []));
  const fr = all.filter((c) => c.fresh).reduce((a, c) => ({ expected: a.expected + c.fresh.expected, fresh: a.fresh + c.fresh.fresh }), { expected: 0, fresh: 0 });
  const errors = {}, closes = {};
  for (const c of all) {
    for (const [k, v] of Object.entries(c.errors)) errors[k] = (errors[k] ?? 0) + v;
    if (c.closed) closes[c.closed.code] = (closes[c.closed.code] ?? 0) + 1;
  }
  const sendLate = summary(results.flatMap((r) => (r ? [...r.sendLate] : [])));
  const skipped = results.reduce((a, r) => a + (r?.skipped ?? 0), 0);

  // a run whose generator could not keep up measures the generator
  const invalid = [];
  workerCpu.forEach((p, k) => { if (p > 80) invalid.push(`generator worker ${k} used ${p.toFixed(0)}% of a core (> 80%)`); });
  if (affinity.loadgen && !affinity.loadgen.includes(',') && !affinity.loadgen.includes('-') && loadgenCpu > 90)
    invalid.push(`the generator's one core was ${loadgenCpu.toFixed(0)}% busy (> 90%)`);
  if (joinTimes.length < N) invalid.push(`${N - joinTimes.length} of ${N} clients did not join`);
  // latency counts from the scheduled time, so a late generator inflates it;
  // the same bar as venue-loadgen: a quarter of the pose period
  if (!(sendLate.p99 <= P / 4)) invalid.push(`the generator sent poses ${sendLate.p99?.toFixed(1)} ms late at p99 (> ${P / 4} ms)`);

  const result = {
    label: o.label, when: new Date().toISOString(), system: 'colyseus', machine: cpuInfo(), node: process.version, versions: versions(),
    loadavg: loadavg.map((x) => +x.toFixed(2)), affinity,
    config: {
      clients: N, movers: nMovers, moverFraction: nMovers / N, rate: o.rate, duration: o.duration, warmup: o.warmup,
      workers: W, moverWorkers: Wm, probeWorkers: Wp, probes: K, observers: K, connectRate: o['connect-rate'], tickHz: 1000 / o['patch-ms'],
      freshDeadlineMs: o['patch-ms'] + o['fresh-slack'], decode: o.decode,
      server: { port: o.port, pid: o.pid, patchMs: o['patch-ms'] },
    },
    join: { joined: joinTimes.length, failed: failed.length, failures: failed.slice(0, 5), seconds: connectSecs, ms: summary(joinTimes) },
    clients: {
      framesPerSec: summary(all.map((c) => c.framesPerSec)), messagesPerSec: summary(all.map((c) => c.messagesPerSec)),
      bytesPerSec: summary(all.map((c) => c.bytesPerSec)), noPoses: all.filter((c) => c.framesPerSec === 0).length,
      entries: {
        mean: entryFrames ? prb.reduce((a, c) => a + c.entries, 0) / entryFrames : null,
        min: prb.length ? Math.min(...prb.map((c) => c.entriesMin)) : null,
        max: prb.length ? Math.max(...prb.map((c) => c.entriesMax)) : null, observers: prb.length,
      },
      frameIntervalMs: { p50: iv.p50, p99: iv.p99, max: iv.max }, errors, closes,
    },
    latency: { ...summary(lat), basis: 'receive - scheduled send, every changed entry at every probe' },
    freshness: { share: fr.expected ? fr.fresh / fr.expected : null, fresh: fr.fresh, expected: fr.expected, deadlineMs: o['patch-ms'] + o['fresh-slack'] },
    server: {
      cpuPct: serverCpu, runqueueWaitPct: waitPct(c0.serverSched, c1.serverSched),
      rssMB: mem ? mem.rssKB / 1024 : null, rssMaxMB: rssMax ? rssMax / 1024 : null, hwmMB: mem ? mem.hwmKB / 1024 : null,
      ticksPerSec: prb.length ? prb.reduce((a, c) => a + c.framesPerSec, 0) / prb.length : null,
      // as venue-loadgen counts it: entries per patch at the probes x patches received by everyone
      cpuUsPerEntry: serverCpu !== null && entryFrames
        ? (serverCpu * 1e4) / ((prb.reduce((a, c) => a + c.entries, 0) / entryFrames) * all.reduce((a, c) => a + c.framesPerSec, 0)) : null,
    },
    loadgen: {
      cpuPct: loadgenCpu, workersPct: workerCpu, parentPct: selfCpu,
      lagMs: { p99: Math.max(...results.map((r) => r?.lagMs.p99 ?? 0)), max: Math.max(...results.map((r) => r?.lagMs.max ?? 0)) },
      workersLagP99Ms: results.map((r) => r?.lagMs.p99 ?? null),
      workersSendLateP99Ms: results.map((r) => (r?.sendLate.length ? summary(r.sendLate).p99 : null)),
      runqueueWaitPct: c0.workersSched.map((a, k) => waitPct(a, c1.workersSched[k])),
      sendLateMs: { p50: sendLate.p50, p99: sendLate.p99, max: sendLate.max }, skippedPoses: skipped,
      // the share of the poses scheduled in the window that were sent at all: the load the server really got
      sentShare: sendLate.n + skipped ? sendLate.n / (sendLate.n + skipped) : null,
    },
    valid: invalid.length === 0, invalidReasons: invalid,
    machineBusyPct: machineBusy, otherBusyPct: machineBusy - (serverCpu ?? 0) - loadgenCpu, backgroundBusyPct: background,
    totalSeconds: (now() - t00) / 1000,
  };
  console.log(format(result));
  if (o.json) fs.appendFileSync(o.json, JSON.stringify(result) + '\n');
  clearTimeout(hardDeadline);
}

function format(r) {
  const f = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const c = r.config, s = r.server, cl = r.clients, l = r.latency, g = r.loadgen;
  return [
    `colyseus load: ${c.clients} clients, ${c.movers} moving at ${c.rate}/s, ${c.probes} probes, ${c.workers} workers, ` +
      `${c.duration} s measured after ${c.warmup} s; load average ${r.loadavg.join(' ')}; cpus server ${r.affinity.server} generator ${r.affinity.loadgen}`,
    `  join           ${r.join.joined}/${c.clients} in ${f(r.join.seconds)} s; per client p50 ${f(r.join.ms.p50)} ms, max ${f(r.join.ms.max)} ms`,
    `  patches        per client per s: min ${f(cl.framesPerSec.min)} median ${f(cl.framesPerSec.p50)} max ${f(cl.framesPerSec.max)} (patch rate ${c.tickHz}/s); ` +
      `entries/patch mean ${f(cl.entries.mean)} (min ${cl.entries.min ?? '-'}, max ${cl.entries.max ?? '-'}); interval p99 ${f(cl.frameIntervalMs.p99)} ms`,
    `  latency        p50 ${f(l.p50)} p90 ${f(l.p90)} p99 ${f(l.p99)} p99.9 ${f(l.p999)} max ${f(l.max)} ms (n=${l.n}; scheduled send to probe)`,
    `  freshness      ${f(100 * (r.freshness.share ?? NaN), 2)}% of ${r.freshness.expected} scheduled poses seen within ${r.freshness.deadlineMs} ms`,
    `  bytes/client/s median ${f(cl.bytesPerSec.p50 / 1024)} KiB (min ${f(cl.bytesPerSec.min / 1024)}, max ${f(cl.bytesPerSec.max / 1024)})`,
    `  server         CPU ${f(s.cpuPct)}% of a core (${f(s.cpuUsPerEntry, 2)} us per delivered entry), waiting for a CPU ${f(s.runqueueWaitPct)}%, ` +
      `RSS ${f(s.rssMB)} MiB (max ${f(s.rssMaxMB)}, peak ${f(s.hwmMB)})`,
    `  generator      CPU ${f(g.cpuPct)}% (workers ${g.workersPct.map((x) => f(x, 0)).join('+')}, parent ${f(g.parentPct, 0)}), ` +
      `lag p99 ${f(g.lagMs.p99)} ms, sends late p50 ${f(g.sendLateMs.p50)} p99 ${f(g.sendLateMs.p99)} ms, skipped ${g.skippedPoses} (${f(100 * g.sentShare, 2)}% sent)`,
    `  machine        ${f(r.machineBusyPct, 0)}% busy of ${r.machine.nproc * 100}%; others ${f(r.otherBusyPct, 0)}% during, ${f(r.backgroundBusyPct, 0)}% before`,
    `  closes/errors  ${JSON.stringify(cl.closes)} ${JSON.stringify(cl.errors)}`,
    `  ${r.valid ? 'valid' : `INVALID: ${r.invalidReasons.join('; ')}`}`,
  ].join('\n');
}

if (process.argv[2] === '--worker') {
  runWorker();
} else {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (err) { console.error(String(err.message)); process.exit(2); }
  runParent(o).catch((err) => { console.error(`load.mjs: ${err.stack ?? err}`); process.exit(1); });
}
