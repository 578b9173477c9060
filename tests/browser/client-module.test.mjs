/*
 * web-client/js/venue-client.js on its own, in Node with `ws`: the module
 * has no DOM, so other front ends and tests can use it as documented in
 * protocol/PROTOCOL.md ("JavaScript client module").
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join as pathJoin } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { startVenued, stopAll, until, ROOT } from './harness.mjs';

const { VenueClient, quatOfYaw } = await import(pathToFileURL(pathJoin(ROOT, 'web-client', 'js', 'venue-client.js')).href);

let venued;
const clients = [];

function client(name) {
    const c = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name, WebSocket, backoff: { baseMs: 100, maxMs: 1000 } });
    clients.push(c);
    return c;
}

before(async () => {
    venued = await startVenued();
});

after(async () => {
    for (const c of clients) c.close();
    await stopAll();
});

test('connect, join, presence, chat and poses through the module', async () => {
    const a = client('Alice');
    const b = client('Bob');
    const welcome = await a.connect({ room: 'lobby' });
    assert.equal(welcome.type, 'welcome');
    assert.ok(a.rooms.some((r) => r.id === 'plenary'), 'rooms list from welcome');
    await until(() => a.room && a.room.id === 'lobby', 5000, 'a in the lobby');
    const joins = [];
    a.on('presence', (d) => joins.push(d));
    await b.connect();
    const joined = await b.join('lobby');
    assert.equal(joined.room.id, 'lobby');
    assert.ok(b.roster.has(a.me.id) && b.roster.has(b.me.id), 'the roster holds both');
    await until(() => joins.some((d) => d.event === 'join' && d.user.id === b.me.id), 5000, 'presence join');
    assert.equal(a.roster.get(b.me.id).name, 'Bob');

    const lines = [];
    a.on('chat', (m) => lines.push(m));
    b.chat('hi <there>');
    await until(() => lines.length === 1, 5000, 'chat');
    assert.deepEqual([lines[0].name, lines[0].text, lines[0].mine], ['Bob', 'hi <there>', false]);

    const frames = [];
    a.on('poses', (d) => frames.push(d));
    const start = b.me.p.slice();
    const sent = [];
    const orig = b.ws.send.bind(b.ws);
    b.ws.send = (t) => {
        if (JSON.parse(t).type === 'pose') sent.push(Date.now());
        return orig(t);
    };
    /* 60 pose updates in 0.5 s: the module sends at most tick_hz a second */
    for (let i = 1; i <= 60; i++) {
        b.sendPose([start[0], start[1], start[2] - i * 0.02], quatOfYaw(0));
        await new Promise((r) => setTimeout(r, 8));
    }
    await until(() => frames.some((f) => f.users.some((u) => u.id === b.me.id && Math.abs(u.p[2] - (start[2] - 1.2)) < 0.01)), 5000, 'the last pose to arrive');
    const span = (sent[sent.length - 1] - sent[0]) / 1000;
    assert.ok(sent.length <= Math.ceil(span * b.tickHz) + 2, `${sent.length} poses in ${span}s is at most ${b.tickHz}/s`);
    /* and nothing is sent when the pose does not change */
    const n = sent.length;
    b.sendPose(b.me.p, b.me.q);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sent.length, n);
});

test('a dropped connection resumes the same session by itself', async () => {
    const c = client('Carol');
    await c.connect({ room: 'breakout-2' });
    await until(() => c.room && c.room.id === 'breakout-2', 5000, 'joined');
    const session = c.session;
    const states = [];
    c.on('status', (d) => states.push(d.state));
    c.ws.terminate(); /* like a network drop: no close handshake */
    await until(() => states.includes('reconnecting') && c.state === 'open' && c.room, 10000, 'resumed');
    assert.equal(c.session, session);
    assert.equal(c.room.id, 'breakout-2');
});

test('errors come back as readable events and rejected requests', async () => {
    const c = client('Dan');
    await c.connect();
    const errors = [];
    c.on('error', (e) => errors.push(e));
    await assert.rejects(c.join('no-such-room'), (e) => e.code === 'not_found' && /does not exist/.test(e.message));
    assert.equal(errors[0].code, 'not_found');
    assert.match(errors[0].text, /does not exist/);
});
