// Registration and moderation over the wire (issue 5): registered people
// come in with their tokens, moderators act, the server enforces it across
// a restart, and the audit log says what happened.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, presence } from './harness.mjs';
import { addUser, api, tempDir } from '../admin/lib.mjs';

/* A server on a data dir with these people registered first. */
async function venueWith(roles, flags = {}) {
  const tmp = tempDir('venued-mod-');
  const people = {};
  for (const [key, role] of Object.entries(roles)) people[key] = addUser(tmp.dir, `${key} (${role})`, role);
  const srv = new Server({ dataDir: tmp.dir, flags });
  await srv.start();
  return { srv, people, tmp };
}

async function enter(srv, person, room) {
  const c = await srv.connect({ name: person.name });
  await c.hello('ignored', { token: person.token });
  if (room) await c.join(room);
  return c;
}

async function mod(c, fields) {
  c.send({ type: 'mod', id: `m${Math.random()}`, ...fields });
  const r = await c.next(null, { filter: (m) => m.type === 'mod_ok' || m.type === 'error' });
  return r.type === 'mod_ok' ? 'ok' : r.code;
}

test('registration required: no token or a bad one is refused with 4001; a registered one enters with its role', async () => {
  const { srv, people, tmp } = await venueWith({ ada: 'attendee' }, { registration: 'required' });
  try {
    const walkIn = await srv.connect();
    walkIn.send({ type: 'hello', name: 'Walk-in' });
    const e = await walkIn.next('error');
    assert.equal(e.code, 'unauthorized');
    assert.equal((await walkIn.waitClose()).code, 4001);
    const forger = await srv.connect();
    forger.send({ type: 'hello', name: 'Forger', token: '0123456789abcdef0123456789abcdef' });
    assert.equal((await forger.waitClose()).code, 4001);
    const ada = await srv.connect();
    const w = await ada.hello('typed name', { token: people.ada.token });
    assert.equal(w.user.role, 'attendee');
    assert.equal(w.user.id, people.ada.id);
    assert.equal(w.user.name, people.ada.name, 'the registered name, not the typed one');
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});

test('roles and rank: attendees may not moderate; moderators act in their room, not on their peers', async () => {
  const { srv, people, tmp } = await venueWith({ mo: 'moderator', mia: 'moderator', ada: 'attendee', sam: 'speaker' });
  try {
    const mo = await enter(srv, people.mo, 'breakout-1');
    const mia = await enter(srv, people.mia, 'breakout-1');
    const ada = await enter(srv, people.ada, 'breakout-1');
    const sam = await enter(srv, people.sam, 'breakout-1');
    assert.equal(await mod(ada, { action: 'lock' }), 'forbidden');
    assert.equal(await mod(sam, { action: 'lock' }), 'forbidden');
    assert.equal(await mod(mo, { action: 'mute', target: people.mia.id }), 'forbidden');
    assert.equal(await mod(mo, { action: 'lock', room: 'breakout-2' }), 'forbidden');
    assert.equal(await mod(mo, { action: 'announce', room: '*', text: 'all' }), 'forbidden');
    assert.equal(await mod(mo, { action: 'kick' }), 'bad_request');
    assert.equal(await mod(mo, { action: 'promote', target: people.ada.id }), 'ok');
    const up = await mia.next('presence', { filter: (m) => m.user.id === people.ada.id && m.user.role === 'speaker' });
    assert.equal(up.event, 'update');
    assert.equal(await mod(mo, { action: 'announce', text: 'Coffee at 11' }), 'ok');
    const an = await ada.next('announce');
    assert.equal(an.text, 'Coffee at 11');
    assert.equal(an.room, 'breakout-1');
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});

test('kick, mute, ban and lock hold across a restart, and the audit log has them', async () => {
  const { srv, people, tmp } = await venueWith({ admin: 'admin', mo: 'moderator', ada: 'attendee', bo: 'attendee', cy: 'attendee' });
  try {
    let mo = await enter(srv, people.mo, 'breakout-3');
    const ada = await enter(srv, people.ada, 'breakout-3');
    let bo = await enter(srv, people.bo, 'breakout-3');

    // Kick: told why, closed with 4003, and its resume token is dead.
    const resume = ada.resumeToken;
    assert.equal(await mod(mo, { action: 'kick', target: people.ada.id, reason: 'spam' }), 'ok');
    const k = await ada.next('kicked');
    assert.equal(k.reason, 'spam');
    assert.equal((await ada.waitClose()).code, 4003);
    await bo.next('presence', { filter: presence('leave', people.ada.id) });
    const again = await srv.connect();
    await again.expectError({ type: 'hello', name: 'x', resume }, 'not_found');

    // Mute: chat refused; the room sees it.
    assert.equal(await mod(mo, { action: 'mute', target: people.bo.id, reason: 'shouting' }), 'ok');
    const seen = await mo.next('presence', { filter: (m) => m.user.id === people.bo.id && m.user.muted === true });
    assert.ok(seen);
    await bo.expectError({ type: 'chat', text: 'hello?' }, 'forbidden');

    // Lock: an attendee's join is refused.
    assert.equal(await mod(mo, { action: 'lock' }), 'ok');
    const cy = await enter(srv, people.cy, null);
    await cy.expectError({ type: 'join', room: 'breakout-3' }, 'forbidden');

    // Room ban of bo, venue ban of cy (admins only).
    assert.equal(await mod(mo, { action: 'ban', target: people.bo.id }), 'ok');
    await bo.next('kicked', { filter: (m) => m.room === 'breakout-3' });
    const admin = await enter(srv, people.admin, 'lobby');
    assert.equal(await mod(admin, { action: 'ban', target: people.cy.id, room: '*', reason: 'threats' }), 'ok');
    assert.equal((await cy.waitClose()).code, 4003);

    await srv.restart();

    // After the restart: still locked, still banned, still muted.
    mo = await enter(srv, people.mo, 'breakout-3');
    bo = await enter(srv, people.bo, 'lobby');
    await bo.expectError({ type: 'join', room: 'breakout-3' }, 'forbidden');
    await bo.expectError({ type: 'chat', text: 'and now?' }, 'forbidden');
    const cy2 = await srv.connect();
    cy2.send({ type: 'hello', name: 'x', token: people.cy.token });
    assert.equal((await cy2.next('error')).code, 'forbidden');
    assert.equal((await cy2.waitClose()).code, 4003);
    const dee = await enter(srv, people.admin, null);
    assert.equal(await mod(dee, { action: 'unlock', room: 'breakout-3' }), 'ok');

    const audit = await api(srv, 'GET', '/api/admin/audit?room=breakout-3', { token: people.admin.token });
    assert.equal(audit.status, 200);
    const actions = audit.json.entries.map((e) => e.action);
    for (const a of ['kick', 'mute', 'lock', 'ban', 'unlock']) assert.ok(actions.includes(a), `audit has ${a}: ${actions}`);
    const kick = audit.json.entries.find((e) => e.action === 'kick');
    assert.equal(kick.reason, 'spam');
    assert.equal(kick.target_id ?? kick.target, people.ada.id);
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});

test('a full hall offers its overflow room; speakers still get in on the reserved seats', async () => {
  const { srv, people, tmp } = await venueWith({ mo: 'moderator', sam: 'speaker', a1: 'attendee', a2: 'attendee' });
  try {
    const mo = await enter(srv, people.mo, 'plenary');
    // 12 seats are reserved: capacity 14 leaves two for the moderator and a1.
    assert.equal(await mod(mo, { action: 'capacity', capacity: 14 }), 'ok');
    await enter(srv, people.a1, 'plenary');
    const a2 = await enter(srv, people.a2, null);
    const e = await a2.expectError({ type: 'join', room: 'plenary' }, 'room_full');
    assert.equal(e.overflow, 'plenary-overflow');
    const sam = await enter(srv, people.sam, 'plenary');
    assert.ok(sam.open);
    const j = await a2.join('plenary-overflow');
    assert.equal(j.room.id, 'plenary-overflow');
    const stage = await a2.next('stage');
    assert.equal(stage.room, 'plenary');
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});

test('breakout sends people out split evenly, recall brings them back together; move', async () => {
  const { srv, people, tmp } = await venueWith({ mo: 'moderator', p1: 'attendee', p2: 'attendee', p3: 'attendee', p4: 'attendee' });
  try {
    const mo = await enter(srv, people.mo, 'expo');
    const ps = [];
    for (const k of ['p1', 'p2', 'p3', 'p4']) ps.push(await enter(srv, people[k], 'expo'));
    assert.equal(await mod(mo, { action: 'breakout', rooms: ['breakout-1', 'nowhere'], minutes: 5 }), 'not_found');
    assert.equal(await mod(mo, { action: 'breakout', rooms: ['breakout-1', 'breakout-2'], minutes: 5 }), 'ok');
    const counts = {};
    for (const p of ps) {
      const b = await p.next('breakout');
      assert.equal(b.return_to, 'expo');
      assert.ok(b.ends > Date.now() + 4 * 60000);
      const j = await p.next('joined');
      counts[j.room.id] = (counts[j.room.id] ?? 0) + 1;
    }
    assert.deepEqual(counts, { 'breakout-1': 2, 'breakout-2': 2 });
    assert.equal(await mod(mo, { action: 'recall' }), 'ok');
    for (const p of ps) assert.equal((await p.next('joined')).room.id, 'expo');
    assert.equal(await mod(mo, { action: 'move', target: people.p1.id, room: 'breakout-3' }), 'ok');
    assert.equal((await ps[0].next('joined')).room.id, 'breakout-3');
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});
