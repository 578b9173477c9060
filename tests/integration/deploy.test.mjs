// The deployment in deploy/ and `cmake --install`: the installed tree is
// complete (the binary, the web client with its npm-provided modules, the
// demo venue, the unit), the unit passes systemd's own check, the installed
// venued started with the unit's environment serves the client and the
// venue, and HAProxy with deploy's configuration balances WebSocket
// sessions over nodes and stops sending to a node that fails /healthz.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Server, Client, VENUE_ROOT, freePort, until, parseProm, checkRoomList, startHaproxy,
} from './harness.mjs';

const BUILD = process.env.VENUE_BUILD ?? path.join(VENUE_ROOT, 'build');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'venued-deploy-'));
const prefix = path.join(tmp, 'prefix');
const unitFile = path.join(prefix, 'lib/systemd/system/venued@.service');
const cleanups = [];

before(() => {
  const r = spawnSync('cmake', ['--install', BUILD, '--prefix', prefix], { encoding: 'utf8' });
  assert.equal(r.status, 0, `cmake --install failed:\n${r.stdout}\n${r.stderr}`);
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/* The unit's Environment= lines, with %S (the state root) and %i (the
 * instance) as systemd would expand them. */
function unitEnv(stateRoot, instance) {
  const env = {};
  for (const line of fs.readFileSync(unitFile, 'utf8').split('\n')) {
    const m = /^Environment=([A-Z_]+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replaceAll('%S', stateRoot).replaceAll('%i', instance);
  }
  return env;
}

function unitExec() {
  const m = /^ExecStart=(\S+)$/m.exec(fs.readFileSync(unitFile, 'utf8'));
  assert.ok(m, 'the unit has an ExecStart');
  return m[1];
}

test('cmake --install lays out the binary, the client with its modules, the demo venue and the unit', () => {
  const want = [
    'bin/venued',
    'share/venued/web/index.html', 'share/venued/web/js/app.js',
    'share/venued/web/vendor/three/three.module.js', 'share/venued/web/vendor/three/three.core.js',
    'share/venued/web/vendor/pdfjs/pdf.worker.min.mjs', 'share/venued/web/vendor/janus/janus.es.js',
    'share/venued/web/vendor/qrcode-generator/qrcode.mjs',
    'share/venued/scenes/demo/lobby.json', 'share/venued/scenes/demo/assets/chair.glb',
    'share/venued/scenes/demo/programme/demo.json',
    'libexec/venued/janus-config.sh', 'libexec/venued/janus/janus.jcfg.in',
    'lib/systemd/system/venued@.service',
    'share/doc/venued/deploy/README.md', 'share/doc/venued/deploy/haproxy/haproxy.cfg',
    'share/doc/venued/deploy/grafana/venued.json', 'share/doc/venued/deploy/prometheus/venued.yml',
    'share/doc/venued/deploy/redis/venued.conf',
  ];
  const missing = want.filter((f) => !fs.existsSync(path.join(prefix, f)));
  assert.deepEqual(missing, [], 'installed files');
  assert.equal(unitExec(), path.join(prefix, 'bin/venued'), 'the unit starts the installed binary');
  assert.ok(!fs.existsSync(path.join(prefix, 'share/venued/web/vendor.sh')), 'the copy script stays out');
});

test('the unit passes systemd-analyze verify, sandboxing included', () => {
  const text = fs.readFileSync(unitFile, 'utf8');
  for (const key of ['DynamicUser=yes', 'ProtectSystem=strict', 'NoNewPrivileges=yes', 'StateDirectory=venued/%i']) {
    assert.ok(text.includes(`\n${key}\n`), `the unit sets ${key}`);
  }
  const dir = path.join(tmp, 'units');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(unitFile, path.join(dir, 'venued@.service'));
  const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'venued@a.service')], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'systemd-analyze runs');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warning about the unit');
});

/* Every /vendor/ module the installed client names, and what those import
 * relative to themselves. */
async function checkModules(server) {
  const web = path.join(prefix, 'share/venued/web');
  const urls = new Set();
  const scan = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const f = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== 'vendor') scan(f);
      else if (/\.(m?js|html)$/.test(e.name)) {
        for (const m of fs.readFileSync(f, 'utf8').matchAll(/['"](\/vendor\/[^'"]+)['"]/g)) urls.add(m[1]);
      }
    }
  };
  scan(web);
  assert.ok(urls.size >= 5, `the client names its modules (${[...urls]})`);
  for (const url of [...urls]) {
    const r = await server.get(url);
    assert.equal(r.status, 200, `GET ${url}`);
    for (const m of r.body.matchAll(/from\s*['"](\.\/[^'"]+)['"]/g)) {
      const dep = path.posix.join(path.posix.dirname(url), m[1]);
      assert.equal((await server.get(dep)).status, 200, `GET ${dep} (imported by ${url})`);
    }
  }
}

test('the installed venued, with the unit environment alone, serves the client and the venue', async () => {
  const state = path.join(tmp, 'state');
  const env = unitEnv(state, 'a');
  assert.deepEqual(Object.keys(env).sort(), ['VENUE_DATA', 'VENUE_SCENES', 'VENUE_WEB']);
  fs.mkdirSync(env.VENUE_DATA, { recursive: true });
  const server = new Server({ bin: unitExec(), env, paths: false, dataDir: env.VENUE_DATA });
  cleanups.push(() => server.cleanup());
  await server.start();
  const page = await server.get('/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<script type="module"/);
  await checkModules(server);
  const venue = await server.get('/api/venue');
  checkRoomList(assert, JSON.parse(venue.body).rooms);
  const c = await server.connect();
  const welcome = await c.hello('Installed');
  assert.ok(welcome.user.id);
  await c.join('lobby');
  assert.ok(fs.existsSync(path.join(env.VENUE_DATA, 'venue.db')), 'the database is in the state directory');
  const r = await server.stop();
  assert.equal(r.code, 0, server.log);
});

async function connections(server) {
  const open = parseProm((await server.get('/metrics')).body).find((x) => x.name === 'venue_connections');
  return open.value;
}

test('HAProxy balances WebSocket sessions over the nodes and leaves a node that fails /healthz', async () => {
  const a = new Server();
  const b = new Server();
  cleanups.push(() => a.cleanup(), () => b.cleanup());
  await a.start();
  await b.start();
  const lbPort = await freePort();
  const down = await freePort(); // node c: nobody listens there
  const lb = await startHaproxy({
    VENUE_LB_BIND: `127.0.0.1:${lbPort}`,
    VENUE_NODE_A: `127.0.0.1:${a.port}`, VENUE_NODE_B: `127.0.0.1:${b.port}`,
    VENUE_NODE_C: `127.0.0.1:${down}`,
  });
  cleanups.push(() => lb.stop());
  const front = lb;

  // Node c never answers: its checks fail, and HAProxy says so.
  await until(() => /Server venued\/c is DOWN/.test(lb.log()),
    { timeout: 5000, what: 'HAProxy to see node c fail its check' });

  const people = [];
  for (let i = 0; i < 6; i++) {
    const c = new Client(front, { name: `p${i}` });
    await c.opened;
    await c.hello(`Person ${i}`);
    await c.join('lobby');
    people.push(c);
  }
  const [onA, onB] = [await connections(a), await connections(b)];
  assert.equal(onA + onB, 6, 'every session reached a node');
  assert.ok(onA >= 2 && onB >= 2, `balanced by least connections (a ${onA}, b ${onB})`);

  // Node a goes away: its people are closed, and after two failed checks
  // HAProxy sends every new session to b.
  await a.stop();
  await until(() => /Server venued\/a is DOWN/.test(lb.log()),
    { timeout: 5000, what: `HAProxy to see node a fail its check (${lb.log()})` });
  for (let i = 0; i < 4; i++) {
    const c = new Client(front, { name: `late${i}` });
    await c.opened;
    await c.hello(`Late ${i}`);
    people.push(c);
  }
  assert.equal(await connections(b), onB + 4, 'the new sessions all went to the node that is up');
  assert.doesNotMatch(lb.log(), /venued\/b is DOWN/, 'node b stayed up');
  for (const c of people) c.ws.terminate();
});
