/*
 * Voice in web-client/js/venue-client.js: the `voice` and `voice_peers`
 * messages and `talking` in the user object (PROTOCOL.md, "Voice"), as
 * state and events. No server and no socket: the frames are handed to
 * the module's parser as the socket would (as the page's ?simulate does),
 * so each test says exactly what the server sent.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VenueClient, normVoice, voiceBlockedText } from '../../web-client/js/venue-client.js';

const ME = { id: 'u-0000000000000001', name: 'Ada', role: 'attendee', status: 'active', hand: false, p: [0, 0, 0], q: [0, 0, 0, 1] };
const BOB = { id: 'u-0000000000000002', name: 'Bob', role: 'attendee', status: 'active', hand: false, p: [2, 0, 0], q: [0, 0, 0, 1] };
const UP = { type: 'voice', state: 'up', url: '/voice', token: 'tok', room: 4512000011234, listen: 4512000011234, id: 2839472651009,
    mode: 'spatial', range: 12, publish: true, muted: false, locked: false };

/* A client in the lobby with Bob, fed by hand; events of each type collected in got[type]. */
function inLobby() {
    const c = new VenueClient({ url: 'ws://venue.test/ws', WebSocket: class {} });
    const got = {};
    for (const type of ['voice', 'voice_peers', 'presence', 'me']) c.on(type, (d) => (got[type] ||= []).push(d));
    const say = (m) => c._onText(JSON.stringify(m));
    say({ type: 'welcome', session: 's-1', resume: 'r'.repeat(32), user: ME, rooms: [], tick_hz: 20 });
    say({ type: 'joined', room: { id: 'lobby', name: 'Lobby' }, roster: [ME, BOB] });
    return { c, got, say };
}

test('voice: every field taken as the server sent it, and an event with the one before', () => {
    const { c, got, say } = inLobby();
    assert.equal(c.voice, null, 'nothing known before the server says');
    say(UP);
    assert.deepEqual(c.voice, { state: 'up', reason: '', url: '/voice', token: 'tok', room: 4512000011234, listen: 4512000011234,
        id: 2839472651009, mode: 'spatial', range: 12, publish: true, muted: false, locked: false, ice: [] });
    assert.equal(got.voice.length, 1);
    assert.equal(got.voice[0].voice, c.voice);
    assert.equal(got.voice[0].previous, null);
    const first = c.voice;
    say({ ...UP, publish: false, locked: true });
    assert.equal(got.voice[1].previous, first);
    assert.deepEqual([c.voice.publish, c.voice.locked], [false, true]);
});

test('voice: down and off keep nothing to connect to; odd values are made safe', () => {
    assert.deepEqual(normVoice({ state: 'down', reason: 'the voice server is restarting', url: '/voice', token: 't', room: 5, publish: true }),
        { state: 'down', reason: 'the voice server is restarting', url: '', token: '', room: 0, listen: 0, id: 0,
            mode: 'spatial', range: 12, publish: false, muted: false, locked: false, ice: [] });
    assert.equal(normVoice({ state: 'off' }).state, 'off');
    assert.equal(normVoice({ state: 'sideways' }).state, 'down', 'a state this client does not know is not one to connect to');
    const odd = normVoice({ ...UP, room: 2 ** 60, listen: -4, id: 1.5, range: -3, mode: 'loud', publish: 'yes' });
    assert.deepEqual([odd.room, odd.listen, odd.id, odd.range, odd.mode, odd.publish], [0, 0, 0, 12, 'spatial', false],
        'ids past 2^53 (they would be rounded), negative or fractional are 0; range and mode fall back');
    assert.equal(normVoice({ ...UP, mode: 'stage', range: 30 }).mode, 'stage');
    assert.equal(normVoice({ ...UP, range: 30 }).range, 30);
    assert.equal(normVoice({ ...UP, room: 0 }).room, 0, 'an overflow room publishes nowhere');
});

test('voice: a TURN relay is taken as RTCIceServers; anything else is left out', () => {
    const turn = { urls: ['turn:t.example.org:3478', 'turns:t.example.org:5349'], username: '1700000600:u-1', credential: 'pw=' };
    assert.deepEqual(normVoice({ ...UP, ice: [turn] }).ice, [turn]);
    assert.deepEqual(normVoice({ ...UP, ice: [{ ...turn, urls: 'turn:one.example.org' }] }).ice,
        [{ ...turn, urls: ['turn:one.example.org'] }], 'one URL as a string');
    assert.deepEqual(normVoice({ ...UP, ice: [{ ...turn, urls: ['stun:stun.example.org', 'javascript:x'] }] }).ice, [],
        'only turn: and turns: (no public STUN, nothing odd)');
    assert.deepEqual(normVoice({ ...UP, ice: [{ urls: ['turn:a'], username: 5, credential: 'x' }, null, 'x'] }).ice, []);
    assert.deepEqual(normVoice({ ...UP, ice: 'turn:a' }).ice, []);
    assert.deepEqual(normVoice({ state: 'down', ice: [turn] }).ice, [], 'nothing to connect to while down');
});

test('why the microphone is off limits, in words for people', () => {
    const v = (o) => normVoice({ ...UP, publish: false, ...o });
    assert.equal(voiceBlockedText(v({ muted: true, locked: true })), 'A moderator muted your microphone.', 'a mute says so first');
    assert.match(voiceBlockedText(v({ locked: true })), /microphones are locked/);
    assert.match(voiceBlockedText(v({ mode: 'stage' })), /Only the people on stage speak here/);
    assert.match(voiceBlockedText(v({ room: 0, mode: 'stage' })), /listening to the hall/);
    assert.match(voiceBlockedText(normVoice({ state: 'down' })), /unavailable/);
});

test('voice_peers: the listen room\'s list, nearest first, with what changed; another room\'s is stale', () => {
    const { c, got, say } = inLobby();
    say({ type: 'voice_peers', room: UP.listen, peers: [{ id: 11, user: BOB.id }] });
    assert.equal(c.voicePeers, null, 'no list before voice is up');
    say(UP);
    say({ type: 'voice_peers', room: UP.listen, peers: [{ id: 11, user: BOB.id }, { id: 12, user: 'u-3' }, { id: 11, user: BOB.id }, { id: 'x', user: 'u-4' }, { user: 'u-5' }] });
    assert.deepEqual(c.voicePeers, { room: UP.listen, peers: [{ id: 11, user: BOB.id }, { id: 12, user: 'u-3' }] }, 'twice listed once, malformed left out');
    const e = got.voice_peers.at(-1);
    assert.deepEqual([e.added.map((p) => p.id), e.removed], [[11, 12], []]);
    say({ type: 'voice_peers', room: UP.listen, peers: [{ id: 12, user: 'u-3' }, { id: 13, user: 'u-6' }] });
    const e2 = got.voice_peers.at(-1);
    assert.deepEqual([e2.peers.map((p) => p.id), e2.added.map((p) => p.id), e2.removed.map((p) => p.id)], [[12, 13], [13], [11]]);
    const n = got.voice_peers.length;
    say({ type: 'voice_peers', room: 999, peers: [{ id: 1, user: 'u-7' }] });
    assert.equal(got.voice_peers.length, n, 'another room\'s list is ignored');
    assert.deepEqual(c.voicePeers.peers.map((p) => p.id), [12, 13]);
});

test('voice_peers go with the listen room, voice going down, leaving the room; a new session drops voice', () => {
    const { c, got, say } = inLobby();
    say(UP);
    say({ type: 'voice_peers', room: UP.listen, peers: [{ id: 11, user: BOB.id }] });
    say({ ...UP, room: 77, listen: 77 });
    assert.equal(c.voicePeers, null, 'another listen room: the old list is gone');
    const cleared = got.voice_peers.at(-1);
    assert.deepEqual([cleared.cleared, cleared.room, cleared.removed.map((p) => p.id)], [true, UP.listen, [11]]);
    say({ type: 'voice_peers', room: 77, peers: [{ id: 21, user: BOB.id }] });
    say({ ...UP, room: 77, listen: 77, publish: false });
    assert.deepEqual(c.voicePeers.peers.map((p) => p.id), [21], 'the same listen room keeps its list');
    say({ type: 'voice', state: 'down', reason: 'the voice server is restarting' });
    assert.equal(c.voicePeers, null, 'down: nobody to hear');
    assert.equal(c.voice.reason, 'the voice server is restarting');
    say({ ...UP, room: 77, listen: 77 });
    say({ type: 'voice_peers', room: 77, peers: [{ id: 21, user: BOB.id }] });
    say({ type: 'left', room: 'lobby' });
    assert.equal(c.voicePeers, null, 'out of the room: nobody to hear');
    assert.ok(c.voice, 'voice itself stays until the server says otherwise');
    say({ type: 'welcome', session: 's-2', resume: 'q'.repeat(32), user: { ...ME, id: 'u-0000000000000009' }, rooms: [], tick_hz: 20 });
    assert.equal(c.voice, null, 'a new session: the old token is no good');
    assert.equal(got.voice.at(-1).voice, null);
});

test('talking: in the roster, about me too, and a presence update without it ends it', () => {
    const { c, got, say } = inLobby();
    assert.equal(c.roster.get(BOB.id).talking, false);
    say({ type: 'presence', room: 'lobby', event: 'update', user: { ...BOB, talking: true } });
    assert.equal(c.roster.get(BOB.id).talking, true);
    assert.equal(got.presence.at(-1).user.talking, true);
    say({ type: 'presence', room: 'lobby', event: 'update', user: BOB });
    assert.equal(c.roster.get(BOB.id).talking, false, 'absent is not talking');
    const meEvents = (got.me || []).length;
    say({ type: 'presence', room: 'lobby', event: 'update', user: { ...ME, talking: true } });
    assert.equal(c.me.talking, true);
    assert.equal(c.roster.get(ME.id).talking, true);
    assert.equal(got.presence.at(-1).self, true);
    assert.equal((got.me || []).length, meEvents, 'speaking is no news about me from a moderator');
    say({ type: 'presence', room: 'lobby', event: 'join', user: { id: 'u-3', name: 'Cy', role: 'guest', status: 'active', hand: false, talking: true, p: [1, 0, 1], q: [0, 0, 0, 1] } });
    assert.equal(c.roster.get('u-3').talking, true, 'a joiner may already be speaking');
    say({ type: 'stage', room: 'plenary', users: [{ ...BOB, id: 'u-9', talking: true }] });
    assert.equal(c.stage.users.get('u-9').talking, true, 'the hall\'s stage people too');
});
