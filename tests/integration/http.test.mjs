// HTTP side of venued: /healthz, /api/venue, /api/scenes, /metrics, and the
// WebSocket endpoint's subprotocol handling.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { withServer, Client, checkRoomList, metricSum, sleep } from './harness.mjs';

test('GET /healthz answers 200 {"ok":true}', async () => {
  await withServer({}, async (srv) => {
    const r = await srv.get('/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ok: true });
  });
});

test('GET /api/venue lists the demo rooms (one per scene) with capacity and count', async () => {
  await withServer({}, async (srv) => {
    const r = await srv.getJSON('/api/venue');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /json/);
    const rooms = r.json.rooms;
    assert.ok(Array.isArray(rooms), 'rooms is an array');
    checkRoomList(assert, rooms);
    for (const room of rooms) {
      for (const k of ['id', 'name', 'description', 'capacity', 'count', 'scene']) {
        assert.ok(k in room, `room ${room.id} has ${k}`);
      }
      assert.equal(typeof room.name, 'string');
      assert.ok(room.name.length > 0);
      assert.equal(room.count, 0, `${room.id} is empty on a fresh server`);
      assert.ok(Number.isInteger(room.capacity) && room.capacity > 0);
      assert.ok(String(room.scene).includes(room.id), `${room.id} scene names the room: ${room.scene}`);
    }
  });
});

test('GET /api/venue counts people in rooms', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby');
    await b.enter('expo');
    const rooms = (await srv.getJSON('/api/venue')).json.rooms;
    const count = (id) => rooms.find((x) => x.id === id).count;
    assert.equal(count('lobby'), 1);
    assert.equal(count('expo'), 1);
    assert.equal(count('plenary'), 0);
  });
});

test('GET /api/scenes/{room}: scene JSON with ETag and 304; unknown room 404 JSON error', async () => {
  await withServer({}, async (srv) => {
    const r = await srv.get('/api/scenes/lobby');
    assert.equal(r.status, 200);
    const scene = JSON.parse(r.body);
    assert.equal(typeof scene, 'object');
    const etag = r.headers.get('etag');
    assert.ok(etag, 'ETag header present');
    const again = await srv.get('/api/scenes/lobby', { 'If-None-Match': etag });
    assert.equal(again.status, 304);
    const missing = await srv.get('/api/scenes/no-such-room');
    assert.equal(missing.status, 404);
    const err = JSON.parse(missing.body);
    assert.equal(err.error.code, 'not_found');
    assert.equal(typeof err.error.message, 'string');
  });
});

test('WebSocket on any path but /ws is refused', async () => {
  await withServer({}, async (srv) => {
    const c = new Client(srv, { url: `ws://127.0.0.1:${srv.port}/other` });
    await assert.rejects(c.opened);
    c.terminate();
    const ok = await srv.connect();
    await ok.hello('fine');
  });
});

test('WebSocket without a subprotocol gets venue.v1; with venue.v1 it is echoed', async () => {
  await withServer({}, async (srv) => {
    const named = await srv.connect();
    assert.equal(named.ws.protocol, 'venue.v1');
    await named.hello('named');
    const bare = await srv.connect({ protocol: null });
    const w = await bare.hello('bare');
    assert.equal(w.type, 'welcome');
  });
});

const FAMILIES = [
  'venue_connections',
  'venue_room_sessions',
  'venue_messages_in_total',
  'venue_messages_out_total',
  'venue_fanout_bytes_total',
  'venue_frames_dropped_total',
  'venue_rate_limited_total',
  'venue_tick_duration_seconds_bucket',
  'venue_join_latency_seconds',
  'venue_sqlite_write_seconds',
];

test('GET /metrics: Prometheus text with every metric family, counters move with traffic', async () => {
  await withServer({}, async (srv) => {
    const before = await srv.metrics();
    for (const f of FAMILIES) assert.ok(before.text.includes(f), `metrics include ${f}`);
    assert.ok(/^# TYPE venue_\w+ (counter|gauge|histogram)$/m.test(before.text), 'has # TYPE lines');
    // Labelled families: messages by type, drops by reason, rooms by room.
    const labelled = (name, label) => before.samples.some((x) => x.name.startsWith(name) && label in x.labels);
    assert.ok(labelled('venue_messages_in_total', 'type'), 'messages in by type');
    assert.ok(labelled('venue_messages_out_total', 'type'), 'messages out by type');
    assert.ok(labelled('venue_frames_dropped_total', 'reason'), 'frames dropped by reason');
    assert.ok(labelled('venue_fanout_bytes_total', 'room'), 'fan-out bytes by room');
    assert.ok(labelled('venue_room_sessions', 'room'), 'sessions by room');

    const a = await srv.connect();
    const b = await srv.connect();
    const ja = await a.enter('lobby');
    await b.enter('lobby');
    const me = ja.roster ?? ja.users;
    const spawn = me.find((u) => u.id === a.user.id).p;
    for (let i = 1; i <= 5; i++) {
      a.pose([spawn[0] + i * 0.02, spawn[1], spawn[2]]);
      await sleep(60);
    }
    await a.request({ type: 'join', room: 'lobby' }, 'joined');
    a.send({ type: 'chat', text: 'metrics' });
    await b.next('chat');
    await b.next('poses');
    // A burst over the pose rate: counted as a rate-limit hit.
    for (let i = 0; i < 100; i++) a.pose(spawn);
    await a.next('error', { filter: (m) => m.code === 'rate_limited' });
    await sleep(200);

    const after = await srv.metrics();
    const gauge = after.samples.find((x) => x.name === 'venue_connections');
    assert.ok(gauge, 'venue_connections gauge present');
    assert.equal(gauge.value, 2, 'two connections open');
    const lobby = after.samples.find((x) => x.name.includes('venue_room_sessions') && x.labels.room === 'lobby');
    assert.ok(lobby, 'venue_room_sessions has a lobby series');
    assert.equal(lobby.value, 2);

    const grew = (name, labels = {}) => {
      const x = metricSum(before.samples, name, labels);
      const y = metricSum(after.samples, name, labels);
      assert.ok(y > x, `${name} ${JSON.stringify(labels)} grew: ${x} -> ${y}`);
    };
    grew('venue_messages_in_total');
    grew('venue_messages_in_total', { type: 'hello' });
    grew('venue_messages_in_total', { type: 'pose' });
    grew('venue_messages_in_total', { type: 'chat' });
    grew('venue_messages_out_total');
    grew('venue_messages_out_total', { type: 'welcome' });
    grew('venue_messages_out_total', { type: 'poses' });
    grew('venue_fanout_bytes_total', { room: 'lobby' });
    grew('venue_rate_limited_total');
    grew('venue_join_latency_seconds_count');
    grew('venue_tick_duration_seconds_count');
  });
});

/* What one raw request gets: the status line, and how long until the server closed. */
function rawRequest(port, text, waitMs = 3000) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let got = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    const timer = setTimeout(() => { sock.destroy(); resolve({ status: got.split('\r\n')[0], closedMs: null }); }, waitMs);
    sock.on('data', (d) => { got += d; });
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve({ status: got.split('\r\n')[0], closedMs: Date.now() - t0, got }); });
  });
}

test("the CSP lets the page connect to its own origin only (connect-src 'self'), and to --voice-url's", async () => {
  await withServer({}, async (srv) => {
    for (const p of ['/', '/healthz', '/api/venue']) {
      const csp = (await srv.get(p)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /(^|;)\s*connect-src 'self';/, `${p}: ${csp}`);
      assert.match(csp, /default-src 'none'/, `${p}: the rest as before`);
    }
  });
  await withServer({ flags: { 'voice-url': 'wss://janus.example.org:8989/janus' } }, async (srv) => {
    const csp = (await srv.get('/')).headers.get('content-security-policy');
    assert.match(csp, /connect-src 'self' wss:\/\/janus\.example\.org:8989;/, csp);
  });
});

test('HEAD of a file says the Content-Length GET sends, with no body', async () => {
  await withServer({}, async (srv) => {
    const get = await srv.get('/index.html');
    const r = await rawRequest(srv.port, 'HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const len = Number(/content-length: *(\d+)/i.exec(r.got)?.[1]);
    assert.equal(len, Buffer.byteLength(get.body), r.got.slice(0, 300));
    assert.ok(len > 0);
    assert.ok(r.got.endsWith('\r\n\r\n'), 'no body after the headers');
  });
});

test('keep-alive: a second request on the same connection is answered (a transaction\'s end closes nothing)', async () => {
  await withServer({}, async (srv) => {
    const sock = net.connect(srv.port, '127.0.0.1');
    let got = '';
    let closed = false;
    sock.on('data', (d) => { got += d; });
    sock.on('close', () => { closed = true; });
    await new Promise((resolve) => sock.on('connect', resolve));
    const answers = () => got.split('HTTP/1.1 200 ').length - 1;
    const until = async (n) => {
      for (let i = 0; i < 100 && answers() < n; i++) await new Promise((r) => setTimeout(r, 20));
    };
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(1);
    sock.write('GET /api/venue HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(2);
    assert.equal(answers(), 2, got.slice(0, 300));
    assert.match(got, /"rooms"/, 'the second answer is the second request\'s');
    assert.ok(!closed, 'the connection stays open between requests');
    sock.destroy();
  });
});

test('pipelined requests: the first is answered whole, never a wrong answer, and the connection ends by the keep-alive timeout', async () => {
  await withServer({}, async (srv) => {
    const r = await rawRequest(srv.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/venue HTTP/1.1\r\nHost: x\r\n\r\n', 9000);
    const heads = (r.got ?? '').split('HTTP/1.1 ').slice(1);
    assert.ok(heads.length >= 1, String(r.got).slice(0, 300));
    assert.match(heads[0], /^200 [\s\S]*content-length: 11\r\n[\s\S]*\r\n\r\n\{"ok":true\}$/i, 'the first, whole');
    if (heads.length > 1) assert.match(heads[1], /"rooms"/, 'a second answer is the second request\'s');
    assert.ok(r.closedMs !== null && r.closedMs < 8000, 'not held past the keep-alive timeout (5 s)');
    assert.equal((await srv.get('/healthz')).status, 200);
  });
});

test('PUT and PATCH with an empty body are answered at once (405 on a read-only path)', async () => {
  await withServer({}, async (srv) => {
    for (const m of ['PUT', 'PATCH']) {
      const r = await rawRequest(srv.port, `${m} /api/venue HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      assert.equal(r.status, 'HTTP/1.1 405 Method Not Allowed', m);
      assert.ok(r.closedMs !== null && r.closedMs < 1000, `${m}: answered after ${r.closedMs} ms`);
    }
  });
});

test('CONNECT (venued is no proxy) is answered 405 and closed at once, and the server serves on', async () => {
  await withServer({}, async (srv) => {
    for (const target of ['example.com:443', '127.0.0.1:22', '/']) {
      const r = await rawRequest(srv.port, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      assert.equal(r.status, 'HTTP/1.1 405 Method Not Allowed', target);
      assert.ok(r.closedMs !== null && r.closedMs < 1000, `${target}: closed after ${r.closedMs} ms`);
    }
    const many = await Promise.all(Array.from({ length: 50 }, () =>
      rawRequest(srv.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n')));
    assert.ok(many.every((r) => r.closedMs !== null), 'fifty at once: every one closed');
    assert.equal((await srv.getJSON('/healthz')).status, 200);
  });
});
