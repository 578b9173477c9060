// Pose fan-out: `poses` frames at the tick rate, only the avatars that
// moved, never the receiver's own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, rosterEntry, poseUsers, sleep, yaw, near, walk } from './harness.mjs';

/* Move c continuously in a small circle around p0 at `hz` poses per second
 * (about 0.6 m/s, well under the speed limit) until stop() is called. */
function keepMoving(c, p0, hz = 30) {
  let running = true;
  let i = 0;
  const done = (async () => {
    while (running && c.open) {
      const a = (i++ / hz) * 2; // radians
      c.pose([p0[0] + 0.3 * Math.cos(a) - 0.3, p0[1], p0[2] + 0.3 * Math.sin(a)], yaw(a));
      await sleep(1000 / hz);
    }
  })();
  return async () => { running = false; await done; };
}

async function threeInLobby(srv) {
  const a = await srv.connect({ name: 'A' });
  const b = await srv.connect({ name: 'B' });
  const c = await srv.connect({ name: 'C' });
  await a.enter('lobby', 'A');
  await b.enter('lobby', 'B');
  const jc = await c.enter('lobby', 'C');
  const spawn = (x) => rosterEntry(jc, x.user.id).p;
  return { a, b, c, spawn };
}

/* poses frames received between t0 and t1 (performance.now()) by c. */
function framesIn(c, t0, t1) {
  return c.all.filter((m) => m.type === 'poses' && m.at >= t0 && m.at < t1);
}

async function checkRate(t, srv, hz) {
  const { a, b, c, spawn } = await threeInLobby(srv);
  const stopA = keepMoving(a, spawn(a));
  await sleep(300); // let the first frames settle
  const t0 = performance.now();
  await sleep(2000);
  const t1 = performance.now();
  await stopA();

  for (const rx of [b, c]) {
    const frames = framesIn(rx, t0, t1);
    const withA = frames.filter((f) => poseUsers(f).some((u) => u.id === a.user.id));
    const perSec = withA.length / ((t1 - t0) / 1000);
    t.diagnostic(`${rx.label}: ${perSec.toFixed(1)} poses frames/s with the mover (tick ${hz} Hz)`);
    assert.ok(perSec >= hz * 0.7 && perSec <= hz * 1.3,
      `${rx.label} got ${perSec.toFixed(1)} poses frames/s with A; tick rate ${hz}`);
    // At most one frame per tick: never more than the tick rate.
    assert.ok(frames.length <= Math.ceil(hz * 1.3 * ((t1 - t0) / 1000)), `${rx.label}: ${frames.length} frames in ${t1 - t0} ms`);
    for (const f of frames) {
      assert.ok(Number.isInteger(f.tick), 'poses.tick is an integer');
      for (const u of poseUsers(f)) {
        assert.notEqual(u.id, rx.user.id, `${rx.label} never gets its own pose`);
        assert.equal(u.id, a.user.id, 'only the mover is in the frame');
        assert.equal(u.p.length, 3);
        assert.equal(u.q.length, 4);
      }
    }
    const ticks = frames.map((f) => f.tick);
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i] > ticks[i - 1], 'ticks increase');
  }
  // The mover never hears about itself.
  const own = a.all.filter((m) => m.type === 'poses' && poseUsers(m).some((u) => u.id === a.user.id));
  assert.equal(own.length, 0, 'A never receives its own pose');
}

test('poses at the default tick rate (20 Hz), only movers, never own', async (t) => {
  await withServer({}, async (srv) => {
    await checkRate(t, srv, 20);
  });
});

test('poses follow --tick-hz 10', async (t) => {
  await withServer({ flags: { 'tick-hz': 10 } }, async (srv) => {
    await checkRate(t, srv, 10);
  });
});

test('a pose reaches the others with the values sent; standing still sends nothing', async () => {
  await withServer({}, async (srv) => {
    const { a, b, c, spawn } = await threeInLobby(srv);
    const p0 = spawn(a);
    const target = [p0[0] + 0.1, p0[1], p0[2] - 0.1];
    const q = yaw(0.5);
    a.pose(target, q);
    const f = await b.next('poses', { filter: (m) => poseUsers(m).some((u) => u.id === a.user.id) });
    const u = poseUsers(f).find((x) => x.id === a.user.id);
    assert.ok(near(u.p, target, 0.002), `p ${JSON.stringify(u.p)} ~ ${JSON.stringify(target)}`);
    assert.ok(near(u.q, q, 1e-4), `q ${JSON.stringify(u.q)} ~ ${JSON.stringify(q)}`);
    await c.next('poses', { filter: (m) => poseUsers(m).some((x) => x.id === a.user.id) });
    await sleep(150);
    b.drain('poses');
    c.drain('poses');
    a.drain('poses');
    // Nobody moves: no frame names anyone.
    const moving = (m) => poseUsers(m).length > 0;
    await b.expectNone('poses', 600, { filter: moving });
    await c.expectNone('poses', 0, { filter: moving });
    await a.expectNone('poses', 0, { filter: moving });

    // Two movers: each receiver gets the other mover(s), not C. A tick's
    // frame is one for the whole room, so a mover finds its own entry in
    // it too (and skips it by id): a mover's frame and C's are the same.
    const stopA = keepMoving(a, p0);
    const stopB = keepMoving(b, spawn(b));
    await sleep(800);
    await stopA();
    await stopB();
    const ids = (rx) => new Set(rx.all.filter((m) => m.type === 'poses').flatMap((m) => poseUsers(m).map((x) => x.id)));
    assert.deepEqual([...ids(c)].sort(), [a.user.id, b.user.id].sort());
    const others = (rx, me) => [...ids(rx)].filter((id) => id !== me);
    assert.deepEqual(others(a, a.user.id), [b.user.id]);
    assert.deepEqual(others(b, b.user.id), [a.user.id]);
    const byTick = (rx) => new Map(rx.all.filter((m) => m.type === 'poses').map((m) => [m.tick, JSON.stringify(m.users)]));
    const fc = byTick(c);
    for (const rx of [a, b]) {
      let compared = 0, same = 0;
      for (const [t, u] of byTick(rx)) {
        if (!fc.has(t)) continue;
        compared++;
        if (u === fc.get(t)) same++;
      }
      // A catch-up frame (a receiver that lagged) is its own; the rest are shared.
      assert.ok(compared >= 5 && same >= 0.8 * compared, `${same} of ${compared} ticks: the same frame as C's`);
    }
  });
});

test('a newcomer gets the latest pose in its roster; other rooms get no poses', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const other = await srv.connect();
    const ja = await a.enter('lobby', 'A');
    await other.enter('expo', 'O');
    const p0 = rosterEntry(ja, a.user.id).p;
    const target = [p0[0] + 0.2, p0[1], p0[2]];
    a.pose(target, yaw(1));
    await sleep(300);
    await a.expectNone('pose', 0); // no correction for a short legal step
    const n = await srv.connect();
    const jn = await n.enter('lobby', 'N');
    const seen = rosterEntry(jn, a.user.id);
    assert.ok(near(seen.p, target), `roster pose ${JSON.stringify(seen.p)} ~ ${JSON.stringify(target)}`);
    assert.ok(near(seen.q, yaw(1), 1e-4));
    await other.expectNone('poses', 300, { filter: (m) => poseUsers(m).length > 0 });
  });
});

test('numbers on the wire: positions with 3 decimals, quaternions with 5, no -0.000', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const raw = [];
    b.ws.on('message', (d) => raw.push(d.toString()));
    const ja = await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const p0 = rosterEntry(ja, a.user.id).p;
    a.pose([p0[0] + 0.1234567, p0[1], p0[2] - 0.0000001], [0, 0.3826834, 0, 0.9238795]);
    await b.next('poses', { filter: (m) => poseUsers(m).length > 0 });
    const frame = raw.find((s) => s.startsWith('{"type":"poses"'));
    const m = /"p":\[([^\]]*)\],"q":\[([^\]]*)\]/.exec(frame);
    assert.ok(m, frame);
    for (const x of m[1].split(',')) assert.match(x, /^-?\d+\.\d{3}$/, `position ${x} in ${frame}`);
    for (const x of m[2].split(',')) assert.match(x, /^-?\d+\.\d{5}$/, `quaternion ${x} in ${frame}`);
    for (const s of raw) assert.equal(/-0\.0+(?![0-9])/.test(s), false, `no negative zero: ${s}`);
  });
});

test('a move faster than --max-speed: pose correction too_fast, previous pose kept', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const ja = await a.enter('lobby', 'A');
    await b.enter('lobby', 'B');
    const p0 = rosterEntry(ja, a.user.id).p;
    await sleep(200);
    a.pose([p0[0] + 30, p0[1], p0[2]]);
    const fix = await a.next('pose');
    assert.equal(fix.reason, 'too_fast');
    assert.ok(near(fix.p, p0), `kept the previous position: ${JSON.stringify(fix.p)} vs ${JSON.stringify(p0)}`);
    // The others never see the refused move.
    await b.expectNone('poses', 300, { filter: (m) => poseUsers(m).some((u) => u.id === a.user.id) });
  });
});

for (const [when, pause] of [['a second later', 1500], ['right away', 0]]) {
  test(`coming back to a room ${when}: the roster holds your last pose there`, async () => {
    await withServer({}, async (srv) => {
      const a = await srv.connect();
      const ja = await a.enter('lobby', 'A');
      const p0 = rosterEntry(ja, a.user.id).p;
      const held = await walk(a, p0, [p0[0] + 0.3, p0[1], p0[2] + 0.3], { q: yaw(0.4) });
      await sleep(pause);
      await a.join('expo');
      const back = await a.join('lobby');
      const me = rosterEntry(back, a.user.id);
      assert.ok(near(me.p, held.p), `last lobby pose ${JSON.stringify(me.p)} ~ ${JSON.stringify(held.p)}`);
      assert.ok(near(me.q, held.q, 1e-4), `last lobby orientation ${JSON.stringify(me.q)}`);
    });
  });
}
