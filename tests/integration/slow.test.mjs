// A client that stops reading must not delay the others, and is closed
// once its queue stalls or overflows; the others then see it leave after
// the resume grace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServer, rosterEntry, presence, poseUsers, sleep, yaw, metricSum, tcpQueues, until,
} from './harness.mjs';

const GRACE = 2;

/* B walks in a small circle at 30 Hz until stopped. */
function walker(b, p0) {
  let running = true;
  const done = (async () => {
    let i = 0;
    while (running && b.open) {
      const a = (i++ / 30) * 2;
      b.pose([p0[0] + 0.3 * Math.cos(a) - 0.3, p0[1], p0[2] + 0.3 * Math.sin(a)], yaw(a));
      await sleep(1000 / 30);
    }
  })();
  return async () => { running = false; await done; };
}

/* B chats `perTick` ~1.5 KB lines every 50 ms until stopped. */
function flooder(b, perTick) {
  let running = true;
  let n = 0;
  const done = (async () => {
    while (running && b.open) {
      for (let k = 0; k < perTick; k++) b.send({ type: 'chat', text: `flood ${n++} ${'✓'.repeat(480)}` });
      await sleep(50);
    }
  })();
  return async () => { running = false; await done; };
}

/*
 * Flood until the server can no longer write to the paused client: the
 * server side of its TCP connection holds unsent bytes and has stopped
 * taking more (the kernel's buffers, a few MB on loopback, are full).
 */
async function fillUntilStuck(srv, slow, b, { timeout = 20000 } = {}) {
  const stop = flooder(b, 20); // 400 lines/s
  try {
    let last = -1;
    let steady = 0;
    await until(() => {
      const q = tcpQueues(srv.port, slow.ws._socket.localPort);
      if (!q) return true; // already closed by the server
      steady = q.tx > 0 && q.tx === last ? steady + 1 : 0;
      last = q.tx;
      return steady >= 4;
    }, { timeout, interval: 150, what: 'the paused client to fill its socket buffers' });
  } finally {
    await stop();
  }
}

async function threeInLobby(srv) {
  const slow = await srv.connect({ name: 'slow' });
  const b = await srv.connect({ name: 'B' });
  const c = await srv.connect({ name: 'C' });
  await slow.enter('lobby', 'slow');
  const jb = await b.enter('lobby', 'B');
  await c.enter('lobby', 'C');
  return { slow, b, c, p0: rosterEntry(jb, b.user.id).p };
}

test('a stalled reader does not delay the others; it is closed after --stall-secs and leaves after the grace', async (t) => {
  const STALL = 3;
  await withServer({
    flags: { 'stall-secs': STALL, 'resume-grace': GRACE, 'chat-rate': 1000 },
  }, async (srv) => {
    const { slow, b, c, p0 } = await threeInLobby(srv);
    const before = await srv.metrics();
    slow.pauseReading();
    const stopWalk = walker(b, p0);
    try {
      await fillUntilStuck(srv, slow, b);
      const tStuck = performance.now();
      // The slow client is stuck now. At an ordinary pace, C still gets B's
      // poses at the tick rate and B's chat at once.
      await sleep(300);
      c.drain();
      const sent = new Map();
      const latency = [];
      const onMsg = (data) => {
        const s = data.toString();
        if (!s.startsWith('{"type":"chat"')) return;
        const at = sent.get(JSON.parse(s).text);
        if (at !== undefined) latency.push(performance.now() - at);
      };
      c.ws.on('message', onMsg);
      const t0 = performance.now();
      for (let i = 0; i < 20; i++) {
        const text = `measure ${i}`;
        sent.set(text, performance.now());
        b.send({ type: 'chat', text });
        await sleep(100);
      }
      const t1 = performance.now();
      c.ws.off('message', onMsg);
      const frames = c.all.filter((m) => m.type === 'poses' && m.at >= t0 && m.at < t1 &&
        poseUsers(m).some((u) => u.id === b.user.id));
      const perSec = frames.length / ((t1 - t0) / 1000);
      const sorted = [...latency].sort((x, y) => x - y);
      const max = sorted[sorted.length - 1];
      t.diagnostic(`while a client is stuck: C got ${perSec.toFixed(1)} poses frames/s from B; ` +
        `${latency.length}/20 chats, latency median ${sorted[10]?.toFixed(1)} ms, max ${max?.toFixed(1)} ms; ` +
        `slow still connected: ${tcpQueues(srv.port, slow.ws._socket.localPort) !== null}`);
      assert.ok(perSec >= 14 && perSec <= 26, `C got ${perSec.toFixed(1)} poses frames/s from B while a client is stuck`);
      assert.equal(latency.length, 20, 'every chat reached C');
      assert.ok(sorted[10] < 100 && sorted[18] < 150, `chat latency to C: median ${sorted[10]} ms, 95th ${sorted[18]} ms`);

      // The stalled client is closed; after the grace the others see it leave.
      const leave = await c.next('presence', { filter: presence('leave', slow.user.id), timeout: (STALL + GRACE + 8) * 1000 });
      const dt = (performance.now() - tStuck) / 1000;
      t.diagnostic(`slow client seen leaving ${dt.toFixed(1)} s after it got stuck`);
      assert.equal(leave.room, 'lobby');
      assert.ok(dt >= GRACE, `leave ${dt.toFixed(1)} s after getting stuck: not before the grace`);
      await b.next('presence', { filter: presence('leave', slow.user.id), timeout: 1000 });
      assert.ok(b.open && c.open, 'the others are still connected');
    } finally {
      await stopWalk();
    }
    const after = await srv.metrics();
    const dropped = metricSum(after.samples, 'venue_frames_dropped_total') - metricSum(before.samples, 'venue_frames_dropped_total');
    assert.ok(dropped > 0, `frames dropped for the slow client: ${dropped}`);
    // Reading again shows that the server closed the connection.
    slow.resumeReading();
    await slow.waitClose(5000);
  });
});

test('a stalled reader whose queue passes --queue-max is closed as too slow', async () => {
  await withServer({
    // The stall timer is out of reach: only the queue bound can close it.
    flags: { 'queue-max': 65536, 'stall-secs': 120, 'resume-grace': GRACE, 'chat-rate': 1000 },
  }, async (srv) => {
    const { slow, b, c } = await threeInLobby(srv);
    slow.pauseReading();
    await fillUntilStuck(srv, slow, b);
    // 64 KB more than the socket takes: the queue overflows.
    const stop = flooder(b, 5);
    try {
      await c.next('presence', { filter: presence('leave', slow.user.id), timeout: 15000 });
    } finally {
      await stop();
    }
    assert.ok(b.open && c.open);
    slow.resumeReading();
    await slow.waitClose(5000);
  });
});

test('a briefly paused reader catches up and stays connected', async () => {
  const STALL = 2;
  await withServer({ flags: { 'stall-secs': STALL } }, async (srv) => {
    const slow = await srv.connect({ name: 'slow' });
    const b = await srv.connect({ name: 'B' });
    await slow.enter('lobby', 'slow');
    await b.enter('lobby', 'B');
    slow.pauseReading();
    for (let i = 0; i < 5; i++) {
      b.send({ type: 'chat', text: `m${i}` });
      await sleep(210);
    }
    await sleep(STALL * 1000 + 500);
    slow.resumeReading();
    for (let i = 0; i < 5; i++) {
      const m = await slow.next('chat');
      assert.equal(m.text, `m${i}`, 'chat arrives whole and in order');
    }
    assert.ok(slow.open);
    await slow.request({ type: 'join', room: 'lobby' }, 'joined');
  });
});
