// Another process holds the database's write lock (an operator's sqlite3,
// a CLI import's step) while the venue serves (issue 14: the service loop
// waited on it for up to 2 s). The loop never waits: poses and /healthz
// go on, a moderation and an admin API write wait for the lock and are
// done once it is free, and one held past 2 s is answered busy with
// nothing written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, holdWriteLock, parseProm, metricSum, sleep } from './harness.mjs';
import { addUser, api, tempDir } from '../admin/lib.mjs';

/* The slowest /healthz and the longest gap between poses frames seen by c
 * while body runs. */
async function watching(srv, c, body) {
  let worst = 0, running = true, last = performance.now(), gap = 0;
  const onPoses = (data, binary) => {
    if (binary || !data.toString().startsWith('{"type":"poses"')) return;
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  };
  c.ws.on('message', onPoses);
  const probe = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(10000) });
      await r.text();
      assert.equal(r.status, 200);
      worst = Math.max(worst, performance.now() - t0);
      await sleep(20);
    }
  })();
  const result = await body();
  running = false;
  await probe;
  c.ws.off('message', onPoses);
  return { result, worst, gap };
}

async function enter(srv, person, room) {
  const c = await srv.connect({ name: person.name });
  await c.hello('ignored', { token: person.token });
  await c.join(room);
  return c;
}

function modAnswer(c, id) {
  return c.next(null, { timeout: 6000, filter: (m) => m.re === id && (m.type === 'mod_ok' || m.type === 'error') });
}

test('a write lock held by another process: the loop goes on, writes wait for it and are done, or answered busy after 2 s', async () => {
  const tmp = tempDir('venued-lock-');
  const admin = addUser(tmp.dir, 'Organiser', 'admin');
  const mod = addUser(tmp.dir, 'Mo Moderator', 'moderator');
  const att = addUser(tmp.dir, 'Ada Attendee', 'attendee');
  const srv = new Server({ dataDir: tmp.dir });
  await srv.start();
  const db = path.join(tmp.dir, 'venue.db');
  let walking = true;
  try {
    const m = await enter(srv, mod, 'lobby');
    const a = await enter(srv, att, 'lobby');
    const walk = (async () => {
      for (let i = 0; walking && i < 400; i++) {
        a.pose([Math.sin(i / 10) * 3, 0, Math.cos(i / 10) * 3]);
        await sleep(50);
      }
    })();
    await m.next('poses');

    // Held for about 1 s: both writes wait and are done after it.
    const held = await watching(srv, m, async () => {
      const release = await holdWriteLock(db);
      const t0 = performance.now();
      m.send({ type: 'mod', id: 'mute1', action: 'mute', target: att.id });
      const answer = modAnswer(m, 'mute1');
      const added = api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'Late Comer', role: 'attendee' } });
      await sleep(1000);
      await release();
      const ans = await answer, add = await added;
      return { ans, add, took: performance.now() - t0 };
    });
    console.log(`# held 1 s: mute answered after ${held.result.took.toFixed(0)} ms; /healthz worst ${held.worst.toFixed(1)} ms; longest poses gap ${held.gap.toFixed(1)} ms`);
    assert.equal(held.result.ans.type, 'mod_ok', JSON.stringify(held.result.ans));
    assert.ok(held.result.took >= 950, 'the mute waited for the lock');
    assert.equal(held.result.add.status, 201, held.result.add.text);
    assert.ok(held.worst < 250, `/healthz took ${held.worst.toFixed(0)} ms while the lock was held`);
    assert.ok(held.gap < 300, `poses stopped for ${held.gap.toFixed(0)} ms while the lock was held`);
    a.send({ type: 'chat', text: 'am I muted?' });
    assert.equal((await a.next('error')).code, 'forbidden');

    // Held for 3 s: busy, and nothing written.
    const release = await holdWriteLock(db);
    const t0 = performance.now();
    m.send({ type: 'mod', id: 'unmute1', action: 'unmute', target: att.id });
    const answer = modAnswer(m, 'unmute1');
    const added = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'Too Late', role: 'attendee' } });
    const ans = await answer;
    const took = performance.now() - t0;
    await release();
    assert.equal(ans.type, 'error');
    assert.equal(ans.code, 'busy');
    assert.ok(took >= 1900 && took < 3000, `busy after ${took.toFixed(0)} ms`);
    assert.equal(added.status, 503, added.text);
    assert.equal(added.json.error.code, 'busy');
    assert.equal(added.headers.get('retry-after'), '1');
    a.send({ type: 'chat', text: 'still muted?' });
    assert.equal((await a.next('error')).code, 'forbidden');
    const users = await api(srv, 'GET', '/api/admin/users?q=Too%20Late', { token: admin.token });
    assert.equal(users.json.users.length, 0);
    assert.equal((await api(srv, 'GET', '/api/admin/users?q=Late%20Comer', { token: admin.token })).json.users.length, 1);

    const prom = parseProm(await (await fetch(`${srv.url}/metrics`)).text());
    assert.ok(metricSum(prom, 'venue_parked_total') >= 2);
    assert.ok(metricSum(prom, 'venue_parked_refused_total') >= 1);
    walking = false;
    await walk;
  } finally {
    walking = false;
    await srv.stop();
    tmp.remove();
  }
});
