/*
 * RFC 6455 framing against the real server (issue 14): what a client that
 * breaks the framing rules gets. libwebsockets 4.1 handles most of it; the
 * adapter adds the rest (UTF-8, close codes, binary frames). What lws does
 * not let us check is in SECURITY.md.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, RawClient, sleep } from './harness.mjs';

let server;

before(async () => {
  server = new Server();
  await server.start();
});

after(async () => {
  await server.stop();
});

/* A raw client past hello: send() breaks a rule; returns its close frame's code and reason. */
async function closeAfter(send) {
  const c = new RawClient(server);
  await c.connect();
  c.sendJSON({ type: 'hello', name: 'Framer' });
  await c.waitText('welcome');
  send(c);
  const deadline = Date.now() + 3000;
  let close;
  while (!(close = c.frames.find((f) => f.opcode === 0x8)) && !c.ended && Date.now() < deadline) await sleep(20);
  c.destroy();
  if (!close) return { code: null, ended: !!c.ended };
  return { code: close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005, reason: close.payload.subarray(2).toString() };
}

const code2 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };

test('a text message that is not UTF-8 closes with 1007', async () => {
  const r = await closeAfter((c) => c.sendFrame(0x1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  assert.deepEqual([r.code, r.reason], [1007, 'text is not UTF-8']);
});

test('close codes that may not be sent are answered 1002, not echoed', async () => {
  for (const bad of [5000, 65535, 1005, 1006, 1015, 999, 2000]) {
    const r = await closeAfter((c) => c.sendFrame(0x8, code2(bad)));
    assert.equal(r.code, 1002, `close ${bad} -> ${r.code}`);
  }
  const one = await closeAfter((c) => c.sendFrame(0x8, Buffer.from([3])));
  assert.equal(one.code, 1002, 'a one-byte close payload');
  for (const good of [1000, 1001, 3000, 4999]) {
    const r = await closeAfter((c) => c.sendFrame(0x8, code2(good)));
    assert.equal(r.code, good, `close ${good} is echoed`);
  }
  const none = await closeAfter((c) => c.sendFrame(0x8, Buffer.alloc(0)));
  assert.equal(none.code, 1005, 'an empty close is answered with an empty close');
});

test('a binary message from a JSON session closes with 1003', async () => {
  const r = await closeAfter((c) => c.sendFrame(0x2, Buffer.from([2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])));
  assert.equal(r.code, 1003);
});

test('reserved bits, unknown opcodes and a continuation of nothing close with 1002', async () => {
  const rsv = await closeAfter((c) => c.sock.write(Buffer.from([0xc1, 0x80, 0, 0, 0, 0])));
  const op = await closeAfter((c) => c.sendFrame(0x3, Buffer.from('x')));
  const cont = await closeAfter((c) => c.sendFrame(0x0, Buffer.from('x')));
  assert.deepEqual([rsv.code, op.code, cont.code], [1002, 1002, 1002]);
});

test('a control frame over 125 bytes ends the connection', async () => {
  const r = await closeAfter((c) => c.sendFrame(0x9, Buffer.alloc(126, 65)));
  assert.ok(r.code === 1002 || r.ended, `closed (${JSON.stringify(r)})`);
});

test('after all that the server still serves', async () => {
  const c = new RawClient(server);
  await c.connect();
  c.sendJSON({ type: 'hello', name: 'Still here' });
  assert.ok(await c.waitText('welcome'));
  c.destroy();
});
