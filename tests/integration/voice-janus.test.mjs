// voice-janus.test.mjs - venued drives a real Janus: the voice rooms exist
// for every venue room with venued watching each, /healthz and /metrics say
// voice is up; a client's `voice` message gets it into its room's voice
// room and no other, leaving the room ends its media there (kick), and
// moderation changes what it may do; Janus killed
// (SIGKILL): the venue goes on (join, chat) and says voice is down; Janus
// back: the rooms are back within seconds and the reconnect is counted;
// venued started with Janus absent starts and reports voice down.
//
// Janus runs from server/voice/janus-config.sh on unusual ports in a temp
// folder, only on 127.0.0.1. Skipped, saying so, when `janus` is missing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import {
  VENUE_ROOT, Server, withServer, freePort, until, within, sleep, parseProm, chatFrom,
} from './harness.mjs';
import { addUser, tempDir } from '../admin/lib.mjs';

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch { return ''; }
}
const JANUS = which('janus');
const skip = JANUS ? false : 'SKIP: janus is not installed (Debian package janus): no voice test';
if (skip) console.log(skip);

// The room number venued derives from a venue room id (janus.c): FNV-1a
// 64, kept to 53 bits, never 0.
function roomNumber(id) {
  let h = 1469598103934665603n;
  for (const b of Buffer.from(id, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 1099511628211n) & 0xffffffffffffffffn;
  }
  h &= (1n << 53n) - 1n;
  return Number(h === 0n ? 1n : h);
}

function scenes() {
  const dir = path.join(VENUE_ROOT, 'scenes/demo');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

function readEnv(file) {
  const out = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

async function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

class Janus {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-janus-'));
    this.cfg = path.join(this.dir, 'cfg');
    this.child = null;
  }

  async configure() {
    this.wsPort = await freePort();
    this.adminPort = await freePort();
    const base = 42000 + Math.floor(Math.random() * 200) * 50;
    execFileSync(path.join(VENUE_ROOT, 'server/voice/janus-config.sh'), [this.cfg,
      '--ws-port', String(this.wsPort), '--admin-port', String(this.adminPort),
      '--rtp-ports', `${base}-${base + 49}`]);
    this.env = readEnv(path.join(this.cfg, 'secrets.env'));
  }

  async start() {
    this.log = '';
    const child = spawn(JANUS, ['-C', path.join(this.cfg, 'janus.jcfg'), '-F', this.cfg,
      '-L', path.join(this.dir, 'janus.log'), '-N', '-o'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (d) => { this.log += d; });
    child.stderr.on('data', (d) => { this.log += d; });
    this.exited = new Promise((resolve) => child.on('close', resolve));
    await until(() => portOpen(this.wsPort), { timeout: 15000, interval: 100, what: 'Janus to listen' });
  }

  async kill() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode) return;
    this.child.kill('SIGKILL');
    await within(5000, this.exited, 'Janus to die');
  }

  cleanup() { fs.rmSync(this.dir, { recursive: true, force: true }); }
}

// A client of the Janus API: requests by transaction, answers by transaction.
async function janusClient(url, apisecret) {
  const ws = new WebSocket(url, 'janus-protocol');
  await within(5000, new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); }), 'Janus API');
  let n = 0;
  const waiting = new Map();
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.janus === 'ack') return;
    const w = waiting.get(m.transaction);
    if (w) { waiting.delete(m.transaction); w(m); }
  });
  const req = (body) => {
    const transaction = `t${++n}`;
    ws.send(JSON.stringify({ ...body, transaction, apisecret }));
    return within(5000, new Promise((res) => waiting.set(transaction, res)), `Janus ${body.janus}`);
  };
  const c = await req({ janus: 'create' });
  assert.equal(c.janus, 'success', JSON.stringify(c));
  const session_id = c.data.id;
  const attach = async (plugin) => (await req({ janus: 'attach', plugin, session_id })).data.id;
  const vr = await attach('janus.plugin.videoroom');
  const plugin = async (body) =>
    (await req({ janus: 'message', session_id, handle_id: vr, body })).plugindata?.data;
  return {
    async rooms(adminKey) {
      return ((await plugin({ request: 'list', admin_key: adminKey })).list ?? []).map((x) => x.room);
    },
    async participants(room) {
      return ((await plugin({ request: 'listparticipants', room })).participants ?? []).map((x) => x.id);
    },
    close() { ws.terminate(); },
  };
}

async function health(srv) {
  return (await srv.getJSON('/healthz'));
}

async function voiceMetrics(srv) {
  const samples = parseProm((await srv.get('/metrics')).body);
  const get = (n) => samples.find((s) => s.name === n)?.value;
  return { up: get('venue_voice_up'), reconnects: get('venue_voice_reconnects_total') };
}

async function expectRooms(j) {
  const cl = await janusClient(`ws://127.0.0.1:${j.wsPort}`, j.env.JANUS_API_SECRET);
  try {
    const rooms = await cl.rooms(j.env.JANUS_ROOM_KEY);
    for (const sc of scenes()) {
      const n = roomNumber(sc.id);
      assert.ok(rooms.includes(n), `${sc.id}: VideoRoom ${n} in ${JSON.stringify(rooms)}`);
      assert.deepEqual(await cl.participants(n), [1], `${sc.id}: venued watches it as participant 1`);
    }
  } finally { cl.close(); }
}

test('venued keeps its voice rooms in Janus, and survives Janus dying and coming back', { skip }, async () => {
  const j = new Janus();
  try {
    await j.configure();
    await j.start();
    const flags = {
      janus: `ws://127.0.0.1:${j.wsPort}`,
      'janus-admin': `ws://127.0.0.1:${j.adminPort}`,
      'janus-secrets': path.join(j.cfg, 'secrets.env'),
    };
    await withServer({ flags }, async (srv) => {
      await until(async () => (await health(srv)).json.voice === 'up',
        { timeout: 10000, interval: 100, what: 'health to say voice up' });
      let h = await health(srv);
      assert.equal(h.status, 200);
      assert.equal(h.json.ok, true);
      assert.deepEqual(await voiceMetrics(srv), { up: 1, reconnects: 0 });
      await expectRooms(j);

      await j.kill();
      await until(async () => (await health(srv)).json.voice === 'down',
        { timeout: 5000, interval: 100, what: 'health to say voice down' });
      h = await health(srv);
      assert.equal(h.status, 200, 'voice is optional: still healthy');
      assert.ok(h.json.voice_reason.length > 0, 'a reason is given');
      assert.equal((await voiceMetrics(srv)).up, 0);
      // The venue goes on without voice.
      const a = await srv.connect();
      await a.enter('lobby', 'Ada');
      a.send({ type: 'chat', text: 'no voice, still here' });
      await a.next('chat', { filter: chatFrom(a.user.id, 'no voice, still here') });

      await sleep(1500); // a few retries fail while Janus is away
      await j.start();
      await until(async () => (await health(srv)).json.voice === 'up',
        { timeout: 15000, interval: 100, what: 'voice to come back after Janus restarted' });
      await expectRooms(j);
      const m = await voiceMetrics(srv);
      assert.equal(m.up, 1);
      assert.ok(m.reconnects >= 1, `reconnects counted: ${m.reconnects}`);
      assert.ok(/no voice/.test(srv.log), 'the outage was logged');
      const lines = srv.log.split('\n').filter((l) => /no voice/.test(l));
      assert.ok(lines.length <= 2, `logged once per outage, not per retry:\n${lines.join('\n')}`);
    });
  } finally {
    await j.kill();
    j.cleanup();
  }
});

/* A browser's side of Janus, without media: a session on a token and one
 * VideoRoom handle; join() answers with the plugin's data or error. */
async function asParticipant(url, token) {
  const ws = new WebSocket(url, 'janus-protocol');
  await within(5000, new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); }), 'Janus API');
  let n = 0;
  const waiting = new Map();
  const events = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.janus === 'ack') return;
    const w = waiting.get(m.transaction);
    if (w) { waiting.delete(m.transaction); w(m); } else events.push(m);
  });
  const req = (body) => {
    const transaction = `p${++n}`;
    ws.send(JSON.stringify({ ...body, transaction, token }));
    return within(5000, new Promise((res) => waiting.set(transaction, res)), `Janus ${body.janus}`);
  };
  const c = await req({ janus: 'create' });
  if (c.janus !== 'success') { ws.terminate(); return { refused: c.error?.reason ?? JSON.stringify(c) }; }
  const session_id = c.data.id;
  const handle_id = (await req({ janus: 'attach', plugin: 'janus.plugin.videoroom', session_id })).data.id;
  return {
    events,
    async join(room, id) {
      const r = await req({ janus: 'message', session_id, handle_id,
        body: { request: 'join', ptype: 'publisher', room, id, display: 'test', token } });
      return r.plugindata?.data ?? { error: r.error?.reason };
    },
    close() { ws.terminate(); },
  };
}

test('a voice message admits its person to its room only; leaving ends it; moderators decide who speaks', { skip }, async () => {
  const j = new Janus();
  const tmp = tempDir('venued-voice-');
  try {
    await j.configure();
    await j.start();
    const mo = addUser(tmp.dir, 'Mo (moderator)', 'moderator');
    const srv = new Server({ dataDir: tmp.dir, flags: {
      janus: `ws://127.0.0.1:${j.wsPort}`,
      'janus-admin': `ws://127.0.0.1:${j.adminPort}`,
      'janus-secrets': path.join(j.cfg, 'secrets.env'),
      turn: 'turn:127.0.0.1:3478,turns:127.0.0.1:5349', 'turn-secret': 'north', 'turn-ttl': '600',
    } });
    await srv.start();
    try {
      await until(async () => (await health(srv)).json.voice === 'up',
        { timeout: 10000, interval: 100, what: 'health to say voice up' });
      const url = `ws://127.0.0.1:${j.wsPort}`;
      const a = await srv.connect();
      await a.hello('Ada');
      await a.join('breakout-1');
      const v = a.voice;
      assert.equal(v.state, 'up');
      assert.equal(v.url, '/voice');
      assert.equal(v.mode, 'spatial');
      assert.equal(v.room, roomNumber('breakout-1'));
      assert.equal(v.listen, v.room);
      assert.equal(v.publish, true);
      assert.equal(v.muted, false);
      assert.equal(v.locked, false);
      assert.match(v.token, /^[0-9a-f]{32}$/);
      assert.ok(Number.isSafeInteger(v.id) && v.id > 1);
      // The TURN relay's password is Ada's own and expires (coturn's scheme).
      assert.equal(v.ice.length, 1);
      assert.deepEqual(v.ice[0].urls, ['turn:127.0.0.1:3478', 'turns:127.0.0.1:5349']);
      const [expiry, who] = v.ice[0].username.split(':');
      assert.equal(who, a.user.id);
      assert.ok(Math.abs(Number(expiry) - (Date.now() / 1000 + 600)) < 30, v.ice[0].username);
      assert.equal(v.ice[0].credential,
        crypto.createHmac('sha1', 'north').update(v.ice[0].username).digest('base64'));
      assert.deepEqual((await a.next('voice_peers')).peers, [], 'nobody publishes yet');

      // No token, or a made-up one: Janus says no.
      assert.ok((await asParticipant(url, undefined)).refused, 'no token: refused');
      assert.ok((await asParticipant(url, 'f'.repeat(32))).refused, 'a made-up token: refused');
      // Ada's token joins her room under her id, and no other room.
      const p = await asParticipant(url, v.token);
      assert.ok(!p.refused, p.refused);
      const wrong = await p.join(roomNumber('lobby'), v.id);
      assert.match(String(wrong.error), /allowed/, `not allowed in the lobby: ${JSON.stringify(wrong)}`);
      const ok = await p.join(v.room, v.id);
      assert.equal(ok.videoroom, 'joined', JSON.stringify(ok));
      const cl = await janusClient(url, j.env.JANUS_API_SECRET);
      try {
        assert.deepEqual((await cl.participants(v.room)).sort(), [1, v.id].sort());

        // A moderator locks the microphones: Ada may no longer speak.
        const m = await srv.connect({ name: mo.name });
        await m.hello('x', { token: mo.token });
        await m.join('breakout-1');
        m.send({ type: 'mod', id: 'lock', action: 'lock_mics' });
        await m.next('mod_ok');
        let w = await a.next('voice', { filter: (x) => x.locked });
        assert.equal(w.publish, false);
        assert.equal((await m.next('voice', { filter: (x) => x.locked })).publish, true,
          'a moderator still may');
        m.send({ type: 'mod', id: 'unlock', action: 'unlock_mics' });
        await m.next('mod_ok');
        w = await a.next('voice', { filter: (x) => !x.locked });
        assert.equal(w.publish, true);
        // A mute silences her voice too, and shows.
        m.send({ type: 'mod', id: 'mute', action: 'mute', target: a.user.id });
        await m.next('mod_ok');
        w = await a.next('voice', { filter: (x) => x.muted });
        assert.equal(w.publish, false);
        m.send({ type: 'mod', id: 'unmute', action: 'unmute', target: a.user.id });
        await m.next('mod_ok');
        assert.equal((await a.next('voice', { filter: (x) => !x.muted })).publish, true);

        // Leaving the room ends her participant there at once, and the
        // next room comes with a new id.
        await a.join('lobby');
        const v2 = a.voice;
        assert.equal(v2.room, roomNumber('lobby'));
        assert.equal(v2.token, v.token, 'one token per session');
        assert.notEqual(v2.id, v.id, 'a new participant id for the new room');
        await until(async () => !(await cl.participants(v.room)).includes(v.id),
          { timeout: 3000, interval: 50, what: 'Ada to be kicked from the breakout voice room' });
        const again = await asParticipant(url, v.token);
        assert.match(String((await again.join(v.room, v.id)).error), /allowed/, 'and not let back in');
        again.close();

        // The plenary: only the stage speaks; the overflow hears the hall.
        await a.join('plenary');
        const vp = a.voice;
        assert.equal(vp.room, roomNumber('plenary'));
        assert.equal(vp.mode, 'stage');
        assert.equal(vp.publish, false, 'an attendee does not publish in the plenary');
        await m.join('plenary');
        assert.equal(m.voice.mode, 'stage');
        assert.equal(m.voice.publish, true, 'a moderator does');
        await a.join('plenary-overflow');
        const vo = a.voice;
        assert.equal(vo.listen, roomNumber('plenary'));
        assert.equal(vo.room, 0, 'nobody publishes from the overflow');
        assert.equal(vo.mode, 'stage');
        const p2 = await asParticipant(url, v.token);
        assert.equal((await p2.join(roomNumber('plenary'), vo.id)).videoroom, 'joined',
          'the overflow may join the hall to listen');
        p2.close();

        // Kicked: gone for good, and so is the token.
        p.close();
        await m.join('plenary-overflow');
        m.send({ type: 'mod', id: 'kick', action: 'kick', target: a.user.id });
        await m.next('mod_ok');
        await until(async () => {
          const q = await asParticipant(url, v.token);
          if (!q.refused) q.close();
          return !!q.refused;
        }, { timeout: 3000, interval: 100, what: "the kicked person's token to be withdrawn" });
      } finally { cl.close(); }
    } finally {
      await srv.stop();
    }
  } finally {
    await j.kill();
    j.cleanup();
    tmp.remove();
  }
});

test('venued starts without Janus and reports voice down', { skip }, async () => {
  const j = new Janus();
  try {
    await j.configure(); // its ports and secrets, but Janus is not started
    await withServer({
      flags: {
        janus: `ws://127.0.0.1:${j.wsPort}`,
        'janus-secrets': path.join(j.cfg, 'secrets.env'),
      },
    }, async (srv) => {
      const h = await health(srv);
      assert.equal(h.status, 200);
      assert.notEqual(h.json.voice, 'up');
      await until(() => /no voice/.test(srv.log), { timeout: 5000, what: 'the no-voice line' });
      assert.equal((await voiceMetrics(srv)).up, 0);
      const a = await srv.connect();
      await a.enter('lobby', 'Ada');
    });
  } finally {
    j.cleanup();
  }
});

test('venued refuses a secrets file others may read', { skip }, async () => {
  const j = new Janus();
  try {
    await j.configure();
    const file = path.join(j.cfg, 'secrets.env');
    fs.chmodSync(file, 0o644);
    const bin = process.env.VENUED_BIN ?? path.join(VENUE_ROOT, 'build/server/venued');
    let err = null;
    try {
      execFileSync(bin, ['--port', String(await freePort()), '--data', path.join(j.dir, 'data'),
        '--scenes', path.join(VENUE_ROOT, 'scenes/demo'), '--web', path.join(VENUE_ROOT, 'web-client'),
        '--janus', `ws://127.0.0.1:${j.wsPort}`, '--janus-secrets', file], { stdio: 'pipe', timeout: 10000 });
    } catch (e) { err = e; }
    assert.ok(err, 'venued refused to start');
    assert.equal(err.status, 2);
    assert.match(err.stderr.toString(), /chmod 600/);
  } finally {
    j.cleanup();
  }
});
