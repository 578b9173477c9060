// hello/welcome, join/joined, presence, chat, status, hand, leave and room
// changes between real clients.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  withServer, checkRoomList, rosterOf, rosterEntry, presence, chatFrom, chatSender,
} from './harness.mjs';

function assertUser(u, what) {
  assert.equal(typeof u, 'object', `${what} is an object`);
  assert.equal(typeof u.id, 'string', `${what}.id`);
  assert.ok(u.id.length > 0);
  assert.equal(typeof u.name, 'string', `${what}.name`);
}

function assertPose(u, what) {
  assert.ok(Array.isArray(u.p) && u.p.length === 3 && u.p.every(Number.isFinite), `${what}.p: ${JSON.stringify(u.p)}`);
  assert.ok(Array.isArray(u.q) && u.q.length === 4 && u.q.every(Number.isFinite), `${what}.q: ${JSON.stringify(u.q)}`);
  const n = Math.hypot(...u.q);
  assert.ok(Math.abs(n - 1) < 0.01, `${what}.q is a unit quaternion`);
}

test('hello -> welcome with session, resume token, guest user, rooms and tick_hz', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const w = await a.request({ type: 'hello', name: 'Ada' }, 'welcome');
    assert.equal(w.type, 'welcome');
    // PROTOCOL.md: s- + 16 hex, u- + 16 hex, 32 hex.
    assert.match(w.session, /^s-[0-9a-f]{16}$/);
    assert.match(w.resume, /^[0-9a-f]{32}$/);
    assert.match(w.user.id, /^u-[0-9a-f]{16}$/);
    assert.notEqual(w.resume, w.session);
    assertUser(w.user, 'welcome.user');
    assert.equal(w.user.name, 'Ada');
    assert.equal(w.user.role, 'guest');
    assert.equal(w.tick_hz, 20, 'default tick rate');
    assert.ok(Array.isArray(w.rooms));
    checkRoomList(assert, w.rooms);
    for (const r of w.rooms) {
      assert.equal(typeof r.name, 'string', `${r.id}.name`);
      assert.equal(r.count, 0, `${r.id}.count`);
      assert.ok(Number.isInteger(r.capacity) && r.capacity > 0, `${r.id}.capacity`);
    }

    // A second client sees the first one counted.
    await a.join('plenary');
    const b = await srv.connect();
    const wb = await b.hello('Bea');
    assert.notEqual(wb.session, w.session);
    assert.notEqual(wb.user.id, w.user.id);
    assert.equal(wb.rooms.find((r) => r.id === 'plenary').count, 1);
  });
});

test('welcome carries tick_hz from --tick-hz', async () => {
  await withServer({ flags: { 'tick-hz': 10 } }, async (srv) => {
    const a = await srv.connect();
    const w = await a.hello('t');
    assert.equal(w.tick_hz, 10);
  });
});

test('re echoes string and integer ids, on replies and on errors', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    a.send({ type: 'hello', name: 'ids', id: 'h-1' });
    const w = await a.next('welcome');
    assert.equal(w.re, 'h-1');
    a.send({ type: 'join', room: 'lobby', id: 42 });
    const j = await a.next('joined');
    assert.strictEqual(j.re, 42);
    a.send({ type: 'join', room: 'no-such-room', id: 'bad-7' });
    const e = await a.next('error');
    assert.equal(e.code, 'not_found');
    assert.equal(e.re, 'bad-7');
    a.send({ type: 'join', room: 'no-such-room', id: 0 });
    const e0 = await a.next('error');
    assert.strictEqual(e0.re, 0);
    a.send({ type: 'leave', id: 'unicode-é✓' });
    const l = await a.next('left');
    assert.equal(l.re, 'unicode-é✓');
    // Without an id, no re.
    a.send({ type: 'join', room: 'lobby' });
    const j2 = await a.next('joined');
    assert.equal('re' in j2, false, 'no re without an id');
  });
});

test('two clients see each other join: roster and presence', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.hello('Ada');
    await b.hello('Bea');
    const ja = await a.join('lobby');
    assert.equal(ja.room.id, 'lobby');
    assert.equal(typeof ja.room.name, 'string');
    assert.equal(ja.room.scene, '/api/scenes/lobby');
    assert.equal(rosterOf(ja).length, 1);
    const selfA = rosterEntry(ja, a.user.id);
    assert.ok(selfA, 'roster includes the joiner');
    assertUser(selfA, 'roster[a]');
    assert.equal(selfA.name, 'Ada');
    assertPose(selfA, 'roster[a]');

    const jb = await b.join('lobby');
    assert.equal(rosterOf(jb).length, 2);
    const aInB = rosterEntry(jb, a.user.id);
    assert.ok(aInB, "B's roster has A");
    assert.equal(aInB.name, 'Ada');
    assertPose(aInB, 'roster[a]');
    assert.ok(rosterEntry(jb, b.user.id), "B's roster has B");

    const p = await a.next('presence', { filter: presence('join', b.user.id) });
    assert.equal(p.room, 'lobby');
    assert.equal(p.user.name, 'Bea');
    assertPose(p.user, 'presence.user');
    // Nobody tells B about its own join, nor A about its own.
    await b.expectNone('presence', 300, { filter: presence('join', b.user.id) });
    await a.expectNone('presence', 0, { filter: presence('join', a.user.id) });
  });
});

test('chat goes to everyone in the room, sender included, with ts; not to other rooms', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const c = await srv.connect();
    await a.enter('lobby', 'Ada');
    await b.enter('lobby', 'Bea');
    await c.enter('expo', 'Cy');
    const t0 = Date.now();
    a.send({ type: 'chat', text: 'hello, room ✓' });
    for (const who of [a, b]) {
      const m = await who.next('chat');
      assert.equal(m.text, 'hello, room ✓');
      assert.equal(m.room, 'lobby');
      assert.equal(chatSender(m), a.user.id);
      const name = m.from?.name ?? m.name ?? m.from_name;
      assert.equal(name, 'Ada');
      assert.ok(Number.isInteger(m.ts), `ts is integer ms: ${m.ts}`);
      assert.ok(Math.abs(m.ts - t0) < 5000, `ts is wall-clock ms: ${m.ts} vs ${t0}`);
      assert.equal('re' in m, false, 'chat carries no re');
    }
    await c.expectNone('chat', 300);
  });
});

test('status and hand: presence update to the others, nothing to the sender', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'Ada');
    await b.enter('lobby', 'Bea');
    await a.next('presence', { filter: presence('join', b.user.id) });

    b.send({ type: 'status', status: 'away' });
    const u1 = await a.next('presence', { filter: presence('update', b.user.id) });
    assert.equal(u1.room, 'lobby');
    assert.equal(u1.user.status, 'away');

    b.send({ type: 'hand', up: true });
    const u2 = await a.next('presence', { filter: presence('update', b.user.id) });
    assert.equal(u2.user.hand, true);
    assert.equal(u2.user.status, 'away', 'status kept');

    b.send({ type: 'status', status: 'active' });
    const u3 = await a.next('presence', { filter: presence('update', b.user.id) });
    assert.equal(u3.user.status, 'active');
    assert.equal(u3.user.hand, true, 'hand kept');

    b.send({ type: 'hand', up: false });
    const u4 = await a.next('presence', { filter: presence('update', b.user.id) });
    assert.equal(u4.user.hand, false);

    await b.expectNone('presence', 300, { filter: (m) => m.user?.id === b.user.id });
    await b.expectNone('error', 0);

    // A newcomer's roster shows the current status and hand.
    b.send({ type: 'hand', up: true });
    await a.next('presence', { filter: presence('update', b.user.id) });
    const c = await srv.connect();
    const jc = await c.enter('lobby', 'Cy');
    const bInC = rosterEntry(jc, b.user.id);
    assert.equal(bInC.hand, true);
    assert.equal(bInC.status, 'active');
  });
});

test('status and hand outside a room: no reply, no error, kept for the next join', async () => {
  await withServer({}, async (srv) => {
    const b = await srv.connect();
    await b.enter('lobby', 'Bea');
    const a = await srv.connect();
    await a.hello('Ada');
    a.send({ type: 'status', status: 'away' });
    a.send({ type: 'hand', up: true });
    await a.expectNone('error', 300);
    await a.expectNone('presence', 0);
    await b.expectNone('presence', 0);
    const j = await a.join('lobby');
    const me = rosterEntry(j, a.user.id);
    assert.equal(me.status, 'away');
    assert.equal(me.hand, true);
    const p = await b.next('presence', { filter: presence('join', a.user.id) });
    assert.equal(p.user.status, 'away');
    assert.equal(p.user.hand, true);
    // Kept across rooms too.
    const j2 = await a.join('expo');
    assert.equal(rosterEntry(j2, a.user.id).hand, true);
  });
});

test('leave: left reply with room and re, presence leave to the others', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'Ada');
    await b.enter('lobby', 'Bea');
    const l = await b.request({ type: 'leave' }, 'left');
    assert.equal(l.room, 'lobby');
    const p = await a.next('presence', { filter: presence('leave', b.user.id) });
    assert.equal(p.room, 'lobby');
    // B no longer gets the room's chat.
    a.send({ type: 'chat', text: 'still here?' });
    await a.next('chat');
    await b.expectNone('chat', 300);
    const rooms = (await srv.getJSON('/api/venue')).json.rooms;
    assert.equal(rooms.find((r) => r.id === 'lobby').count, 1);
  });
});

test('room change: leave presence in the old room, join presence in the new', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const old = await srv.connect();
    const neu = await srv.connect();
    await a.enter('lobby', 'Ada');
    await old.enter('lobby', 'Old');
    await neu.enter('expo', 'New');
    const j = await a.join('expo');
    assert.equal(j.room.id, 'expo');
    assert.equal(j.room.scene, '/api/scenes/expo');
    assert.ok(rosterEntry(j, a.user.id));
    assert.ok(rosterEntry(j, neu.user.id));
    assert.equal(rosterEntry(j, old.user.id), undefined, 'old room not in new roster');
    const pl = await old.next('presence', { filter: presence('leave', a.user.id) });
    assert.equal(pl.room, 'lobby');
    const pj = await neu.next('presence', { filter: presence('join', a.user.id) });
    assert.equal(pj.room, 'expo');
    await a.expectNone('left', 200);

    // Chat now reaches the new room only.
    a.send({ type: 'chat', text: 'moved' });
    await neu.next('chat', { filter: chatFrom(a.user.id, 'moved') });
    await old.expectNone('chat', 300);
  });
});

test('joining the room you are in: joined again, fresh roster, no presence', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'Ada');
    await b.enter('lobby', 'Bea');
    await a.next('presence', { filter: presence('join', b.user.id) });
    const j = await b.join('lobby');
    assert.equal(rosterOf(j).length, 2);
    await a.expectNone('presence', 400);
  });
});

test('names are per user; two users may share a display name', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'Same');
    const jb = await b.enter('lobby', 'Same');
    assert.equal(rosterOf(jb).filter((u) => u.name === 'Same').length, 2);
  });
});
