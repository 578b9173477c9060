// Idle timeout: a client that never answers pings is hung up on after
// --idle-timeout and leaves its room after the resume grace. A client that
// answers pings stays.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, RawClient, presence, sleep, until, within } from './harness.mjs';

const IDLE = 3;
const GRACE = 2;

test('a client that never answers pings is dropped after --idle-timeout, leaves after the grace', async () => {
  await withServer({ flags: { 'idle-timeout': IDLE, 'resume-grace': GRACE } }, async (srv) => {
    const b = await srv.connect({ name: 'B' });
    await b.enter('lobby', 'B');

    const raw = new RawClient(srv);
    await raw.connect();
    assert.match(raw.response, /sec-websocket-protocol:\s*venue\.v1/i);
    raw.sendJSON({ type: 'hello', name: 'mute', id: 1 });
    const w = await raw.waitText('welcome');
    assert.equal(w.re, 1);
    raw.sendJSON({ type: 'join', room: 'lobby', id: 2 });
    await raw.waitText('joined');
    const t0 = Date.now();
    await b.next('presence', { filter: presence('join', w.user.id) });

    try {
      const ended = await within((IDLE + 4) * 1000, raw.endedP, 'the server to hang up on the mute client');
      const dt = ended - t0;
      assert.ok(dt >= IDLE * 1000 - 700 && dt <= IDLE * 1000 + 2500, `hung up after ${dt} ms, idle timeout ${IDLE} s`);
      const pings = raw.frames.filter((f) => f.opcode === 0x9);
      assert.ok(pings.length >= 1, 'the server pinged before hanging up');
      assert.ok(pings[0].at - t0 < IDLE * 1000, 'first ping before the timeout');

      // Still in the room during the grace, then gone.
      const leave = await b.next('presence', { filter: presence('leave', w.user.id), timeout: (GRACE + 4) * 1000 });
      assert.equal(leave.room, 'lobby');
      const dl = Date.now() - ended;
      assert.ok(dl >= GRACE * 1000 - 500, `leave ${dl} ms after the hang-up, grace ${GRACE} s`);
      // The well-behaved client (ws answers pings) outlived the idle timeout.
      assert.ok(b.open, 'a client that answers pings stays connected');
      await b.request({ type: 'join', room: 'lobby' }, 'joined');
    } finally {
      raw.destroy();
    }
  });
});

test('a client that answers pings but sends nothing stays connected past the idle timeout', async () => {
  await withServer({ flags: { 'idle-timeout': 2 } }, async (srv) => {
    const raw = new RawClient(srv);
    await raw.connect();
    raw.autoPong = true;
    raw.sendJSON({ type: 'hello', name: 'quiet' });
    await raw.waitText('welcome');
    raw.sendJSON({ type: 'join', room: 'lobby' });
    await raw.waitText('joined');
    try {
      await sleep(4500);
      assert.equal(raw.ended, null, 'still connected');
      assert.ok(raw.frames.some((f) => f.opcode === 0x9), 'was pinged');
      raw.sendJSON({ type: 'join', room: 'lobby', id: 'still' });
      await until(() => raw.texts().find((m) => m.type === 'joined' && m.re === 'still'), { what: 'joined again' });
    } finally {
      raw.destroy();
    }
  });
});

test('a connection that opens and never says hello is dropped after the idle timeout', async () => {
  await withServer({ flags: { 'idle-timeout': 2 } }, async (srv) => {
    const raw = new RawClient(srv);
    await raw.connect();
    try {
      await within(8000, raw.endedP, 'the server to hang up on a silent connection');
    } finally {
      raw.destroy();
    }
  });
});
