// Finding a person over the wire (issue 12, "An attendee's first ten
// minutes"): find says where registered people are, guests only in one's
// own room; join.near arrives beside them; privacy hides a person from
// find, is echoed after every welcome and outlives a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, rosterEntry } from './harness.mjs';
import { addUser, tempDir } from '../admin/lib.mjs';

async function enter(srv, person, room) {
  const c = await srv.connect({ name: person.name });
  c.send({ type: 'hello', name: 'ignored', token: person.token, id: 'h' });
  const w = await c.next('welcome');
  c.user = w.user;
  c.privacy = await c.next('privacy');
  if (room) await c.join(room);
  return c;
}

async function guest(srv, name, room) {
  const c = await srv.connect({ name });
  await c.hello(name);
  if (room) await c.join(room);
  return c;
}

const find = (c, q) => c.request({ type: 'find', q }, 'found');

test('find: where a registered person is, a guest only from its room, never the unfindable; go to arrives beside them', async () => {
  const tmp = tempDir('venued-find-');
  const bea = addUser(tmp.dir, 'Béatrice Registered', 'attendee');
  const srv = new Server({ dataDir: tmp.dir });
  await srv.start();
  try {
    const b = await enter(srv, bea, 'plenary');
    assert.deepEqual({ findable: b.privacy.findable, dms: b.privacy.dms }, { findable: true, dms: true });
    const a = await guest(srv, 'Ann Guest', 'lobby');
    const g = await guest(srv, 'Gus Guest', 'plenary');

    const f = await find(a, 'BÉATRICE');
    assert.equal(f.truncated, false);
    assert.equal(f.people.length, 1);
    assert.equal(f.people[0].user, b.user.id);
    assert.equal(f.people[0].room, 'plenary');
    assert.ok(f.people[0].room_name && f.people[0].room_name !== 'plenary', 'the room by its name');
    assert.equal((await find(a, 'gus')).people.length, 0, 'a guest in another room is not found');
    assert.equal((await find(b, 'gus')).people.length, 1, 'a guest in my room is');

    // Go to: join with near, arriving beside them
    const bp = rosterEntry(await b.request({ type: 'join', room: 'plenary' }, 'joined'), b.user.id).p;
    a.inbox = a.inbox.filter((m) => m.type !== 'voice');
    const j = await a.request({ type: 'join', room: 'plenary', near: b.user.id }, 'joined');
    assert.deepEqual(j.near, { user: b.user.id, placed: true });
    const ap = rosterEntry(j, a.user.id).p;
    const d = Math.hypot(ap[0] - bp[0], ap[2] - bp[2]);
    assert.ok(d > 1 && d < 2.6, `beside them: ${d.toFixed(2)} m away`);
    const seen = await b.next('presence', { filter: (m) => m.event === 'join' && m.user.id === a.user.id });
    assert.ok(Math.hypot(seen.user.p[0] - ap[0], seen.user.p[2] - ap[2]) < 0.01, 'the others see the same place');

    // near someone not there: a normal arrival and why
    const j2 = await g.request({ type: 'join', room: 'expo', near: b.user.id }, 'joined');
    assert.equal(j2.room.id, 'expo');
    assert.equal(j2.near.placed, false);
    assert.match(j2.near.reason, /not in this room/);
    const e = await g.request({ type: 'join', room: 'expo', near: 'not an id' }, 'joined').catch((err) => err.reply);
    assert.equal(e.code, 'bad_request');
    assert.match(e.message, /join\.near/);

    // opting out: nobody finds her, not even in her room; the setting is echoed
    const p = await b.request({ type: 'privacy', findable: false }, 'privacy');
    assert.equal(p.findable, false);
    assert.equal(p.dms, true);
    assert.equal((await find(g, 'béatrice')).people.length, 0);
    assert.equal((await find(a, 'béatrice')).people.length, 0);
    const bad = await b.request({ type: 'privacy', findable: 'no' }, 'privacy').catch((err) => err.reply);
    assert.match(bad.message, /privacy\.findable/);
    const q = await find(a, 'x'.repeat(65)).catch((err) => err.reply);
    assert.match(q.message, /find\.q: longer than 64/);

    // a restart keeps a registered person's choice
    await srv.stop();
    await srv.start();
    const b2 = await enter(srv, bea, null);
    assert.equal(b2.privacy.findable, false, 'still not findable after a restart');
    assert.equal(b2.privacy.dms, true);
  } finally {
    await srv.cleanup();
    tmp.remove();
  }
});
