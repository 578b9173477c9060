// voice-proxy.test.mjs - /voice: venued pipes browsers to Janus' WebSocket
// API (server/net/voice_proxy.c).
//
// Against a real Janus (tests/voice/janus.mjs; skipped, saying so, when
// `janus` is not installed): a browser with a core token creates a session
// and attaches the VideoRoom through /voice, one without a token gets
// Janus' 403 through it; secrets and oversized messages close the browser
// (1008, 1009), and so does a reply of Janus' over the bound (1011); Janus
// killed closes the browser 1011 at once, and a new browser hears "voice
// server unreachable".
//
// Against a fake Janus (a ws server in this process, which can hold its
// upgrades): messages sent before Janus' side is open wait and arrive in
// order, and either side leaving closes the other after what it sent; a
// connect that never completes closes the browser 1011 after the connect
// timeout; each direction's queue at 64 messages and at 256 KiB (one more:
// 1008 "too slow" on both sides); the refused messages; the cap of 2048
// pairs (one more: 1013 "voice busy", and a place freed is taken again);
// venued exits cleanly with pairs open. Without --janus, /voice says "no
// voice here" (1008); nothing listening at --janus: "voice server
// unreachable" (1011) at once.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { withServer, freePort, within, until, sleep, parseProm } from './harness.mjs';
import { startJanus, janusBinary } from '../voice/janus.mjs';
import { addUser } from '../admin/lib.mjs';

const skip = janusBinary() ? false : 'SKIP: janus is not installed (Debian package janus): no real-Janus proxy test';
if (skip) console.log(skip);

const PROTO = 'janus-protocol';
const MSG_MAX = 65536;
const QUEUE_MSGS = 64;
const QUEUE_BYTES = 262144;
const MAX_PAIRS = 2048;
const CONNECT_MS = 5000;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-voice-proxy-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* A secrets.env for venued's own Janus client, which talks to the fake
 * Janus too (and gets nothing back from it). */
function fakeSecrets() {
  const file = path.join(tmp, 'secrets.env');
  fs.writeFileSync(file, 'JANUS_API_SECRET=fake-api-secret-0123456789\n'
    + 'JANUS_ADMIN_SECRET=fake-admin-secret-0123456789\nJANUS_ROOM_KEY=fake-room-key-0123456789\n',
  { mode: 0o600 });
  return file;
}

/* A JSON text of exactly `bytes` bytes: obj with a "pad" string. */
function sized(obj, bytes) {
  const base = Buffer.byteLength(JSON.stringify({ ...obj, pad: '' }));
  const s = JSON.stringify({ ...obj, pad: 'x'.repeat(bytes - base) });
  assert.equal(Buffer.byteLength(s), bytes);
  return s;
}

/* A browser on /voice: messages in an inbox, requests by transaction. */
class Voice {
  constructor(port, { protocol = PROTO, urlPath = '/voice' } = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`, protocol, { maxPayload: 1 << 26 });
    this.inbox = [];
    this.waiters = new Set();
    this.n = 0;
    this.opened = within(5000, new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    }), '/voice to open');
    this.opened.catch(() => {});
    this.closeInfo = null;
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        resolve(this.closeInfo);
        this.wake();
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (d) => {
      this.inbox.push(JSON.parse(d.toString()));
      this.wake();
    });
  }

  static async open(port, opts) {
    const v = new Voice(port, opts);
    await v.opened;
    return v;
  }

  wake() { for (const w of [...this.waiters]) w(); }

  send(x) { this.ws.send(typeof x === 'string' || Buffer.isBuffer(x) ? x : JSON.stringify(x)); }

  /* The first message matching pred (taken from the inbox), within ms. */
  next(pred, ms = 5000, what = 'a message') {
    let waiter;
    return within(ms, new Promise((resolve, reject) => {
      waiter = () => {
        const i = this.inbox.findIndex(pred);
        if (i >= 0) resolve(this.inbox.splice(i, 1)[0]);
        else if (this.closeInfo) reject(new Error(`/voice closed (${this.closeInfo.code} ${this.closeInfo.reason}) while waiting for ${what}`));
      };
      this.waiters.add(waiter);
      waiter();
    }), `/voice to receive ${what}`).finally(() => this.waiters.delete(waiter));
  }

  /* body with a fresh transaction; Janus' answer to it (acks skipped). */
  request(body, ms = 5000) {
    const transaction = `t${++this.n}-${crypto.randomBytes(4).toString('hex')}`;
    this.send({ ...body, transaction });
    return this.next((m) => m.transaction === transaction && m.janus !== 'ack', ms, `the answer to ${body.janus}`);
  }

  waitClose(ms = 5000) { return within(ms, this.closed, 'the /voice connection to close'); }

  get open() { return this.ws.readyState === WebSocket.OPEN; }

  terminate() { this.ws.terminate(); }
}

/* The upgrade is refused: the handshake fails, nothing opens. */
async function refusedUpgrade(port, opts) {
  const v = new Voice(port, opts);
  await assert.rejects(v.opened);
  v.terminate();
}

async function proxyMetrics(srv) {
  const samples = parseProm((await srv.get('/metrics')).body);
  const get = (n) => samples.find((s) => s.name === n)?.value;
  return { connections: get('venue_voice_proxy_connections'), refused: get('venue_voice_proxy_refused_total') };
}

/*
 * A fake Janus: a ws server on a free port that records what each
 * connection receives. hold: upgrades wait until release(). onMessage(c, m)
 * may answer. Connections from venued's own Janus client come here too;
 * the tests tell theirs apart by their transactions.
 */
async function fakeJanus({ hold = false, onMessage = null } = {}) {
  const server = http.createServer((req, res) => { res.writeHead(404); res.end(); });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1 << 26,
    handleProtocols: (protos) => (protos.has(PROTO) ? PROTO : false),
  });
  const f = {
    conns: [],
    held: [],
    hold,
    sockets: new Set(),
    /* The connection that received a message with this transaction. */
    connOf(txn) { return f.conns.find((c) => c.msgs.some((m) => m.transaction === txn)); },
    release() {
      f.hold = false;
      for (const go of f.held.splice(0)) go();
    },
    async close() {
      for (const s of f.sockets) s.destroy();
      for (const c of f.conns) c.ws.terminate();
      server.close();
    },
  };
  server.on('connection', (s) => { f.sockets.add(s); s.on('close', () => f.sockets.delete(s)); });
  server.on('upgrade', (req, sock, head) => {
    sock.on('error', () => {});
    const go = () => wss.handleUpgrade(req, sock, head, (ws) => {
      const c = { ws, msgs: [], closed: null };
      ws.on('message', (d) => {
        let m;
        try { m = JSON.parse(d.toString()); } catch { m = { raw: d.toString() }; }
        c.msgs.push(m);
        onMessage?.(c, m);
      });
      ws.on('close', (code, reason) => { c.closed = { code, reason: reason.toString() }; });
      ws.on('error', () => {});
      f.conns.push(c);
    });
    if (f.hold) f.held.push(go);
    else go();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  f.url = `ws://127.0.0.1:${server.address().port}`;
  return f;
}

/* A fake that answers every request of ours ("e" transactions) at once. */
const echo = (c, m) => {
  if (typeof m.transaction === 'string' && m.transaction.startsWith('e')) {
    c.ws.send(JSON.stringify({ janus: 'success', transaction: m.transaction }));
  }
};

function fakeFlags(f) {
  return { janus: f.url, 'janus-secrets': fakeSecrets() };
}

/* ---- Against a real Janus ------------------------------------------------ */

let janus = null;
async function realJanus() {
  // Free ports rather than janus.mjs' own (by pid), which can be taken.
  const ports = ['--ws-port', String(await freePort()), '--admin-port', String(await freePort())];
  if (!janus) janus = await startJanus({ extra: ports });
  return janus;
}
after(async () => { if (janus) await janus.cleanup(); });

function realFlags(j) {
  return { janus: j.url, 'janus-secrets': path.join(j.dir, 'secrets.env') };
}

test('a browser with a token makes a Janus session and attaches the VideoRoom through /voice; without one Janus answers 403', { skip }, async () => {
  const j = await realJanus();
  await withServer({ flags: realFlags(j) }, async (srv) => {
    const token = crypto.randomBytes(16).toString('hex');
    const admin = await j.connect(true);
    const added = await admin.request({ janus: 'add_token', token, plugins: ['janus.plugin.videoroom'] }, { admin: true });
    admin.close();
    assert.equal(added.janus, 'success', JSON.stringify(added));

    const v = await Voice.open(srv.port);
    const created = await v.request({ janus: 'create', token });
    assert.equal(created.janus, 'success', JSON.stringify(created));
    const session_id = created.data.id;
    const attached = await v.request({ janus: 'attach', plugin: 'janus.plugin.videoroom', session_id, token });
    assert.equal(attached.janus, 'success', JSON.stringify(attached));
    assert.ok(attached.data.id > 0, 'a handle id');
    const handle_id = attached.data.id;
    // A plugin request goes through and comes back with the plugin's answer.
    const listed = await v.request({ janus: 'message', session_id, handle_id, token, body: { request: 'exists', room: 1 } });
    assert.equal(listed.plugindata?.plugin, 'janus.plugin.videoroom', JSON.stringify(listed));
    v.send({ janus: 'keepalive', session_id, token, transaction: 'k1' });
    assert.equal((await v.next((m) => m.transaction === 'k1')).janus, 'ack');
    assert.equal((await v.request({ janus: 'detach', session_id, handle_id, token })).janus, 'success');

    // No token: Janus itself refuses, and the proxy passes its answer on.
    const anon = await Voice.open(srv.port);
    const denied = await anon.request({ janus: 'create' });
    assert.equal(denied.janus, 'error', JSON.stringify(denied));
    assert.equal(denied.error.code, 403, JSON.stringify(denied));
    const wrong = await anon.request({ janus: 'create', token: 'not-a-token' });
    assert.equal(wrong.error?.code, 403, JSON.stringify(wrong));
    assert.ok(anon.open, 'a refusal by Janus does not close the browser');
    assert.deepEqual(await proxyMetrics(srv), { connections: 2, refused: 0 });

    assert.equal((await v.request({ janus: 'destroy', session_id, token })).janus, 'success');
    v.ws.close(1000);
    anon.ws.close(1000);
    await v.waitClose();
    await anon.waitClose();
    await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pairs to go' });
  });
});

test('a person venued takes voice from (a kick) loses their /voice connection and their Janus session at once: what they hear stops too', { skip }, async () => {
  const j = await realJanus();
  const data = fs.mkdtempSync(path.join(tmp, 'data-'));
  const mo = addUser(data, 'Mo Moderator', 'moderator');
  await withServer({ flags: realFlags(j), dataDir: data }, async (srv) => {
    await until(async () => (await srv.getJSON('/healthz')).json.voice === 'up',
      { timeout: 10000, interval: 100, what: 'voice up' });
    const a = await srv.connect();
    await a.hello('Ada');
    await a.join('breakout-1');
    const token = a.voice.token;
    const v = await Voice.open(srv.port);
    const session_id = (await v.request({ janus: 'create', token })).data.id;
    const attached = await v.request({ janus: 'attach', plugin: 'janus.plugin.videoroom', session_id, token });
    assert.equal(attached.janus, 'success', JSON.stringify(attached));
    // A connection is one person's: a second token on it closes it.
    const other = await Voice.open(srv.port);
    await other.request({ janus: 'create', token });
    other.send({ janus: 'create', token: 'f'.repeat(32), transaction: 'x1' });
    const refused = await other.waitClose();
    assert.equal(refused.code, 1008);
    assert.equal(refused.reason, 'voice: one token per connection');

    const admin = await j.connect(true);
    try {
      const sessions = async () => (await admin.request({ janus: 'list_sessions' }, { admin: true })).sessions;
      assert.ok((await sessions()).includes(session_id), 'Ada\'s Janus session is there');
      const m = await srv.connect();
      await m.hello('x', { token: mo.token });
      await m.join('breakout-1');
      m.send({ type: 'mod', id: 'kick', action: 'kick', target: a.user.id });
      await m.next('mod_ok');
      const closed = await v.waitClose(2000);
      assert.equal(closed.code, 1008);
      assert.equal(closed.reason, 'voice: your voice access was withdrawn');
      await until(async () => !(await sessions()).includes(session_id),
        { timeout: 2000, interval: 50, what: 'Janus to end the kicked person\'s session' });
    } finally {
      admin.close();
    }
  });
});

test('secrets and oversized messages close the browser; Janus\' oversized answer closes it 1011', { skip }, async () => {
  const j = await realJanus();
  await withServer({ flags: realFlags(j) }, async (srv) => {
    // Never passed on, whether the secret is right or not.
    for (const [field, value] of [['apisecret', j.env.JANUS_API_SECRET], ['admin_secret', j.env.JANUS_ADMIN_SECRET],
      ['apisecret', 'guess']]) {
      const v = await Voice.open(srv.port);
      v.send({ janus: 'create', transaction: 's1', [field]: value });
      const c = await v.waitClose();
      assert.equal(c.code, 1008, `${field}: ${JSON.stringify(c)}`);
      assert.match(c.reason, /secrets are not taken here/);
      assert.equal(v.inbox.length, 0, 'Janus never answered it');
    }

    // Exactly 64 KiB goes through (Janus answers a ping with a small pong).
    const ok = await Voice.open(srv.port);
    ok.send(sized({ janus: 'ping', transaction: 'big' }, MSG_MAX));
    assert.equal((await ok.next((m) => m.transaction === 'big')).janus, 'pong');

    // One byte more closes 1009.
    ok.send(sized({ janus: 'ping', transaction: 'bigger' }, MSG_MAX + 1));
    const c = await ok.waitClose();
    assert.equal(c.code, 1009, JSON.stringify(c));
    assert.equal(ok.inbox.length, 0);

    // Janus' answer over 64 KiB (info echoes a 64 KiB transaction): 1011.
    const echoing = await Voice.open(srv.port);
    const txn = 'x'.repeat(MSG_MAX - JSON.stringify({ janus: 'info', transaction: '' }).length);
    echoing.send({ janus: 'info', transaction: txn });
    const e = await echoing.waitClose();
    assert.equal(e.code, 1011, JSON.stringify(e));
    assert.match(e.reason, /voice server sent a message over 64 KiB/);
    assert.equal(echoing.inbox.length, 0);

    await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pairs to go' });
    assert.deepEqual(await proxyMetrics(srv), { connections: 0, refused: 5 });
  });
});

test('Janus killed: the browser is closed 1011 within seconds, and a new one hears it is unreachable', { skip }, async () => {
  const j = await realJanus();
  await withServer({ flags: realFlags(j) }, async (srv) => {
    const v = await Voice.open(srv.port);
    assert.equal((await v.request({ janus: 'ping' })).janus, 'pong');
    const t0 = Date.now();
    await j.stop('SIGKILL');
    const c = await v.waitClose(5000);
    assert.equal(c.code, 1011, JSON.stringify(c));
    assert.equal(c.reason, 'voice server closed the connection');
    assert.ok(c.at - t0 < 3000, `closed after ${c.at - t0} ms`);

    const late = await Voice.open(srv.port);
    const t1 = Date.now();
    const d = await late.waitClose(CONNECT_MS + 2000);
    assert.equal(d.code, 1011, JSON.stringify(d));
    assert.equal(d.reason, 'voice server unreachable');
    assert.ok(d.at - t1 < 2000, `a refused connect is told at once, not after ${d.at - t1} ms`);
    await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pairs to go' });
  });
});

/* ---- Without voice, and Janus absent ------------------------------------------------ */

test('without --janus, /voice says "no voice here" (1008); other paths and protocols are refused', async () => {
  await withServer({}, async (srv) => {
    const v = await Voice.open(srv.port);
    const c = await v.waitClose();
    assert.deepEqual([c.code, c.reason], [1008, 'no voice here']);
    assert.deepEqual(await proxyMetrics(srv), { connections: 0, refused: 1 });
    await refusedUpgrade(srv.port, { urlPath: '/ws' });             // janus-protocol is only on /voice
    await refusedUpgrade(srv.port, { protocol: 'venue.v1' });       // and /voice only speaks it
    await refusedUpgrade(srv.port, { urlPath: '/voice/x' });
  });
});

test('nothing listening at --janus: the browser is closed 1011 "voice server unreachable" at once', async () => {
  const port = await freePort();
  await withServer({ flags: { janus: `ws://127.0.0.1:${port}`, 'janus-secrets': fakeSecrets() } }, async (srv) => {
    const v = await Voice.open(srv.port);
    const t0 = Date.now();
    const c = await v.waitClose(3000);
    assert.deepEqual([c.code, c.reason], [1011, 'voice server unreachable']);
    assert.ok(c.at - t0 < 2000, `after ${c.at - t0} ms`);
    await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pair to go' });
    assert.equal((await proxyMetrics(srv)).refused, 0, 'Janus being away is not a refusal');
  });
});

/* ---- Against a fake Janus --------------------------------------------------------- */

test('messages sent before Janus\' side is open wait for it and arrive in order; either side closing closes the other', async () => {
  const f = await fakeJanus({
    hold: true,
    onMessage: (c, m) => {
      if (m.transaction !== 'ebye') return echo(c, m);
      c.ws.send(JSON.stringify({ janus: 'event', transaction: 'ebye' }));
      return c.ws.close(1000);
    },
  });
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      const v = await Voice.open(srv.port);
      for (let i = 0; i < 10; i++) v.send({ janus: 'keepalive', transaction: `e${i}` });
      await sleep(500);
      assert.ok(v.open);
      assert.equal(v.inbox.length, 0);
      f.release();
      for (let i = 0; i < 10; i++) await v.next((m) => m.transaction === `e${i}`);
      const c = f.connOf('e0');
      assert.deepEqual(c.msgs.map((m) => m.transaction), Array.from({ length: 10 }, (_, i) => `e${i}`));
      assert.ok(c.msgs.every((m) => !('apisecret' in m)), 'the proxy adds nothing');

      // The browser leaves: Janus' side is closed too.
      v.ws.close(1000);
      await until(() => c.closed, { what: 'Janus\' side to close' });
      assert.equal(c.closed.code, 1000);
      await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pair to go' });

      // What a browser sends just before it leaves still reaches Janus
      // (once Janus' side is open: one not open yet is dropped at once).
      const u = await Voice.open(srv.port);
      u.send({ janus: 'ping', transaction: 'efirst' });
      await u.next((m) => m.transaction === 'efirst');
      u.send({ janus: 'detach', transaction: 'elast' });
      u.ws.close(1000);
      await until(() => f.connOf('elast')?.closed, { what: 'Janus\' side to close after the last message' });
      assert.equal(f.connOf('elast').closed.code, 1000);

      // Janus closes: the browser gets what Janus sent, then 1011.
      const w = await Voice.open(srv.port);
      w.send({ janus: 'keepalive', transaction: 'ebye' });
      const wc = await w.waitClose();
      assert.deepEqual([wc.code, wc.reason], [1011, 'voice server closed the connection']);
      assert.deepEqual(w.inbox.map((m) => m.janus), ['event'], 'the last word came before the close');
      assert.equal((await proxyMetrics(srv)).refused, 0);
    });
  } finally {
    await f.close();
  }
});

test('a connect that never completes: the browser is closed 1011 after the connect timeout', async () => {
  const f = await fakeJanus({ hold: true });
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      const v = await Voice.open(srv.port);
      const t0 = Date.now();
      v.send({ janus: 'keepalive', transaction: 'e1' });
      const c = await v.waitClose(CONNECT_MS + 3000);
      assert.deepEqual([c.code, c.reason], [1011, 'voice server unreachable']);
      const took = c.at - t0;
      assert.ok(took > CONNECT_MS - 1000 && took < CONNECT_MS + 2000, `closed after ${took} ms`);
      await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pair to go' });
    });
  } finally {
    await f.close();
  }
});

test('the browser\'s queue: 64 messages and 256 KiB wait; one more closes both sides 1008 "too slow"', async () => {
  const f = await fakeJanus({ hold: true });
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      const small = (tag, n) => Array.from({ length: n }, (_, i) => JSON.stringify({ janus: 'keepalive', transaction: `${tag}${i}` }));
      const big = (tag, n) => Array.from({ length: n }, (_, i) => sized({ janus: 'keepalive', transaction: `${tag}${i}` }, MSG_MAX));
      const cases = [
        { tag: 'a', msgs: small('a', QUEUE_MSGS), fits: true },
        { tag: 'b', msgs: small('b', QUEUE_MSGS + 1), fits: false },
        { tag: 'c', msgs: big('c', QUEUE_BYTES / MSG_MAX), fits: true },
        { tag: 'd', msgs: [...big('d', QUEUE_BYTES / MSG_MAX), JSON.stringify({ janus: 'ping', transaction: 'd-last' })], fits: false },
      ];
      for (const k of cases) {
        k.v = await Voice.open(srv.port);
        for (const m of k.msgs) k.v.send(m);
      }
      for (const k of cases.filter((x) => !x.fits)) {
        const c = await k.v.waitClose();
        assert.deepEqual([c.code, c.reason], [1008, 'too slow'], k.tag);
      }
      await sleep(300);
      for (const k of cases.filter((x) => x.fits)) assert.ok(k.v.open, `${k.tag}: still open`);

      // Janus' side opens: what fitted arrives whole and in order; the
      // refused pairs' Janus sides were dropped before they opened.
      f.release();
      for (const k of cases.filter((x) => x.fits)) {
        const want = k.msgs.map((m) => JSON.parse(m).transaction);
        await until(() => f.connOf(want[0])?.msgs.length === want.length, { what: `${k.tag}'s messages at Janus` });
        assert.deepEqual(f.connOf(want[0]).msgs.map((m) => m.transaction), want);
      }
      for (const k of cases.filter((x) => !x.fits)) assert.equal(f.connOf(`${k.tag}0`), undefined, k.tag);
      assert.deepEqual(await proxyMetrics(srv), { connections: 2, refused: 2 });
    });
  } finally {
    await f.close();
  }
});

test('Janus\' queue: a browser that does not read is closed, and Janus\' side with 1008 "too slow"', async () => {
  const chunk = 'y'.repeat(60000);
  // Sent at the pace venued reads, so that the close frame it sends back
  // is not lost behind a backlog of ours (a socket closed with unread data
  // is reset, and the reset may overtake the frame).
  const flood = async (ws) => {
    for (let i = 0; i < 600 && ws.readyState === WebSocket.OPEN; i++) {
      while (ws.bufferedAmount > 262144 && ws.readyState === WebSocket.OPEN) await sleep(2);
      ws.send(JSON.stringify({ janus: 'event', transaction: 'eflood', i, chunk }));
    }
  };
  const f = await fakeJanus({
    onMessage: (c, m) => {
      if (m.transaction === 'eflood') flood(c.ws);
    },
  });
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      const v = await Voice.open(srv.port);
      v.ws._socket.pause();
      v.send({ janus: 'keepalive', transaction: 'eflood' });
      await until(() => f.connOf('eflood')?.closed, { timeout: 10000, what: 'Janus\' side to be closed' });
      // venued sends 1008 "too slow"; on a loaded machine the close of a
      // socket that still holds the flood's unread bytes is a reset, which
      // can overtake that frame (1006, seen at a load average of 4).
      const jc = f.connOf('eflood').closed;
      assert.ok(jc.code === 1006 || (jc.code === 1008 && jc.reason === 'too slow'), JSON.stringify(jc));
      v.ws._socket.resume();
      const c = await v.waitClose(5000);
      // The close frame may not get through to a browser that stopped reading.
      assert.ok([1008, 1006].includes(c.code), JSON.stringify(c));
      assert.ok(v.inbox.length < 600, `${v.inbox.length} of 600 got through`);
      await until(async () => (await proxyMetrics(srv)).connections === 0, { what: 'the pair to go' });
      assert.equal((await proxyMetrics(srv)).refused, 1);
    });
  } finally {
    await f.close();
  }
});

test('what a browser may not send to Janus closes it 1008 with the reason, and never reaches Janus', async () => {
  const f = await fakeJanus({ onMessage: echo });
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      const cases = [
        ['not JSON', 'hello', /one JSON object/],
        ['an array', '[{"janus":"create","transaction":"e1"}]', /one JSON object/],
        ['two objects', '{"janus":"ping","transaction":"e1"} {"janus":"ping","transaction":"e2"}', /one JSON object/],
        ['a key twice', '{"janus":"create","transaction":"e1","janus":"add_token"}', /each key once/],
        ['binary', Buffer.from('{"janus":"ping","transaction":"e1"}'), /text messages only/],
        ['no janus', { transaction: 'e1' }, /"janus" must name the request/],
        ['janus a number', { janus: 7, transaction: 'e1' }, /"janus" must name the request/],
        ['add_token', { janus: 'add_token', token: 'x', transaction: 'e1' }, /not one a browser makes/],
        ['list_sessions', { janus: 'list_sessions', transaction: 'e1' }, /not one a browser makes/],
        ['upper case', { janus: 'CREATE', transaction: 'e1' }, /not one a browser makes/],
        ['admin_secret', { janus: 'create', transaction: 'e1', admin_secret: 'x' }, /secrets are not taken here/],
        ['apisecret null', { janus: 'create', transaction: 'e1', apisecret: null }, /secrets are not taken here/],
      ];
      for (const [what, msg, reason] of cases) {
        const v = await Voice.open(srv.port);
        v.send({ janus: 'keepalive', transaction: `eok-${what}` }); // fine: passes
        await v.next((m) => m.transaction === `eok-${what}`);
        v.send(msg);
        const c = await v.waitClose();
        assert.equal(c.code, 1008, `${what}: ${JSON.stringify(c)}`);
        assert.match(c.reason, reason, what);
        const janusSide = f.connOf(`eok-${what}`);
        await until(() => janusSide.closed, { what: `${what}: Janus' side to close` });
        assert.equal(janusSide.msgs.length, 1, `${what}: only the good message reached Janus`);
      }
      // Every request a browser makes passes.
      const v = await Voice.open(srv.port);
      for (const janus of ['create', 'attach', 'message', 'trickle', 'keepalive', 'detach', 'destroy', 'hangup', 'claim', 'info', 'ping']) {
        v.send({ janus, transaction: `e-${janus}` });
        await v.next((m) => m.transaction === `e-${janus}`);
      }
      assert.deepEqual(await proxyMetrics(srv), { connections: 1, refused: cases.length });
    });
  } finally {
    await f.close();
  }
});

test('at most 2048 pairs: one more is closed 1013 "voice busy", a place freed is taken again, and venued exits cleanly with pairs open', async () => {
  const f = await fakeJanus({ onMessage: echo });
  const voices = [];
  try {
    await withServer({ flags: fakeFlags(f) }, async (srv) => {
      for (let i = 0; i < MAX_PAIRS; i += 128) {
        const batch = Array.from({ length: Math.min(128, MAX_PAIRS - i) }, () => new Voice(srv.port));
        voices.push(...batch);
        await Promise.all(batch.map((v) => v.opened));
      }
      await until(async () => (await proxyMetrics(srv)).connections === MAX_PAIRS,
        { timeout: 10000, what: `${MAX_PAIRS} pairs` });
      const extra = await Voice.open(srv.port);
      const c = await extra.waitClose();
      assert.deepEqual([c.code, c.reason], [1013, 'voice busy']);
      const last = voices[voices.length - 1];
      last.send({ janus: 'ping', transaction: 'elast' });
      await last.next((m) => m.transaction === 'elast');

      voices.shift().ws.close(1000);
      await until(async () => (await proxyMetrics(srv)).connections === MAX_PAIRS - 1, { what: 'a place to be freed' });
      const again = await Voice.open(srv.port);
      voices.push(again);
      again.send({ janus: 'ping', transaction: 'eagain' });
      await again.next((m) => m.transaction === 'eagain');
      assert.deepEqual(await proxyMetrics(srv), { connections: MAX_PAIRS, refused: 1 });
      // withServer stops venued now, with every pair open: it must exit 0
      // (a leak or a bad access under the sanitizers would not).
    });
  } finally {
    for (const v of voices) v.terminate();
    await f.close();
  }
});
