// The server enforcing and serving scenes (issue 3): assets and path
// safety, spawn spreading, clamping to the floor, the speed limit, portals,
// and SIGHUP reloads with a client connected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import net from 'node:net';
import { Server, VENUE_ROOT, VENUED_BIN, freePort, withServer, walk, until, rosterEntry } from './harness.mjs';

const DEMO = path.join(VENUE_ROOT, 'scenes/demo');
const lobbyScene = JSON.parse(fs.readFileSync(path.join(DEMO, 'lobby.json'), 'utf8'));

/* A copy of the demo venue to change under a running server. */
function copyVenue() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-scenes-'));
  fs.cpSync(DEMO, dir, { recursive: true });
  return dir;
}

/* GET with the path sent exactly as written (fetch would normalise ..). */
async function rawGet(port, target) {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  let text = '';
  let whole;
  const done = new Promise((resolve) => { whole = resolve; });
  sock.on('data', (d) => {
    text += d.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const len = Number((text.match(/content-length: *(\d+)/i) || [])[1] ?? NaN);
    if (end >= 0 && text.length - end - 4 >= len) whole();
  });
  sock.on('close', () => whole());
  // libwebsockets drops a request whose path climbs out with .. without
  // answering: give up on those after a moment.
  await Promise.race([done, new Promise((r) => setTimeout(r, 1500))]);
  sock.destroy();
  const status = Number((text.match(/^HTTP\/1\.[01] (\d+)/) || [])[1] || 0);
  return { status, body: text };
}

function myPose(joined, client) {
  return rosterEntry(joined, client.user.id);
}

test('assets are served with their types; nothing outside the folder is', async () => {
  const dir = copyVenue();
  const secret = path.join(path.dirname(dir), `secret-${process.pid}.png`);
  fs.writeFileSync(secret, 'not for you');
  fs.symlinkSync(secret, path.join(dir, 'assets', 'escape.png'));
  try {
    await withServer({ flags: { scenes: dir } }, async (srv) => {
      const glb = await srv.get('/assets/city-block.glb');
      assert.equal(glb.status, 200);
      assert.equal(glb.headers.get('content-type'), 'model/gltf-binary');
      const svg = await srv.get('/assets/programme.svg');
      assert.equal(svg.status, 200);
      assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
      for (const bad of [
        '/assets/escape.png', // a link out of the folder
        '/assets/../lobby.json',
        '/assets/%2e%2e/lobby.json',
        '/assets/..%2flobby.json',
        '/assets/%2e%2e%2f%2e%2e%2fserver%2fmain.c',
        '/assets/assets/../../lobby.json',
        '/assets/nothing-here.glb',
        '/assets/lobby.json.exe',
      ]) {
        const r = await rawGet(srv.port, bad);
        assert.notEqual(r.status, 200, `${bad} must not be served`);
        assert.ok(!String(r.body).includes('not for you'), `${bad} leaked the file outside`);
        assert.ok(!String(r.body).includes('format_version'), `${bad} leaked a scene file`);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(secret, { force: true });
  }
});

test('arrivals are spread over the spawn points, never stacked', async () => {
  await withServer({}, async (srv) => {
    const spots = [];
    for (let i = 0; i < 8; i++) {
      const c = await srv.connect();
      const j = await c.enter('lobby', `arrival-${i}`);
      spots.push(myPose(j, c).p);
    }
    for (let i = 0; i < spots.length; i++) {
      for (let k = 0; k < i; k++) {
        const d = Math.hypot(spots[i][0] - spots[k][0], spots[i][2] - spots[k][2]);
        assert.ok(d >= 0.4, `arrivals ${i} and ${k} only ${d.toFixed(2)} m apart`);
      }
    }
  });
});

test('a pose off the floor is clamped to its edge; a jump is refused', async () => {
  await withServer({}, async (srv) => {
    const a = await srv.connect();
    const b = await srv.connect();
    const ja = await a.enter('lobby', 'walker');
    await b.enter('lobby', 'watcher');
    const start = myPose(ja, a).p;

    // The lobby's south wall is at z = 11.6 (no door there): walking on to
    // z = 12 stops at the wall. (Further out, the step from the held pose
    // grows past the speed limit and is refused as too fast instead.)
    const got = await walk(a, start, [start[0], 0, 12], { speed: 4 });
    assert.equal(got.fixed, 'clamped', `walked from ${start}: ${JSON.stringify(got)}`);
    assert.ok(got.p[2] <= 11.6 + 0.01 && got.p[2] >= 11.0, `clamped to the wall: ${got.p}`);
    // The others see the clamped pose, never the one off the floor.
    await until(() => b.all.some((m) => m.type === 'poses' &&
      m.users.some((u) => u.id === a.user.id && Math.abs(u.p[2] - got.p[2]) < 0.01)),
    { what: 'watcher to see the clamped pose' });
    assert.ok(!b.all.some((m) => m.type === 'poses' && m.users.some((u) => u.id === a.user.id && u.p[2] > 11.61)));

    // 25 m in one step is far beyond 10 m/s: refused, the server keeps the old pose.
    a.pose([got.p[0], 0, got.p[2] - 25]);
    const fix = await a.next('pose', { filter: (m) => m.reason === 'too_fast' });
    assert.ok(Math.abs(fix.p[2] - got.p[2]) < 0.01, `kept the last pose: ${fix.p}`);
  });
});

test('walking through a portal moves you, with presence in both rooms', async () => {
  await withServer({}, async (srv) => {
    const traveller = await srv.connect();
    const stay = await srv.connect();
    const there = await srv.connect();
    const j = await traveller.enter('lobby', 'traveller');
    await stay.enter('lobby', 'stays');
    await there.enter('plenary', 'waits');
    const portal = lobbyScene.portals.find((p) => p.room === 'plenary');
    const centre = [(portal.trigger.min[0] + portal.trigger.max[0]) / 2, 0,
      (portal.trigger.min[2] + portal.trigger.max[2]) / 2];
    const from = myPose(j, traveller).p;
    // Walk to just in front of the door, then through it.
    await walk(traveller, from, [centre[0], 0, centre[2] + 3], { speed: 6 });
    walk(traveller, [centre[0], 0, centre[2] + 3], centre, { speed: 3 }).catch(() => {});
    const joined = await traveller.next('joined', { timeout: 8000 });
    assert.equal(joined.room.id, 'plenary');
    await stay.next('presence', { filter: (m) => m.event === 'leave' && m.user.id === traveller.user.id });
    await there.next('presence', { filter: (m) => m.event === 'join' && m.user.id === traveller.user.id });
  });
});

test('SIGHUP reloads changed scenes with everyone still connected; a broken reload keeps the old', async () => {
  const dir = copyVenue();
  try {
    await withServer({ flags: { scenes: dir } }, async (srv) => {
      const c = await srv.connect();
      const other = await srv.connect();
      await c.enter('lobby', 'stays-connected');
      await other.enter('expo', 'elsewhere');
      const before = await srv.get('/api/scenes/lobby');
      const etag = before.headers.get('etag');

      const file = path.join(dir, 'lobby.json');
      const scene = JSON.parse(fs.readFileSync(file, 'utf8'));
      scene.name = 'Lobby (renovated)';
      fs.writeFileSync(file, JSON.stringify(scene));
      srv.child.kill('SIGHUP');
      const msg = await c.next('scene', { timeout: 5000 });
      assert.deepEqual([msg.room, msg.scene], ['lobby', '/api/scenes/lobby']);
      const after = await srv.get('/api/scenes/lobby');
      assert.notEqual(after.headers.get('etag'), etag);
      assert.equal(JSON.parse(after.body).name, 'Lobby (renovated)');
      await other.expectNone('scene', 300); // expo did not change
      assert.ok(c.open && other.open);

      // A broken file: refused, logged, the old scenes stay.
      fs.writeFileSync(file, '{"format_version": 1, "id": "lobby", "walk": "nope"');
      srv.child.kill('SIGHUP');
      await until(() => /reload refused/.test(srv.log), { timeout: 5000, what: 'the refusal in the log' });
      const kept = await srv.get('/api/scenes/lobby');
      assert.equal(kept.headers.get('etag'), after.headers.get('etag'));
      await c.expectNone('scene', 300);
      c.send({ type: 'chat', text: 'still here' });
      await c.next('chat', { filter: (m) => m.text === 'still here' });
      assert.ok(c.open);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an invalid scene stops start-up with file: field: reason', async () => {
  const dir = copyVenue();
  try {
    const file = path.join(dir, 'breakout-2.json');
    const scene = JSON.parse(fs.readFileSync(file, 'utf8'));
    scene.spawns[0].p = [500, 0, 500];
    fs.writeFileSync(file, JSON.stringify(scene));
    const { spawn } = await import('node:child_process');
    const child = spawn(VENUED_BIN, ['--port', String(await freePort()), '--data', dir, '--scenes', dir]);
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const [code] = await once(child, 'exit');
    assert.notEqual(code, 0);
    assert.match(err, /breakout-2\.json: spawns\[0\]\.p: /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});


test('a room in the database with no scene any more is reported at start, not silently dropped', async () => {
  const dir = copyVenue();
  const srv = new Server({ flags: { scenes: dir } });
  try {
    await srv.start();
    await srv.stop();
    fs.rmSync(path.join(dir, 'expo.json'));
    const lobby = JSON.parse(fs.readFileSync(path.join(dir, 'lobby.json'), 'utf8'));
    lobby.portals = lobby.portals.filter((p) => p.room !== 'expo');
    fs.writeFileSync(path.join(dir, 'lobby.json'), JSON.stringify(lobby));
    await srv.start();
    assert.match(srv.log, /room "expo" is in the database but has no scene/);
    const rooms = (await srv.getJSON('/api/venue')).json.rooms.map((r) => r.id);
    assert.ok(!rooms.includes('expo'));
  } finally {
    await srv.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
