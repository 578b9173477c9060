/*
 * A full disk (issue 14): venued runs on a small tmpfs of its own, the
 * test fills it, and registered people must still get in; the outage is
 * logged once and shown in /healthz and /metrics, and when space returns
 * writes work again with nothing to restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Server, until, metricSum } from './harness.mjs';
import { addUser, api, tempDir } from '../admin/lib.mjs';

/* Write zeros into file until the disk says ENOSPC (bounded by its size). */
function fill(file, maxBytes) {
  const chunk = Buffer.alloc(64 * 1024);
  const fd = fs.openSync(file, 'w');
  let written = 0;
  try {
    while (written < maxBytes) written += fs.writeSync(fd, chunk);
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  assert.ok(written < maxBytes, 'the disk filled up');
}

async function health(srv) {
  return JSON.parse((await srv.get('/healthz')).body);
}

async function failing(srv) {
  return metricSum((await srv.metrics()).samples, 'venue_storage_failing');
}

/* Hello with a token: the welcome's user, or the close that refused it. */
async function helloWith(srv, token) {
  const c = await srv.connect();
  try {
    return { user: (await c.hello('ignored', { token })).user };
  } catch (err) {
    return { refused: String(err) };
  } finally {
    c.close();
  }
}

test('on a full disk registered people still get in, the outage is shown, and writes come back with space', async () => {
  const data = tempDir();
  const admin = addUser(data.dir, 'Organiser', 'admin');
  const mod = addUser(data.dir, 'Mod Erator', 'moderator');
  const guestName = 'Walk-in';
  const srv = new Server({ dataDir: data.dir, diskLimit: '6m' });
  await srv.start();
  try {
    const disk = srv.diskPath;

    assert.deepEqual(await health(srv), { ok: true });
    assert.equal(await failing(srv), 0);

    fill(path.join(disk, 'filler'), 8 * 1024 * 1024);
    // A write that needs room: an import of 2,000 people is refused, said
    // as a server error, and the outage begins.
    const rows = Array.from({ length: 2000 }, (_, i) => `Person ${i},Org ${'x'.repeat(100)},attendee`).join('\n');
    const imp = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: rows, headers: { 'content-type': 'text/csv' } });
    assert.equal(imp.status, 500, imp.text);
    await until(async () => (await health(srv)).storage === 'failing', { what: '/healthz to say storage failing' });
    const h = await health(srv);
    assert.equal(h.ok, true, 'the venue still serves');
    assert.match(h.storage_reason, /full/);
    assert.ok(Math.abs(h.storage_failing_since - Date.now() / 1000) < 60, `since ${h.storage_failing_since}`);
    assert.equal(await failing(srv), 1);
    assert.ok(metricSum((await srv.metrics()).samples, 'venue_storage_write_failures_total') >= 1);

    // The finding: every registered person was refused (4001) on a full disk.
    for (let i = 0; i < 3; i++) {
      const r = await helloWith(srv, mod.token);
      assert.equal(r.user?.role, 'moderator', `hello ${i} with a valid token on a full disk: ${r.refused}`);
      assert.equal(r.user.id, mod.id);
    }
    const g = await srv.connect();
    await g.enter('lobby', guestName);
    g.close();
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: admin.token })).status, 200, 'the admin API reads on');
    const seen = async () => (await api(srv, 'GET', `/api/admin/users/${mod.id}`, { token: admin.token })).json.last_seen_ms;
    const seenInOutage = await seen();
    const outages = srv.log.match(/database: .*writes fail until it is back/g) ?? [];
    assert.equal(outages.length, 1, `logged once an outage:\n${srv.log}`);

    // Space returns: the next write works, and says so.
    fs.unlinkSync(path.join(disk, 'filler'));
    const back = await helloWith(srv, mod.token);
    assert.equal(back.user?.role, 'moderator');
    await until(async () => (await health(srv)).storage === undefined, { what: '/healthz to drop storage' });
    assert.equal(await failing(srv), 0);
    assert.match(srv.log, /database: writes work again/);
    const again = await api(srv, 'POST', '/api/admin/users/import', { token: admin.token, body: 'Late Comer,Org,attendee\n' });
    assert.equal(again.status, 201, again.text);
    assert.ok(await seen() > seenInOutage, 'last seen is kept again');
    assert.equal((await srv.stop()).code, 0, srv.log);
  } finally {
    await srv.kill();
    data.remove();
  }
});
