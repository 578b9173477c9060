// The front door under attack: no unauthenticated client may hold an HTTP
// request or a WebSocket open for good, nor take every connection. Each
// test attacks the real venued over loopback (127.0.0.0/8 only), with
// every loop bounded in count and time, and checks what a healthy client
// still gets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import { withServer, sleep, until, within } from './harness.mjs';

/* A raw TCP connection from `from` (a loopback address): what it received
 * and when the server closed it. */
function rawSocket(port, from = '127.0.0.1') {
  const t0 = Date.now();
  const sock = net.connect({ port, host: '127.0.0.1', localAddress: from });
  const s = { sock, got: '', closedMs: null, connected: false };
  s.closed = new Promise((resolve) => {
    sock.on('close', () => { s.closedMs = Date.now() - t0; resolve(s.closedMs); });
  });
  s.opened = new Promise((resolve) => sock.on('connect', () => { s.connected = true; resolve(); }));
  sock.on('data', (d) => { s.got += d.toString('latin1'); });
  sock.on('error', () => {});
  return s;
}

/* Send text one byte every `everyMs` (at most `max` bytes) while open. */
function trickle(s, text, everyMs, max = text.length) {
  let i = 0;
  const timer = setInterval(() => {
    if (i >= Math.min(max, text.length) || s.closedMs !== null) return clearInterval(timer);
    s.sock.write(text[i++]);
  }, everyMs);
  s.closed.then(() => clearInterval(timer));
  return timer;
}

const POST_HEAD = 'POST /api/admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n';

test('headers sent a byte a second are closed at --header-timeout for the whole block', async () => {
  await withServer({ flags: { 'header-timeout': 3 } }, async (srv) => {
    const s = rawSocket(srv.port);
    await s.opened;
    trickle(s, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(100)}`, 1000);
    const silent = rawSocket(srv.port);
    const ms = await within(8000, s.closed, 'the slow header block to be closed');
    assert.ok(ms >= 2500 && ms <= 5000, `closed after ${ms} ms, header timeout 3 s`);
    const quiet = await within(8000, silent.closed, 'a connection that sends nothing to be closed');
    assert.ok(quiet <= 5000, `a silent connection closed after ${quiet} ms`);
    assert.equal((await srv.get('/healthz')).status, 200);
  });
});

test('a body fed a byte every 2 s is closed at --request-timeout; one that stops, at --body-idle', async () => {
  await withServer({ flags: { 'request-timeout': 4, 'body-idle': 3 } }, async (srv) => {
    const slow = rawSocket(srv.port);
    await slow.opened;
    slow.sock.write(POST_HEAD);
    trickle(slow, 'a'.repeat(50), 2000);
    const stopped = rawSocket(srv.port);
    await stopped.opened;
    stopped.sock.write(`${POST_HEAD}{"name":`);
    const idle = await within(8000, stopped.closed, 'the stopped body to be closed');
    assert.ok(idle >= 2500 && idle <= 5000, `stopped body closed after ${idle} ms, body idle 3 s`);
    // lws alone restarts its idle deadline at every byte: held for good.
    const whole = await within(10000, slow.closed, 'the trickled body to be closed');
    assert.ok(whole >= 3500 && whole <= 6500, `trickled body closed after ${whole} ms, request timeout 4 s`);
    assert.equal((await srv.get('/healthz')).status, 200);
  });
});

test('a WebSocket that upgrades and never says hello, or trickles a frame it never ends, is closed at --hello-timeout', async () => {
  await withServer({ flags: { 'hello-timeout': 2 } }, async (srv) => {
    const upgrade = () => {
      const s = rawSocket(srv.port);
      s.sock.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
        'Sec-WebSocket-Protocol: venue.v1\r\n\r\n');
      return s;
    };
    const silent = upgrade();
    const trickler = upgrade();
    await sleep(200);
    // A masked text frame that announces 60000 bytes, then gets one a second.
    trickler.sock.write(Buffer.from([0x81, 0x80 | 126, 0xea, 0x60, 1, 2, 3, 4]));
    trickle(trickler, ' '.repeat(20), 1000);
    for (const [what, s] of [['silent', silent], ['trickling', trickler]]) {
      const ms = await within(7000, s.closed, `the ${what} WebSocket to be closed`);
      assert.match(s.got, /^HTTP\/1\.1 101/, `${what}: upgraded`);
      assert.ok(ms <= 4500, `${what}: closed after ${ms} ms, hello timeout 2 s`);
    }
  });
});

test('over --max-connections a new connection is answered 503 before any upgrade; room again once some go', async () => {
  await withServer({ flags: { 'max-connections': 6 } }, async (srv) => {
    const held = Array.from({ length: 6 }, () => rawSocket(srv.port));
    await Promise.all(held.map((s) => s.opened));
    await sleep(100);
    const over = rawSocket(srv.port);
    over.sock.write('GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await within(3000, over.closed, 'the connection over the cap to be closed');
    assert.match(over.got, /^HTTP\/1\.1 503 /, `answered: ${over.got.slice(0, 80)}`);
    assert.match(over.got, /"code":"busy"/);
    for (const s of held) s.sock.destroy();
    await sleep(300);
    assert.equal((await srv.get('/healthz')).status, 200, 'served again once the held ones went');
    const m = await srv.metrics();
    assert.ok(m.samples.some((x) => x.name === 'venue_http_refused_total' && x.labels.reason === 'full' && x.value >= 1));
  });
});

test('one address gets --conns-per-address at once and --conn-burst in a row; other addresses and loopback come in', async () => {
  await withServer({ flags: { 'conns-per-address': 4, 'conn-rate': 1, 'conn-burst': 6 } }, async (srv) => {
    const held = Array.from({ length: 4 }, () => rawSocket(srv.port, '127.0.0.2'));
    await Promise.all(held.map((s) => s.opened));
    await sleep(100);
    const fifth = rawSocket(srv.port, '127.0.0.2');
    await within(3000, fifth.closed, 'the fifth from one address to be closed');
    assert.match(fifth.got, /^HTTP\/1\.1 503 /);
    assert.match(fifth.got, /too many connections from your address/);
    // Another address, and 127.0.0.1 (exempt by default: a local reverse proxy), come in.
    const other = rawSocket(srv.port, '127.0.0.3');
    other.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await within(3000, other.closed, 'another address answered');
    assert.match(other.got, /^HTTP\/1\.1 200 /);
    for (let i = 0; i < 8; i++) assert.equal((await srv.get('/healthz')).status, 200, `loopback request ${i}`);
    // 127.0.0.2 has used 4 of its burst of 6 (a refusal costs none): a
    // few more in a row come in, then --conn-rate (1 a second) holds it.
    for (const s of held) s.sock.destroy();
    await sleep(200);
    const statuses = [];
    for (let i = 0; i < 8; i++) {
      const s = rawSocket(srv.port, '127.0.0.2');
      s.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await within(3000, s.closed, `quick connection ${i} answered`);
      statuses.push(s.got.split(' ')[1]);
    }
    assert.equal(statuses[0], '200', `one after the others went: ${statuses}`);
    assert.ok(statuses.includes('503'), `over the burst: ${statuses}`);
    const m = await srv.metrics();
    const refused = (reason) => m.samples.find((x) => x.name === 'venue_http_refused_total' && x.labels.reason === reason)?.value;
    assert.equal(refused('address'), 1);
    assert.ok(refused('rate') >= 1);
  });
});

test('a log line a client can repeat is written once, then counted at most once per 10 s', async () => {
  await withServer({}, async (srv) => {
    // Each header block over lws's 4 KiB makes it log the same error.
    const N = 40;
    const socks = Array.from({ length: N }, () => {
      const s = rawSocket(srv.port);
      s.sock.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`);
      return s;
    });
    await within(5000, Promise.all(socks.map((s) => s.closed)), 'the oversized requests to be closed');
    const kind = (re) => srv.log.split('\n').filter((l) => re.test(l));
    assert.equal(kind(/header data space/).length, 1, `written once:\n${srv.log.slice(-800)}`);
    const count = await until(() => {
      const c = kind(/\(\d+ more like this in the last \d+ s: .*header data space/);
      return c.length ? c : null;
    }, { timeout: 13000, interval: 200, what: 'the count of the repeats' });
    assert.match(count[0], new RegExp(`\\(${N - 1} more like this in the last 1[01] s`), count[0]);
  });
});

/* utime + stime of pid, in clock ticks (100 a second on Linux). */
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

test('under ulimit -n 1024, 1,100 held connections from one address: no spin, no log flood, /healthz and joins work', async (t) => {
  await withServer({ fileLimit: 1024 }, async (srv) => {
    const ATTACKERS = 1100;
    const attackers = [];
    for (let i = 0; i < ATTACKERS; i++) {
      const s = rawSocket(srv.port, '127.0.0.2');
      s.sock.on('connect', () => {
        // A POST whose body comes a byte every 2 s (within --body-idle).
        s.sock.write(POST_HEAD);
        trickle(s, 'a'.repeat(5), 2000);
      });
      attackers.push(s);
      if (i % 100 === 99) await sleep(20);
    }
    try {
      await sleep(1500);
      const held = attackers.filter((s) => s.connected && s.closedMs === null).length;
      const pid = srv.child.pid;
      const t0 = cpuTicks(pid), w0 = Date.now();
      // A healthy client on 127.0.0.1 during the hold.
      for (let i = 0; i < 5; i++) {
        const r = await srv.get('/healthz');
        assert.equal(r.status, 200, `/healthz ${i} during the hold`);
      }
      const c = await srv.connect({ name: 'healthy' });
      await c.enter('lobby', 'Healthy');
      await sleep(Math.max(0, 3000 - (Date.now() - w0)));
      const cpu = (cpuTicks(pid) - t0) / 100 / ((Date.now() - w0) / 1000);
      assert.ok(cpu < 0.5, `server CPU ${(cpu * 100).toFixed(0)}% of a core during the hold (a spinning accept is 100%)`);
      assert.ok(held <= 256, `${held} attackers held, at most --conns-per-address (256)`);
      const lines = srv.log.split('\n').filter(Boolean).length;
      t.diagnostic(`held ${held} of ${ATTACKERS}; server CPU ${(cpu * 100).toFixed(1)}% of a core; ${lines} log lines`);
      assert.ok(lines < 20, `${lines} log lines during the hold:\n${srv.log.slice(-1000)}`);
    } finally {
      for (const s of attackers) s.sock.destroy();
    }
  });
});
