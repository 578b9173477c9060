// Bad input over the wire: every case answered with an error naming the
// code, and the connection still open and working afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, rosterEntry } from './harness.mjs';

/* After an error: the connection is open and answers a valid request. */
async function stillWorks(c, room = 'lobby') {
  assert.ok(c.open, `${c.label} still open`);
  const j = await c.request({ type: 'join', room }, 'joined');
  assert.equal(j.room.id, room);
}

const Q = [0, 0, 0, 1];

// [name, text or object, expected code]
const IN_ROOM_CASES = [
  ['invalid JSON: truncated object', '{"type":"chat","text":"x"', 'bad_request'],
  ['invalid JSON: garbage', 'not json at all', 'bad_request'],
  ['invalid JSON: trailing garbage', '{"type":"chat","text":"x"} x', 'bad_request'],
  ['JSON array', '[1,2,3]', 'bad_request'],
  ['JSON string', '"hello"', 'bad_request'],
  ['JSON number', '42', 'bad_request'],
  ['empty text', '', 'bad_request'],
  ['NaN literal', '{"type":"pose","p":[NaN,0,0],"q":[0,0,0,1]}', 'bad_request'],
  ['missing type', { room: 'lobby' }, 'bad_request'],
  ['type not a string', { type: 7 }, 'bad_request'],
  ['unknown type', { type: 'dance' }, 'unknown_type'],
  ['unknown type (server message name)', { type: 'welcome' }, 'unknown_type'],
  ['join: room not a string', { type: 'join', room: 5 }, 'bad_request'],
  ['join: missing room', { type: 'join' }, 'bad_request'],
  ['join: room with bad characters', { type: 'join', room: '../etc/passwd' }, 'bad_request'],
  ['pose: p not an array', { type: 'pose', p: 'here', q: Q }, 'bad_request'],
  ['pose: p with a string', { type: 'pose', p: [0, '1', 0], q: Q }, 'bad_request'],
  ['pose: p too short', { type: 'pose', p: [0, 0], q: Q }, 'bad_request'],
  ['pose: q too long', { type: 'pose', p: [0, 0, 0], q: [0, 0, 0, 1, 0] }, 'bad_request'],
  ['pose: missing q', { type: 'pose', p: [0, 0, 0] }, 'bad_request'],
  ['pose: missing p', { type: 'pose', q: Q }, 'bad_request'],
  ['pose: huge coordinate', { type: 'pose', p: [1e6, 0, 0], q: Q }, 'bad_request'],
  ['pose: overflowing number', '{"type":"pose","p":[1e400,0,0],"q":[0,0,0,1]}', 'bad_request'],
  ['pose: non-unit quaternion', { type: 'pose', p: [0, 0, 0], q: [0, 0, 0, 2] }, 'bad_request'],
  ['pose: zero quaternion', { type: 'pose', p: [0, 0, 0], q: [0, 0, 0, 0] }, 'bad_request'],
  ['chat: text not a string', { type: 'chat', text: 7 }, 'bad_request'],
  ['chat: missing text', { type: 'chat' }, 'bad_request'],
  ['chat: text over 500 characters', { type: 'chat', text: 'x'.repeat(501) }, 'bad_request'],
  ['chat: text over 500 code points (multi-byte)', { type: 'chat', text: '✓'.repeat(501) }, 'bad_request'],
  ['status: not active/away', { type: 'status', status: 'sleeping' }, 'bad_request'],
  ['status: missing', { type: 'status' }, 'bad_request'],
  ['hand: up not a boolean', { type: 'hand', up: 'yes' }, 'bad_request'],
  ['hand: missing up', { type: 'hand' }, 'bad_request'],
  ['id: object', { type: 'join', room: 'lobby', id: { a: 1 } }, 'bad_request'],
  ['id: huge integer', '{"type":"join","room":"lobby","id":123456789012345678901234567890}', 'bad_request'],
  ['duplicate key', '{"type":"chat","text":"a","text":"b"}', 'bad_request'],
  ['nested deeper than 32 levels', `{"type":"chat","text":"x","deep":${'['.repeat(40)}${']'.repeat(40)}}`, 'bad_request'],
  ['escaped lone surrogate', '{"type":"chat","text":"a\\ud800b"}', 'bad_request'],
  ['escaped NUL in text', '{"type":"chat","text":"a\\u0000b"}', 'bad_request'],
  ['chat: empty text', { type: 'chat', text: '' }, 'bad_request'],
  ['chat: only whitespace', { type: 'chat', text: ' \t \u3000 ' }, 'bad_request'],
  ['chat: control character', { type: 'chat', text: 'bell\u0007' }, 'bad_request'],
  ['pose: p null', { type: 'pose', p: null, q: Q }, 'bad_request'],
  ['id: null', { type: 'join', room: 'lobby', id: null }, 'bad_request'],
  ['id: true', { type: 'join', room: 'lobby', id: true }, 'bad_request'],
  ['id: 1.5', { type: 'join', room: 'lobby', id: 1.5 }, 'bad_request'],
  ['id: 1.0', '{"type":"join","room":"lobby","id":1.0}', 'bad_request'],
  ['id: string over 64 characters', { type: 'join', room: 'lobby', id: 'i'.repeat(65) }, 'bad_request'],
  ['type in the wrong case', { type: 'Chat', text: 'x' }, 'unknown_type'],
  ['second hello', { type: 'hello', name: 'again' }, 'bad_request'],
  ['unknown room', { type: 'join', room: 'no-such-room' }, 'not_found'],
];

test('bad input in a room: each answered with its error code, connection kept', async (t) => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    await c.enter('lobby', 'tester');
    for (const [name, msg, code] of IN_ROOM_CASES) {
      await t.test(name, async () => {
        const e = await c.expectError(msg, code);
        assert.equal(typeof e.message, 'string', 'error has a message');
        assert.ok(e.message.length > 0);
        await stillWorks(c);
      });
    }
  });
});

test('an error answers the request it came from (re), even for a bad message', async () => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    await c.enter('lobby', 'tester');
    const e1 = await c.expectError({ type: 'join', id: 'missing-room' }, 'bad_request');
    assert.equal(e1.re, 'missing-room');
    const e2 = await c.expectError({ type: 'dance', id: 99 }, 'unknown_type');
    assert.strictEqual(e2.re, 99);
    const e3 = await c.expectError({ type: 'pose', p: [0, 0, 0], q: [1, 1, 1, 1], id: 'q' }, 'bad_request');
    assert.equal(e3.re, 'q');
    assert.match(e3.message, /q/, 'the message names the field');
    await stillWorks(c);
  });
});

test('limits are inclusive: a 64-character name and a 500-character text are accepted', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const w = await a.hello('é'.repeat(64));
    assert.equal(w.user.name, 'é'.repeat(64));
    await a.join('lobby');
    a.send({ type: 'chat', text: '✓'.repeat(500) });
    const m = await a.next('chat');
    assert.equal(m.text, '✓'.repeat(500));
    // Near-unit quaternions are accepted (and normalised).
    a.send({ type: 'pose', p: [0, 0, 0], q: [0, 0, 0, 1.005], id: 'nq' });
    await a.expectNone('error', 300, { filter: (x) => x.re === 'nq' });
  });
});

test('before hello: every message is unauthorized, connection kept, hello then works', async (t) => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    const msgs = [
      { type: 'join', room: 'lobby' },
      { type: 'leave' },
      { type: 'pose', p: [0, 0, 0], q: Q },
      { type: 'chat', text: 'hi' },
      { type: 'status', status: 'away' },
      { type: 'hand', up: true },
    ];
    for (const m of msgs) {
      await t.test(m.type, async () => {
        await c.expectError(m, 'unauthorized');
        assert.ok(c.open);
      });
    }
    await c.hello('late');
    await stillWorks(c);
  });
});

test('hello refused: over-long name, missing name, wrong types; a valid hello then works', async (t) => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    const cases = [
      ['name over 64 characters', { type: 'hello', name: 'n'.repeat(65) }],
      ['name over 64 code points', { type: 'hello', name: '✓'.repeat(65) }],
      ['name not a string', { type: 'hello', name: 12 }],
      ['resume not a string', { type: 'hello', name: 'x', resume: 5 }],
      ['empty name', { type: 'hello', name: '' }],
      ['name only whitespace', { type: 'hello', name: '   ' }],
      ['name only invisible characters', { type: 'hello', name: '\u200b\u200b' }],
      ['name with a newline', { type: 'hello', name: 'two\nlines' }],
      ['missing name', { type: 'hello' }],
      ['resume with a space', { type: 'hello', name: 'x', resume: 'a b' }],
      ['invalid JSON', '{"type":"hello",'],
    ];
    for (const [name, msg] of cases) {
      await t.test(name, async () => {
        await c.expectError(msg, 'bad_request');
        assert.ok(c.open);
      });
    }
    const w = await c.hello('fine');
    assert.equal(w.user.name, 'fine');
    await stillWorks(c);
  });
});

test('a text frame with invalid UTF-8 closes with 1007 (RFC 6455); the server goes on', async () => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    await c.enter('lobby', 'utf8');
    // {"type":"chat","text":"\xc3("} : a broken two-byte sequence.
    const bytes = Buffer.concat([Buffer.from('{"type":"chat","text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    c.ws.send(bytes, { binary: false });
    const info = await c.waitClose();
    assert.deepEqual([info.code, info.reason], [1007, 'text is not UTF-8']);
    const d = await srv.connect();
    await d.enter('lobby', 'after');
    await stillWorks(d);
  });
});

test('no hello within --hello-timeout: closed with 1008', async () => {
  await withServer({ flags: { 'hello-timeout': 1 } }, async (srv) => {
    const quiet = await srv.connect();
    const talker = await srv.connect();
    await talker.hello('talker');
    const t0 = Date.now();
    const closed = await quiet.waitClose(4000);
    assert.equal(closed.code, 1008);
    assert.ok(Date.now() - t0 < 3000);
    await stillWorks(talker);
  });
});

test('outside a room: pose, chat and leave are not_in_room', async () => {
  await withServer({}, async (srv) => {
    const c = await srv.connect();
    await c.hello('roomless');
    await c.expectError({ type: 'pose', p: [0, 0, 0], q: Q }, 'not_in_room');
    await c.expectError({ type: 'chat', text: 'anyone?' }, 'not_in_room');
    await c.expectError({ type: 'leave' }, 'not_in_room');
    await stillWorks(c);
    // And again after leaving.
    await c.request({ type: 'leave' }, 'left');
    await c.expectError({ type: 'chat', text: 'anyone?' }, 'not_in_room');
    await c.expectError({ type: 'pose', p: [0, 0, 0], q: Q }, 'not_in_room');
    await stillWorks(c, 'expo');
  });
});

test('bad messages do not disturb the others in the room', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    await a.enter('lobby', 'A');
    const jb = await b.enter('lobby', 'B');
    await b.next('room'); // the room's settings, right after joined
    a.sendRaw('{"type":');
    await a.next('error');
    a.send({ type: 'pose', p: [1e6, 0, 0], q: Q });
    await a.next('error');
    await b.expectNone(null, 300, { filter: (m) => m.type !== 'poses' });
    assert.ok(rosterEntry(jb, a.user.id));
  });
});

test('a frame over --max-message closes with 1009; one under it is fine', async () => {
  await withServer({ flags: { 'max-message': 4096 } }, async (srv) => {
    const ok = await srv.connect();
    await ok.enter('lobby', 'ok');
    const pad = 'x'.repeat(3000);
    ok.send({ type: 'chat', text: 'small', pad });
    // Unknown fields may be ignored or refused; either way the connection stays.
    await ok.next(null, { filter: (m) => m.type === 'chat' || m.type === 'error' });
    assert.ok(ok.open);

    const big = await srv.connect();
    await big.enter('lobby', 'big');
    big.send({ type: 'chat', text: 'y', pad: 'z'.repeat(8000) });
    const closed = await big.waitClose(3000);
    assert.equal(closed.code, 1009);

    // Before hello too.
    const early = await srv.connect();
    early.sendRaw('x'.repeat(5000));
    assert.equal((await early.waitClose(3000)).code, 1009);

    // The others carry on.
    await stillWorks(ok);
  });
});

test('a message fragmented over several frames is reassembled; over the limit in total is 1009', async () => {
  await withServer({ flags: { 'max-message': 4096 } }, async (srv) => {
    const c = await srv.connect();
    await c.enter('lobby', 'frag');
    const text = JSON.stringify({ type: 'chat', text: 'in pieces' });
    const ws = c.ws;
    ws.send(text.slice(0, 5), { fin: false });
    ws.send(text.slice(5, 15), { fin: false });
    ws.send(text.slice(15), { fin: true });
    const m = await c.next('chat');
    assert.equal(m.text, 'in pieces');
    for (let i = 0; i < 5; i++) ws.send('x'.repeat(1000), { fin: false });
    ws.send('x', { fin: true });
    assert.equal((await c.waitClose(3000)).code, 1009);
  });
});
