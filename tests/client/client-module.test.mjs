/*
 * web-client/js/venue-client.js on its own, in Node with `ws`: the module
 * has no DOM, so other front ends and tests can use it as documented in
 * protocol/PROTOCOL.md ("JavaScript client module").
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { VenueClient, quatOfYaw } from '../../web-client/js/venue-client.js';
import { startVenued, stopAll, until } from '../browser/harness.mjs';

let venued;
const clients = [];

function client(name, token = '', poses = 'binary') {
    const c = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name, token, WebSocket, backoff: { baseMs: 100, maxMs: 1000 }, poses });
    clients.push(c);
    return c;
}

before(async () => {
    venued = await startVenued([], {
        users: [['mod', 'Mona Moderator', 'moderator'], ['att', 'Arlo Attendee', 'attendee'], ['att2', 'Bea Attendee', 'attendee']],
    });
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
        if (typeof t !== 'string' || JSON.parse(t).type === 'pose') sent.push(Date.now());
        return orig(t);
    };
    const bFrames = [];
    b.on('poses', (d) => bFrames.push(d));
    const aStart = a.me.p.slice();
    /* 60 pose updates in 0.5 s: the module sends at most tick_hz a second */
    for (let i = 1; i <= 60; i++) {
        b.sendPose([start[0], start[1], start[2] - i * 0.02], quatOfYaw(0));
        a.sendPose([aStart[0] + i * 0.01, aStart[1], aStart[2]], quatOfYaw(0));
        await new Promise((r) => setTimeout(r, 8));
    }
    /* both moved: the room's one frame holds Bob's own entry, which his client keeps to itself */
    await until(() => bFrames.some((f) => f.users.some((u) => u.id === a.me.id)), 5000, 'Alice\'s poses at Bob');
    assert.ok(bFrames.every((f) => f.users.every((u) => u.id !== b.me.id)), 'Bob is never told his own pose');
    await until(() => frames.some((f) => f.users.some((u) => u.id === b.me.id && Math.abs(u.p[2] - (start[2] - 1.2)) < 0.01)), 5000, 'the last pose to arrive');
    const span = (sent[sent.length - 1] - sent[0]) / 1000;
    assert.ok(sent.length <= Math.ceil(span * b.tickHz) + 2, `${sent.length} poses in ${span}s is at most ${b.tickHz}/s`);
    /* and nothing is sent when the pose does not change */
    const n = sent.length;
    b.sendPose(b.me.p, b.me.q);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(sent.length, n);
});

test('binary and JSON poses side by side: each client reads the other to the millimetre', async () => {
    const bin = client('Bina');
    const js = client('Jay', '', 'json');
    await bin.connect({ room: 'breakout-1' });
    await js.connect({ room: 'breakout-1' });
    await until(() => bin.room && js.room && bin.roster.has(js.me.id) && js.roster.has(bin.me.id), 5000, 'both in');
    assert.equal(bin.posesFormat, 'binary');
    assert.equal(js.posesFormat, 'json');
    assert.ok(Number.isInteger(bin.roster.get(js.me.id).ix), 'the roster carries the index');
    const kinds = [];
    const orig = bin.ws.send.bind(bin.ws);
    bin.ws.send = (t) => {
        kinds.push(typeof t === 'string' ? 'text' : 'binary');
        return orig(t);
    };
    const binIn = [];
    const jsIn = [];
    bin.on('poses', (d) => binIn.push(...d.users));
    js.on('poses', (d) => jsIn.push(...d.users));
    const b0 = bin.me.p.slice();
    const j0 = js.me.p.slice();
    const yaw = quatOfYaw(0.7);
    for (let i = 1; i <= 10; i++) {
        bin.sendPose([b0[0] + i * 0.0137, b0[1], b0[2]], yaw);
        js.sendPose([j0[0], j0[1], j0[2] - i * 0.0211], quatOfYaw(-0.3));
        await new Promise((r) => setTimeout(r, 60));
    }
    const wantB = b0[0] + 10 * 0.0137;
    const wantJ = j0[2] - 10 * 0.0211;
    await until(() => jsIn.some((u) => u.id === bin.me.id && Math.abs(u.p[0] - wantB) < 0.001), 5000, 'the binary pose read in JSON');
    await until(() => binIn.some((u) => u.id === js.me.id && Math.abs(u.p[2] - wantJ) < 0.001), 5000, 'the JSON pose read in binary');
    const last = jsIn.filter((u) => u.id === bin.me.id).pop();
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(last.q[i] - yaw[i]) < 0.002, `q[${i}] ${last.q[i]} ~ ${yaw[i]}`);
    assert.ok(binIn.every((u) => u.id !== bin.me.id), 'never told my own pose');
    assert.ok(kinds.includes('binary') && !kinds.includes('text'), `the binary client sent its poses in binary (${kinds})`);
});

test('a mass arrival: the roster holds everyone, batched presence included', async () => {
    const host = client('Hana');
    await host.connect({ room: 'expo' });
    await until(() => host.room && host.room.id === 'expo', 5000, 'host in');
    const N = 56; /* over the room's burst of 50 presence events */
    const guests = [];
    await Promise.all(Array.from({ length: N }, (_, i) => new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${venued.port}/ws`, 'venue.v1');
        guests.push(ws);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: `Guest ${i}` })));
        ws.on('message', (d) => {
            const m = JSON.parse(String(d));
            if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room: 'expo' }));
            if (m.type === 'joined') resolve();
            if (m.type === 'error') reject(new Error(m.message));
        });
    })));
    try {
        await until(() => host.roster.size === N + 1, 5000, `the roster holds ${N + 1} (${host.roster.size})`);
    } finally {
        /* leaving (not only closing, which leaves after the resume grace): batched as well */
        for (const ws of guests) ws.send(JSON.stringify({ type: 'leave' }));
    }
    await until(() => host.roster.size === 1, 5000, `everyone gone but me (${host.roster.size})`);
    for (const ws of guests) ws.close();
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

test('a hello over the address\'s limit is tried again after a backoff, not given up', async () => {
    const busy = await startVenued(['--hello-rate', '2', '--hello-burst', '2']);
    const url = `ws://127.0.0.1:${busy.port}/ws`;
    const made = [1, 2, 3].map((i) => new VenueClient({ url, name: `Hall ${i}`, WebSocket, backoff: { baseMs: 300, maxMs: 1000 } }));
    clients.push(...made);
    const limited = [];
    made[2].on('error', (e) => { if (e.code === 'rate_limited') limited.push(e); });
    await made[0].connect();
    await made[1].connect();
    await made[2].connect(); /* the third at once: refused, then in on a later try */
    assert.ok(limited.length >= 1, 'the third was told rate_limited first');
    assert.equal(made[2].state, 'open');
    assert.ok(made[2].session);
    for (const c of made) c.close();
    await busy.dispose();
});

/* Collect a client's events of some types, for asserting on later. */
function record(c, types) {
    const seen = [];
    for (const t of types) c.on(t, (d) => seen.push({ type: t, ...d }));
    return seen;
}

test('moderation through the module: mod() settles on mod_ok or error; the target hears it', async () => {
    const { mod, att } = venued.users;
    const m = client('ignored', mod.token);
    const a = client('ignored', att.token);
    await m.connect({ room: 'breakout-3' });
    await a.connect({ room: 'breakout-3' });
    await until(() => m.room && a.room && m.roster.has(a.me.id), 5000, 'both in breakout-3');
    assert.equal(m.me.role, 'moderator');
    assert.equal(m.canModerate, true);
    assert.equal(a.canModerate, false);
    const seen = record(a, ['me', 'announce', 'room', 'joined', 'breakout', 'kicked', 'status']);

    /* the hand queue is ordered by hand_at */
    a.setHand(true);
    await until(() => m.roster.get(a.me.id).hand, 5000, 'hand seen');
    assert.ok(m.roster.get(a.me.id).hand_at > 0);
    assert.deepEqual(m.handQueue().map((u) => u.id), [a.me.id]);
    assert.equal((await m.mod('lower_hand', { target: a.me.id })).action, 'lower_hand');
    await until(() => !a.me.hand && seen.some((e) => e.type === 'me' && e.changed.hand), 5000, 'my hand lowered by the moderator');
    assert.equal(a._wantHand, false, 'not raised again after a reconnect');

    /* mute: the target learns it is muted; its chat is refused */
    await m.mod('mute', { target: a.me.id, reason: 'off topic', minutes: '' });
    await until(() => a.me.muted, 5000, 'muted');
    assert.ok(seen.some((e) => e.type === 'me' && e.changed.muted && e.changed.muted.to === true));
    assert.equal(m.roster.get(a.me.id).muted, true);
    const errs = [];
    a.on('error', (e) => errs.push(e));
    a.chat('can I still talk?');
    await until(() => errs.length, 5000, 'chat refused');
    assert.equal(errs[0].code, 'forbidden');
    assert.match(errs[0].text, /not allowed.*muted/);
    await m.mod('unmute', { target: a.me.id });
    await until(() => !a.me.muted, 5000, 'unmuted');

    /* refusals reject with the server's words */
    await assert.rejects(a.mod('lock'), (e) => e.code === 'forbidden' && /moderators/.test(e.serverMessage));
    await assert.rejects(m.mod('announce', { text: 'hi all', room: '*' }), (e) => e.code === 'forbidden');
    await assert.rejects(m.mod('kick', { target: 'u-0000000000000000' }), (e) => e.code === 'not_found');

    /* room settings and announcements reach the room */
    await m.mod('lock');
    await until(() => a.roomState && a.roomState.locked, 5000, 'locked');
    assert.equal(a.rooms.find((r) => r.id === 'breakout-3').locked, true);
    await m.mod('capacity', { capacity: 12 });
    await until(() => a.roomState.capacity === 12, 5000, 'capacity');
    await m.mod('unlock');
    await until(() => !a.roomState.locked, 5000, 'unlocked');
    await m.mod('announce', { text: 'Coffee at 11' });
    await until(() => seen.some((e) => e.type === 'announce' && e.text === 'Coffee at 11'), 5000, 'announcement');
    const an = seen.find((e) => e.type === 'announce');
    assert.equal(an.name, 'Mona Moderator');
    assert.equal(an.room, 'breakout-3');
    assert.equal(an.venue, false);

    /* a move: a joined nobody asked for */
    await m.mod('move', { target: a.me.id, room: 'breakout-1' });
    await until(() => a.room && a.room.id === 'breakout-1', 5000, 'moved');
    /* back, and a breakout with a recall */
    await a.join('breakout-3');
    await until(() => m.roster.has(a.me.id), 5000, 'back');
    await m.mod('breakout', { rooms: ['breakout-2'], minutes: 5 });
    await until(() => a.room.id === 'breakout-2', 5000, 'sent to the breakout');
    const bo = seen.find((e) => e.type === 'breakout' && e.active);
    assert.equal(bo.room, 'breakout-2');
    assert.equal(bo.returnTo, 'breakout-3');
    assert.ok(bo.ends > Date.now() + 4 * 60000);
    assert.equal(seen.filter((e) => e.type === 'joined').pop().reason, 'breakout');
    await m.mod('recall');
    await until(() => a.room.id === 'breakout-3' && !a.breakout, 5000, 'recalled');
    assert.equal(seen.filter((e) => e.type === 'joined').pop().reason, 'recall');
    assert.ok(seen.some((e) => e.type === 'breakout' && !e.active));

    /* a kick: told why, closed with 4003, never reconnected */
    await m.mod('kick', { target: a.me.id, reason: 'Enough for today' });
    await until(() => a.state === 'closed', 5000, 'closed');
    const k = seen.find((e) => e.type === 'kicked');
    assert.deepEqual([k.reason, k.room, k.venue], ['Enough for today', null, true]);
    const st = seen.filter((e) => e.type === 'status').pop();
    assert.equal(st.code, 4003);
    assert.match(st.reason, /removed you from the venue: “Enough for today”/);
    assert.equal(a.room, null);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(a.state, 'closed', 'no reconnect after 4003');
    assert.ok(!seen.some((e) => e.type === 'status' && e.state === 'reconnecting'));
    m.close();
});

test('a room ban takes me out of the room: kicked with the room, then no room', async () => {
    const { mod, att2 } = venued.users;
    const m = client('ignored', mod.token);
    const b = client('ignored', att2.token);
    await m.connect({ room: 'expo' });
    await b.connect({ room: 'expo' });
    await until(() => m.room && b.room && m.roster.has(b.me.id), 5000, 'both in the expo');
    const seen = record(b, ['kicked', 'left']);
    await m.mod('ban', { target: b.me.id, reason: 'spam', minutes: 5 });
    await until(() => seen.length >= 2, 5000, 'kicked and left');
    assert.deepEqual(seen.map((e) => e.type), ['kicked', 'left']);
    assert.deepEqual([seen[0].room, seen[0].reason, seen[0].venue], ['expo', 'spam', false]);
    assert.equal(b.room, null);
    assert.equal(b.state, 'open', 'still connected');
    await assert.rejects(b.join('expo'), (e) => e.code === 'forbidden' && /banned/.test(e.message));
    await b.join('lobby');
    m.close();
    b.close();
});

test('an overflow room gets the hall\'s stage: who is on it, and their poses', async () => {
    const { mod } = venued.users;
    const speaker = client('ignored', mod.token);
    const g = client('Overflow guest');
    await speaker.connect({ room: 'plenary' });
    await g.connect({ room: 'plenary-overflow' });
    await until(() => speaker.room && g.room && g.stage, 5000, 'both in, and an empty stage');
    assert.equal(g.stage.hall, 'plenary');
    assert.equal(g.stage.users.size, 0);
    const stages = record(g, ['stage']);
    /* walk up the aisle onto the stage, within the speed limit */
    const p = speaker.me.p.slice();
    for (let z = p[2]; z > -11.5; z -= 0.35) {
        speaker.sendPose([0, z < -9.2 ? 0.9 : 0, z], [0, 0, 0, 1]);
        await new Promise((r) => setTimeout(r, 60));
    }
    await until(() => g.stage.users.has(speaker.me.id), 8000, 'the speaker on the relayed stage');
    assert.ok(stages.some((e) => e.added.some((u) => u.id === speaker.me.id)));
    assert.ok(!g.roster.has(speaker.me.id), 'not in the overflow room\'s roster');
    await until(() => g.stage.users.get(speaker.me.id).p[2] < -11, 5000, 'stage poses in the hall\'s coordinates');
    /* leaving the hall takes them off the stage */
    await speaker.join('lobby');
    await until(() => !g.stage.users.has(speaker.me.id), 5000, 'off the stage');
    /* and leaving the overflow room forgets the stage */
    await g.join('lobby');
    assert.equal(g.stage, null);
    speaker.close();
    g.close();
});

test('find, join beside someone and privacy through the module', async () => {
    const att = venued.users.att2; /* banned from the expo above */
    const b = client('ignored', att.token);
    const a = client('Finn Finder');
    await b.connect({ room: 'breakout-2' });
    await until(() => b.room && b.room.id === 'breakout-2' && b.privacy, 5000, 'b in breakout-2, its privacy told');
    assert.deepEqual(b.privacy, { findable: true, dms: true });
    await a.connect({ room: 'lobby' });
    await until(() => a.room && a.room.id === 'lobby', 5000, 'a in the lobby');

    const r = await a.find('bea att');
    assert.equal(r.truncated, false);
    assert.deepEqual(r.people.map((p) => [p.user, p.room]), [[b.me.id, 'breakout-2']]);
    assert.ok(r.people[0].roomName && r.people[0].role === 'attendee');

    const j = await a.join('breakout-2', { near: b.me.id });
    assert.equal(j.room.id, 'breakout-2');
    assert.deepEqual(j.near, { user: b.me.id, placed: true, reason: '' });
    const mine = a.roster.get(a.me.id).p;
    const hers = a.roster.get(b.me.id).p;
    const d = Math.hypot(mine[0] - hers[0], mine[2] - hers[2]);
    assert.ok(d > 1 && d < 2.6, `beside her: ${d}`);

    const told = [];
    b.on('privacy', (e) => told.push(e));
    const pv = await b.setPrivacy({ findable: false });
    assert.deepEqual(pv, { findable: false, dms: true });
    assert.deepEqual(b.privacy, pv);
    assert.equal(told.length, 1);
    assert.equal(told[0].reply, true);
    assert.equal((await a.find('bea')).people.length, 0);
    await assert.rejects(a.find(''), (err) => err.code === 'bad_request');
    await b.setPrivacy({ findable: true });
});
