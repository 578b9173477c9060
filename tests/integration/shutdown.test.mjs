// Graceful shutdown and restart: SIGTERM closes every client with 1001 and
// exits 0; sessions, rooms and last poses survive a restart on the same
// data dir.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, withServer, checkRoomList, rosterEntry, rosterOf, near, walk, yaw, sqliteDump, sleep, within,
} from './harness.mjs';

test('SIGTERM: every client gets close 1001, the process exits 0', async () => {
  await withServer({ checkExit: false }, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const fresh = await srv.connect(); // no hello yet
    await a.enter('lobby', 'A');
    await b.enter('plenary', 'B');
    const r = await srv.stop({ timeout: 8000 });
    assert.equal(r.killed, false, 'exited by itself');
    assert.equal(r.code, 0, `exit code 0, got ${JSON.stringify(r)}\n${srv.log.slice(-3000)}`);
    for (const c of [a, b, fresh]) {
      const closed = await c.waitClose(2000);
      assert.equal(closed.code, 1001, `${c.label} closed with 1001`);
    }
  });
});

test('SIGINT exits 0 as well', async () => {
  await withServer({ checkExit: false }, async (srv) => {
    const a = await srv.connect();
    await a.enter('lobby', 'A');
    const r = await srv.stop({ signal: 'SIGINT' });
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.equal((await a.waitClose(2000)).code, 1001);
  });
});

test('restart keeps the session, its room and its last pose; SQLite holds the pose', async () => {
  const srv = new Server({ flags: { 'resume-grace': 10 } });
  try {
    await srv.start();
    const a = await srv.connect({ name: 'A' });
    const ja = await a.enter('plenary', 'Ada');
    const p0 = rosterEntry(ja, a.user.id).p;
    const target = [p0[0] + 0.4, p0[1], p0[2] - 0.3];
    const held = await walk(a, p0, target, { q: yaw(1.2) });
    const token = a.resumeToken;
    const session = a.session;
    const userId = a.user.id;
    // Another member who stays put, to check the room comes back populated.
    const b = await srv.connect({ name: 'B' });
    await b.enter('lobby', 'Bo');

    const r = await srv.stop();
    assert.equal(r.code, 0, `exit 0 on SIGTERM: ${JSON.stringify(r)}\n${srv.log.slice(-3000)}`);
    assert.equal((await a.waitClose(2000)).code, 1001);

    // The database under --data has the last pose.
    const files = srv.dbFiles();
    assert.ok(files.length >= 1, `a SQLite file under the data dir: ${files}`);
    const dumps = files.map((f) => ({ f, ...sqliteDump(f) }));
    const tables = dumps.flatMap((d) => d.tables);
    assert.ok(tables.some((t) => /pose/i.test(t)), `a table for poses: ${tables}`);
    assert.ok(tables.some((t) => /session/i.test(t)), `a table for sessions: ${tables}`);
    const found = dumps.some((d) => Object.values(d.rows).some((rows) => rows.some((row) => rowHasPose(row, held.p))));
    assert.ok(found, `a row holds the last pose ${JSON.stringify(held.p)}: ${JSON.stringify(dumps.map((d) => d.rows)).slice(0, 2000)}`);
    // The resume token is not stored in the clear.
    const all = JSON.stringify(dumps.map((d) => d.rows));
    assert.equal(all.includes(token), false, 'resume token stored hashed');

    await srv.start();
    const a2 = await srv.connect({ name: 'A2' });
    const w = await a2.hello('Ada', { resume: token });
    assert.equal(w.session, session, 'same session after restart');
    assert.equal(w.user.id, userId);
    const j = await a2.next('joined', { timeout: 3000 });
    assert.equal(j.room.id, 'plenary');
    const me = rosterEntry(j, userId);
    assert.ok(me, 'in the plenary roster');
    assert.ok(near(me.p, held.p), `pose restored: ${JSON.stringify(me.p)} ~ ${JSON.stringify(held.p)}`);
    assert.ok(near(me.q, held.q, 1e-4), `orientation restored: ${JSON.stringify(me.q)}`);
    assert.equal(rosterOf(j).length, 1, 'only A in the plenary');

    // The room list counts the restored session.
    const rooms = (await srv.getJSON('/api/venue')).json.rooms;
    checkRoomList(assert, rooms);
    assert.equal(rooms.find((x) => x.id === 'plenary').count, 1);

    // The resumed session works normally.
    const c = await srv.connect();
    const jc = await c.enter('plenary', 'Cy');
    assert.ok(near(rosterEntry(jc, userId).p, held.p));
  } finally {
    await srv.cleanup();
  }
});

test('after a restart, an unresumed session leaves after the grace', async () => {
  const srv = new Server({ flags: { 'resume-grace': 2 } });
  try {
    await srv.start();
    const a = await srv.connect();
    await a.enter('expo', 'A');
    const r = await srv.restart();
    assert.equal(r.code, 0);
    const b = await srv.connect();
    const jb = await b.enter('expo', 'B');
    assert.ok(rosterEntry(jb, a.user.id), 'the saved session is back in its room');
    await b.next('presence', { filter: (m) => m.event === 'leave' && m.user?.id === a.user.id, timeout: 6000 });
    const rooms = (await srv.getJSON('/api/venue')).json.rooms;
    assert.equal(rooms.find((x) => x.id === 'expo').count, 1);
  } finally {
    await srv.cleanup();
  }
});

test('SIGTERM while clients are busy still exits 0 promptly', async () => {
  await withServer({ checkExit: false }, async (srv) => {
    const clients = [];
    for (let i = 0; i < 6; i++) {
      const c = await srv.connect();
      await c.enter(i % 2 ? 'lobby' : 'expo', `c${i}`);
      clients.push(c);
    }
    let running = true;
    const busy = (async () => {
      while (running) {
        for (const c of clients) if (c.open) c.send({ type: 'chat', text: 'busy' });
        await sleep(250);
      }
    })();
    await sleep(300);
    const t0 = Date.now();
    const r = await srv.stop();
    running = false;
    await busy;
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.ok(Date.now() - t0 < 5000, 'exits within 5 s');
    for (const c of clients) assert.equal((await within(2000, c.closed, 'close')).code, 1001);
  });
});

/* Does a row of any shape hold the position p (numbers in columns, or in
 * a JSON/text column)? */
function rowHasPose(row, p) {
  const nums = [];
  for (const v of Object.values(row)) {
    if (typeof v === 'number') nums.push(v);
    else if (typeof v === 'string') for (const m of v.matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/gi)) nums.push(Number(m[0]));
  }
  return p.every((x) => nums.some((n) => Math.abs(n - x) < 0.002));
}
