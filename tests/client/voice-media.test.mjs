/*
 * web-client/js/voice.js in Node, against a scripted janus.js and a
 * scripted WebAudio: what the page asks Janus for (PROTOCOL.md, "Voice";
 * shared/JANUS.md), when it asks for the microphone, and how it builds
 * and places the audio of each voice. No media flows here: real voice is
 * tested in a browser against a real Janus (tests/voice/). What Janus
 * answers is what each test makes it say.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Voice, peerChanges, janusServer } from '../../web-client/js/voice.js';
import { normVoice, quatOfYaw } from '../../web-client/js/venue-client.js';
import { HEAD_HEIGHT } from '../../web-client/js/voicespace.js';

const settle = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/* ---- a scripted janus.js ------------------------------------------------- */

class FakeHandle {
    constructor(session, cb) {
        this.session = session;
        this.cb = cb;
        this.sent = []; /* {message, jsep} */
        this.remoteJsep = [];
    }

    send({ message, jsep }) {
        this.sent.push({ message, jsep });
    }

    createOffer(o) {
        this.offered = o.tracks;
        setTimeout(() => o.success({ type: 'offer', sdp: 'v=0 offer' }), 0);
    }

    createAnswer(o) {
        this.answered = o;
        setTimeout(() => o.success({ type: 'answer', sdp: 'v=0 answer' }), 0);
    }

    handleRemoteJsep({ jsep }) {
        this.remoteJsep.push(jsep);
    }

    replaceTracks(o) {
        this.replaced = o.tracks;
    }

    /* Janus says: a plugin event (and maybe an SDP) */
    event(msg, jsep) {
        this.cb.onmessage(msg, jsep);
    }

    requests() {
        return this.sent.map((s) => s.message.request);
    }

    last() {
        return this.sent.at(-1);
    }
}

class FakeJanus {
    static sessions = [];
    static refuse = 0; /* the next n sessions fail to be created */

    constructor(opts) {
        this.opts = opts;
        this.handles = [];
        this.destroyed = false;
        FakeJanus.sessions.push(this);
        setTimeout(() => {
            if (FakeJanus.refuse > 0) {
                FakeJanus.refuse--;
                opts.error('Error connecting to the Janus WebSockets server: Is the server down?');
            } else {
                opts.success();
            }
        }, 0);
    }

    attach(cb) {
        assert.equal(cb.plugin, 'janus.plugin.videoroom');
        const h = new FakeHandle(this, cb);
        this.handles.push(h);
        setTimeout(() => cb.success(h), 0);
    }

    destroy() {
        this.destroyed = true;
    }

    /* the WebSocket dropped (Janus restarted) */
    drop() {
        this.opts.error('Lost connection to the server (is it down?)');
    }

    get publisher() {
        return this.handles.find((h) => h.sent.some((s) => s.message.ptype === 'publisher'));
    }

    get subscriber() {
        return this.handles.find((h) => h.sent.some((s) => s.message.ptype === 'subscriber'));
    }
}

/* ---- a scripted WebAudio and media ---------------------------------------- */

const param = (value = 0) => ({ value });

class FakeNode {
    constructor(ctx, kind) {
        this.ctx = ctx;
        this.kind = kind;
        this.outputs = [];
        this.disconnected = false;
    }

    connect(to, output = 0) {
        this.outputs.push({ to, output });
        return to;
    }

    disconnect() {
        this.disconnected = true;
        this.outputs = [];
    }
}

class FakeAudioContext {
    static made = [];

    constructor() {
        this.state = 'suspended';
        this.destination = new FakeNode(this, 'destination');
        this.listener = {
            positionX: param(), positionY: param(), positionZ: param(),
            forwardX: param(), forwardY: param(), forwardZ: param(-1),
            upX: param(), upY: param(1), upZ: param(),
        };
        this.nodes = [];
        FakeAudioContext.made.push(this);
    }

    _node(kind, extra = {}) {
        const n = Object.assign(new FakeNode(this, kind), extra);
        this.nodes.push(n);
        return n;
    }

    createMediaStreamSource(stream) {
        return this._node('source', { stream });
    }

    createGain() {
        return this._node('gain', { gain: param(1) });
    }

    createPanner() {
        return this._node('panner', { positionX: param(), positionY: param(), positionZ: param() });
    }

    createChannelSplitter(n) {
        return this._node('splitter', { n });
    }

    createAnalyser() {
        /* left hears 0.2, right 0.05: a voice on the left */
        const level = this.nodes.filter((x) => x.kind === 'analyser').length % 2 === 0 ? 0.2 : 0.05;
        return this._node('analyser', { fftSize: 2048, getFloatTimeDomainData: (buf) => buf.fill(level) });
    }

    resume() {
        this.state = 'running';
        return Promise.resolve();
    }

    close() {
        this.state = 'closed';
        return Promise.resolve();
    }
}

class FakeTrack {
    constructor(kind = 'audio', label = 'mic') {
        this.kind = kind;
        this.label = label;
        this.stopped = false;
        this.listeners = {};
    }

    stop() {
        this.stopped = true;
    }

    addEventListener(type, fn) {
        this.listeners[type] = fn;
    }
}

class FakeStream {
    constructor(tracks) {
        this.tracks = tracks;
    }

    getAudioTracks() {
        return this.tracks.filter((t) => t.kind === 'audio');
    }
}

/* A Voice wired to the fakes; asked: every getUserMedia, audio: every <audio> made. */
function makeVoice(opts = {}) {
    FakeJanus.sessions = [];
    FakeJanus.refuse = 0;
    const asked = [];
    const audio = [];
    const v = new Voice({
        loadJanus: async () => FakeJanus,
        audioContext: () => new FakeAudioContext(),
        getUserMedia: async (c) => {
            asked.push(c);
            return new FakeStream([new FakeTrack('audio', `mic ${asked.length}`)]);
        },
        audioElement: () => {
            const a = { muted: false, srcObject: null, played: false, play() { this.played = true; return Promise.resolve(); } };
            audio.push(a);
            return a;
        },
        MediaStream: FakeStream,
        base: 'https://venue.test/plenary?x=1',
        backoff: { baseMs: 10, maxMs: 40 },
        random: () => 0.5,
        ...opts,
    });
    const states = [];
    const mics = [];
    v.addEventListener('state', (e) => states.push(e.detail));
    v.addEventListener('mic', (e) => mics.push(e.detail));
    return { v, asked, audio, states, mics };
}

const UP = { type: 'voice', state: 'up', url: '/voice', token: 'tok-1', room: 4512000011234, listen: 4512000011234, id: 2839472651009,
    mode: 'spatial', range: 12, publish: true, muted: false, locked: false };
const ME = 'u-0000000000000001';
const BOB = 'u-0000000000000002';
const CY = 'u-0000000000000003';

/* Janus lets the publisher in. */
async function joinPublisher(janus) {
    await settle();
    const pub = janus.publisher;
    assert.ok(pub, 'a publisher joined');
    pub.event({ videoroom: 'joined', room: UP.room, id: UP.id, publishers: [] });
    return pub;
}

/* ---- tests ------------------------------------------------------------------ */

test('pure helpers: which feeds to add and drop, and the Janus URL from the page\'s', () => {
    assert.deepEqual(peerChanges([1, 2, 3], [3, 4, 1]), { add: [4], remove: [2] });
    assert.deepEqual(peerChanges(new Set(), []), { add: [], remove: [] });
    assert.equal(janusServer('/voice', 'https://venue.test/a/b?c'), 'wss://venue.test/voice');
    assert.equal(janusServer('/voice', 'http://127.0.0.1:8080/'), 'ws://127.0.0.1:8080/voice');
    assert.equal(janusServer('wss://media.example/janus', 'http://127.0.0.1:8080/'), 'wss://media.example/janus');
});

test('listening: the session, the publisher\'s join, and never a microphone', async () => {
    const { v, asked, states } = makeVoice();
    v.setConfig(normVoice(UP), ME);
    await settle();
    assert.equal(FakeJanus.sessions.length, 1);
    const j = FakeJanus.sessions[0];
    assert.equal(j.opts.server, 'wss://venue.test/voice', 'a path on the page\'s own origin');
    assert.equal(j.opts.token, 'tok-1');
    assert.deepEqual(j.opts.iceServers, [], 'no public STUN server');
    const pub = await joinPublisher(j);
    assert.deepEqual(pub.sent[0].message, { request: 'join', ptype: 'publisher', room: UP.room, id: UP.id, token: 'tok-1', display: ME });
    assert.equal(states.at(-1).state, 'up');
    assert.equal(j.subscriber, undefined, 'nobody to hear: no subscriber');
    assert.deepEqual(asked, [], 'no getUserMedia');
    assert.equal(v.publishing, false);
    v.close();
});

test('hearing exactly the listed feeds: join with streams, then unsubscribe and subscribe, one at a time', async () => {
    const { v, asked, audio } = makeVoice();
    v.setConfig(normVoice(UP), ME);
    await settle();
    const j = FakeJanus.sessions[0];
    await joinPublisher(j);
    v.setPeers(UP.listen, [{ id: 11, user: BOB }, { id: 12, user: CY }]);
    v.setPeers(999, [{ id: 99, user: 'u-x' }]); /* another room's: ignored */
    await settle();
    const sub = j.subscriber;
    assert.ok(sub, 'one subscriber handle');
    assert.deepEqual(sub.sent[0].message, { request: 'join', ptype: 'subscriber', room: UP.listen, token: 'tok-1', streams: [{ feed: 11 }, { feed: 12 }] });
    /* Janus offers the two streams; the page answers with start */
    sub.event({ videoroom: 'attached', room: UP.listen, streams: [
        { mindex: 0, mid: '0', type: 'audio', active: true, feed_id: 11, feed_display: BOB },
        { mindex: 1, mid: '1', type: 'audio', active: true, feed_id: 12, feed_display: CY }] }, { type: 'offer', sdp: 'v=0' });
    await settle();
    assert.deepEqual(sub.answered.tracks, [], 'receive only');
    assert.deepEqual(sub.last().message, { request: 'start' });
    assert.equal(sub.last().jsep.type, 'answer');
    /* the tracks arrive: one graph each, and a muted <audio> each (Chromium) */
    const t11 = new FakeTrack();
    const t12 = new FakeTrack();
    sub.cb.onremotetrack(t11, '0', true, { reason: 'created' });
    sub.cb.onremotetrack(t12, '1', true, { reason: 'created' });
    assert.equal(audio.length, 2);
    assert.ok(audio.every((a) => a.muted && a.played && a.srcObject), 'each stream plays in a muted audio element');
    const levels = v.levels();
    assert.deepEqual(levels.map((l) => [l.user, l.feed]), [[BOB, 11], [CY, 12]]);
    assert.ok(Math.abs(levels[0].left - 0.2) < 1e-6 && Math.abs(levels[0].right - 0.05) < 1e-6, 'RMS per ear from the analysers');
    /* the list changes: drop 11, add 13; the drop goes first, the add after Janus answered it */
    v.setPeers(UP.listen, [{ id: 12, user: CY }, { id: 13, user: 'u-4' }]);
    assert.deepEqual(sub.last().message, { request: 'unsubscribe', streams: [{ feed: 11 }] });
    const n = sub.sent.length;
    v.setPeers(UP.listen, [{ id: 12, user: CY }, { id: 13, user: 'u-4' }]);
    assert.equal(sub.sent.length, n, 'nothing more while Janus has not answered');
    sub.event({ videoroom: 'updated', room: UP.listen, streams: [{ mindex: 1, mid: '1', type: 'audio', active: true, feed_id: 12 }] }, { type: 'offer', sdp: 'v=0' });
    assert.deepEqual(v.levels().map((l) => l.feed), [12], 'the dropped voice is no longer heard');
    assert.deepEqual(sub.sent.at(-1).message, { request: 'subscribe', streams: [{ feed: 13 }] });
    await settle();
    assert.deepEqual(sub.last().message, { request: 'start' }, 'the update\'s offer answered');
    /* Janus refuses a feed (not publishing yet): no storm of retries */
    sub.event({ videoroom: 'event', error_code: 428, error: 'No such feed (13)' });
    const m = sub.sent.length;
    v.setPeers(UP.listen, [{ id: 12, user: CY }, { id: 13, user: 'u-4' }]);
    assert.equal(sub.sent.length, m, 'a refused feed waits a moment before it is asked for again');
    assert.deepEqual(asked, [], 'still no microphone');
    v.close();
});

test('the microphone: asked for only when turned on, audio only, published, and released when off', async () => {
    const { v, asked, mics } = makeVoice();
    v.setConfig(normVoice(UP), ME);
    await settle();
    const pub = await joinPublisher(FakeJanus.sessions[0]);
    v.setDevice('dev-2');
    assert.deepEqual(asked, [], 'choosing a device asks for nothing');
    v.setMic(true);
    await settle();
    assert.equal(asked.length, 1);
    assert.equal(asked[0].video, false);
    assert.deepEqual(asked[0].audio.deviceId, { exact: 'dev-2' });
    assert.equal(pub.offered.length, 1);
    assert.deepEqual([pub.offered[0].type, pub.offered[0].recv, pub.offered[0].dontStop], ['audio', false, true]);
    const track = pub.offered[0].capture;
    assert.ok(track instanceof FakeTrack, 'the track we opened, no second getUserMedia by janus.js');
    await settle();
    assert.deepEqual(pub.last().message, { request: 'publish' });
    assert.equal(pub.last().jsep.type, 'offer');
    pub.event({ videoroom: 'event', configured: 'ok' }, { type: 'answer', sdp: 'v=0' });
    pub.cb.webrtcState(true);
    assert.equal(v.publishing, true);
    assert.equal(mics.at(-1).publishing, true);
    assert.equal(pub.remoteJsep.length, 1, 'Janus\'s answer applied');
    /* another microphone while talking: replaced in place */
    v.setDevice('dev-3');
    await settle();
    assert.equal(asked.length, 2);
    assert.equal(pub.replaced[0].capture.label, 'mic 2');
    assert.equal(track.stopped, true, 'the old one released');
    v.setMic(false);
    await settle();
    assert.deepEqual(pub.last().message, { request: 'unpublish' });
    assert.equal(v.publishing, false);
    assert.equal(pub.replaced[0].capture.stopped, true, 'the microphone is released');
    v.close();
});

test('push-to-talk let go: published and silent for a while, so the next press speaks at once; then released', async () => {
    const { v, asked, mics } = makeVoice({ micLingerMs: 150 });
    v.setConfig(normVoice(UP), ME);
    await settle();
    const pub = await joinPublisher(FakeJanus.sessions[0]);
    v.setMic(true);
    await settle();
    pub.event({ videoroom: 'event', configured: 'ok' }, { type: 'answer', sdp: 'v=0' });
    pub.cb.webrtcState(true);
    const track = pub.offered[0].capture;
    v.setMic(false, { linger: true });
    await settle();
    assert.equal(track.enabled, false, 'silent');
    assert.equal(track.stopped, false, 'not let go yet');
    assert.deepEqual(pub.last().message, { request: 'publish' }, 'not unpublished');
    assert.equal(v.publishing, false, 'my voice is not going out');
    assert.equal(mics.at(-1).publishing, false);
    v.setMic(true);
    await settle();
    assert.equal(track.enabled, true, 'speaking again at once');
    assert.equal(pub.offered.length, 1, 'no new offer');
    assert.equal(asked.length, 1, 'no new getUserMedia');
    assert.equal(v.publishing, true);
    v.setMic(false, { linger: true });
    await settle(250);
    assert.deepEqual(pub.last().message, { request: 'unpublish' }, 'unpublished after the linger');
    assert.equal(track.stopped, true, 'and the microphone let go');
    /* the button: off at once */
    v.setMic(true);
    await settle();
    pub.event({ videoroom: 'event', configured: 'ok' }, { type: 'answer', sdp: 'v=0' });
    pub.cb.webrtcState(true);
    v.setMic(false);
    await settle();
    assert.deepEqual(pub.last().message, { request: 'unpublish' });
    assert.equal(pub.offered.at(-1).capture.stopped, true);
    /* a right taken while lingering: off at once */
    v.setMic(true);
    await settle();
    pub.event({ videoroom: 'event', configured: 'ok' }, { type: 'answer', sdp: 'v=0' });
    pub.cb.webrtcState(true);
    v.setMic(false, { linger: true });
    await settle();
    v.setConfig(normVoice({ ...UP, publish: false, muted: true }), ME);
    await settle();
    assert.deepEqual(pub.last().message, { request: 'unpublish' });
    assert.equal(pub.offered.at(-1).capture.stopped, true);
    v.close();
});

test('no right to speak: the microphone stays off, and goes off when the right is taken', async () => {
    const { v, asked } = makeVoice();
    v.setConfig(normVoice({ ...UP, publish: false, locked: true }), ME);
    await settle();
    const pub = await joinPublisher(FakeJanus.sessions[0]);
    v.setMic(true);
    await settle();
    assert.deepEqual(asked, [], 'not even asked');
    v.setConfig(normVoice(UP), ME);
    v.setMic(true);
    await settle(10);
    pub.event({ videoroom: 'event', configured: 'ok' });
    pub.cb.webrtcState(true);
    assert.equal(v.publishing, true);
    assert.equal(FakeJanus.sessions.length, 1, 'rights are not a new connection');
    v.setConfig(normVoice({ ...UP, publish: false, muted: true }), ME);
    await settle();
    assert.equal(v.micWanted, false);
    assert.equal(pub.last().message.request, 'unpublish');
    assert.equal(pub.offered[0].capture.stopped, true);
    v.setConfig(normVoice(UP), ME);
    await settle();
    assert.equal(asked.length, 1, 'unmuted: the microphone stays off until turned on again');
    v.close();
});

test('another room is a new connection; down ends it; a dropped Janus is reconnected and the microphone published again', async () => {
    const { v, asked, states } = makeVoice();
    v.setConfig(normVoice(UP), ME);
    await settle();
    let j = FakeJanus.sessions[0];
    await joinPublisher(j);
    v.setMic(true);
    await settle();
    j.publisher.event({ videoroom: 'event', configured: 'ok' });
    j.publisher.cb.webrtcState(true);
    /* moved rooms */
    v.setConfig(normVoice({ ...UP, room: 77, listen: 77, id: 5, token: 'tok-2' }), ME);
    assert.equal(j.destroyed, true, 'the old session destroyed');
    await settle();
    j = FakeJanus.sessions[1];
    assert.equal(j.opts.token, 'tok-2');
    let pub = await joinPublisher(j);
    assert.deepEqual([pub.sent[0].message.room, pub.sent[0].message.id], [77, 5]);
    await settle();
    assert.equal(pub.last().message.request, 'publish', 'the microphone goes on in the new room');
    assert.equal(asked.length, 1, 'with the same microphone');
    pub.event({ videoroom: 'event', configured: 'ok' });
    pub.cb.webrtcState(true);
    /* Janus restarts: the WebSocket drops, the first try fails, the next one works */
    FakeJanus.refuse = 1;
    j.drop();
    assert.equal(v.publishing, false);
    assert.equal(states.at(-1).state, 'reconnecting');
    assert.ok(states.at(-1).delay > 0);
    await settle(120);
    assert.equal(FakeJanus.sessions.length, 4, 'tried again, and again after a longer wait');
    j = FakeJanus.sessions[3];
    pub = await joinPublisher(j);
    await settle();
    assert.equal(pub.last().message.request, 'publish', 're-published');
    assert.equal(asked.length, 1, 'the microphone was kept');
    /* the server says the media server is down */
    v.setConfig(normVoice({ type: 'voice', state: 'down', reason: 'the voice server is restarting' }), ME);
    assert.equal(j.destroyed, true);
    assert.deepEqual([states.at(-1).state, states.at(-1).reason], ['down', 'the voice server is restarting']);
    assert.equal(v.micWanted, false, 'no rights while down');
    await settle(60);
    assert.equal(FakeJanus.sessions.length, 4, 'no reconnecting while down');
    v.close();
});

test('spatial voices are placed at their avatars\' heads, the listener at mine; the stage has no panner', async () => {
    const { v } = makeVoice();
    v.setConfig(normVoice(UP), ME);
    await settle();
    const j = FakeJanus.sessions[0];
    await joinPublisher(j);
    v.setPeers(UP.listen, [{ id: 11, user: BOB }]);
    await settle();
    const sub = j.subscriber;
    sub.event({ videoroom: 'attached', streams: [{ mid: '0', type: 'audio', active: true, feed_id: 11 }] }, { type: 'offer', sdp: 'v=0' });
    sub.cb.onremotetrack(new FakeTrack(), '0', true, {});
    const ctx = FakeAudioContext.made.at(-1);
    const panner = ctx.nodes.find((n) => n.kind === 'panner');
    assert.deepEqual([panner.panningModel, panner.distanceModel, panner.maxDistance, panner.refDistance], ['HRTF', 'linear', 12, 1]);
    v.place({ p: [1, 0, 2], q: quatOfYaw(Math.PI / 2) }, (user) => (user === BOB ? [4, 0.5, 2] : null));
    assert.deepEqual([panner.positionX.value, panner.positionY.value, panner.positionZ.value], [4, 0.5 + HEAD_HEIGHT, 2]);
    const l = ctx.listener;
    assert.deepEqual([l.positionX.value, l.positionY.value, l.positionZ.value], [1, HEAD_HEIGHT, 2]);
    assert.ok(Math.abs(l.forwardX.value + 1) < 1e-9 && Math.abs(l.forwardZ.value) < 1e-9, 'facing -X after a left quarter turn');
    /* a voice whose avatar is not known is heard from where I stand */
    v.place({ p: [1, 0, 2], q: [0, 0, 0, 1] }, () => null);
    assert.deepEqual([panner.positionX.value, panner.positionZ.value], [1, 2]);
    /* the person turns Bob down */
    v.setVolume(BOB, 0.5);
    const gain = ctx.nodes.find((n) => n.kind === 'gain');
    assert.equal(gain.gain.value, 0.5);
    assert.ok(gain.outputs.some((o) => o.to === panner), 'volume, then place');
    /* the autoplay policy: resumed by a gesture */
    v.resume();
    assert.equal(ctx.state, 'running');
    /* a stage room: the same voice, no panner, both ears alike */
    v.setConfig(normVoice({ ...UP, mode: 'stage', room: 0 }), ME);
    await settle();
    const j2 = FakeJanus.sessions.at(-1);
    assert.equal(j2.publisher, undefined, 'an overflow room publishes nothing');
    v.setPeers(UP.listen, [{ id: 11, user: BOB }]);
    await settle();
    j2.subscriber.event({ videoroom: 'attached', streams: [{ mid: '0', type: 'audio', active: true, feed_id: 11 }] }, { type: 'offer', sdp: 'v=0' });
    const before = ctx.nodes.length;
    j2.subscriber.cb.onremotetrack(new FakeTrack(), '0', true, {});
    const made = ctx.nodes.slice(before);
    assert.ok(!made.some((n) => n.kind === 'panner'), 'no panner on the stage');
    const stageGain = made.find((n) => n.kind === 'gain');
    assert.deepEqual([stageGain.channelCount, stageGain.channelCountMode, stageGain.channelInterpretation], [2, 'explicit', 'speakers']);
    assert.equal(stageGain.gain.value, 0.5, 'the volume chosen for Bob still holds');
    assert.ok(stageGain.outputs.some((o) => o.to === ctx.destination));
    v.close();
});
