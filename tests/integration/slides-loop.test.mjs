// Slide decks are counted off the service loop: while qpdf works through a
// compression bomb in its child process (up to 1.5 s), the rest of the
// venue goes on - another client's chat round trips stay fast - and the
// upload still gets its 415. An uploader that hangs up while its deck is
// counted leaves nothing behind: its child killed and reaped (no zombie
// under the server), its temporary file gone, its place given back. A
// server stopped mid-count exits cleanly and takes its child along.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { withServer, until, sleep } from './harness.mjs';
import { addUser, api, isError } from '../admin/lib.mjs';
import { makeBombPdf, makePdf } from './pdf.mjs';

const UPLOADS_MAX = 4; // SLIDES_UPLOADS_MAX (server/net/server.h)
const CHECK_MS = 1500; // SLIDES_CHECK_MS (server/admin/slides.h)

/* ISO 8601 UTC, whole seconds. */
function iso(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/* A server with an admin and a session live in the plenary. */
async function withSession(flags, body) {
  await withServer({ flags }, async (srv) => {
    const admin = addUser(srv.dataDir, 'Olu Organiser', 'admin');
    const now = Date.now();
    const r = await api(srv, 'POST', '/api/admin/programme', {
      token: admin.token,
      body: { sessions: [{ id: 'opening', title: 'Opening', room: 'plenary', start: iso(now - 60000), end: iso(now + 3600000) }] },
    });
    assert.equal(r.status, 200, r.text);
    await body(srv, admin);
  });
}

/* The processes whose parent is pid, zombies included: [{ pid, comm, state }]. */
function childrenOf(pid) {
  const out = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === pid) out.push({ pid: Number(e), comm: stat.slice(stat.indexOf('(') + 1, close), state });
  }
  return out;
}

/* A process's open descriptors (those still there): { fd: target }. */
function fdsOf(pid) {
  const out = {};
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try { out[fd] = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { /* closed meanwhile */ }
    }
  } catch { /* gone */ }
  return out;
}

function slidesDir(srv) {
  return fs.readdirSync(path.join(srv.dataDir, 'slides'));
}

/* A deck sent on a connection of its own, left open: the test hangs up. */
async function rawUpload(srv, token, deck) {
  const s = net.connect(srv.port, '127.0.0.1');
  await once(s, 'connect');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  s.on('error', () => {});
  s.write(`POST /api/sessions/opening/slides HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/pdf\r\nContent-Length: ${deck.length}\r\n\r\n`);
  s.write(deck);
  return { socket: s, reply: () => got };
}

test('slides: a compression bomb is counted off the loop; chat stays fast and the upload gets 415', async (t) => {
  await withSession({ 'chat-rate': 100 }, async (srv, admin) => {
    const bomb = makeBombPdf(400);
    assert.ok(bomb.length < 4096, `a small file (${bomb.length} bytes) that inflates to 400 MiB`);
    const c = await srv.connect();
    await c.enter('plenary', 'Chatter');
    let seq = 0;
    const rtt = async () => {
      const text = `ping ${seq++}`;
      const t = performance.now();
      c.send({ type: 'chat', text });
      await c.next('chat', { timeout: 5000, filter: (m) => m.text === text });
      return performance.now() - t;
    };
    for (let i = 0; i < 5; i++) await rtt(); // warm

    let answered = null;
    const t0 = performance.now();
    const upload = api(srv, 'POST', '/api/sessions/opening/slides', {
      token: admin.token, body: bomb, headers: { 'content-type': 'application/pdf' },
    }).then((r) => { answered = performance.now(); return r; });
    const during = [];
    while (answered === null) {
      const t = performance.now();
      const ms = await rtt();
      // Only round trips that began and ended while the count ran.
      if (answered === null) during.push(ms);
      await sleep(Math.max(0, 20 - (performance.now() - t)));
    }
    const r = await upload;
    const took = answered - t0;
    assert.ok(isError(r, 415, 'unsupported_media_type'), r.text);
    assert.match(r.json.error.message, /not a PDF that can be read: .*compression bomb/);
    assert.ok(took >= 300 && took < CHECK_MS + 1000, `the count ran its course: answered after ${took.toFixed(0)} ms`);

    // A loop that waited for the count did one round trip in all that
    // time (it took as long as the count); this one kept answering.
    during.sort((a, b) => a - b);
    const stats = `${during.length} round trips in ${took.toFixed(0)} ms: median ${during[during.length >> 1]?.toFixed(1)} ms, ` +
      `90th ${during[Math.floor(during.length * 0.9)]?.toFixed(1)} ms, max ${during.at(-1)?.toFixed(1)} ms`;
    t.diagnostic(stats);
    assert.ok(during.length >= 10, stats);
    assert.ok(during[Math.floor(during.length * 0.9)] < 100, stats);
    assert.ok(during.at(-1) < 500, stats);

    // Nothing left: no child under the server, no temporary file.
    await until(() => childrenOf(srv.child.pid).length === 0, { timeout: 2000, what: 'no child under the server' });
    assert.deepEqual(slidesDir(srv), []);
    // And the venue still takes a deck.
    const ok = await api(srv, 'POST', '/api/sessions/opening/slides', {
      token: admin.token, body: makePdf(2), headers: { 'content-type': 'application/pdf' },
    });
    assert.equal(ok.status, 200, ok.text);
    await until(() => childrenOf(srv.child.pid).length === 0, { timeout: 1000, what: 'its child to be reaped' });
  });
});

test('slides: uploaders that hang up while their decks are counted leave no child, no file, no place taken', async () => {
  await withSession({}, async (srv, admin) => {
    const pid = srv.child.pid;
    const bomb = makeBombPdf(400);
    // Every place, each with a bomb being counted.
    const ups = [];
    for (let i = 0; i < UPLOADS_MAX; i++) ups.push(await rawUpload(srv, admin.token, bomb));
    // Named by the child once it runs its own code (before that, "exe").
    const counting = await until(() => {
      const kids = childrenOf(pid).filter((k) => k.state !== 'Z' && k.comm === 'venued-count');
      return kids.length === UPLOADS_MAX ? kids : null;
    }, { timeout: 3000, interval: 5, what: `${UPLOADS_MAX} children counting` });
    for (const k of counting) {
      // Nothing of the server's: stdin /dev/null, stdout the pipe it
      // answers on, the server's stderr, and the deck qpdf opened.
      const fds = fdsOf(k.pid);
      const msg = `child ${k.pid}: ${JSON.stringify(fds)}`;
      assert.equal(fds[0], '/dev/null', msg);
      assert.match(fds[1], /^pipe:/, msg);
      for (const [fd, target] of Object.entries(fds)) {
        if (Number(fd) > 2) assert.match(target, /\/slides\/\.upload-/, msg);
      }
    }
    const busy = await api(srv, 'POST', '/api/sessions/opening/slides', {
      token: admin.token, body: makePdf(1), headers: { 'content-type': 'application/pdf' },
    });
    assert.ok(isError(busy, 503, 'busy'), busy.text);

    const hangup = performance.now();
    for (const u of ups) {
      assert.equal(u.reply(), '', 'no answer before the verdict');
      u.socket.destroy();
    }
    // Killed for the hang-up (well before their deadline) and reaped: no
    // zombie either.
    await until(() => childrenOf(pid).length === 0, { timeout: CHECK_MS, interval: 5, what: 'the children to be killed and reaped' });
    const gone = performance.now() - hangup;
    assert.ok(gone < CHECK_MS, `children gone ${gone.toFixed(0)} ms after the hang-up`);
    await until(() => slidesDir(srv).length === 0, { timeout: 1000, what: 'the temporary files to go' });
    await sleep(100);
    assert.deepEqual(childrenOf(pid), [], 'nothing more came');

    // Every place is free again.
    const again = [];
    for (let i = 0; i < UPLOADS_MAX; i++) {
      again.push(api(srv, 'POST', '/api/sessions/opening/slides', {
        token: admin.token, body: makePdf(1 + i), headers: { 'content-type': 'application/pdf' },
      }));
    }
    for (const r of await Promise.all(again)) assert.equal(r.status, 200, r.text);
    assert.equal(slidesDir(srv).length, 1, 'the last deck only');
    await until(() => childrenOf(pid).length === 0, { timeout: 1000, what: 'their children to be reaped' });
  });
});

test('slides: a server stopped while a deck is counted exits cleanly, its child reaped', async () => {
  let kid = null;
  let up = null;
  try {
    // withServer stops the server (SIGTERM) and fails unless it exits 0.
    await withSession({}, async (srv, admin) => {
      up = await rawUpload(srv, admin.token, makeBombPdf(400));
      [kid] = await until(() => {
        const k = childrenOf(srv.child.pid).filter((c) => c.comm === 'venued-count');
        return k.length ? k : null;
      }, { timeout: 3000, interval: 5, what: 'a child counting' });
    });
  } finally {
    up?.socket.destroy();
  }
  assert.ok(kid, 'a count was running at the stop');
  assert.ok(!fs.existsSync(`/proc/${kid.pid}`), `child ${kid.pid} outlived the server`);
});
