/*
 * web-client/js/venue-client.js in a room with interest tiers, against the
 * real venued: the `poses` event marks the entries past a tiered frame's
 * nearest tier `far` (what motion.js glides), in binary and in JSON alike.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { VenueClient } from '../../web-client/js/venue-client.js';
import { startVenued, stopAll, until } from '../browser/harness.mjs';

const Q = [0, 0, 0, 1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let venued, dir;
const clients = [];

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venue-tiers-'));
    fs.writeFileSync(path.join(dir, 'field.json'), JSON.stringify({
        format_version: 1, id: 'field', name: 'Field', capacity: 20,
        interest: { from: 3, near: 1, band: 0 },
        walk: [{ min: [-100, -100], max: [100, 100] }],
        spawns: [{ id: 's', p: [-90, 0, -90] }],
    }));
    venued = await startVenued(['--scenes', dir, '--max-speed', '1000']);
});

after(async () => {
    for (const c of clients) c.close();
    await stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
});

async function person(name, poses, p) {
    const c = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name, WebSocket, backoff: { baseMs: 100, maxMs: 1000 }, poses });
    clients.push(c);
    await c.connect({ room: 'field' });
    await until(() => c.room && c.room.id === 'field', 5000, `${name} in the field`);
    await sleep(60);
    c.sendPose(p, Q);
    return c;
}

test('far entries of tiered frames are marked far, near ones not, in both formats', async () => {
    const bin = await person('Binary', 'binary', [-90, 0, -90]);
    const json = await person('Json', 'json', [-89, 0, -90]);
    const nearby = await person('Nearby', 'binary', [-88, 0, -88]);
    const far = await person('Faraway', 'binary', [80, 0, 80]);
    const seen = { binary: [], json: [] };
    bin.on('poses', (d) => seen.binary.push(...d.users));
    json.on('poses', (d) => seen.json.push(...d.users));
    for (let k = 0; k < 60; k++) {
        nearby.sendPose([-88 + 0.3 * Math.sin(k / 4), 0, -88], Q);
        far.sendPose([80 + 0.3 * Math.sin(k / 4), 0, 80], Q);
        await sleep(40);
    }
    await sleep(200);
    for (const [format, users] of Object.entries(seen)) {
        const of = (c) => users.filter((u) => u.id === c.me.id);
        const n = of(nearby), f = of(far);
        assert.ok(n.length >= 20, `${format}: the nearby one in ${n.length} entries`);
        assert.ok(n.every((u) => u.far === false), `${format}: the nearby one never far`);
        assert.ok(f.length >= 1 && f.length <= 8, `${format}: the far one once a second (${f.length} in 2.4 s)`);
        assert.ok(f.every((u) => u.far === true), `${format}: the far one marked far`);
    }
});
