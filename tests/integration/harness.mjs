// harness.mjs - shared pieces for the venued integration tests.
//
// Starts the real venued binary (VENUED_BIN) on a free loopback port with a
// fresh temporary --data dir, waits for GET /healthz, and gives tests
// WebSocket clients (subprotocol venue.v1) with an inbox to wait on. Every
// wait is bounded; every server and client a test makes is stopped by
// withServer(), and any server still alive when Node exits is killed, so a
// failing test leaves no process behind.

import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

export { sleep };
export const SUBPROTOCOL = 'venue.v1';

export const VENUE_ROOT = process.env.VENUE_ROOT ?? path.resolve(import.meta.dirname, '../..');
export const VENUED_BIN = process.env.VENUED_BIN ?? path.join(VENUE_ROOT, 'build/server/venued');

// The demo venue, as decisions.md lists it: these six rooms at least, with
// these capacities (null: not fixed there).
export const DEMO_ROOMS = {
  lobby: null,
  plenary: 200,
  'breakout-1': 30,
  'breakout-2': 30,
  'breakout-3': 30,
  expo: null,
};

/* Room ids of the scene files the server is started with (one room per
 * scene; the demo venue may grow beyond the six rooms above). */
export function sceneRoomIds() {
  const dir = path.join(VENUE_ROOT, 'scenes/demo');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).id).sort();
}

/* Check a room list (welcome.rooms or /api/venue rooms): every scene is a
 * room, and the six demo rooms are there with their capacities. */
export function checkRoomList(assert, rooms) {
  const ids = rooms.map((r) => r.id);
  assert.deepEqual([...ids].sort(), sceneRoomIds(), 'one room per scene file');
  for (const [id, cap] of Object.entries(DEMO_ROOMS)) {
    const r = rooms.find((x) => x.id === id);
    assert.ok(r, `demo room ${id} listed`);
    if (cap) assert.equal(r.capacity, cap, `${id} capacity`);
  }
}

const live = new Set(); // child processes not yet reaped
function killAll() {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAll);
// The test runner stops a file with a signal on timeout or Ctrl-C: take
// the servers along.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    killAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  });
}

/* A port the kernel just handed out and we released again. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

/* Bounded wait for a promise; rejects with what was awaited. */
export async function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const desc = typeof what === 'function' ? what() : what;
      reject(new Error(`timed out after ${ms} ms waiting for ${desc}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/* Poll fn until it returns a truthy value or ms pass. */
export async function until(fn, { timeout = 3000, interval = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/* ---- Server ------------------------------------------------------------ */

export class Server {
  /*
   * flags: extra venued flags as an object ({ 'resume-grace': 2 }) appended
   * after the standard ones. dataDir: reuse a data dir (restart tests);
   * otherwise a fresh temporary one is made and removed by cleanup().
   * fileLimit: start venued under `ulimit -n` of that many descriptors.
   * diskLimit: a tmpfs of that size ('4m') mounted on the data dir in a
   * mount namespace of its own (`unshare -rm`), holding a copy of what the
   * data dir held at start; the test reaches it at diskPath while venued
   * runs (another process's SQLite there does not reach venued's).
   * bin and env: another venued binary (an installed one), and variables
   * for it; paths: false leaves --data, --scenes and --web out, for env
   * to give.
   */
  constructor({ flags = {}, dataDir = null, fileLimit = null, diskLimit = null,
                bin = VENUED_BIN, env = {}, paths = true } = {}) {
    this.flags = flags;
    this.bin = bin;
    this.env = env;
    this.paths = paths;
    this.fileLimit = fileLimit;
    this.diskLimit = diskLimit;
    this.ownsData = !dataDir;
    this.dataDir = dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'venued-itest-'));
    this.child = null;
    this.port = 0;
    this.log = '';
    this.clients = new Set();
    this.exit = null; // { code, signal } once the process has ended
  }

  get url() { return `http://127.0.0.1:${this.port}`; }
  /* The data dir as venued sees it (its own mount under diskLimit). */
  get diskPath() { return this.diskLimit === null ? this.dataDir : `/proc/${this.child.pid}/root${this.dataDir}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; }

  args() {
    const a = ['--port', String(this.port), '--bind', '127.0.0.1'];
    if (this.paths) {
      a.push('--data', this.dataDir, '--scenes', path.join(VENUE_ROOT, 'scenes/demo'),
        '--web', path.join(VENUE_ROOT, 'web-client'));
    }
    for (const [k, v] of Object.entries(this.flags)) a.push(`--${k}`, String(v));
    return a;
  }

  /* Start and wait for /healthz. A port stolen between freePort() and bind
   * shows as an early exit: try again on another port. */
  async start({ timeout = 15000 } = {}) {
    let lastErr;
    for (let attempt = 0; attempt < 3; attempt++) {
      this.port = await freePort();
      try {
        await this.spawnOnce(timeout);
        return this;
      } catch (err) {
        lastErr = err;
        if (this.child && this.exit === null) await this.kill();
        // Only a lost race for the port is worth another try.
        if (!err.earlyExit || !/cannot listen|in use/i.test(this.log)) break;
      }
    }
    throw lastErr;
  }

  async spawnOnce(timeout) {
    this.exit = null;
    this.log = '';
    const env = { ...process.env, ...this.env };
    // ASan: a leak or error is a failing exit code, which stop() checks.
    env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1';
    // Under a shell that lowers the limit or mounts the small disk, and
    // execs venued (same pid).
    let cmd = [this.bin, ...this.args()];
    if (this.fileLimit !== null) cmd = ['sh', '-c', `ulimit -n ${Number(this.fileLimit)} && exec "$@"`, 'sh', ...cmd];
    if (this.diskLimit !== null) {
      const script = 's=$(mktemp -d) && cp -a "$2/." "$s" && mount -t tmpfs -o size="$1" tmpfs "$2" && '
        + 'cp -a "$s/." "$2" && rm -rf "$s" && shift 2 && exec "$@"';
      cmd = ['unshare', '-rm', 'sh', '-c', script, 'sh', String(this.diskLimit), this.dataDir, ...cmd];
    }
    const child = spawn(cmd[0], cmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(child);
    const keep = (d) => {
      // Keep the tail only: enough to explain a failure.
      this.log += d.toString();
      if (this.log.length > 200000) this.log = this.log.slice(-100000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': by then stderr is read to the end, so a
      // sanitizer report printed at exit is in the log.
      child.on('close', (code, signal) => {
        live.delete(child);
        this.exit = { code, signal };
        resolve(this.exit);
      });
      child.on('error', (err) => {
        live.delete(child);
        this.exit = { code: null, signal: null, error: err };
        resolve(this.exit);
      });
    });
    const end = Date.now() + timeout;
    while (Date.now() < end) {
      if (this.exit) {
        const err = new Error(`venued exited early (${JSON.stringify(this.exit)}):\n${this.log}`);
        err.earlyExit = true;
        throw err;
      }
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    throw new Error(`venued did not answer /healthz within ${timeout} ms:\n${this.log}`);
  }

  /* SIGTERM and wait for the exit; SIGKILL after timeout. Returns
   * { code, signal, killed }. */
  async stop({ timeout = 8000, signal = 'SIGTERM' } = {}) {
    if (!this.child || this.exit) return { ...this.exit, killed: false };
    this.child.kill(signal);
    try {
      const r = await within(timeout, this.exited, `venued to exit after ${signal}`);
      return { ...r, killed: false };
    } catch {
      await this.kill();
      return { ...this.exit, killed: true };
    }
  }

  async kill() {
    if (!this.child || this.exit) return;
    this.child.kill('SIGKILL');
    await within(5000, this.exited, 'venued to die after SIGKILL').catch(() => {});
  }

  /* Stop (gracefully) and start again on the same data dir. */
  async restart(opts = {}) {
    const r = await this.stop(opts);
    await this.start();
    return r;
  }

  /* Close every client, stop the server, remove the temp data dir. */
  async cleanup() {
    for (const c of this.clients) c.terminate();
    this.clients.clear();
    const r = await this.stop();
    if (this.ownsData) fs.rmSync(this.dataDir, { recursive: true, force: true });
    return r;
  }

  /* Open a client; see Client. */
  async connect(opts = {}) {
    const c = new Client(this, opts);
    this.clients.add(c);
    await c.opened;
    return c;
  }

  async get(p, headers = {}) {
    const res = await fetch(this.url + p, { headers, signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    return { status: res.status, headers: res.headers, body };
  }

  async getJSON(p) {
    const r = await this.get(p);
    return { ...r, json: JSON.parse(r.body) };
  }

  /* /metrics parsed into [{ name, labels, value }]. */
  async metrics() {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
    return { text: r.body, samples: parseProm(r.body) };
  }

  /* The sqlite database files under the data dir. */
  dbFiles() {
    const out = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(db|sqlite3?)$/.test(e.name)) out.push(p);
      }
    };
    walk(this.dataDir);
    return out;
  }
}

/* Run body with a started server; always clean up. Checks the exit code of
 * the final SIGTERM unless checkExit is false. */
export async function withServer(opts, body) {
  const srv = new Server(opts);
  try {
    await srv.start();
  } catch (err) {
    await srv.cleanup();
    throw err;
  }
  let ok = false;
  try {
    await body(srv);
    ok = true;
  } finally {
    const r = await srv.cleanup();
    if (ok && opts.checkExit !== false && srv.exit && !(r.code === 0 && !r.killed)) {
      // A sanitizer report or a hang at shutdown is a failure of the test too.
      throw new Error(`venued did not exit cleanly on SIGTERM: ${JSON.stringify(r)}\n${srv.log.slice(-4000)}`);
    }
  }
}

export function parseProm(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/* Sum of every sample whose name contains sub and whose labels match. */
export function metricSum(samples, sub, labels = {}) {
  let s = 0;
  for (const x of samples) {
    if (!x.name.includes(sub)) continue;
    if (Object.entries(labels).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

/* ---- Client ------------------------------------------------------------ */

let nextId = 1;

export class Client {
  /* opts.protocol: subprotocol (null for none); opts.name: label for errors. */
  constructor(server, { protocol = SUBPROTOCOL, name = null, url = null } = {}) {
    this.server = server;
    this.label = name ?? `client${nextId++}`;
    this.inbox = [];   // received messages not yet taken by next()
    this.all = [];     // every received message, in order, with .seq and .at
    this.waiters = new Set();
    this.seq = 0;
    this.user = null;  // welcome.user
    this.session = null;
    this.resumeToken = null;
    const protos = protocol === null ? undefined : protocol;
    this.ws = new WebSocket(url ?? server.wsUrl, protos, { maxPayload: 64 * 1024 * 1024 });
    this.opened = within(5000, once(this.ws, 'open'), `${this.label} to connect`);
    this.opened.catch(() => {});
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    this.ws.on('error', (err) => { this.error = err; });
    this.ws.on('message', (data, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        msg = { type: '<unparseable>', raw: data.toString(), isBinary };
      }
      Object.defineProperty(msg, 'seq', { value: this.seq++, enumerable: false });
      Object.defineProperty(msg, 'at', { value: performance.now(), enumerable: false });
      this.all.push(msg);
      this.inbox.push(msg);
      this.wake();
    });
  }

  get open() { return this.ws.readyState === WebSocket.OPEN; }

  wake() {
    for (const w of [...this.waiters]) w();
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  sendRaw(data) { this.ws.send(data); }

  match(msg, type, filter) {
    return (type === null || msg.type === type) && (!filter || filter(msg));
  }

  /* Take the first message of type (null: any) matching filter from the
   * inbox, waiting up to timeout ms for it. */
  async next(type, { timeout = 3000, filter = null } = {}) {
    const take = () => {
      const i = this.inbox.findIndex((m) => this.match(m, type, filter));
      if (i < 0) return null;
      return this.inbox.splice(i, 1)[0];
    };
    let got = take();
    if (got) return got;
    let waiter;
    try {
      return await within(timeout, new Promise((resolve, reject) => {
        // Leave the set as soon as it is satisfied: messages that arrive
        // in the same batch must stay in the inbox for the next call.
        let done = false;
        waiter = () => {
          if (done) return;
          const m = take();
          if (m) {
            done = true;
            this.waiters.delete(waiter);
            resolve(m);
          } else if (this.closeInfo) {
            done = true;
            this.waiters.delete(waiter);
            reject(new Error(`${this.label}: closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${type}`));
          }
        };
        this.waiters.add(waiter);
        waiter();
      }), () => `${this.label} to receive ${type ?? 'a message'}; inbox: ${this.describeInbox()}`);
    } finally {
      this.waiters.delete(waiter);
    }
  }

  /* Assert that no message of type matching filter arrives within ms
   * (messages already in the inbox count too). Takes nothing. */
  async expectNone(type, ms, { filter = null } = {}) {
    const has = () => this.inbox.find((m) => this.match(m, type, filter));
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const m = has();
      if (m) throw new Error(`${this.label}: unexpected ${type}: ${JSON.stringify(m)}`);
      await sleep(Math.min(20, Math.max(1, end - Date.now())));
    }
    const m = has();
    if (m) throw new Error(`${this.label}: unexpected ${type}: ${JSON.stringify(m)}`);
  }

  /* Drop queued messages (of type, or all). */
  drain(type = null) {
    this.inbox = this.inbox.filter((m) => !(type === null || m.type === type));
  }

  describeInbox() {
    const s = this.inbox.slice(-8).map((m) => JSON.stringify(m).slice(0, 200)).join(' | ');
    return `[${this.inbox.length}] ${s}`;
  }

  /* Send msg with a fresh id and wait for the reply of replyType that
   * carries it back as re (or for an error with that re, which rejects). */
  async request(msg, replyType, { timeout = 3000, id = null } = {}) {
    const rid = id ?? `r${nextId++}`;
    this.send({ ...msg, id: rid });
    const reply = await this.next(null, {
      timeout,
      filter: (m) => m.re === rid && (m.type === replyType || m.type === 'error'),
    });
    if (reply.type === 'error') {
      const err = new Error(`${this.label}: ${msg.type} answered error ${reply.code}: ${reply.message}`);
      err.reply = reply;
      throw err;
    }
    return reply;
  }

  /* Send msg and wait for error{code}; returns the error. */
  async expectError(msg, code, { timeout = 3000 } = {}) {
    if (typeof msg === 'string') this.sendRaw(msg);
    else this.send(msg);
    const e = await this.next('error', { timeout });
    if (e.code !== code) {
      throw new Error(`${this.label}: expected error ${code} for ${String(typeof msg === 'string' ? msg : JSON.stringify(msg)).slice(0, 120)}, got ${JSON.stringify(e)}`);
    }
    return e;
  }

  async hello(name = this.label, extra = {}) {
    const w = await this.request({ type: 'hello', name, ...extra }, 'welcome');
    this.user = w.user;
    this.session = w.session;
    this.resumeToken = w.resume;
    // The programme follows every welcome, and a registered person's stars
    // follow it, then privacy and blocks: kept here so that tests waiting for something else do not
    // trip over them.
    this.programme = (await this.next('programme')).sessions;
    if (w.user.role !== 'guest') this.stars = (await this.next('stars')).sessions;
    // and so do one's privacy settings and blocks
    this.privacy = await this.next('privacy');
    this.blocks = (await this.next('blocks')).users;
    return w;
  }

  async join(room) {
    // `voice` closes every room's view (state "off" without Janus): kept
    // like the programme, for tests that wait for something else; one
    // about the room before is no longer true.
    this.inbox = this.inbox.filter((m) => m.type !== 'voice');
    const j = await this.request({ type: 'join', room }, 'joined');
    this.room = room;
    this.voice = await this.next('voice');
    return j;
  }

  /* hello + join: the usual start. */
  async enter(room, name = this.label) {
    await this.hello(name);
    return this.join(room);
  }

  pose(p, q = [0, 0, 0, 1]) { this.send({ type: 'pose', p, q }); }

  /* Wait for the socket to close; returns { code, reason }. */
  async waitClose(timeout = 5000) {
    return within(timeout, this.closed, `${this.label} to be closed`);
  }

  close(code = 1000) {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  /* Drop the TCP connection without a closing handshake. */
  terminate() { this.ws.terminate(); }

  /* Stop reading from the socket (a client that no longer keeps up). */
  pauseReading() { this.ws._socket.pause(); }
  resumeReading() { this.ws._socket.resume(); }
}

/* ---- Message helpers --------------------------------------------------- */

export function rosterOf(joined) {
  return joined.roster ?? joined.users ?? [];
}

export function rosterEntry(joined, userId) {
  return rosterOf(joined).find((u) => u.id === userId);
}

export function presence(event, userId) {
  return (m) => m.event === event && m.user && m.user.id === userId;
}

export function chatFrom(userId, text = null) {
  return (m) => chatSender(m) === userId && (text === null || m.text === text);
}

export function chatSender(m) {
  if (m.from && typeof m.from === 'object') return m.from.id;
  return m.from ?? m.user?.id ?? m.from_id;
}

/* Users in a poses frame. */
export function poseUsers(m) {
  return m.users ?? [];
}

export function near(a, b, eps = 0.002) {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= eps);
}

/* Walk from `from` to `to` in steps no faster than speed m/s (the server
 * refuses faster moves). Returns the pose the server holds: the target, or
 * the correction it sent back. */
export async function walk(client, from, to, { speed = 1.5, hz = 30, q = [0, 0, 0, 1] } = {}) {
  const dist = Math.hypot(to[0] - from[0], to[1] - from[1], to[2] - from[2]);
  const steps = Math.max(1, Math.ceil(dist / (speed / hz)));
  for (let i = 1; i <= steps; i++) {
    const f = i / steps;
    client.pose([from[0] + (to[0] - from[0]) * f, from[1] + (to[1] - from[1]) * f, from[2] + (to[2] - from[2]) * f], q);
    await sleep(1000 / hz);
  }
  await sleep(150);
  const fixes = client.inbox.filter((m) => m.type === 'pose');
  client.drain('pose');
  if (fixes.length) {
    const f = fixes[fixes.length - 1];
    return { p: f.p, q: f.q, fixed: f.reason };
  }
  return { p: to, q, fixed: null };
}

/* Yaw rotation quaternion (about +Y). */
export function yaw(rad) {
  return [0, Math.sin(rad / 2), 0, Math.cos(rad / 2)];
}

/* ---- Raw WebSocket over node:net (for clients that misbehave) ---------- */

/*
 * A hand-made WebSocket client: does the opening handshake, sends masked
 * text frames, parses the server's frames, and never answers pings unless
 * told to. frames: [{ opcode, payload, at }].
 */
export class RawClient {
  constructor(server) {
    this.server = server;
    this.frames = [];
    this.buf = Buffer.alloc(0);
    this.ended = null;
    this.autoPong = false;
  }

  async connect({ protocol = SUBPROTOCOL, timeout = 5000 } = {}) {
    const sock = net.connect(this.server.port, '127.0.0.1');
    this.sock = sock;
    this.endedP = new Promise((resolve) => {
      sock.on('close', () => { this.ended = Date.now(); resolve(this.ended); });
    });
    sock.on('error', () => {});
    await within(timeout, once(sock, 'connect'), 'raw TCP connect');
    const key = crypto.randomBytes(16).toString('base64');
    sock.write(
      'GET /ws HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${this.server.port}\r\n` +
      'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') + '\r\n');
    let head = Buffer.alloc(0);
    await within(timeout, new Promise((resolve, reject) => {
      const onData = (d) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        sock.off('data', onData);
        this.response = head.subarray(0, end).toString();
        this.buf = head.subarray(end + 4);
        if (!/^HTTP\/1\.1 101/.test(this.response)) reject(new Error(`handshake refused: ${this.response}`));
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!this.response.toLowerCase().includes(accept.toLowerCase())) reject(new Error('bad Sec-WebSocket-Accept'));
        sock.on('data', (dd) => { this.buf = Buffer.concat([this.buf, dd]); this.parse(); });
        this.parse();
        resolve();
      };
      sock.on('data', onData);
    }), 'WebSocket handshake');
  }

  parse() {
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0], b1 = this.buf[1];
      let len = b1 & 0x7f, off = 2;
      if (len === 126) { if (this.buf.length < 4) return; len = this.buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.buf.length < 10) return; len = Number(this.buf.readBigUInt64BE(2)); off = 10; }
      if (b1 & 0x80) off += 4; // servers must not mask, but be lenient
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      const frame = { opcode: b0 & 0x0f, fin: !!(b0 & 0x80), payload, at: Date.now() };
      this.frames.push(frame);
      if (frame.opcode === 0x9 && this.autoPong) this.sendFrame(0xA, payload);
    }
  }

  sendFrame(opcode, payload) {
    payload = Buffer.from(payload);
    const mask = crypto.randomBytes(4);
    let hdr;
    if (payload.length < 126) {
      hdr = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      hdr = Buffer.alloc(4); hdr[0] = 0x80 | opcode; hdr[1] = 0x80 | 126; hdr.writeUInt16BE(payload.length, 2);
    } else {
      hdr = Buffer.alloc(10); hdr[0] = 0x80 | opcode; hdr[1] = 0x80 | 127; hdr.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = payload[i] ^ mask[i & 3];
    this.sock.write(Buffer.concat([hdr, mask, masked]));
  }

  sendJSON(obj) { this.sendFrame(0x1, JSON.stringify(obj)); }

  texts() {
    return this.frames.filter((f) => f.opcode === 0x1).map((f) => JSON.parse(f.payload.toString()));
  }

  async waitText(type, timeout = 3000) {
    return until(() => this.texts().find((m) => m.type === type), { timeout, what: `raw client ${type}` });
  }

  destroy() { this.sock?.destroy(); }
}

/*
 * The kernel's send and receive queues (bytes) of the loopback TCP socket
 * localPort -> remotePort, from /proc/net/tcp{,6} (an IPv4 connection may
 * be accepted on a dual-stack socket); null when there is none. Used to
 * tell when a client that stopped reading has filled its socket buffers,
 * so that the server can no longer write to it.
 */
/* HAProxy in the foreground with deploy's configuration, its addresses
 * from env (VENUE_LB_BIND, VENUE_NODE_A/B/C); stop() ends it. Waits until
 * it answers /healthz through itself. */
export async function startHaproxy(env) {
  const child = spawn('haproxy', ['-db', '-f', path.join(VENUE_ROOT, 'deploy/haproxy/haproxy.cfg')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('close', () => { live.delete(child); resolve(); }));
  const lb = {
    child,
    log: () => log,
    wsUrl: `ws://${env.VENUE_LB_BIND}/ws`,
    clients: new Set(),
    stop: async () => { child.kill('SIGTERM'); await exited; },
  };
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`HAProxy exited: ${log}`);
    try {
      return (await fetch(`http://${env.VENUE_LB_BIND}/healthz`)).status === 200;
    } catch {
      return false;
    }
  }, { timeout: 5000, what: 'HAProxy to answer /healthz' });
  return lb;
}

export function tcpQueues(localPort, remotePort) {
  const hex = (p) => p.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f.length > 4 && f[1].endsWith(`:${hex(localPort)}`) && f[2].endsWith(`:${hex(remotePort)}`)) {
        const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
        return { tx, rx };
      }
    }
  }
  return null;
}

/* Rows of every table of a SQLite file, via the sqlite3 CLI. */
export function sqliteDump(file) {
  const tables = execFileSync('sqlite3', [file, '.tables'], { encoding: 'utf8' })
    .split(/\s+/).filter(Boolean);
  const rows = {};
  for (const t of tables) {
    const out = execFileSync('sqlite3', ['-json', file, `SELECT * FROM "${t}"`], { encoding: 'utf8' });
    rows[t] = out.trim() ? JSON.parse(out) : [];
  }
  return { tables, rows };
}

/* The sqlite3 CLI holding file's write lock, as an operator's session
 * would, until the returned release() commits and quits. */
export async function holdWriteLock(file) {
  const child = spawn('sqlite3', [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  child.stdin.write('.timeout 2000\nBEGIN IMMEDIATE;\nSELECT \'held\';\n');
  await until(() => out.includes('held'), { timeout: 5000, what: 'sqlite3 to take the lock' });
  return async () => {
    child.stdin.end('COMMIT;\n.quit\n');
    const code = await new Promise((r) => child.on('exit', r));
    if (code !== 0) throw new Error(`sqlite3 exited ${code}: ${err}`);
  };
}

/*
 * A throwaway PostgreSQL server (tests/pg.sh) in a folder of its own on
 * loopback, for the tests of several nodes sharing a database. database()
 * gives each caller an empty database of its own; query() returns rows
 * through psql as JSON objects.
 */
export class Postgres {
  constructor(dir) {
    this.dir = dir;
    this.base = null;
    this.made = 0;
  }

  async start() {
    const out = execFileSync('sh', [path.join(VENUE_ROOT, 'tests/pg.sh'), 'start', this.dir],
      { encoding: 'utf8', timeout: 60000 });
    this.base = out.trim().split('\n').pop();
    return this;
  }

  stop() {
    execFileSync('sh', [path.join(VENUE_ROOT, 'tests/pg.sh'), 'stop', this.dir], { timeout: 30000 });
  }

  /* A new, empty database: its URL. */
  database() {
    const name = `t${process.pid}_${++this.made}`;
    this.query(`${this.base}/postgres`, `CREATE DATABASE ${name}`);
    return `${this.base}/${name}`;
  }

  /* Rows of one statement on the database at url, each an object. */
  query(url, sql) {
    const wrapped = /^\s*select/i.test(sql)
      ? `SELECT coalesce(json_agg(r), '[]') FROM (${sql}) r` : sql;
    const out = execFileSync('psql', ['-X', '-q', '-t', '-A', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', wrapped],
      { encoding: 'utf8', timeout: 10000 });
    return /^\s*select/i.test(sql) ? JSON.parse(out.trim() || '[]') : out;
  }
}
