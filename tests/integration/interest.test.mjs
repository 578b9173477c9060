// Interest tiers through the real server (PROTOCOL.md, "Interest tiers";
// issue 13): in a room over its scene's interest.from, a receiver gets its
// nearest movers every tick, the band at band_hz and the far ones at
// background_hz; whoever is on the stage every tick wherever they stand;
// the near tier's count in the frame, JSON and binary; the byte budget
// cutting the far tiers, never the near one; and untiered frames below
// interest.from.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withServer, until, rosterEntry } from './harness.mjs';
import { decodePoses } from '../../web-client/js/poses-binary.js';
import { addUser } from '../admin/lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function room(id, budget) {
  return {
    format_version: 1, id, name: `Room ${id}`, capacity: 100,
    interest: { from: 5, near: 2, band: 2, band_hz: 5, background_hz: 1, budget },
    walk: [{ min: [-100, -100], max: [100, 100] }],
    spawns: [{ id: 's', p: [-90, 0, -90] }],
    places: [{ type: 'stage', id: 'stage', translation: [75, 0.5, 75], size: [30, 0.5, 30], label: 'Stage',
      volume: { min: [60, -1, 60], max: [90, 4, 90] } }],
  };
}

function venue() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-interest-'));
  fs.writeFileSync(path.join(dir, 'wide.json'), JSON.stringify(room('wide', 100000)));
  fs.writeFileSync(path.join(dir, 'tight.json'), JSON.stringify(room('tight', 1000)));
  return dir;
}

/* Someone in room at p, binary frames decoded into c.frames. */
async function person(srv, roomId, name, p, { binary = false, token = null } = {}) {
  const c = await srv.connect({ label: name });
  const frames = [];
  let bounds = null;
  c.ws.on('message', (data, isBinary) => {
    if (isBinary && bounds) frames.push(decodePoses(new Uint8Array(data), bounds));
  });
  await c.hello(name, { ...(binary ? { poses: 'binary' } : {}), ...(token ? { token } : {}) });
  const j = await c.join(roomId);
  bounds = j.bounds;
  c.frames = frames;
  c.home = p;
  c.ix = rosterEntry(j, c.user.id).ix;
  await sleep(60); /* so that the first step is not too fast from the spawn */
  c.pose(p);
  return c;
}

/* Everyone in movers sways around home at 30 poses a second for ms. */
async function sway(movers, ms) {
  const end = Date.now() + ms;
  for (let k = 0; Date.now() < end; k++) {
    for (const c of movers) c.pose([c.home[0] + 0.2 * Math.sin(k / 5), 0, c.home[2]]);
    await sleep(33);
  }
}

/* From JSON poses frames of c: per user id, frames holding it and frames
 * holding it within the near tier; and how many frames were tiered. */
function tally(frames) {
  const seen = new Map(), inNear = new Map();
  let tiered = 0;
  for (const f of frames) {
    if (f.near !== undefined && f.near !== null) tiered++;
    f.users.forEach((u, k) => {
      seen.set(u.id, (seen.get(u.id) ?? 0) + 1);
      if (k < f.near) inNear.set(u.id, (inNear.get(u.id) ?? 0) + 1);
    });
  }
  return { seen: (id) => seen.get(id) ?? 0, inNear: (id) => inNear.get(id) ?? 0, tiered };
}

test('a tiered room: near every tick, band at 5 Hz, far at 1 Hz, the stage always; near counted in JSON and binary', async () => {
  const dir = venue();
  try {
    await withServer({ flags: { scenes: dir, 'max-speed': 1000 } }, async (srv) => {
      const r = await person(srv, 'wide', 'Receiver', [-90, 0, -90]);
      const rb = await person(srv, 'wide', 'Binary', [-89, 0, -90], { binary: true });
      const a1 = await person(srv, 'wide', 'Near One', [-88, 0, -88]);
      const a2 = await person(srv, 'wide', 'Near Two', [-87, 0, -89]);
      // Four in the room, under interest.from (5): untiered frames.
      await sleep(200);
      r.drain('poses');
      await sway([a1], 400);
      const before = r.inbox.filter((m) => m.type === 'poses');
      assert.ok(before.length >= 4, `frames below from: ${before.length}`);
      assert.ok(before.every((f) => !('near' in f)), 'no near field below interest.from');

      const b1 = await person(srv, 'wide', 'Band One', [-55, 0, -90]);
      const b2 = await person(srv, 'wide', 'Band Two', [-55, 0, -85]);
      const fars = [];
      for (let i = 0; i < 3; i++) fars.push(await person(srv, 'wide', `Far ${i}`, [40 + 3 * i, 0, 40]));
      /* Only a speaker may step onto the stage. */
      const s = await person(srv, 'wide', 'Speaker', [75, 0, 75], { token: addUser(srv.dataDir, 'Speaker', 'speaker').token });
      await sleep(300);
      r.drain('poses');
      rb.frames.length = 0;
      const MS = 3000;
      await sway([a1, a2, b1, b2, ...fars, s], MS);
      await sleep(100);
      const frames = r.inbox.filter((m) => m.type === 'poses');
      const t = tally(frames);
      const ticks = (MS / 1000) * 20;
      const counts = {
        near: [a1, a2].map((c) => t.inNear(c.user.id)),
        stage: t.inNear(s.user.id),
        band: [b1, b2].map((c) => t.seen(c.user.id)),
        bandInNear: [b1, b2].map((c) => t.inNear(c.user.id)),
        far: fars.map((c) => t.seen(c.user.id)),
      };
      console.log(`# ${frames.length} frames, ${t.tiered} tiered, over ${ticks} ticks: ${JSON.stringify(counts)}`);
      assert.equal(t.tiered, frames.length, 'every frame tiered');
      for (const n of counts.near) assert.ok(n >= ticks * 0.7, `a near mover in the near tier ${n} of ${ticks} ticks`);
      assert.ok(counts.stage >= ticks * 0.7, `the one on the stage, far off, in the near tier ${counts.stage} times`);
      for (const n of counts.band) assert.ok(n >= ticks / 4 * 0.5 && n <= ticks / 4 * 1.6, `a band mover ${n} times (5 Hz: ${ticks / 4})`);
      assert.deepEqual(counts.bandInNear, [0, 0], 'the band is after the near tier');
      for (const n of counts.far) assert.ok(n >= 1 && n <= ticks / 20 * 2, `a far mover ${n} times (1 Hz: ${ticks / 20})`);

      // The binary receiver, in the same cell, gets the same tiers.
      const bin = rb.frames.filter(Boolean);
      assert.ok(bin.length >= ticks * 0.7, `binary frames: ${bin.length}`);
      assert.ok(bin.every((f) => f.near !== null), 'every binary frame tiered (flags 1, a near count)');
      const nearIx = (ix) => bin.filter((f) => f.entries.slice(0, f.near).some((e) => e.ix === ix)).length;
      const anyIx = (ix) => bin.filter((f) => f.entries.some((e) => e.ix === ix)).length;
      assert.ok(nearIx(a1.ix) >= ticks * 0.7, `binary: near mover in the near tier ${nearIx(a1.ix)} times`);
      assert.ok(anyIx(fars[0].ix) <= ticks / 20 * 2, `binary: far mover ${anyIx(fars[0].ix)} times`);

      // A far mover that stops is still seen where it stopped, within a second.
      const last = [47, 0, 44];
      fars[1].pose(last);
      await sleep(80);
      r.drain('poses');
      await sleep(1200);
      const after = r.inbox.filter((m) => m.type === 'poses').flatMap((f) => f.users).filter((u) => u.id === fars[1].user.id);
      assert.ok(after.length >= 1 && Math.abs(after.at(-1).p[2] - 44) < 0.01, `the stopped far one's last pose: ${JSON.stringify(after.at(-1))}`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the byte budget cuts the far tiers, never the near one, and /metrics counts what it cut', async () => {
  const dir = venue();
  try {
    await withServer({ flags: { scenes: dir, 'max-speed': 1000 } }, async (srv) => {
      const r = await person(srv, 'tight', 'Receiver', [-90, 0, -90]);
      const a = await person(srv, 'tight', 'Near', [-88, 0, -88]);
      await person(srv, 'tight', 'Near Too', [-89, 0, -88]); /* the nearest two are here */
      const others = [];
      for (let i = 0; i < 4; i++) others.push(await person(srv, 'tight', `Far ${i}`, [40 + 3 * i, 0, 40]));
      await sleep(300);
      r.drain('poses');
      await sway([a, ...others], 2500);
      await sleep(100);
      const t = tally(r.inbox.filter((m) => m.type === 'poses'));
      // 1,000 bytes a second is 50 a tick: no JSON entry (about 90 bytes) fits beyond the near tier.
      assert.ok(t.inNear(a.user.id) >= 50 * 0.7, `the near one every tick: ${t.inNear(a.user.id)}`);
      for (const c of others) assert.equal(t.seen(c.user.id), 0, 'the far ones cut');
      await until(async () => {
        const { samples } = await srv.metrics();
        return samples.some((x) => x.name === 'venue_interest_cut_total' && x.value > 0);
      }, { timeout: 3000, what: 'venue_interest_cut_total above 0' });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
