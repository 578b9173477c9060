// Resume: a dropped client comes back within the grace period as if it had
// never left; after the grace it has left and its token is refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServer, rosterOf, rosterEntry, presence, chatFrom, near, sleep, walk, yaw,
} from './harness.mjs';

const GRACE = 2; // seconds (--resume-grace)

test('resume within the grace: same session, missed frames replayed, fresh joined, pose kept, others see nothing', async () => {
  await withServer({ flags: { 'resume-grace': GRACE } }, async (srv) => {
    const a = await srv.connect({ name: 'A' });
    const b = await srv.connect({ name: 'B' });
    const ja = await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const p0 = rosterEntry(ja, a.user.id).p;
    const held = await walk(a, p0, [p0[0] + 0.25, p0[1], p0[2] + 0.1], { q: yaw(0.7) });
    await b.next('poses', { filter: (m) => (m.users ?? []).some((u) => u.id === a.user.id) });
    const token = a.resumeToken;
    const aId = a.user.id;

    a.terminate();
    await a.closed;
    await sleep(100);
    // Meanwhile: B chats, C joins.
    b.send({ type: 'chat', text: 'while you were away' });
    await b.next('chat', { filter: chatFrom(b.user.id) });
    const c = await srv.connect({ name: 'C' });
    const jc = await c.enter('lobby', 'C');
    assert.ok(rosterEntry(jc, aId), 'A is still in the room while detached');

    const a2 = await srv.connect({ name: 'A2' });
    a2.send({ type: 'hello', name: 'A', resume: token, id: 'again' });
    const w = await a2.next('welcome');
    assert.equal(w.re, 'again');
    assert.equal(w.session, a.session, 'same session');
    assert.equal(w.resume, token, 'same resume token');
    assert.equal(w.user.id, aId, 'same user');

    const chat = await a2.next('chat', { filter: chatFrom(b.user.id, 'while you were away') });
    const cJoin = await a2.next('presence', { filter: presence('join', c.user.id) });
    const joined = await a2.next('joined');
    assert.ok(chat.seq < cJoin.seq, 'replayed in the order it happened');
    assert.ok(cJoin.seq < joined.seq, 'replay comes before the fresh joined');
    assert.equal(joined.room.id, 'lobby');
    assert.equal('re' in joined, false, 'joined after resume carries no re');
    const ids = rosterOf(joined).map((u) => u.id).sort();
    assert.deepEqual(ids, [aId, b.user.id, c.user.id].sort());
    const me = rosterEntry(joined, aId);
    assert.ok(near(me.p, held.p), `pose kept: ${JSON.stringify(me.p)} ~ ${JSON.stringify(held.p)}`);
    assert.ok(near(me.q, held.q, 1e-4), `orientation kept: ${JSON.stringify(me.q)}`);

    // From the next tick, a full snapshot: B and C, although neither moved.
    const snap = await a2.next('poses', { timeout: 1000 });
    assert.deepEqual((snap.users ?? []).map((u) => u.id).sort(), [b.user.id, c.user.id].sort(),
      'first poses frame after a resume is a full snapshot');
    assert.ok(snap.seq > joined.seq, 'the snapshot follows the joined');
    assert.equal(a2.all.filter((m) => m.type === 'poses' && m.seq < joined.seq).length, 0, 'poses are never replayed');

    // Nobody saw A go or come back.
    for (const other of [b, c]) {
      await other.expectNone('presence', 0, { filter: (m) => m.user?.id === aId && m.event !== 'update' });
    }
    // The resumed connection works.
    a2.send({ type: 'chat', text: 'back' });
    await b.next('chat', { filter: chatFrom(aId, 'back') });
    await a2.next('chat', { filter: chatFrom(aId, 'back') });
    // Well past the grace, still nobody saw A leave.
    await sleep(GRACE * 1000 + 500);
    await b.expectNone('presence', 0, { filter: presence('leave', aId) });
    await c.expectNone('presence', 0, { filter: presence('leave', aId) });
  });
});

test('resume closes the old connection, if still open, with 4002', async () => {
  await withServer({ flags: { 'resume-grace': GRACE } }, async (srv) => {
    const a = await srv.connect();
    await a.enter('lobby', 'A');
    const a2 = await srv.connect();
    const w = await a2.hello('A', { resume: a.resumeToken });
    assert.equal(w.session, a.session);
    const closed = await a.waitClose(3000);
    assert.equal(closed.code, 4002);
    const j = await a2.next('joined');
    assert.equal(j.room.id, 'lobby');
  });
});

test('after the grace: others see the leave, a late resume is not_found, a plain hello still works', async () => {
  await withServer({ flags: { 'resume-grace': GRACE } }, async (srv) => {
    const a = await srv.connect({ name: 'A' });
    const b = await srv.connect({ name: 'B' });
    await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const token = a.resumeToken;
    const aId = a.user.id;
    const t0 = Date.now();
    a.terminate();
    // No leave during the grace...
    await b.expectNone('presence', GRACE * 1000 - 500, { filter: presence('leave', aId) });
    // ...then the leave.
    const leave = await b.next('presence', { filter: presence('leave', aId), timeout: 4000 });
    assert.equal(leave.room, 'lobby');
    const dt = Date.now() - t0;
    assert.ok(dt >= GRACE * 1000 - 300 && dt <= GRACE * 1000 + 2500, `leave after ${dt} ms, grace ${GRACE} s`);

    const late = await srv.connect({ name: 'late' });
    late.send({ type: 'hello', name: 'A', resume: token, id: 1 });
    const e = await late.next('error');
    assert.equal(e.code, 'not_found');
    assert.match(e.message, /resume/);
    assert.equal(e.re, 1);
    assert.ok(late.open, 'connection stays open');
    const w = await late.hello('A');
    assert.notEqual(w.session, a.session, 'a new session');
    assert.notEqual(w.resume, token);
    const j = await late.join('lobby');
    assert.deepEqual(rosterOf(j).map((u) => u.id).sort(), [w.user.id, b.user.id].sort());
  });
});

test('an unknown resume token is not_found; the connection stays open', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const e = await a.expectError({ type: 'hello', name: 'X', resume: 'no-such-token-000000000000' }, 'not_found');
    assert.match(e.message, /resume/);
    await a.hello('X');
    await a.join('lobby');
  });
});

test('a session that left its room resumes without a joined', async () => {
  await withServer({ flags: { 'resume-grace': GRACE } }, async (srv) => {
    const a = await srv.connect();
    await a.enter('lobby', 'A');
    await a.request({ type: 'leave' }, 'left');
    a.terminate();
    await a.closed;
    const a2 = await srv.connect();
    const w = await a2.hello('A', { resume: a.resumeToken });
    assert.equal(w.session, a.session);
    await a2.expectNone('joined', 400);
    await a2.join('expo');
  });
});
