/*
 * The programme and the stage in web-client/js/venue-client.js (issue 10),
 * against a scripted server in this process: the module's state and events
 * for each message of PROTOCOL.md's "Programme and stage", and how its
 * requests settle. The fake plays the server's part only as far as these
 * tests need (hello, join, leave); what the server decides is what each
 * test makes it send. The real server's side is tested in tests/browser
 * and the integration tests.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VenueClient } from '../../web-client/js/venue-client.js';

const ME = { id: 'u-0000000000000001', name: 'Ada Lovelace', role: 'attendee', status: 'active', p: [0, 0, 0], q: [0, 0, 0, 1] };
const BOB = { id: 'u-0000000000000002', name: 'Bob' };

/* One WebSocket of the fake server: what the client sent, and push() for what the server says. */
class FakeSocket extends EventTarget {
    static last = null;

    constructor() {
        super();
        this.readyState = 0;
        this.sent = [];
        FakeSocket.last = this;
        setTimeout(() => {
            this.readyState = 1;
            this.dispatchEvent(new Event('open'));
        }, 0);
    }

    send(text) {
        const m = JSON.parse(text);
        this.sent.push(m);
        if (m.type === 'hello') this.push({ type: 'welcome', re: m.id, session: 's-1', resume: 'r'.repeat(32), user: ME, rooms: [], tick_hz: 20 });
        else if (m.type === 'join') this.push({ type: 'joined', re: m.id, room: { id: m.room, name: m.room }, roster: [ME] });
        else if (m.type === 'leave') this.push({ type: 'left', re: m.id, room: 'plenary' });
    }

    /* the server's frame, delivered as the network would: later, in order */
    push(m) {
        setTimeout(() => this.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(m) })), 0);
    }

    close() {
        this.readyState = 3;
        this.dispatchEvent(Object.assign(new Event('close'), { code: 1000, reason: '' }));
    }
}

const settle = () => new Promise((r) => setTimeout(r, 5));

const HOUR = 3600000;
const T0 = Date.parse('2026-12-02T09:00:00Z');
const iso = (ms) => new Date(ms).toISOString();

function session(id, room, startH, endH, state, extra = {}) {
    return { id, title: `Title of ${id}`, room, start: iso(T0 + startH * HOUR), end: iso(T0 + endH * HOUR), state, speakers: [], moderators: [], captioners: [], slides: null, ...extra };
}

const PROGRAMME = [
    session('closing', 'plenary', 6, 7, 'scheduled'),
    session('keynote', 'plenary', 1, 2, 'live', { speakers: [ME], slides: { pages: 12, page: 3, url: '/api/sessions/keynote/slides?v=2' } }),
    session('opening', 'plenary', 0, 1, 'ended'),
    session('twins', 'breakout-1', 2, 3, 'scheduled', { moderators: [ME], captioners: [BOB] }),
];

/* A client in a room, with the programme it got after welcome. */
async function inRoom(room = 'plenary') {
    const c = new VenueClient({ url: 'ws://fake/ws', name: 'Ada', WebSocket: FakeSocket });
    await c.connect();
    const ws = FakeSocket.last;
    ws.push({ type: 'programme', sessions: PROGRAMME });
    await c.join(room);
    await settle();
    const events = [];
    for (const t of ['programme', 'session', 'stars', 'reminder', 'slides', 'caption', 'questions', 'question', 'floor', 'error']) {
        c.on(t, (d) => events.push([t, d]));
    }
    return { c, ws, events, of: (t) => events.filter((e) => e[0] === t).map((e) => e[1]) };
}

const lastSent = (ws, type) => ws.sent.filter((m) => m.type === type).at(-1);

test('the programme: normalised, by start, times as ms; live and next per room; my parts in it', async () => {
    const { c } = await inRoom();
    assert.deepEqual(c.programme.map((s) => s.id), ['opening', 'keynote', 'twins', 'closing']);
    const k = c.programme[1];
    assert.equal(k.start, T0 + HOUR);
    assert.equal(typeof k.end, 'number');
    assert.deepEqual(k.speakers, [{ id: ME.id, name: ME.name }]);
    assert.deepEqual(k.slides, { pages: 12, page: 3, url: '/api/sessions/keynote/slides?v=2' });
    assert.equal(c.programme[0].slides, null);
    assert.equal(c.liveSession().id, 'keynote', 'my room by default');
    assert.equal(c.nextSession().id, 'closing');
    assert.equal(c.liveSession('breakout-1'), null);
    assert.equal(c.nextSession('breakout-1').id, 'twins');
    assert.equal(c.nextSession('expo'), null);
    assert.equal(c.isSpeaker(k), true);
    assert.equal(c.isSpeaker('twins'), false);
    assert.equal(c.isModerator('twins'), true);
    assert.equal(c.isCaptioner('twins'), false);
    assert.equal(c.isSpeaker('no-such'), false);
    c.close();
});

test('a session goes live and ends: its entry and the event; my room\'s questions and slides belong to it', async () => {
    const { c, ws, of } = await inRoom();
    ws.push({ type: 'slides', session: 'keynote', room: 'plenary', pages: 12, page: 3, url: '/api/sessions/keynote/slides?v=2' });
    ws.push({ type: 'questions', session: 'keynote', room: 'plenary', questions: [{ id: 1, from: BOB, text: 'Why?', votes: 2, answered: false, ts: 5, voted: true }] });
    await settle();
    assert.equal(c.questions.get(1).voted, true);
    ws.push({ type: 'session', id: 'keynote', state: 'ended', room: 'plenary' });
    await settle();
    const ended = of('session').at(-1);
    assert.deepEqual([ended.id, ended.state, ended.room, ended.session.state], ['keynote', 'ended', 'plenary', 'ended']);
    assert.equal(c.liveSession(), null);
    assert.equal(c.slides, null);
    assert.equal(c.questions.size, 0);
    assert.equal(of('slides').at(-1).cleared, true, 'the screens are told');
    assert.equal(of('questions').at(-1).cleared, true);
    ws.push({ type: 'session', id: 'closing', state: 'live', room: 'plenary' });
    await settle();
    assert.equal(c.liveSession().id, 'closing');
    assert.deepEqual(c.questionsFor, { session: 'closing', room: 'plenary' }, 'a new session starts with no questions');
    ws.push({ type: 'session', id: 'twins', state: 'live', room: 'breakout-1' });
    await settle();
    assert.equal(c.questionsFor.session, 'closing', 'another room\'s session is not mine');
    assert.equal(c.programme.find((s) => s.id === 'twins').state, 'live');
    ws.push({ type: 'programme', sessions: [session('only', 'expo', 0, 1, 'scheduled')] });
    await settle();
    assert.deepEqual(of('programme').at(-1).sessions.map((s) => s.id), ['only'], 'an admin replaced the programme');
    c.close();
});

test('star() settles on the stars reply; a refusal rejects and says which request it was', async () => {
    const { c, ws, of } = await inRoom();
    ws.push({ type: 'stars', sessions: ['twins'] });
    await settle();
    assert.deepEqual([...c.stars], ['twins']);
    const p = c.star('closing', true);
    const m = lastSent(ws, 'star');
    assert.deepEqual({ ...m, id: 0 }, { type: 'star', session: 'closing', on: true, id: 0 });
    ws.push({ type: 'stars', sessions: ['twins', 'closing'], re: m.id });
    const stars = await p;
    assert.deepEqual([...stars].sort(), ['closing', 'twins']);
    assert.equal(of('stars').length, 2);
    const refused = c.star('twins', false);
    ws.push({ type: 'error', code: 'forbidden', message: 'star: guests cannot star sessions', re: lastSent(ws, 'star').id });
    await assert.rejects(refused, (e) => e.code === 'forbidden' && /guests/.test(e.serverMessage));
    assert.equal(of('error').at(-1).request, 'star');
    c.close();
});

test('turnSlide() settles on the slides everyone hears; a refusal rejects', async () => {
    const { c, ws, of } = await inRoom();
    const p = c.turnSlide(4);
    assert.equal(lastSent(ws, 'slide').page, 4);
    assert.equal(typeof lastSent(ws, 'slide').id, 'number', 'sent with an id, for its error');
    ws.push({ type: 'slides', session: 'keynote', room: 'plenary', pages: 12, page: 4, url: '/api/sessions/keynote/slides?v=2' });
    const sl = await p;
    assert.deepEqual(sl, { session: 'keynote', room: 'plenary', pages: 12, page: 4, url: '/api/sessions/keynote/slides?v=2' });
    assert.deepEqual(c.slides, sl);
    assert.equal(c.programme.find((s) => s.id === 'keynote').slides.page, 4);
    assert.equal(of('slides').at(-1).page, 4);
    const refused = c.turnSlide(99);
    ws.push({ type: 'error', code: 'bad_request', message: 'slide.page: 99 is out of range 1..12', re: lastSent(ws, 'slide').id });
    await assert.rejects(refused, (e) => e.code === 'bad_request');
    assert.equal(of('error').at(-1).request, 'slide');
    assert.equal(c.slides.page, 4);
    c.close();
});

test('ask(), vote() and answered: the questions by votes, my votes remembered', async () => {
    const { c, ws, of } = await inRoom();
    ws.push({ type: 'questions', session: 'keynote', room: 'plenary', questions: [
        { id: 1, from: BOB, text: 'First?', votes: 1, answered: false, ts: 10, voted: false },
        { id: 2, from: BOB, text: 'Second?', votes: 3, answered: false, ts: 20, voted: false },
    ] });
    await settle();
    assert.deepEqual(of('questions').at(-1).questions.map((q) => q.id), [2, 1], 'most votes first');
    /* someone else's question is not the answer to mine */
    const asked = c.ask('And mine?');
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 3, from: BOB, text: 'Bob again', votes: 0, answered: false, ts: 30 } });
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 4, from: { id: ME.id, name: ME.name }, text: 'And mine?', votes: 0, answered: false, ts: 31 } });
    const q = await asked;
    assert.equal(q.id, 4);
    assert.equal(lastSent(ws, 'ask').text, 'And mine?');
    const voted = c.vote(1);
    assert.equal(lastSent(ws, 'vote').question, 1);
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 1, from: BOB, text: 'First?', votes: 2, answered: false, ts: 10 } });
    assert.equal((await voted).votes, 2);
    assert.equal(c.questions.get(1).voted, true);
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 1, from: BOB, text: 'First?', votes: 3, answered: true, ts: 10 } });
    await settle();
    assert.equal(c.questions.get(1).voted, true, 'another vote keeps mine');
    assert.equal(c.questions.get(1).answered, true);
    assert.deepEqual(c.questionsByVotes().map((x) => x.id), [1, 2, 3, 4], 'by votes, then the oldest');
    assert.equal(of('question').at(-1).question.answered, true);
    /* a vote for a question whose news has not come yet: its arrival (0 votes) is not the answer */
    const early = c.vote(5);
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 5, from: BOB, text: 'Fresh', votes: 0, answered: false, ts: 40 } });
    ws.push({ type: 'question', session: 'keynote', room: 'plenary', question: { id: 5, from: BOB, text: 'Fresh', votes: 1, answered: false, ts: 40 } });
    assert.equal((await early).votes, 1);
    assert.equal(c.questions.get(5).voted, true);
    const twice = c.vote(1);
    ws.push({ type: 'error', code: 'bad_request', message: 'vote: already voted', re: lastSent(ws, 'vote').id });
    await assert.rejects(twice, (e) => e.code === 'bad_request');
    assert.equal(of('error').at(-1).request, 'vote');
    c.close();
});

test('captions: the last 20 kept, caption() settles on my own line, a rate limit rejects', async () => {
    const { c, ws, of } = await inRoom();
    for (let i = 0; i < 25; i++) ws.push({ type: 'caption', session: 'keynote', room: 'plenary', from: BOB, text: `line ${i}`, ts: i });
    await settle();
    assert.equal(c.captions.length, 20);
    assert.equal(c.captions[0].text, 'line 5');
    assert.deepEqual(c.captions.at(-1), { session: 'keynote', room: 'plenary', from: BOB, text: 'line 24', ts: 24 });
    const p = c.caption('Welcome, everyone');
    ws.push({ type: 'caption', session: 'keynote', room: 'plenary', from: { id: ME.id, name: ME.name }, text: 'Welcome, everyone', ts: 99 });
    assert.equal((await p).text, 'Welcome, everyone');
    assert.equal(of('caption').length, 26);
    const limited = c.caption('too fast');
    ws.push({ type: 'error', code: 'rate_limited', message: 'caption: too many', re: lastSent(ws, 'caption').id });
    await assert.rejects(limited, (e) => e.code === 'rate_limited');
    c.close();
});

test('the floor, a reminder, and the moderator\'s programme actions with their fields', async () => {
    const { c, ws, of } = await inRoom();
    ws.push({ type: 'floor', room: 'plenary', user: BOB, until: T0 + 120000 });
    await settle();
    assert.deepEqual(c.floor, { room: 'plenary', user: BOB, until: T0 + 120000 });
    ws.push({ type: 'floor', room: 'plenary', user: null, until: null });
    await settle();
    assert.equal(c.floor, null);
    assert.deepEqual(of('floor').at(-1), { room: 'plenary', user: null, until: null });

    ws.push({ type: 'reminder', session: 'twins', title: 'Local twins', room: 'breakout-1', start: iso(T0 + 2 * HOUR) });
    await settle();
    assert.deepEqual(of('reminder')[0], { session: 'twins', title: 'Local twins', room: 'breakout-1', start: T0 + 2 * HOUR });

    const acts = [['start_session', { session: 'twins' }], ['give_floor', { target: BOB.id, seconds: 60 }], ['take_floor', {}], ['answer', { question: 7 }]];
    for (const [action, fields] of acts) {
        const p = c.mod(action, fields);
        const m = lastSent(ws, 'mod');
        const { id, type, ...rest } = m;
        assert.deepEqual(rest, { action, ...fields });
        ws.push({ type: 'mod_ok', action, re: id });
        assert.equal((await p).action, action);
    }
    c.close();
});

test('leaving the room, or going to another, clears its slides, questions, floor and captions (and says so)', async () => {
    const { c, ws, of } = await inRoom();
    const fill = () => {
        ws.push({ type: 'slides', session: 'keynote', room: 'plenary', pages: 12, page: 3, url: '/s' });
        ws.push({ type: 'questions', session: 'keynote', room: 'plenary', questions: [{ id: 1, from: BOB, text: 'Q', votes: 0, answered: false, ts: 1, voted: false }] });
        ws.push({ type: 'floor', room: 'plenary', user: BOB, until: T0 });
        ws.push({ type: 'caption', session: 'keynote', room: 'plenary', from: BOB, text: 'hello', ts: 1 });
    };
    const cleared = () => ['slides', 'questions', 'floor', 'caption'].filter((t) => of(t).at(-1)?.cleared === true);
    fill();
    await settle();
    await c.join('plenary'); /* the same room again: its state comes again, the captions stay */
    assert.deepEqual(cleared(), ['slides', 'questions', 'floor']);
    assert.equal(c.captions.length, 1);
    fill();
    await settle();
    await c.join('breakout-1');
    assert.deepEqual([c.slides, c.questions.size, c.floor, c.captions.length], [null, 0, null, 0]);
    assert.deepEqual(cleared(), ['slides', 'questions', 'floor', 'caption']);
    assert.equal(of('slides').at(-1).room, 'plenary', 'the cleared event names the room it was');
    fill();
    await settle();
    await c.leave();
    assert.deepEqual([c.slides, c.questions.size, c.floor, c.captions.length], [null, 0, null, 0]);
    /* nothing arrives for a room I am not in */
    fill();
    await settle();
    assert.deepEqual([c.slides, c.questions.size, c.floor, c.captions.length], [null, 0, null, 0]);
    c.close();
});
