// The programme through the real venued: `venued programme import|list|
// demo`, POST/GET /api/admin/programme, GET /api/programme and its
// filters, and slide decks (POST/GET /api/sessions/{id}/slides): who may
// upload, what is refused (not a PDF, a PDF's name on HTML, a truncated
// PDF, too many pages, too large), the file served back, the limit of
// uploads at once, and the `slides` message a client in the room gets.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { Server, VENUED_BIN, VENUE_ROOT, withServer, until, sleep } from './harness.mjs';
import { addUser, api, isError, tempDir } from '../admin/lib.mjs';
import { makePdf } from './pdf.mjs';

const MIN = 60000;
const SCENES = path.join(VENUE_ROOT, 'scenes/demo');

/* ISO 8601 UTC, whole seconds. */
function iso(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/* `venued programme ARGS...` on dataDir, without VENUE_* from outside. */
function prog(dataDir, args, { scenes = SCENES } = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE_')));
  env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1';
  const full = ['programme', ...args.slice(0, 1), '--data', dataDir, ...(args[0] === 'list' ? [] : ['--scenes', scenes]), ...args.slice(1)];
  const r = spawnSync(VENUED_BIN, full, { env, encoding: 'utf8', timeout: 60000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/*
 * A programme around now: the opening is live in the plenary (the
 * speaker speaks, the moderator moderates), a keynote follows it there, a
 * breakout runs in breakout-1 later, and a session in the expo on
 * 2030-01-15.
 */
function programme(people, now = Date.now()) {
  return {
    sessions: [
      {
        id: 'opening', title: 'Opening plenary', description: 'Welcome', room: 'plenary',
        start: iso(now - 10 * MIN), end: iso(now + 50 * MIN),
        speakers: [people.speaker.id], moderators: [people.moderator.id],
      },
      {
        id: 'keynote', title: 'Keynote', room: 'plenary',
        start: iso(now + 50 * MIN), end: iso(now + 110 * MIN), speakers: [people.speaker.id],
      },
      {
        id: 'breakout', title: 'Data spaces', room: 'breakout-1',
        start: iso(now + 120 * MIN), end: iso(now + 180 * MIN), moderators: [people.moderator.id],
      },
      {
        id: 'future', title: 'Next year', room: 'expo',
        start: '2030-01-15T09:00:00Z', end: '2030-01-15T10:00:00Z',
      },
    ],
  };
}

/* Register the people a test needs (before or while the server runs). */
function people(dataDir) {
  return {
    admin: addUser(dataDir, 'Olu Organiser', 'admin'),
    speaker: addUser(dataDir, 'Sam Speaker', 'speaker'),
    moderator: addUser(dataDir, 'Mo Moderator', 'moderator'),
    attendee: addUser(dataDir, 'Ann Attendee', 'attendee'),
  };
}

async function ids(srv, query = '') {
  const r = await api(srv, 'GET', `/api/programme${query}`);
  assert.equal(r.status, 200, r.text);
  return r.json.sessions.map((s) => s.id);
}

/* A server with the people registered and the programme posted. */
async function withProgramme(flags, body) {
  await withServer({ flags }, async (srv) => {
    const p = people(srv.dataDir);
    const r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: programme(p) });
    assert.equal(r.status, 200, r.text);
    await until(async () => (await ids(srv, '?live=1')).includes('opening'), { what: 'the opening to go live' });
    await body(srv, p);
  });
}

/* ---- The command line ---------------------------------------------------- */

test('programme import: good, then a broken file (named, nothing imported), list', () => {
  const t = tempDir();
  try {
    const p = people(t.dir);
    const file = path.join(t.dir, 'programme.json');
    fs.writeFileSync(file, JSON.stringify(programme(p)));
    let r = prog(t.dir, ['import', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported 4 sessions$/m);
    assert.match(r.stderr, /POST \/api\/admin\/programme/, 'says how to change it while a server runs');

    const bad = programme(p);
    bad.sessions[2].start = 'tomorrow at nine';
    fs.writeFileSync(file, JSON.stringify(bad));
    r = prog(t.dir, ['import', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sessions\[\d\] \(breakout\)\.start/);
    assert.match(r.stderr, /Nothing was imported/);
    assert.equal(r.stdout, '');

    const room = programme(p);
    room.sessions[3].room = 'attic';
    fs.writeFileSync(file, JSON.stringify(room));
    r = prog(t.dir, ['import', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sessions\[3\] \(future\)\.room: no room "attic"/);

    const overlap = programme(p);
    overlap.sessions[1].start = overlap.sessions[0].start;
    fs.writeFileSync(file, JSON.stringify(overlap));
    r = prog(t.dir, ['import', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /overlap/);

    const nobody = programme(p);
    nobody.sessions[0].speakers = ['u-0000000000000000'];
    fs.writeFileSync(file, JSON.stringify(nobody));
    r = prog(t.dir, ['import', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\(opening\)\.speakers\[0\]/);

    r = prog(t.dir, ['import', path.join(t.dir, 'missing.json')]);
    assert.equal(r.code, 1);
    r = prog(t.dir, ['import']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /which FILE/);
    r = prog(t.dir, ['import', file, '--bogus', '1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option "--bogus"/);

    // The first programme is still there, whole.
    r = prog(t.dir, ['list']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 5, r.stdout);
    assert.match(lines[0], /START \(UTC\).*ROOM.*STATE.*ID.*TITLE/);
    assert.match(r.stdout, /opening\s+Opening plenary - Sam Speaker, Mo Moderator \(moderator\)/);
    assert.match(r.stdout, /2030-01-15 09:00\s+10:00\s+expo\s+scheduled\s+future/);
    assert.doesNotMatch(r.stdout, /tomorrow at nine/);

    const h = spawnSync(VENUED_BIN, ['programme', '--help'], { encoding: 'utf8' });
    assert.equal(h.status, 0);
    assert.match(h.stdout, /venued programme import FILE/);
    assert.match(h.stdout, /POST \/api\/admin\/programme/);
  } finally {
    t.remove();
  }
});

test('programme demo twice: people found again, times rebased to now, a session live and one next', async () => {
  const t = tempDir();
  try {
    // An old programme with one of the demo's ids, far in the past.
    const old = people(t.dir);
    const file = path.join(t.dir, 'old.json');
    fs.writeFileSync(file, JSON.stringify({ sessions: [{ id: 'opening', title: 'Old', room: 'plenary', start: '2020-01-01T09:00:00Z', end: '2020-01-01T10:00:00Z', speakers: [old.speaker.id] }] }));
    assert.equal(prog(t.dir, ['import', file]).code, 0);

    const before = Date.now();
    let r = prog(t.dir, ['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^imported \d+ sessions/m);
    const tokens = path.join(t.dir, 'demo-people.tokens.csv');
    assert.ok(r.stderr.includes(tokens), r.stderr);
    assert.equal(fs.statSync(tokens).mode & 0o777, 0o600);
    const rows = fs.readFileSync(tokens, 'utf8').trim().split('\r\n');
    assert.equal(rows[0], 'id,name,organisation,role,token,link');
    const names = rows.slice(1).map((l) => l.split(',')[1]);
    assert.ok(names.includes('Demo Speaker') && names.includes('Demo Captioner'), names.join());
    for (const l of rows.slice(1)) assert.match(l, /,[0-9a-f]{32},http:\/\/localhost:8080\/\?token=[0-9a-f]{32}$/);

    r = prog(t.dir, ['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /registered already/);
    assert.equal(fs.readFileSync(tokens, 'utf8').trim().split('\r\n').length, rows.length, 'nobody registered twice');

    await withServer({ dataDir: t.dir }, async (srv) => {
      const admin = addUser(srv.dataDir, 'Olu', 'admin');
      const users = (await api(srv, 'GET', '/api/admin/users?q=Demo', { token: admin.token })).json.users;
      assert.equal(users.length, rows.length - 1, 'one user per demo person');
      const list = (await api(srv, 'GET', '/api/programme')).json.sessions;
      const opening = list.find((s) => s.id === 'opening');
      assert.ok(opening, 'the old session was replaced by the demo\'s');
      assert.equal(opening.title, 'Opening plenary');
      // Rebased: the template says -0:15, at the minute the demo ran.
      const start = Date.parse(opening.start);
      assert.ok(start <= before - 14 * MIN && start >= before - 17 * MIN, `opening starts ${opening.start}`);
      const byId = Object.fromEntries(users.map((u) => [u.id, u.name]));
      for (const s of list) for (const sp of s.speakers) assert.ok(byId[sp.id], `${s.id}: ${sp.name} is a demo person`);
      await until(async () => (await ids(srv, '?live=1')).includes('opening'), { what: 'the opening to go live' });
      const next = list.filter((s) => Date.parse(s.start) > Date.now());
      assert.ok(next.length > 0, 'something is next');
      assert.deepEqual([...new Set(list.map((s) => s.room))].sort(),
        ['breakout-1', 'breakout-2', 'breakout-3', 'expo', 'lobby', 'plenary']);
      assert.ok(list.find((s) => s.captioners.length > 0), 'a session has a captioner');
    });
  } finally {
    t.remove();
  }
});

/* ---- The API ------------------------------------------------------------- */

test('POST /api/admin/programme: admins only; 400 naming the session and field, and nothing imported', async () => {
  await withProgramme({}, async (srv, p) => {
    const first = (await api(srv, 'GET', '/api/programme')).json;
    const bad = programme(p);
    bad.sessions[1].end = '2026-13-45T99:00:00Z';
    for (const who of [null, p.attendee, p.moderator]) {
      const r = await api(srv, 'POST', '/api/admin/programme', { token: who?.token ?? null, body: bad });
      assert.equal(r.status, who ? 403 : 401);
    }
    let r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: bad });
    assert.ok(isError(r, 400, 'bad_request'), r.text);
    assert.match(r.json.error.message, /^sessions\[1\] \(keynote\)\.end: /);
    assert.equal(r.json.error.field, 'sessions[1].end');

    const overlap = programme(p);
    overlap.sessions[2].room = 'plenary';
    overlap.sessions[2].start = overlap.sessions[1].start;
    r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: overlap });
    assert.ok(isError(r, 400, 'bad_request'), r.text);
    assert.match(r.json.error.message, /overlap/);
    assert.match(r.json.error.field, /^sessions\[\d\]\./);

    r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: '{"sessions":[' });
    assert.ok(isError(r, 400, 'bad_request'));
    assert.equal(r.json.error.field, 'body');

    const room = programme(p);
    room.sessions[0].room = 'attic';
    r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: room });
    assert.ok(isError(r, 400, 'bad_request'));
    assert.match(r.json.error.field, /^sessions\[\d\]\.room$/);

    // Nothing of any of it was imported.
    assert.deepEqual((await api(srv, 'GET', '/api/programme')).json, first);

    // Audited, once.
    const audit = (await api(srv, 'GET', '/api/admin/audit', { token: p.admin.token })).json.entries;
    assert.deepEqual(audit.filter((e) => e.action === 'programme').map((e) => e.reason), ['4 sessions']);

    // The admin list carries the questions.
    r = await api(srv, 'GET', '/api/admin/programme', { token: p.admin.token });
    assert.equal(r.status, 200);
    assert.ok(r.json.sessions.every((s) => Array.isArray(s.questions)));
    assert.equal((await api(srv, 'GET', '/api/admin/programme')).status, 401);
    assert.equal((await api(srv, 'PUT', '/api/admin/programme', { token: p.admin.token, body: {} })).status, 405);

    // A replacement that drops a session.
    const fewer = programme(p);
    fewer.sessions.pop();
    r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: fewer });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { sessions: 3 });
    assert.deepEqual(await ids(srv), ['opening', 'keynote', 'breakout']);
  });
});

test('GET /api/programme: the session objects and the room, live and day filters', async () => {
  await withProgramme({}, async (srv, p) => {
    const r = await api(srv, 'GET', '/api/programme');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const o = r.json.sessions[0];
    assert.deepEqual(Object.keys(o).sort(), ['captioners', 'description', 'end', 'id', 'moderators', 'room', 'slides', 'speakers', 'start', 'state', 'title']);
    assert.equal(o.state, 'live');
    assert.deepEqual(o.speakers, [{ id: p.speaker.id, name: 'Sam Speaker' }]);
    assert.deepEqual(o.moderators, [{ id: p.moderator.id, name: 'Mo Moderator' }]);
    assert.equal(o.slides, null);
    assert.equal(r.json.sessions[1].state, 'scheduled');

    assert.deepEqual(await ids(srv, '?room=plenary'), ['opening', 'keynote']);
    assert.deepEqual(await ids(srv, '?room=lobby'), []);
    assert.deepEqual(await ids(srv, '?live=1'), ['opening']);
    assert.deepEqual(await ids(srv, '?live=1&room=breakout-1'), []);
    assert.deepEqual(await ids(srv, '?day=2030-01-15'), ['future']);
    assert.deepEqual(await ids(srv, '?day=2030-01-16'), []);
    const today = new Date().toISOString().slice(0, 10);
    assert.ok((await ids(srv, `?day=${today}`)).includes('opening'));

    for (const [q, field] of [['?day=2030-02-30', 'day'], ['?day=tomorrow', 'day'], ['?live=true', 'live'],
      ['?room=attic', 'room'], ['?room=', 'room'], ['?colour=red', 'colour'], ['?live=1&live=1', 'live']]) {
      const e = await api(srv, 'GET', `/api/programme${q}`);
      assert.ok(isError(e, 400, 'bad_request'), `${q}: ${e.status} ${e.text}`);
      assert.equal(e.json.error.field, field, q);
    }
    const long = await api(srv, 'GET', `/api/programme?room=${'x'.repeat(600)}`);
    assert.equal(long.status, 400);
    assert.equal((await api(srv, 'POST', '/api/programme', { body: {} })).status, 405);
  });
});

/* ---- Slides -------------------------------------------------------------- */

async function upload(srv, id, body, token, headers = {}) {
  return api(srv, 'POST', `/api/sessions/${id}/slides`, { token, body, headers: { 'content-type': 'application/pdf', ...headers } });
}

test('slides: upload, served back, versioned; a client in the room hears `slides`', async () => {
  await withProgramme({}, async (srv, p) => {
    const c = await srv.connect();
    await c.hello('Watcher');
    await c.join('plenary');

    assert.ok(isError(await api(srv, 'GET', '/api/sessions/opening/slides'), 404, 'not_found'));
    const deck = makePdf(3);
    let r = await upload(srv, 'opening', deck, p.speaker.token);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { pages: 3, url: '/api/sessions/opening/slides?v=1' });
    const m = await c.next('slides', { timeout: 3000, filter: (x) => x.session === 'opening' });
    assert.equal(m.pages, 3);
    assert.equal(m.page, 1);
    assert.equal(m.room, 'plenary');
    assert.equal(m.url, '/api/sessions/opening/slides?v=1');

    const got = await fetch(`${srv.url}${r.json.url}`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/pdf');
    assert.match(got.headers.get('cache-control'), /immutable/);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(deck), 'the same bytes');
    const plain = await fetch(`${srv.url}/api/sessions/opening/slides`);
    assert.equal(plain.headers.get('cache-control'), 'no-cache');
    await plain.arrayBuffer();
    const head = await fetch(`${srv.url}/api/sessions/opening/slides`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), deck.length);

    // The moderator uploads a new deck: version 2; the list shows it; the old file is gone.
    const deck2 = makePdf(7, { title: 'Second' });
    r = await upload(srv, 'opening', deck2, p.moderator.token);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.url, '/api/sessions/opening/slides?v=2');
    await c.next('slides', { filter: (x) => x.url.endsWith('v=2') && x.pages === 7 });
    const o = (await api(srv, 'GET', '/api/programme?room=plenary')).json.sessions[0];
    assert.deepEqual(o.slides, { pages: 7, page: 1, url: '/api/sessions/opening/slides?v=2' });
    const again = await fetch(`${srv.url}/api/sessions/opening/slides?v=1`);
    assert.equal(again.headers.get('cache-control'), 'no-cache', 'an old version is the current deck, not to keep');
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(deck2));
    assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'slides')), ['opening-2.pdf']);

    // An admin may upload to any session; the audit says who did.
    r = await upload(srv, 'future', makePdf(1), p.admin.token);
    assert.equal(r.status, 200, r.text);
    const audit = (await api(srv, 'GET', '/api/admin/audit', { token: p.admin.token })).json.entries;
    assert.deepEqual(audit.filter((e) => e.action === 'slides').map((e) => [e.actor_name, e.room]),
      [['Olu Organiser', 'expo'], ['Mo Moderator', 'plenary'], ['Sam Speaker', 'plenary']]);
    assert.equal((await api(srv, 'PUT', '/api/sessions/opening/slides', { body: 'x' })).status, 405);
  });
});

test('slides: who may upload (401, 403, 404) and what is refused (415, 400, 413)', async () => {
  await withProgramme({ 'slides-pages': 20, 'slides-max': 200000 }, async (srv, p) => {
    const deck = makePdf(2);
    let r = await upload(srv, 'opening', deck, null);
    assert.ok(isError(r, 401, 'unauthorized'), r.text);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.ok(isError(await upload(srv, 'opening', deck, '0'.repeat(32)), 401, 'unauthorized'));
    r = await upload(srv, 'opening', deck, p.attendee.token);
    assert.ok(isError(r, 403, 'forbidden'), r.text);
    assert.match(r.json.error.message, /speakers and moderators/);
    assert.ok(isError(await upload(srv, 'breakout', deck, p.speaker.token), 403, 'forbidden'), 'a speaker of another session');
    assert.ok(isError(await upload(srv, 'nothing', deck, p.admin.token), 404, 'not_found'));

    // Checked by its bytes, whatever its name and type say.
    r = await upload(srv, 'opening', Buffer.from('<!doctype html><title>deck.pdf</title>'), p.speaker.token,
      { 'content-disposition': 'attachment; filename="deck.pdf"' });
    assert.ok(isError(r, 415, 'unsupported_media_type'), r.text);
    assert.match(r.json.error.message, /%PDF-/);
    r = await upload(srv, 'opening', Buffer.from('just text'), p.speaker.token, { 'content-type': 'text/plain' });
    assert.ok(isError(r, 415, 'unsupported_media_type'));
    r = await upload(srv, 'opening', deck.subarray(0, deck.length - 50), p.speaker.token);
    assert.ok(isError(r, 415, 'unsupported_media_type'), r.text);
    assert.match(r.json.error.message, /not a PDF that can be read: .+/);
    assert.ok(!r.text.includes(srv.dataDir), 'no server path in the message');
    r = await upload(srv, 'opening', Buffer.alloc(0), p.speaker.token);
    assert.ok(isError(r, 400, 'bad_request'));
    r = await upload(srv, 'opening', makePdf(21), p.speaker.token);
    assert.ok(isError(r, 400, 'bad_request'), r.text);
    assert.match(r.json.error.message, /21 pages.*1 to 20/);
    r = await upload(srv, 'opening', makePdf(20, { padding: 10500 }), p.speaker.token);
    assert.ok(isError(r, 413, 'too_large'), r.text);
    assert.match(r.json.error.message, /--slides-max/);

    // None of it left a file or changed the session.
    assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'slides')), []);
    assert.equal((await api(srv, 'GET', '/api/programme?room=plenary')).json.sessions[0].slides, null);
    assert.equal((await upload(srv, 'opening', makePdf(20), p.speaker.token)).status, 200, 'at the page limit');
  });
});

/* Send raw bytes on a new connection; resolve with what came back once
 * the server closes it (or after ms). */
async function raw(srv, text, { ms = 3000 } = {}) {
  const s = net.connect(srv.port, '127.0.0.1');
  await once(s, 'connect');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  s.write(text);
  await Promise.race([once(s, 'close'), sleep(ms)]);
  s.destroy();
  return got;
}

test('slides: a huge body is refused at once; at most 4 uploads at a time (503), the places come back', async () => {
  await withProgramme({}, async (srv, p) => {
    const head = (token, len) => `POST /api/sessions/opening/slides HTTP/1.1\r\nHost: x\r\n` +
      (token ? `Authorization: Bearer ${token}\r\n` : '') + `Content-Length: ${len}\r\n\r\n`;
    // 30 MB declared: the answer comes without reading it, and the connection closes.
    let got = await raw(srv, head(p.speaker.token, 30000000));
    assert.match(got, /^HTTP\/1\.1 413/);
    assert.match(got, /--slides-max/);
    got = await raw(srv, head(null, 30000000));
    assert.match(got, /^HTTP\/1\.1 401/, 'who asks comes first');
    got = await raw(srv, head(p.attendee.token, 30000000));
    assert.match(got, /^HTTP\/1\.1 403/);

    // Four uploads that send their headers and a little, then wait.
    const held = [];
    for (let i = 0; i < 4; i++) {
      const s = net.connect(srv.port, '127.0.0.1');
      await once(s, 'connect');
      s.write(head(p.speaker.token, 100000) + '%PDF-1.4\n');
      held.push(s);
    }
    await sleep(300);
    const r = await upload(srv, 'opening', makePdf(1), p.speaker.token);
    assert.ok(isError(r, 503, 'busy'), r.text);
    assert.equal(r.headers.get('retry-after'), '1');
    const tmp = fs.readdirSync(path.join(srv.dataDir, 'slides'));
    assert.equal(tmp.length, 4, `one temporary file per upload: ${tmp}`);
    for (const s of held) s.destroy();
    await until(async () => (await upload(srv, 'opening', makePdf(1), p.speaker.token)).status === 200,
      { timeout: 5000, what: 'an upload place to come back' });
    assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'slides')), ['opening-1.pdf'], 'the broken uploads left nothing');
  });
});

test('slides: the deck and its version survive a restart; a deck nobody shows is swept', async () => {
  const srv = new Server();
  try {
    await srv.start();
    const p = people(srv.dataDir);
    let r = await api(srv, 'POST', '/api/admin/programme', { token: p.admin.token, body: programme(p) });
    assert.equal(r.status, 200, r.text);
    r = await upload(srv, 'keynote', makePdf(4), p.speaker.token);
    assert.equal(r.status, 200, r.text);
    fs.writeFileSync(path.join(srv.dataDir, 'slides', 'keynote-1.pdf.stale'), 'x');
    fs.writeFileSync(path.join(srv.dataDir, 'slides', 'gone-3.pdf'), '%PDF-');
    fs.writeFileSync(path.join(srv.dataDir, 'slides', '.upload-zzzzzz'), '%PDF-');
    await srv.restart();
    const k = (await api(srv, 'GET', '/api/programme?room=plenary')).json.sessions.find((s) => s.id === 'keynote');
    assert.deepEqual(k.slides, { pages: 4, page: 1, url: '/api/sessions/keynote/slides?v=1' });
    assert.equal((await fetch(`${srv.url}/api/sessions/keynote/slides?v=1`)).status, 200);
    assert.deepEqual(fs.readdirSync(path.join(srv.dataDir, 'slides')).sort(), ['keynote-1.pdf', 'keynote-1.pdf.stale']);
  } finally {
    const r = await srv.cleanup();
    assert.equal(r.code, 0, srv.log.slice(-2000));
  }
});
