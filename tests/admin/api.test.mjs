// The admin HTTP API: bearer tokens (401/403), users (list, search,
// register, revoke), CSV import, the audit log, presence, and the HTTP
// details around them (405, 413, JSON errors).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from '../integration/harness.mjs';
import { addUser, api, isError, HEX32, USER_ID } from './lib.mjs';

/* A server with an admin and an attendee registered before it starts. */
async function withAdmin(body) {
  await withServer({}, async (srv) => {
    const admin = addUser(srv.dataDir, 'Organiser', 'admin');
    const attendee = addUser(srv.dataDir, 'Visitor', 'attendee');
    const moderator = addUser(srv.dataDir, 'Mod', 'moderator');
    await body(srv, { admin, attendee, moderator });
    // Whatever a test did, no token ever reaches the log.
    for (const m of srv.log.matchAll(/[0-9a-f]{32}/g)) assert.fail(`a token-like string in the log: ${m[0]}`);
  });
}

const ADMIN_PATHS = [
  ['GET', '/api/admin/users'],
  ['POST', '/api/admin/users'],
  ['POST', '/api/admin/users/import'],
  ['GET', '/api/admin/users/u-0000000000000000'],
  ['DELETE', '/api/admin/users/u-0000000000000000'],
  ['GET', '/api/admin/audit'],
  ['GET', '/api/admin/presence'],
  ['GET', '/api/admin/nothing-here'],
];

test('no token or a wrong one: 401 with WWW-Authenticate; a non-admin: 403', async () => {
  await withAdmin(async (srv, { admin, attendee, moderator }) => {
    for (const [method, p] of ADMIN_PATHS) {
      const body = method === 'POST' ? { name: 'X', role: 'guest' } : undefined;
      const none = await api(srv, method, p, { body });
      assert.ok(isError(none, 401, 'unauthorized'), `${method} ${p} without a token: ${none.status} ${none.text}`);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(none.headers.get('cache-control'), 'no-store');

      const wrong = await api(srv, method, p, { token: '0'.repeat(32), body });
      assert.ok(isError(wrong, 401, 'unauthorized'), `${method} ${p} wrong token: ${wrong.status}`);
      const junk = await api(srv, method, p, { token: 'x', body });
      assert.ok(isError(junk, 401, 'unauthorized'), `${method} ${p} junk token: ${junk.status}`);
      const basic = await api(srv, method, p, { headers: { authorization: `Basic ${admin.token}` }, body });
      assert.ok(isError(basic, 401, 'unauthorized'), `${method} ${p} Basic: ${basic.status}`);

      for (const who of [attendee, moderator]) {
        const r = await api(srv, method, p, { token: who.token, body });
        assert.ok(isError(r, 403, 'forbidden'), `${method} ${p} as ${who.role}: ${r.status} ${r.text}`);
      }
    }
    const ok = await api(srv, 'GET', '/api/admin/users', { token: admin.token });
    assert.equal(ok.status, 200);
    // The scheme is case-insensitive and spaces around the token do not matter.
    const lower = await api(srv, 'GET', '/api/admin/users', { headers: { authorization: `bearer   ${admin.token} ` } });
    assert.equal(lower.status, 200);
    // An unknown admin path is 404 once authenticated.
    assert.ok(isError(await api(srv, 'GET', '/api/admin/nothing-here', { token: admin.token }), 404, 'not_found'));
  });
});

test('GET /api/admin/users lists registered users, searchable, never with tokens', async () => {
  await withAdmin(async (srv, { admin, attendee }) => {
    // A guest on the WebSocket is not a registered user.
    const c = await srv.connect();
    await c.enter('lobby', 'Walk-in');
    const r = await api(srv, 'GET', '/api/admin/users', { token: admin.token });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /json/);
    const users = r.json.users;
    assert.deepEqual(users.map((u) => u.name).sort(), ['Mod', 'Organiser', 'Visitor']);
    for (const u of users) {
      assert.deepEqual(Object.keys(u).sort(), ['created_ms', 'id', 'last_seen_ms', 'name', 'org', 'revoked', 'role']);
      assert.match(u.id, USER_ID);
    }
    assert.ok(!r.text.includes(admin.token) && !r.text.includes(attendee.token), 'no token in the list');
    const me = users.find((u) => u.id === admin.id);
    assert.ok(me.last_seen_ms > 0, 'using a token counts as being seen');

    const s = await api(srv, 'GET', '/api/admin/users?q=visit', { token: admin.token });
    assert.deepEqual(s.json.users.map((u) => u.name), ['Visitor']);
    const none = await api(srv, 'GET', '/api/admin/users?q=%25', { token: admin.token });
    assert.deepEqual(none.json.users, [], '% is not a wildcard');
    const lim = await api(srv, 'GET', '/api/admin/users?limit=1', { token: admin.token });
    assert.equal(lim.json.users.length, 1);
    const bad = await api(srv, 'GET', '/api/admin/users?limit=0', { token: admin.token });
    assert.ok(isError(bad, 400, 'bad_request'));
    assert.equal(bad.json.error.field, 'limit');
    const one = await api(srv, 'GET', `/api/admin/users/${attendee.id}`, { token: admin.token });
    assert.equal(one.status, 200);
    assert.equal(one.json.name, 'Visitor');
    assert.ok(isError(await api(srv, 'GET', '/api/admin/users/u-0000000000000000', { token: admin.token }), 404, 'not_found'));
  });
});

test('POST /api/admin/users registers: 201 with the CLI\'s object; the token works', async () => {
  await withAdmin(async (srv, { admin }) => {
    const r = await api(srv, 'POST', '/api/admin/users', {
      token: admin.token, body: { name: 'New "Speaker", Esq.', role: 'admin', org: 'Ghent', expires_days: 30 },
    });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.json).sort(), ['id', 'link', 'name', 'org', 'role', 'token']);
    assert.match(r.json.id, USER_ID);
    assert.match(r.json.token, HEX32);
    assert.equal(r.json.name, 'New "Speaker", Esq.');
    assert.equal(r.json.org, 'Ghent');
    assert.equal(r.json.link, `http://localhost:${srv.port}/?token=${r.json.token}`);
    // The new admin's token is accepted.
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: r.json.token })).status, 200);
    // org is optional; null counts as absent.
    const m = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'Min', role: 'guest', org: null } });
    assert.equal(m.status, 201);
    assert.equal(m.json.org, '');
    // Bidi overrides are left out of the name and organisation, as at the join screen.
    const b = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: '\u03A9\u202Eevil', role: 'guest', org: '\u2067Org' } });
    assert.equal(b.status, 201, b.text);
    assert.equal(b.json.name, '\u03A9evil');
    assert.equal(b.json.org, 'Org');
  });
});

test('POST /api/admin/users: a bad body is 400 naming the field', async () => {
  await withAdmin(async (srv, { admin }) => {
    const cases = [
      [{ role: 'guest' }, 'name', /name: required/],
      [{ name: 'X' }, 'role', /role: required/],
      [{ name: 'X', role: 'boss' }, 'role', /role: "boss" is not one of guest, attendee, speaker, moderator, admin/],
      [{ name: 'X', role: 'Admin' }, 'role', /not one of/],
      [{ name: 42, role: 'guest' }, 'name', /name: must be a string/],
      [{ name: '', role: 'guest' }, 'name', /name: must not be empty/],
      [{ name: '   ', role: 'guest' }, 'name', /name: must not be blank/],
      [{ name: 'x'.repeat(65), role: 'guest' }, 'name', /name: must be 1\.\.64 characters/],
      [{ name: 'a\nb', role: 'guest' }, 'name', /control character \(U\+000A\)/],
      // jansson refuses \u0000 while parsing: the body is what is wrong.
      [{ name: 'a\u0000b', role: 'guest' }, 'body', /body: not valid JSON/],
      [{ name: 'X', role: 'guest', org: 7 }, 'org', /org: must be a string/],
      [{ name: 'X', role: 'guest', org: 'o'.repeat(129) }, 'org', /org: must be at most 128 characters/],
      [{ name: 'X', role: 'guest', expires_days: 0 }, 'expires_days', /expires_days/],
      [{ name: 'X', role: 'guest', expires_days: 1.5 }, 'expires_days', /expires_days/],
      [{ name: 'X', role: 'guest', organisation: 'O' }, 'organisation', /organisation: unknown field/],
      [[1, 2], 'body', /body: must be an object/],
    ];
    for (const [body, field, re] of cases) {
      const r = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body });
      assert.ok(isError(r, 400, 'bad_request'), `${JSON.stringify(body)}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.field, field, JSON.stringify(body));
      assert.match(r.json.error.message, re, JSON.stringify(body));
    }
    for (const raw of ['', 'nope', '{"name":"X","role":"guest"', '{"name":"X","name":"Y","role":"guest"}']) {
      const r = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: raw, headers: { 'content-type': 'application/json' } });
      assert.ok(isError(r, 400, 'bad_request'), `${JSON.stringify(raw)}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.field, 'body');
    }
    // Over 64 KiB: 413, and the connection still answers afterwards.
    const big = JSON.stringify({ name: 'X', role: 'guest', org: 'o'.repeat(70000) });
    const r = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: big });
    assert.ok(isError(r, 413, 'too_large'), `${r.status} ${r.text}`);
    // Nothing of it was registered.
    const users = (await api(srv, 'GET', '/api/admin/users', { token: admin.token })).json.users;
    assert.equal(users.length, 3);
  });
});

test('DELETE /api/admin/users/{id} revokes: the token stops working; 404 unknown; not yourself', async () => {
  await withAdmin(async (srv, { admin }) => {
    const second = (await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'Deputy', role: 'admin' } })).json;
    assert.equal((await api(srv, 'GET', '/api/admin/presence', { token: second.token })).status, 200);
    const r = await api(srv, 'DELETE', `/api/admin/users/${second.id}`, { token: admin.token });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { ok: true });
    assert.ok(isError(await api(srv, 'GET', '/api/admin/presence', { token: second.token }), 401, 'unauthorized'));
    const listed = (await api(srv, 'GET', '/api/admin/users?q=Deputy', { token: admin.token })).json.users[0];
    assert.equal(listed.revoked, true);
    assert.ok(isError(await api(srv, 'DELETE', '/api/admin/users/u-0000000000000000', { token: admin.token }), 404, 'not_found'));
    assert.ok(isError(await api(srv, 'DELETE', `/api/admin/users/${'x'.repeat(300)}`, { token: admin.token }), 404, 'not_found'));
    const self = await api(srv, 'DELETE', `/api/admin/users/${admin.id}`, { token: admin.token });
    assert.ok(isError(self, 403, 'forbidden'));
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: admin.token })).status, 200);
  });
});

test('POST /api/admin/users/import: CSV in, users and tokens out; a bad row refuses it all', async () => {
  await withAdmin(async (srv, { admin }) => {
    const csv = '\uFEFFname,organisation,role\r\n"Smith, Jane","ACME ""Best""",speaker\r\nBob,,attendee\r\n';
    const r = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.count, 2);
    assert.deepEqual(r.json.users.map((u) => [u.name, u.org, u.role]), [['Smith, Jane', 'ACME "Best"', 'speaker'], ['Bob', '', 'attendee']]);
    for (const u of r.json.users) {
      assert.match(u.id, USER_ID);
      assert.match(u.token, HEX32);
      assert.equal(u.link, `http://localhost:${srv.port}/?token=${u.token}`);
    }
    const before = (await api(srv, 'GET', '/api/admin/users', { token: admin.token })).json.users.length;
    const bad = 'Ann,Org,guest\nBen,Org,boss\n';
    const b = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: bad });
    assert.ok(isError(b, 400, 'bad_request'), b.text);
    assert.equal(b.json.error.line, 2);
    assert.match(b.json.error.message, /^line 2: role: "boss" is not one of guest, attendee, speaker, moderator, admin$/);
    const e = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: '' });
    assert.ok(isError(e, 400, 'bad_request'));
    const after = (await api(srv, 'GET', '/api/admin/users', { token: admin.token })).json.users.length;
    assert.equal(after, before, 'nothing registered from the bad list');
    // Over 2 MiB: 413.
    const huge = 'n,o,guest\n'.repeat(220000);
    const h = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: huge });
    assert.ok(isError(h, 413, 'too_large'), `${h.status}`);
    // Unauthenticated bodies are not read into memory but answered 401.
    const u = await api(srv, 'POST', '/api/admin/users/import', { body: huge });
    assert.ok(isError(u, 401, 'unauthorized'));
  });
});

test('GET /api/admin/audit: entries with their fields; filters checked; admin actions recorded', async () => {
  await withAdmin(async (srv, { admin, attendee }) => {
    const t0 = Date.now();
    const added = (await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'Audited', role: 'guest' } })).json;
    await api(srv, 'DELETE', `/api/admin/users/${added.id}`, { token: admin.token });
    const r = await api(srv, 'GET', '/api/admin/audit', { token: admin.token });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json.entries));
    const [rev, reg] = r.json.entries; // newest first
    for (const e of [rev, reg]) {
      assert.deepEqual(Object.keys(e).sort(), ['action', 'actor_id', 'actor_name', 'detail', 'id', 'reason', 'room', 'target_id', 'target_name', 'ts_ms']);
      assert.equal(e.target_name, 'Audited', 'the target by name, not just its id');
      assert.equal(e.detail, null);
      assert.equal(e.actor_id, admin.id);
      assert.equal(e.actor_name, 'Organiser');
      assert.equal(e.target_id, added.id);
      assert.equal(e.room, null);
      assert.ok(e.ts_ms >= t0 - 1000 && e.ts_ms <= Date.now() + 1000);
    }
    assert.equal(rev.action, 'user.revoke');
    assert.equal(reg.action, 'user.register');
    assert.ok(rev.id > reg.id);
    // Filters.
    assert.equal((await api(srv, 'GET', `/api/admin/audit?actor=${admin.id}`, { token: admin.token })).json.entries.length, 2);
    assert.deepEqual((await api(srv, 'GET', `/api/admin/audit?actor=${attendee.id}`, { token: admin.token })).json.entries, []);
    assert.deepEqual((await api(srv, 'GET', '/api/admin/audit?room=lobby', { token: admin.token })).json.entries, []);
    assert.deepEqual((await api(srv, 'GET', `/api/admin/audit?since=${Date.now() + 60000}`, { token: admin.token })).json.entries, []);
    assert.equal((await api(srv, 'GET', '/api/admin/audit?limit=1', { token: admin.token })).json.entries.length, 1);
    for (const q of ['since=abc', 'since=-1', 'limit=0', 'limit=100000']) {
      const bad = await api(srv, 'GET', `/api/admin/audit?${q}`, { token: admin.token });
      assert.ok(isError(bad, 400, 'bad_request'), q);
      assert.equal(bad.json.error.field, q.split('=')[0]);
    }
    assert.ok(isError(await api(srv, 'GET', '/api/admin/audit', { token: attendee.token }), 403, 'forbidden'));
  });
});

test('GET /api/admin/presence: who is in which room right now', async () => {
  await withAdmin(async (srv, { admin }) => {
    const a = await srv.connect();
    await a.enter('expo', 'Ada');
    const b = await srv.connect();
    await b.hello('Nowhere Ned');
    const r = await api(srv, 'GET', '/api/admin/presence', { token: admin.token });
    assert.equal(r.status, 200);
    assert.ok(Array.isArray(r.json.rooms) && Array.isArray(r.json.lobbyless));
    const expo = r.json.rooms.find((x) => x.id === 'expo');
    assert.ok(expo && typeof expo.name === 'string');
    assert.deepEqual(expo.users.map((u) => u.name), ['Ada']);
    for (const k of ['id', 'name', 'role', 'status', 'hand', 'connected']) assert.ok(k in expo.users[0], k);
    assert.deepEqual(r.json.lobbyless.map((u) => u.name), ['Nowhere Ned']);
    assert.ok(!/"p"|"q"|pose/.test(r.text), 'no positions in presence');
  });
});

test('HTTP around it: 405 with Allow, HEAD, public routes unchanged, escaped errors', async () => {
  await withAdmin(async (srv, { admin }) => {
    const put = await api(srv, 'PUT', '/api/admin/users', { token: admin.token, body: 'x' });
    assert.ok(isError(put, 405, 'method_not_allowed'));
    assert.equal(put.headers.get('allow'), 'GET, POST');
    const delAudit = await api(srv, 'DELETE', '/api/admin/audit', { token: admin.token });
    assert.equal(delAudit.status, 405);
    assert.equal(delAudit.headers.get('allow'), 'GET');
    const post = await api(srv, 'POST', '/healthz', { body: 'x' });
    assert.ok(isError(post, 405, 'method_not_allowed'));
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await api(srv, 'DELETE', '/api/venue')).status, 405);
    assert.ok(isError(await api(srv, 'POST', '/no/such/thing', { body: 'x' }), 404, 'not_found'));
    const head = await api(srv, 'HEAD', '/healthz');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers.get('content-length'), '11');
    // The public routes as before, on the same keep-alive connection.
    assert.deepEqual((await srv.getJSON('/healthz')).json, { ok: true });
    assert.equal((await srv.getJSON('/api/venue')).status, 200);
    const scene = await srv.get('/api/scenes/lobby');
    assert.equal(scene.status, 200);
    assert.equal((await srv.get('/api/scenes/lobby', { 'If-None-Match': scene.headers.get('etag') })).status, 304);
    assert.ok(isError(await api(srv, 'GET', '/api/scenes/%22%5C%0A'), 404, 'not_found'), 'escaped error body is JSON');
    assert.equal((await srv.get('/metrics')).status, 200);
    // A role value with quotes and backslashes comes back as valid JSON.
    const odd = await api(srv, 'POST', '/api/admin/users', { token: admin.token, body: { name: 'X', role: 'a"b\\c' } });
    assert.ok(isError(odd, 400, 'bad_request'));
    assert.match(odd.json.error.message, /"a"b\\c"/);
  });
});
