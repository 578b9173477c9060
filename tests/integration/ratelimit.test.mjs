// Rate limits: token buckets with a one-second burst; excess dropped with
// at most one rate_limited error per second; three seconds of excess in a
// row close the connection with 1008.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, rosterEntry, chatFrom, sleep, yaw } from './harness.mjs';

test('a burst of 100 poses: one rate_limited error, connection kept', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const ja = await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const p = rosterEntry(ja, a.user.id).p;
    // Same place, turning on the spot: never too fast.
    for (let i = 0; i < 100; i++) a.pose(p, yaw(i * 0.01));
    const e = await a.next('error', { filter: (m) => m.code === 'rate_limited' });
    assert.equal(e.code, 'rate_limited');
    await a.expectNone('error', 1200, { filter: (m) => m.code === 'rate_limited' });
    assert.ok(a.open);
    const j = await a.request({ type: 'join', room: 'lobby' }, 'joined');
    assert.equal(j.room.id, 'lobby');
    // Poses are accepted again after the bucket refills.
    await sleep(300);
    b.drain('poses');
    a.pose(p, yaw(2));
    await b.next('poses', { filter: (m) => (m.users ?? []).some((u) => u.id === a.user.id) });
    await a.expectNone('error', 300);
  });
});

test('continuous pose flooding for more than 3 s closes with 1008', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const ja = await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const p = rosterEntry(ja, a.user.id).p;
    const t0 = Date.now();
    let i = 0;
    // 200 poses per second (the limit is 60/s) until closed, at most 8 s.
    while (a.open && Date.now() - t0 < 8000) {
      for (let k = 0; k < 10 && a.open; k++) a.pose(p, yaw((i++ % 100) * 0.01));
      await sleep(50);
    }
    const closed = await a.waitClose(2000);
    const dt = Date.now() - t0;
    assert.equal(closed.code, 1008, `close code (socket error: ${a.error?.code ?? 'none'})`);
    assert.match(closed.reason, /flood/i, 'the close reason says flooding');
    // Excess in three consecutive seconds: not after the first second of
    // excess, and by a little over three seconds of flooding.
    assert.ok(dt >= 1000 && dt <= 4500, `closed after ${dt} ms`);
    const errors = a.all.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    assert.ok(errors.length >= 1 && errors.length <= 5, `${errors.length} rate_limited errors, at most one per second`);
    assert.ok(b.open, 'the others stay');
  });
});

test('poses at just under the limit for 4 s are never limited', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const ja = await a.enter('lobby', 'A');
    const p = rosterEntry(ja, a.user.id).p;
    const t0 = Date.now();
    let i = 0;
    while (Date.now() - t0 < 4000) {
      for (let k = 0; k < 5; k++) a.pose(p, yaw((i++ % 100) * 0.01));
      await sleep(100); // 50/s against a 60/s limit
    }
    await a.expectNone('error', 200);
    assert.ok(a.open);
  });
});

test('chat over 5/s: excess dropped with one rate_limited error', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    for (let i = 0; i < 12; i++) a.send({ type: 'chat', text: `spam ${i}`, id: `c${i}` });
    const e = await a.next('error', { filter: (m) => m.code === 'rate_limited' });
    assert.equal(e.code, 'rate_limited');
    // It answers one of the dropped messages (the burst is 5).
    assert.ok(/^c([5-9]|1[01])$/.test(String(e.re)), `rate_limited re names a dropped chat: ${e.re}`);
    await sleep(400);
    const got = b.all.filter((m) => m.type === 'chat' && chatFrom(a.user.id)(m));
    assert.ok(got.length >= 5 && got.length <= 7, `${got.length} of 12 chats delivered (burst 5)`);
    const errs = a.all.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    assert.equal(errs.length, 1, 'one rate_limited error');
    assert.ok(a.open);
    // One second later, chat works again.
    await sleep(1000);
    a.send({ type: 'chat', text: 'calm now' });
    await b.next('chat', { filter: chatFrom(a.user.id, 'calm now') });
  });
});

test('--chat-rate sets the chat limit', async () => {
  await withServer({ flags: { 'chat-rate': 2 } }, async (srv) => {
    const a = await srv.connect();
    await a.enter('lobby', 'A');
    for (let i = 0; i < 4; i++) a.send({ type: 'chat', text: `c${i}` });
    await a.next('error', { filter: (m) => m.code === 'rate_limited' });
    await sleep(300);
    const got = a.all.filter((m) => m.type === 'chat');
    assert.ok(got.length >= 2 && got.length <= 3, `${got.length} chats echoed at --chat-rate 2`);
  });
});

test('other messages share a 120/s bucket: a burst of 200 status messages is limited', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    await a.enter('lobby', 'A');
    for (let i = 0; i < 200; i++) a.send({ type: 'status', status: i % 2 ? 'away' : 'active' });
    const e = await a.next('error', { filter: (m) => m.code === 'rate_limited' });
    assert.equal(e.code, 'rate_limited');
    assert.ok(a.open);
    await sleep(1100);
    await a.request({ type: 'join', room: 'lobby' }, 'joined');
  });
});
