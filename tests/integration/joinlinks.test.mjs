/*
 * Join links (issue "An attendee's first ten minutes"): `venued user add`
 * makes links for the port the server really uses and says which base it
 * assumed, and GET /api/me tells a join link's token's registered name
 * (never the token), rate-limited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { withServer, VENUED_BIN } from './harness.mjs';

/* `venued user add` on a data folder, without the test's VENUE_* settings. */
function userAdd(dataDir, name, extra = []) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE_')));
  const r = spawnSync(VENUED_BIN, ['user', 'add', '--data', dataDir, '--name', name, '--role', 'attendee', ...extra],
    { env, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  return { out: JSON.parse(r.stdout.trim().split('\n')[0]), err: r.stderr };
}

test('user add before venued ever ran: says which base URL it assumed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-links-'));
  try {
    const { out, err } = userAdd(dir, 'Early Bird');
    assert.match(out.link, /^http:\/\/localhost:8080\/\?token=/);
    assert.match(err, /join links assume http:\/\/localhost:8080 .*--public-url/);
    const given = userAdd(dir, 'Given Url', ['--public-url', 'https://venue.example.org']);
    assert.match(given.out.link, /^https:\/\/venue\.example\.org\/\?token=/);
    assert.doesNotMatch(given.err, /assume/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('user add after venued ran on the data folder: the link has the server\'s port', async () => {
  await withServer({}, async (srv) => {
    const { out, err } = userAdd(srv.dataDir, 'Port Checker');
    assert.ok(srv.port !== 8080);
    assert.equal(out.link, `http://localhost:${srv.port}/?token=${out.token}`);
    assert.match(err, new RegExp(`join links use http://localhost:${srv.port}, where venued last ran`));
  });
});

test('GET /api/me: the registered name for a token, never the token; 401 otherwise; rate-limited', async () => {
  await withServer({}, async (srv) => {
    const { out } = userAdd(srv.dataDir, 'Rosa <Registered>');
    let r = await fetch(`${srv.url}/api/me`, { headers: { Authorization: `Bearer ${out.token}` } });
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.deepEqual(JSON.parse(text), { name: 'Rosa <Registered>', role: 'attendee' });
    assert.ok(!text.includes(out.token), 'the token is not echoed');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    r = await fetch(`${srv.url}/api/me`);
    assert.equal(r.status, 401);
    assert.match((await r.json()).error.message, /Authorization: Bearer/);
    r = await fetch(`${srv.url}/api/me`, { headers: { Authorization: `Bearer ${'f'.repeat(32)}` } });
    assert.equal(r.status, 401);
    assert.match((await r.json()).error.message, /unknown, expired or revoked/);
    /* a burst of guesses meets the bucket */
    const statuses = await Promise.all(Array.from({ length: 30 }, () =>
      fetch(`${srv.url}/api/me`, { headers: { Authorization: `Bearer ${'e'.repeat(32)}` } }).then((x) => x.status)));
    assert.ok(statuses.includes(429), `some refused: ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s === 401).length <= 11, 'at most a second\'s worth looked up');
  });
});
