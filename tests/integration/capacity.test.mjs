// Room capacity: a breakout holds 30, of which the scene reserves a few
// seats for speakers and moderators; guests fill the rest, and the next
// guest's join is room_full.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withServer, rosterOf, presence, VENUE_ROOT } from './harness.mjs';

/* Places a guest may take in a demo room: capacity less reserved seats. */
function guestPlaces(room) {
  const scene = JSON.parse(fs.readFileSync(path.join(VENUE_ROOT, 'scenes/demo', `${room}.json`), 'utf8'));
  return { capacity: scene.capacity, places: scene.capacity - (scene.reserved_seats ?? 0) };
}

test('a full room answers room_full; the connection stays; a freed place can be taken', async () => {
  await withServer({}, async (srv) => {
    const room = 'breakout-2';
    const { capacity, places } = guestPlaces(room);
    const inside = [];
    for (let i = 0; i < places; i++) {
      const c = await srv.connect({ name: `p${i}` });
      await c.hello(`p${i}`);
      inside.push(c);
    }
    // Join all at once; every one is admitted.
    const joins = await Promise.all(inside.map((c) => c.join(room)));
    const sizes = joins.map((j) => rosterOf(j).length).sort((x, y) => x - y);
    assert.equal(sizes[sizes.length - 1], places, `the last joiner sees ${places} in the roster`);

    const extra = await srv.connect({ name: 'extra' });
    const w = await extra.hello('extra');
    const info = w.rooms.find((r) => r.id === room);
    assert.equal(info.capacity, capacity);
    assert.equal(info.count, places);
    // From no room...
    await extra.expectError({ type: 'join', room }, 'room_full');
    // ...and from another room, where it stays.
    const other = await srv.connect({ name: 'other' });
    await other.enter('breakout-3', 'other');
    await extra.join('breakout-3');
    await other.next('presence', { filter: presence('join', extra.user.id) });
    extra.send({ type: 'join', room, id: 'full' });
    const e = await extra.next('error');
    assert.equal(e.code, 'room_full');
    assert.equal(e.re, 'full');
    assert.ok(extra.open, 'connection stays open');
    await other.expectNone('presence', 200, { filter: presence('leave', extra.user.id) });
    other.send({ type: 'chat', text: 'still with us?' });
    await extra.next('chat', { filter: (m) => m.room === 'breakout-3' && m.text === 'still with us?' });
    // Nobody inside heard of the refused joiner.
    await inside[0].expectNone('presence', 0, { filter: presence('join', extra.user.id) });

    const api = (await srv.getJSON('/api/venue')).json.rooms.find((r) => r.id === room);
    assert.equal(api.count, places);

    // One leaves: the place is free again.
    await inside[0].request({ type: 'leave' }, 'left');
    const j = await extra.join(room);
    assert.equal(rosterOf(j).length, places);
    await other.next('presence', { filter: presence('leave', extra.user.id) });
    // And it is full again.
    inside[0].send({ type: 'join', room, id: 'again' });
    const e2 = await inside[0].next('error', { filter: (m) => m.re === 'again' });
    assert.equal(e2.code, 'room_full');
  });
});

test('a detached session (resume grace) still holds its place', async () => {
  await withServer({ flags: { 'resume-grace': 2 } }, async (srv) => {
    const room = 'breakout-1';
    const inside = [];
    for (let i = 0; i < guestPlaces(room).places; i++) {
      const c = await srv.connect();
      await c.hello(`p${i}`);
      inside.push(c);
    }
    await Promise.all(inside.map((c) => c.join(room)));
    inside[0].terminate();
    await inside[0].closed;
    const extra = await srv.connect();
    await extra.hello('extra');
    await extra.expectError({ type: 'join', room }, 'room_full');
    // After the grace the place is released.
    await inside[1].next('presence', { filter: presence('leave', inside[0].user.id), timeout: 5000 });
    await extra.join(room);
  });
});
