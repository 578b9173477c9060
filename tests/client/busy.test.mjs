/*
 * web-client/js/venue-client.js when the database is held by another
 * process, against the real venued: a moderation waits for the lock and
 * resolves once it is free; held past 2 s it rejects with `busy` and the
 * page's readable sentence, and nothing was done.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import WebSocket from 'ws';
import { VenueClient } from '../../web-client/js/venue-client.js';
import { startVenued, stopAll, until } from '../browser/harness.mjs';
import { holdWriteLock } from '../integration/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let venued;
const clients = [];

before(async () => {
    venued = await startVenued([], { users: [['mod', 'Mo Moderator', 'moderator'], ['att', 'Ada Attendee', 'attendee']] });
});

after(async () => {
    for (const c of clients) c.close();
    await stopAll();
});

async function person(user) {
    const c = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name: user.name, token: user.token, WebSocket, backoff: { baseMs: 100, maxMs: 1000 } });
    clients.push(c);
    await c.connect({ room: 'lobby' });
    await until(() => c.room && c.room.id === 'lobby', 5000, `${user.name} in the lobby`);
    return c;
}

test('a moderation waits for the database and is done; held too long, it rejects busy with a readable sentence', async () => {
    const m = await person(venued.users.mod);
    const a = await person(venued.users.att);
    const db = path.join(venued.dataDir, 'venue.db');

    let release = await holdWriteLock(db);
    const t0 = Date.now();
    const muted = m.mod('mute', { target: venued.users.att.id });
    await sleep(700);
    await release();
    await muted;
    assert.ok(Date.now() - t0 >= 650, 'the mute waited for the lock');

    release = await holdWriteLock(db);
    const err = await m.mod('unmute', { target: venued.users.att.id }).then(() => null, (e) => e);
    await release();
    assert.ok(err, 'the unmute was refused');
    assert.equal(err.code, 'busy');
    assert.match(err.message, /busy saving other changes.*nothing was changed/);

    // Nothing of the unmute was done: Ada is still muted; then it works.
    a.lastError = null;
    a.chat('am I muted?');
    await until(() => a.lastError && a.lastError.code === 'forbidden', 3000, 'Ada refused: muted');
    await m.mod('unmute', { target: venued.users.att.id });
});
