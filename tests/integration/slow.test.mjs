// A client that stops reading must not delay the others, and is closed
// once its queue stalls; the others then see it leave after the grace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServer, rosterEntry, presence, poseUsers, sleep, yaw, metricSum,
} from './harness.mjs';

const GRACE = 2;
const STALL = 2;

test('a stalled reader does not delay the others and is closed, then leaves after the grace', async (t) => {
  await withServer({
    flags: {
      'queue-max': 65536, 'stall-secs': STALL, 'resume-grace': GRACE,
      // Chat fast enough to fill the kernel's socket buffers (a few MB on
      // loopback) within seconds.
      'chat-rate': 1000,
    },
  }, async (srv) => {
    const slow = await srv.connect({ name: 'slow' });
    const b = await srv.connect({ name: 'B' });
    const c = await srv.connect({ name: 'C' });
    await slow.enter('lobby', 'slow');
    const jb = await b.enter('lobby', 'B');
    await c.enter('lobby', 'C');
    const before = await srv.metrics();
    const p0 = rosterEntry(jb, b.user.id).p;

    slow.pauseReading();
    const sent = new Map(); // chat text -> performance.now() when sent
    const latency = [];
    c.ws.on('message', (data) => {
      const s = data.toString();
      if (!s.startsWith('{"type":"chat"')) return;
      const m = JSON.parse(s);
      const t = sent.get(m.text);
      if (t !== undefined) latency.push(performance.now() - t);
    });

    // B walks in a small circle at 30 Hz and chats 400 times a second with
    // ~1.5 KB messages until the slow client has been seen to leave.
    let running = true;
    let seq = 0;
    const bigText = (n) => `${n} ${'✓'.repeat(480)}`;
    const walker = (async () => {
      let i = 0;
      while (running && b.open) {
        const a = (i++ / 30) * 2;
        b.pose([p0[0] + 0.3 * Math.cos(a) - 0.3, p0[1], p0[2] + 0.3 * Math.sin(a)], yaw(a));
        await sleep(1000 / 30);
      }
    })();
    const chatter = (async () => {
      while (running && b.open) {
        for (let k = 0; k < 20; k++) {
          const text = bigText(seq++);
          sent.set(text, performance.now());
          b.send({ type: 'chat', text });
        }
        await sleep(50);
      }
    })();

    try {
      // While the slow client is stuck, C still gets B's poses at the tick rate.
      await sleep(500);
      const t0 = performance.now();
      await sleep(2000);
      const t1 = performance.now();
      const frames = c.all.filter((m) => m.type === 'poses' && m.at >= t0 && m.at < t1 &&
        poseUsers(m).some((u) => u.id === b.user.id));
      const perSec = frames.length / ((t1 - t0) / 1000);
      assert.ok(perSec >= 14 && perSec <= 26, `C got ${perSec.toFixed(1)} poses frames/s from B while a client is stalled`);
      assert.ok(latency.length > 100, `C got ${latency.length} chats`);
      const sorted = [...latency].sort((x, y) => x - y);
      const p50 = sorted[Math.floor(sorted.length / 2)];
      const p95 = sorted[Math.floor(sorted.length * 0.95)];
      t.diagnostic(`while stalled: ${perSec.toFixed(1)} poses frames/s; ${latency.length} chats, latency p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
      assert.ok(p95 < 100, `chat latency to C: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);

      // The stalled client is dropped; after the grace the others see it leave.
      const tPause = performance.now();
      const leave = await c.next('presence', { filter: presence('leave', slow.user.id), timeout: 25000 });
      t.diagnostic(`slow client seen leaving ${((performance.now() - tPause) / 1000).toFixed(1)} s after the measurement`);
      assert.equal(leave.room, 'lobby');
      await b.next('presence', { filter: presence('leave', slow.user.id), timeout: 1000 });
      assert.ok(b.open && c.open, 'the others are still connected');
    } finally {
      running = false;
      await walker;
      await chatter;
    }

    const after = await srv.metrics();
    const dropped = metricSum(after.samples, 'venue_frames_dropped_total') - metricSum(before.samples, 'venue_frames_dropped_total');
    assert.ok(dropped > 0, `frames dropped for the slow client: ${dropped}`);

    // Its socket is closed by the server: reading again shows the end.
    slow.resumeReading();
    await slow.waitClose(5000);
  });
});

test('a briefly paused reader catches up and stays connected', async () => {
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
