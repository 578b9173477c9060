// venued nodes on a real Redis (issue 15): each node's liveness key and
// entry; one room over two and three nodes, where people see each other's
// presence, poses, chat and hands; the whole venue's rooms from any node;
// a clean stop and a SIGKILL, whose people leave everywhere, once; Redis
// restarted and hung mid-run while each node goes on serving its own
// people and resyncs after; a second run of one node id; and bad flags.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Server, Client, VENUED_BIN, VENUE_ROOT, freePort, until, within, sleep, chatFrom, startHaproxy, presence, poseUsers, rosterOf, rosterEntry, near, walk, Postgres,
} from './harness.mjs';
import { addUser, api, tempDir } from '../admin/lib.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-cluster-'));
const cleanups = [];

after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/* A throwaway redis-server on loopback, kept in the foreground, with
 * deploy's configuration (its port, password and folder overridden). */
const REDIS_PASSWORD = 'cluster-test-secret';
class Redis {
  constructor() {
    this.port = 0;
    this.child = null;
  }

  get url() { return `redis://:${REDIS_PASSWORD}@127.0.0.1:${this.port}/0`; }

  async start() {
    if (!this.port) this.port = await freePort();
    this.child = spawn('redis-server', [path.join(VENUE_ROOT, 'deploy/redis/venued.conf'),
      '--port', String(this.port), '--requirepass', REDIS_PASSWORD, '--dir', tmp], { stdio: 'ignore' });
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
    await until(() => this.cli('PING') === 'PONG', { timeout: 5000, what: 'redis-server to answer' });
    return this;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    await within(5000, this.exited, 'redis-server to exit');
  }

  signal(sig) { this.child.kill(sig); }

  /* One command through redis-cli; its output trimmed. */
  cli(...args) {
    const r = spawnSync('redis-cli', ['-p', String(this.port), '-a', REDIS_PASSWORD, '--no-auth-warning', ...args],
      { encoding: 'utf8', timeout: 5000 });
    return (r.stdout ?? '').trim();
  }
}

/* One PostgreSQL server for the file, started with the first cluster. */
let pg = null;
async function postgres() {
  if (pg) return pg;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-cluster-pg-'));
  fs.chmodSync(dir, 0o755); /* run as postgres when the tests run as root */
  pg = await new Postgres(dir).start();
  cleanups.unshift(() => pg.stop()); /* the last cleanup: after every node */
  return pg;
}

/* A cluster: its own Redis, and its own database on the shared server. */
async function redis() {
  const r = await new Redis().start();
  cleanups.push(() => r.stop());
  r.database = (await postgres()).database();
  return r;
}

async function node(r, id, flags = {}, dataDir = null) {
  const srv = new Server({ flags: { redis: r.url, 'node-id': id, database: r.database, ...flags }, dataDir });
  cleanups.push(() => srv.cleanup());
  await srv.start();
  return srv;
}

async function health(srv) {
  return (await srv.getJSON('/healthz')).json;
}

async function joined(srv, nodes) {
  await until(async () => {
    const h = await health(srv);
    return h.joined === true && h.nodes === nodes;
  }, { timeout: 6000, what: `${srv.flags['node-id']} joined, seeing ${nodes} nodes` });
}

async function metric(srv, name) {
  const { samples } = await srv.metrics();
  return samples.find((s) => s.name === name)?.value;
}

test('nodes join: a key with a TTL each, an entry each, and the whole venue in /api/venue from any node', async () => {
  const r = await redis();
  const a = await node(r, 'a');
  const b = await node(r, 'b');
  await joined(a, 2);
  await joined(b, 2);
  const ttl = Number(r.cli('PTTL', 'venue:node:a'));
  assert.ok(ttl > 0 && ttl <= 3000, `venue:node:a expires (PTTL ${ttl})`);
  assert.deepEqual(r.cli('HKEYS', 'venue:nodes').split('\n').sort(), ['a', 'b']);
  const h = await health(a);
  assert.equal(h.ok, true);
  assert.equal(h.node, 'a');
  assert.equal(h.redis, 'up');
  assert.equal(h.cluster_reason, '');
  assert.equal(await metric(a, 'venue_redis_up'), 1);
  assert.equal(await metric(a, 'venue_cluster_joined'), 1);
  assert.equal(await metric(a, 'venue_cluster_nodes'), 2);
  // Every series the Grafana dashboard draws is one a clustered node exports.
  const dashboard = fs.readFileSync(path.join(VENUE_ROOT, 'deploy/grafana/venued.json'), 'utf8');
  const wanted = new Set([...dashboard.matchAll(/\b(venue_[a-z_]+)\{/g)].map((m) => m[1]));
  const exported = new Set((await a.metrics()).samples.map((x) => x.name));
  assert.ok(wanted.size >= 20, `the dashboard draws ${wanted.size} series`);
  const missing = [...wanted].filter((n) => !exported.has(n));
  assert.deepEqual(missing, [], 'dashboard series a node does not export');

  // Two people on b and one on a in the plenary: every node counts three.
  const people = [];
  for (const [srv, name] of [[b, 'Bea'], [b, 'Bo'], [a, 'Ann']]) {
    const c = await srv.connect({ name });
    await c.enter('plenary');
    people.push(c);
  }
  for (const [srv, here] of [[a, 1], [b, 2]]) {
    await until(async () => {
      const v = (await srv.getJSON('/api/venue')).json;
      const p = v.rooms.find((x) => x.id === 'plenary');
      return v.nodes === 2 && p.count === 3 && p.here === here;
    }, { timeout: 4000, what: `${srv.flags['node-id']}'s /api/venue counting the plenary's 3, ${here} here` });
  }
  // One node alone (no --redis) prints the rooms as before: no "here", no "nodes".
  const alone = new Server();
  cleanups.push(() => alone.cleanup());
  await alone.start();
  const v = (await alone.getJSON('/api/venue')).json;
  assert.equal(v.nodes, undefined);
  assert.equal(v.rooms[0].here, undefined);
  assert.equal((await health(alone)).node, undefined);
});

test('one room over two nodes: each side sees the other\'s roster, joins, poses, chat, hands and leaves', async () => {
  const r = await redis();
  const a = await node(r, 'a');
  const b = await node(r, 'b');
  await joined(a, 2);
  await joined(b, 2);
  const ann = await a.connect({ name: 'Ann' });
  await ann.enter('plenary');
  const bea = await b.connect({ name: 'Bea' });
  const seen = await bea.enter('plenary');
  // Ann entered before: Bea's roster may not have her yet if the mesh is a
  // tick behind; her join then comes as presence. Either way she appears.
  if (!rosterOf(seen).some((u) => u.id === ann.user.id)) {
    await bea.next('presence', { filter: presence('join', ann.user.id) });
  }
  const j = await ann.next('presence', { filter: presence('join', bea.user.id) });
  assert.equal(j.user.name, 'Bea');
  assert.equal(j.room, 'plenary');

  // A late joiner on a sees both in its roster.
  const al = await a.connect({ name: 'Al' });
  const roster = rosterOf(await al.enter('plenary')).map((u) => u.id);
  assert.ok(roster.includes(bea.user.id) && roster.includes(ann.user.id), `Al's roster has Ann and Bea: ${roster}`);
  await bea.next('presence', { filter: presence('join', al.user.id) });

  // Poses cross within a tick or two, both ways.
  for (const [from, to, joinedMsg] of [[bea, ann, seen], [ann, bea, null]]) {
    const start = (joinedMsg ?? (await from.request({ type: 'join', room: 'plenary' }, 'joined')));
    const p0 = rosterEntry(start, from.user.id).p;
    to.drain();
    const target = [p0[0] + 0.3, p0[1], p0[2] + 0.3];
    const held = await walk(from, p0, target);
    assert.equal(held.fixed, null, `${from.label}'s walk is taken as sent`);
    await until(() => to.all.some((m) => m.type === 'poses'
      && poseUsers(m).some((e) => e.id === from.user.id && near(e.p, target, 0.01))),
    { timeout: 2000, what: `${to.label} to see ${from.label} arrive` });
  }

  // Chat and hands.
  bea.send({ type: 'chat', text: 'hello from b' });
  const line = await ann.next('chat', { filter: chatFrom(bea.user.id, 'hello from b') });
  assert.equal(line.room, 'plenary');
  ann.send({ type: 'chat', text: 'hello from a' });
  await bea.next('chat', { filter: chatFrom(ann.user.id, 'hello from a') });
  bea.send({ type: 'hand', up: true });
  await ann.next('presence', { filter: (m) => presence('update', bea.user.id)(m) && m.user.hand === true });

  // The whole venue from either node.
  for (const [srv, here] of [[a, 2], [b, 1]]) {
    const v = (await srv.getJSON('/api/venue')).json;
    const pl = v.rooms.find((x) => x.id === 'plenary');
    assert.deepEqual([v.nodes, pl.count, pl.here], [2, 3, here], srv.flags['node-id']);
  }

  // Bea leaves: gone on a too, and from a's count.
  await bea.request({ type: 'leave' }, 'left');
  await ann.next('presence', { filter: presence('leave', bea.user.id) });
  assert.equal((await a.getJSON('/api/venue')).json.rooms.find((x) => x.id === 'plenary').count, 2);
  assert.equal(await metric(a, 'venue_mesh_bad_total'), 0);
});

test('capacity is exact over three nodes: 42 guests join a breakout of 28 places at once, 28 get in', async () => {
  const r = await redis();
  const nodes = [await node(r, 'a'), await node(r, 'b'), await node(r, 'c')];
  for (const n of nodes) await joined(n, 3);
  const room = 'breakout-2';
  const scene = JSON.parse(fs.readFileSync(path.join(VENUE_ROOT, 'scenes/demo', `${room}.json`), 'utf8'));
  const places = scene.capacity - (scene.reserved_seats ?? 0);
  const guests = [];
  for (let i = 0; i < places + 14; i++) {
    const c = await nodes[i % 3].connect({ name: `G${i}` });
    await c.hello(`G${i}`);
    guests.push(c);
  }
  const tryJoin = async (c) => {
    c.send({ type: 'join', room });
    const m = await c.next(null, { timeout: 5000, filter: (x) => x.type === 'joined' || x.type === 'error' });
    return m.type === 'joined' ? 'in' : m.code;
  };
  // All at once; whoever is answered busy (its node had no seat to give
  // yet) tries again, until everyone is in or told the room is full.
  const outcome = await Promise.all(guests.map(async (c) => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const got = await tryJoin(c);
      if (got !== 'busy') return got;
      await sleep(250);
    }
    return 'gave up';
  }));
  const count = (what) => outcome.filter((x) => x === what).length;
  assert.equal(count('in'), places, `admitted: ${JSON.stringify(outcome)}`);
  assert.equal(count('room_full'), 14);
  const views = await Promise.all(nodes.map(async (n) => (await n.getJSON('/api/venue')).json.rooms.find((x) => x.id === room)));
  assert.deepEqual(views.map((v) => v.count), [places, places, places], 'every node counts the room full, not more');
  assert.equal(views.reduce((sum, v) => sum + v.here, 0), places, 'and each of them is held by one node');
  // The seats in Redis: the nodes' leases never pass the capacity.
  const leases = r.cli('HVALS', `venue:seats:${room}`).split('\n').map(Number);
  assert.ok(leases.reduce((x, y) => x + y, 0) <= scene.capacity, `leases ${leases}`);
});

test('a moderator on one node deletes a line, kicks, mutes and bans people on another; chat and the audit are written once', async () => {
  const r = await redis();
  const tmpA = tempDir('venued-cluster-mod-');
  cleanups.push(() => tmpA.remove());
  // Registered once, with the command line, in the database the nodes share.
  const moUser = addUser(tmpA.dir, 'Mo', 'moderator', ['--database', r.database]);
  const admin = addUser(tmpA.dir, 'Ada', 'admin', ['--database', r.database]);
  const a = await node(r, 'a');
  const b = await node(r, 'b');
  await joined(a, 2);
  await joined(b, 2);
  const mo = await a.connect({ name: 'Mo' });
  await mo.hello('Mo', { token: moUser.token });
  await mo.join('plenary');
  const people = {};
  for (const name of ['Gus', 'Mia', 'Ned']) {
    people[name] = await b.connect({ name });
    await people[name].enter('plenary');
    await mo.next('presence', { filter: presence('join', people[name].user.id) });
  }
  // The organisers' presence on b (the admin's token works on any node)
  // shows everyone, with the node of those a holds.
  const pres = await api(b, 'GET', '/api/admin/presence', { token: admin.token });
  assert.equal(pres.status, 200);
  const inPlenary = pres.json.rooms.find((x) => x.id === 'plenary').users;
  assert.deepEqual(inPlenary.map((u) => [u.name, u.node ?? null, u.connected]).sort(),
    [['Gus', null, true], ['Mia', null, true], ['Mo', 'a', true], ['Ned', null, true]]);
  const mod = async (fields) => {
    mo.send({ type: 'mod', id: `m${Math.random()}`, ...fields });
    const res = await mo.next(null, { filter: (m) => m.type === 'mod_ok' || m.type === 'error' });
    assert.equal(res.type, 'mod_ok', JSON.stringify(res));
  };

  // Chat: a line keeps the number its node gave it on every node, and a
  // delete by Mo on a takes Ned's line from b's people too.
  mo.send({ type: 'chat', text: 'hello from a' });
  await people.Gus.next('chat', { filter: (m) => m.text === 'hello from a' });
  people.Ned.send({ type: 'chat', text: 'off-topic line' });
  const own = await people.Ned.next('chat', { filter: (m) => m.text === 'off-topic line' });
  const seen = await mo.next('chat', { filter: (m) => m.text === 'off-topic line' });
  assert.equal(seen.msg, own.msg, 'one number for the line on both nodes');
  people.Gus.send({ type: 'chat', text: 'hello from b' });
  await mo.next('chat', { filter: (m) => m.text === 'hello from b' });
  await mod({ action: 'delete_chat', message: own.msg });
  assert.equal((await people.Gus.next('chat_deleted')).msg, own.msg);
  assert.equal((await people.Ned.next('chat_deleted')).msg, own.msg);

  // Mute: Mia's own node refuses her chat, and everyone sees her muted.
  await mod({ action: 'mute', target: people.Mia.user.id, reason: 'spam' });
  await people.Ned.next('presence', { filter: (m) => presence('update', people.Mia.user.id)(m) && m.user.muted === true });
  await mo.next('presence', { filter: (m) => presence('update', people.Mia.user.id)(m) && m.user.muted === true });
  await people.Mia.expectError({ type: 'chat', text: 'still talking' }, 'forbidden');

  // Kick: Gus is closed by his node with 4003 and leaves Mo's room.
  const kickedAt = Date.now();
  await mod({ action: 'kick', target: people.Gus.user.id, reason: 'rude' });
  const k = await people.Gus.next('kicked');
  assert.equal(k.reason, 'rude');
  assert.equal((await people.Gus.waitClose()).code, 4003);
  await mo.next('presence', { filter: presence('leave', people.Gus.user.id) });
  assert.ok(Date.now() - kickedAt < 1000, `the kick took ${Date.now() - kickedAt} ms across nodes`);

  // A room ban: Ned is put out of the plenary on his node and cannot come back there.
  await mod({ action: 'ban', target: people.Ned.user.id, room: 'plenary', reason: 'off topic' });
  const out = await people.Ned.next('kicked');
  assert.equal(out.room, 'plenary');
  await mo.next('presence', { filter: presence('leave', people.Ned.user.id) });
  await people.Ned.expectError({ type: 'join', room: 'plenary' }, 'forbidden');

  // What does not reach another node yet says so, and changes nothing.
  mo.send({ type: 'mod', id: 'mv', action: 'move', target: people.Mia.user.id, room: 'lobby' });
  const refusedMove = await mo.next('error');
  assert.equal(refusedMove.code, 'unavailable');
  assert.match(refusedMove.message, /another node/);

  // The audit in the shared database: each action once, by Mo.
  await a.stop();
  await b.stop();
  const audit = pg.query(r.database, 'SELECT action, actor_id FROM audit ORDER BY action');
  assert.deepEqual(audit.map((e) => e.action), ['ban', 'delete_chat', 'kick', 'mute']);
  assert.ok(audit.every((e) => e.actor_id === moUser.id), JSON.stringify(audit));
  // The chat each node wrote: every line once, with its number; the deleted one gone.
  const chat = pg.query(r.database, "SELECT text FROM chat WHERE room = 'plenary' ORDER BY ts_ms, id");
  assert.deepEqual(chat.map((l) => l.text), ['hello from a', 'hello from b']);
});

test('a stopped node leaves at once, a SIGKILLed one within its TTL; their people wait out the grace, then leave once', async () => {
  const r = await redis();
  const grace = { 'resume-grace': 3 };
  const a = await node(r, 'a', grace);
  const b = await node(r, 'b', grace);
  const c = await node(r, 'c', grace);
  await joined(a, 3);
  const bo = await b.connect({ name: 'Bo' });
  await bo.enter('plenary');
  const guest = await c.connect({ name: 'Cy' });
  await guest.enter('plenary');
  const watcher = await a.connect({ name: 'Wat' });
  await watcher.enter('plenary');
  const plenary = async () => (await a.getJSON('/api/venue')).json.rooms.find((x) => x.id === 'plenary');
  await until(async () => (await plenary()).count === 3, { timeout: 4000, what: "a counting b's and c's guests" });

  const stopped = await b.stop();
  assert.equal(stopped.code, 0, b.log);
  assert.equal(r.cli('EXISTS', 'venue:node:b'), '0', 'b deleted its key on the way out');
  assert.equal(r.cli('HEXISTS', 'venue:nodes', 'b'), '0', 'and its entry');
  await joined(a, 2);

  await c.kill();
  const killed = Date.now();
  await until(() => r.cli('EXISTS', 'venue:node:c') === '0', { timeout: 5000, what: "c's key to expire" });
  assert.ok(Date.now() - killed <= 3500, `c's key expired ${Date.now() - killed} ms after the kill`);
  await joined(a, 1);
  // Bo and Cy may still resume (on a, the node that is left): they stay, detached, for the grace.
  const p = await plenary();
  assert.deepEqual([p.count, p.here], [3, 3], 'the orphans are a\'s own now, waiting');
  for (const who of [bo, guest]) {
    await watcher.next('presence', { timeout: 6000, filter: presence('leave', who.user.id) });
  }
  await watcher.expectNone('presence', 1500, { filter: (m) => m.event === 'leave' });
  assert.equal((await plenary()).count, 1, 'gone after the grace, once');
  await until(() => r.cli('HEXISTS', 'venue:nodes', 'c') === '0', { timeout: 3000, what: "c's stale entry to be dropped" });
});

test('a node SIGKILLed while 100 people walk: its people resume on the other two, nobody is doubled or left behind', async () => {
  const r = await redis();
  const flags = { 'resume-grace': 20, 'hello-rate': 1000, 'hello-burst': 1000 };
  const nodes = [await node(r, 'a', flags), await node(r, 'b', flags), await node(r, 'c', flags)];
  for (const n of nodes) await joined(n, 3);
  const people = [];
  for (let i = 0; i < 100; i++) {
    const at = nodes[i % 3];
    const c = await at.connect({ name: `W${i}` });
    const j = await c.enter('plenary');
    people.push({ c, at, start: rosterEntry(j, c.user.id).p, token: c.resumeToken, id: c.user.id, name: `W${i}` });
  }
  const plenary = async (srv) => (await srv.getJSON('/api/venue')).json.rooms.find((x) => x.id === 'plenary');
  await until(async () => (await Promise.all(nodes.map(plenary))).every((p) => p.count === 100),
    { timeout: 8000, what: 'every node counting the 100' });

  // Everyone walks a small square at 5 Hz, bounded: 2 s before the kill, 4 s after.
  let walking = true;
  const walkers = people.map(async (w, i) => {
    for (let step = 0; walking && step < 60; step++) {
      const t = (step + i) % 8;
      const dx = t < 4 ? t * 0.1 : (8 - t) * 0.1;
      if (w.c.open) w.c.pose([w.start[0] + dx, w.start[1], w.start[2]]);
      await new Promise((res) => setTimeout(res, 200));
    }
  });
  await new Promise((res) => setTimeout(res, 2000));
  const dead = nodes[2];
  await dead.kill();
  const orphans = people.filter((w) => w.at === dead);
  await Promise.all(orphans.map((w) => w.c.waitClose()));
  // Each reconnects (as the load balancer would send it) to one of the others and resumes.
  await until(() => r.cli('EXISTS', 'venue:node:c') === '0', { timeout: 5000, what: "c's key to expire" });
  for (const n of nodes.slice(0, 2)) await joined(n, 2);
  await Promise.all(orphans.map(async (w, i) => {
    const to = nodes[i % 2];
    const c = await to.connect({ name: w.name });
    const welcome = await c.hello(w.name, { resume: w.token });
    assert.equal(welcome.user.id, w.id, `${w.name} resumed as itself`);
    w.c = c;
    w.at = to;
  }));
  walking = false;
  await Promise.all(walkers);

  // Both nodes: 100 in the plenary, none twice, each held by exactly one node.
  const [pa, pb] = await Promise.all(nodes.slice(0, 2).map(plenary));
  assert.deepEqual([pa.count, pb.count], [100, 100]);
  assert.equal(pa.here + pb.here, 100, `a holds ${pa.here}, b ${pb.here}`);
  const fresh = await nodes[0].connect({ name: 'Late' });
  const roster = rosterOf(await fresh.enter('plenary')).map((u) => u.id);
  assert.equal(roster.length, 101);
  assert.equal(new Set(roster).size, 101, 'nobody twice');
  for (const w of people) assert.ok(roster.includes(w.id), `${w.name} is there`);
  // Nobody saw a leave: the resumed were never gone.
  for (const w of people.filter((x) => x.at !== dead && !orphans.includes(x)).slice(0, 10)) {
    assert.equal(w.c.all.some((m) => m.type === 'presence' && m.event === 'leave'), false, `${w.name} saw nobody leave`);
  }
});

test('through HAProxy: three nodes, one room; a node killed, its people come back through the balancer and resume', async () => {
  const r = await redis();
  const flags = { 'resume-grace': 20 };
  const nodes = [await node(r, 'a', flags), await node(r, 'b', flags), await node(r, 'c', flags)];
  for (const n of nodes) await joined(n, 3);
  const lbPort = await freePort();
  const lb = await startHaproxy({
    VENUE_LB_BIND: `127.0.0.1:${lbPort}`,
    VENUE_NODE_A: `127.0.0.1:${nodes[0].port}`, VENUE_NODE_B: `127.0.0.1:${nodes[1].port}`,
    VENUE_NODE_C: `127.0.0.1:${nodes[2].port}`,
  });
  cleanups.push(() => lb.stop());
  const people = [];
  for (let i = 0; i < 6; i++) {
    const c = new Client(lb, { name: `P${i}` });
    await c.opened;
    await c.hello(`P${i}`);
    await c.join('plenary');
    people.push(c);
  }
  // Least connections spread them: every node holds two, and everyone sees all six.
  const here = async (list = nodes) => Promise.all(list.map(async (n) => (await n.getJSON('/api/venue')).json.rooms
    .find((x) => x.id === 'plenary').here));
  assert.deepEqual(await here(), [2, 2, 2]);
  await until(async () => (await Promise.all(nodes.map(async (n) => (await n.getJSON('/api/venue')).json.rooms
    .find((x) => x.id === 'plenary').count))).every((n) => n === 6), { timeout: 3000, what: 'every node counting 6' });

  // Node c dies; its two are closed, come back through HAProxy (which
  // sends them to a live node) and resume as themselves.
  await nodes[2].kill();
  const gone = [];
  for (const c of people) if (await Promise.race([c.closed.then(() => true), sleep(1500).then(() => false)])) gone.push(c);
  assert.equal(gone.length, 2, 'the killed node held two');
  for (const c of gone) {
    const back = new Client(lb, { name: `${c.label} again` });
    await back.opened;
    const w = await back.hello(c.label, { resume: c.resumeToken });
    assert.equal(w.user.id, c.user.id, `${c.label} resumed as itself`);
    people[people.indexOf(c)] = back;
  }
  await until(async () => (await here(nodes.slice(0, 2))).reduce((x, y) => x + y) === 6,
    { timeout: 5000, what: 'a and b holding all six' });
  const stayed = people.filter((c) => !gone.some((g) => g.user.id === c.user.id));
  for (const c of stayed) {
    assert.equal(c.all.some((m) => m.type === 'presence' && m.event === 'leave'), false, `${c.label} saw nobody leave`);
  }
});

test('Redis restarted mid-run: the node serves its people meanwhile, says why, and rejoins', async () => {
  const r = await redis();
  const a = await node(r, 'a');
  await joined(a, 1);
  const ann = await a.connect({ name: 'Ann' });
  await ann.enter('plenary');
  const al = await a.connect({ name: 'Al' });
  await al.enter('plenary');

  await r.stop();
  await until(async () => (await health(a)).redis === 'down', { timeout: 3000, what: 'a to see Redis down' });
  const h = await health(a);
  assert.equal(h.ok, true, 'the node stays healthy for its own people');
  assert.equal(h.joined, false);
  assert.match(h.cluster_reason, /Redis 127\.0\.0\.1:\d+/);
  assert.equal(await metric(a, 'venue_redis_up'), 0);
  // Its people go on: chat between them, and someone new comes in.
  ann.send({ type: 'chat', text: 'still here' });
  await al.next('chat', { filter: chatFrom(ann.user.id, 'still here') });
  const late = await a.connect({ name: 'Late' });
  await late.enter('plenary');

  await r.start();
  await joined(a, 1);
  assert.equal(r.cli('EXISTS', 'venue:node:a'), '1', 'the key is back');
  assert.ok(await metric(a, 'venue_redis_reconnects_total') >= 1);
  assert.equal(await metric(a, 'venue_redis_up'), 1);
  assert.equal(ann.open && al.open && late.open, true, 'nobody was closed');
});

test('Redis that stops answering is dropped within seconds and found again when it wakes', async () => {
  const r = await redis();
  const a = await node(r, 'a');
  await joined(a, 1);
  const ann = await a.connect({ name: 'Ann' });
  await ann.enter('lobby');
  const al = await a.connect({ name: 'Al' });
  await al.enter('lobby');
  r.signal('SIGSTOP');
  await until(async () => (await health(a)).redis === 'down', { timeout: 6000, what: 'a to give up on a hung Redis' });
  assert.match((await health(a)).cluster_reason, /no answer/);
  ann.send({ type: 'chat', text: 'is Redis asleep?' });
  await al.next('chat', { filter: chatFrom(ann.user.id, 'is Redis asleep?') });
  r.signal('SIGCONT');
  await joined(a, 1);

  // A wrong password: the node runs on its own and says Redis refused it.
  const wrong = new Server({ flags: { redis: `redis://:not-it@127.0.0.1:${r.port}/0`, 'node-id': 'w', database: r.database } });
  cleanups.push(() => wrong.cleanup());
  await wrong.start();
  await until(async () => /refused venued/.test((await health(wrong)).cluster_reason),
    { timeout: 4000, what: 'the node to say Redis refused its password' });
  assert.equal((await health(wrong)).joined, false);
  assert.doesNotMatch((await health(wrong)).cluster_reason, /not-it/, 'the password is not shown');
});

test('a second run of one node id waits, says why, and joins when the first has gone', async () => {
  const r = await redis();
  const first = await node(r, 'a');
  await joined(first, 1);
  const second = await node(r, 'a');
  await until(async () => /held by another running venued/.test((await health(second)).cluster_reason),
    { timeout: 4000, what: 'the second run to say the id is held' });
  assert.equal((await health(second)).joined, false);
  assert.equal(await metric(second, 'venue_cluster_joined'), 0);
  const incarnation = JSON.parse(r.cli('GET', 'venue:node:a')).incarnation;
  await first.stop();
  await joined(second, 1);
  assert.notEqual(JSON.parse(r.cli('GET', 'venue:node:a')).incarnation, incarnation, 'the key is the second run\'s now');
});

test('bad cluster flags stop venued at once with a message naming the flag', () => {
  const base = ['--port', '1', '--data', path.join(tmp, 'bad'), '--scenes', path.join(VENUE_ROOT, 'scenes/demo'),
    '--web', path.join(VENUE_ROOT, 'web-client')];
  const cases = [
    [['--redis', 'redis://127.0.0.1:6379'], /--redis: needs --node-id/],
    [['--node-id', 'a'], /--node-id: needs --redis/],
    [['--redis', 'redis://redis.example.org', '--node-id', 'a'], /--redis: host "redis\.example\.org" must be a numeric address/],
    [['--redis', 'http://127.0.0.1', '--node-id', 'a'], /--redis: not a redis:\/\/ URL/],
    [['--redis', 'redis://127.0.0.1:99999', '--node-id', 'a'], /--redis: the port must be a number from 1 to 65535/],
    [['--redis', 'redis://127.0.0.1/16', '--node-id', 'a'], /--redis: the database must be a number from 0 to 15/],
    [['--redis', 'redis://127.0.0.1', '--node-id', 'a b'], /--node-id: "a b" is not 1 to 32 of/],
    [['--redis', 'redis://127.0.0.1', '--node-id', 'a'], /--redis: several nodes share one database: needs --database postgresql:\/\//],
    [['--redis', 'redis://127.0.0.1', '--node-id', 'a', '--database', 'mysql://db'], /--database: "mysql:\/\/db" is neither a postgresql:\/\/ URL nor an SQLite file/],
  ];
  for (const [flags, want] of cases) {
    const res = spawnSync(VENUED_BIN, [...base, ...flags], { encoding: 'utf8', timeout: 10000 });
    assert.equal(res.status, 2, `${flags.join(' ')}: exit 2 (${res.stderr})`);
    assert.match(res.stderr, want, flags.join(' '));
  }
  const env = spawnSync(VENUED_BIN, base, { encoding: 'utf8', timeout: 10000, env: { ...process.env, VENUE_REDIS: 'redis://127.0.0.1' } });
  assert.match(env.stderr, /VENUE_REDIS: needs --node-id/);
});
