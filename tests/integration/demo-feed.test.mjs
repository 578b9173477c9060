// The twin commands of the real venued binary: `venued demo-feed` plays the
// simulated city through the real /ngsi-ld/v1/notify (every entity and
// attribute the demo expo binds arrives, in range, in /api/twins and as
// twin messages), retries while the venue answers 503, stops on a count or
// SIGTERM; `venued twin subscribe` prints the NGSI-LD Subscription and with
// --post creates it on a fake broker (201, then a 400 reported). Bad flags
// are refused naming the flag. Everything talks to 127.0.0.1 only.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { withServer, until, within, VENUED_BIN, VENUE_ROOT } from './harness.mjs';

const KEY = 'itest-demo-feed-key-0123456789';
const CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';
const LINK_REL = 'http://www.w3.org/ns/json-ld#context';

/* The environment of a command: no VENUE_* settings or proxies of ours. */
function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^VENUE_/.test(k) && !/_proxy$/i.test(k)) env[k] = v;
  }
  env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1';
  return { ...env, ...extra };
}

/* Run venued with args; resolves { code, signal, stdout, stderr } (bounded). */
function venued(args, { env = {}, timeout = 30000, onSpawn = null } = {}) {
  const child = spawn(VENUED_BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  if (onSpawn) onSpawn(child);
  const done = once(child, 'close').then(([code, signal]) => ({ code, signal, stdout, stderr }));
  return within(timeout, done, () => `venued ${args.join(' ')} to exit; stderr: ${stderr}`)
    .catch((err) => { child.kill('SIGKILL'); throw err; });
}

/* The expo's bindings: [{ entity, attr, show, map? }]. */
function expoBindings() {
  const scene = JSON.parse(fs.readFileSync(path.join(VENUE_ROOT, 'scenes/demo/expo.json'), 'utf8'));
  const out = [];
  const walk = (o) => {
    if (Array.isArray(o)) o.forEach(walk);
    else if (o && typeof o === 'object') {
      if (Array.isArray(o.twins)) out.push(...o.twins);
      Object.values(o).forEach(walk);
    }
  };
  walk(scene);
  return out;
}

// What a plausible value of each attribute is, and its unitCode.
const PLAUSIBLE = {
  no2: [0, 400, 'GQ'], pm10: [0, 300, 'GQ'], pm25: [0, 300, 'GQ'], o3: [0, 400, 'GQ'],
  temperature: [-30, 45, 'CEL'], relativeHumidity: [0, 1, 'C62'], airQualityIndex: [1, 6, ''],
  intensity: [0, 3300, ''], occupancy: [0, 1, 'C62'], averageVehicleSpeed: [0, 130, 'KMH'],
  availableSpotNumber: [0, 400, ''], totalSpotNumber: [400, 400, ''],
  totalActivePower: [0, 500, 'KWT'], totalActiveEnergyImport: [0, 1e7, 'KWH'],
};

function checkValue(entity, attr, a, binding) {
  const what = `${entity} ${attr}`;
  if (attr === 'location') {
    const g = a.value;
    if (entity.includes(':TrafficFlowObserved:')) {
      assert.equal(g.type, 'LineString', what);
      assert.ok(g.coordinates.length >= 2, what);
    } else {
      assert.equal(g.type, 'Point', what);
    }
    const pts = g.type === 'Point' ? [g.coordinates] : g.coordinates;
    for (const [lon, lat] of pts) {
      // Lyon; a marker's inside its map.
      const m = binding?.map ?? { west: 4.7, south: 45.65, east: 5.0, north: 45.85 };
      assert.ok(lon >= m.west && lon <= m.east && lat >= m.south && lat <= m.north, `${what}: ${lon},${lat}`);
    }
    return;
  }
  const p = PLAUSIBLE[attr];
  assert.ok(p, `${what}: no plausible range known`);
  assert.equal(typeof a.value, 'number', what);
  assert.ok(a.value >= p[0] && a.value <= p[1], `${what}: ${a.value} not in ${p[0]}..${p[1]}`);
  assert.equal(a.unit ?? '', p[2], `${what} unitCode`);
}

test('demo-feed plays every entity and attribute the expo binds through the real endpoint', async () => {
  await withServer({ flags: { 'ingest-key': KEY } }, async (srv) => {
    const bindings = expoBindings();
    const entities = [...new Set(bindings.map((b) => b.entity))].sort();
    assert.ok(entities.length >= 6, 'the expo binds the demo city');
    const c = await srv.connect();
    await c.enter('expo');
    const day = new Date().toDateString();

    const r = await venued(['demo-feed', '--count', '3', '--period-ms', '200', '--url', srv.url,
      '--ingest-key', KEY, '--seed', '42']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopped after 3 notifications/);
    assert.doesNotMatch(r.stderr, new RegExp(KEY), 'the key is never logged');

    // /api/twins: exactly the bound entities, every bound attribute in range.
    const list = (await srv.getJSON('/api/twins')).json.entities;
    assert.deepEqual(list.map((e) => e.id).sort(), entities, 'exactly the entities the expo binds');
    for (const b of bindings) {
      const e = list.find((x) => x.id === b.entity);
      assert.ok(e.attrs[b.attr], `${b.entity} has ${b.attr}`);
      assert.ok(e.rooms.includes('expo'), `${b.entity} shown in the expo`);
      checkValue(b.entity, b.attr, e.attrs[b.attr], b);
    }
    for (const e of list) {
      assert.equal(e.type, e.id.split(':')[2], `${e.id} type`);
      for (const [name, a] of Object.entries(e.attrs)) {
        if (name !== 'dateObserved') checkValue(e.id, name, a, null);
        if (name !== 'location' && name !== 'dateObserved') assert.ok(a.observedAt > 0, `${e.id} ${name} observedAt`);
      }
    }
    const centre = list.find((x) => x.id.endsWith(':demo-centre')).attrs;
    assert.ok(centre.pm25.value <= centre.pm10.value, 'PM2.5 is part of PM10');
    for (const id of entities.filter((x) => x.includes(':TrafficFlowObserved:'))) {
      const a = list.find((x) => x.id === id).attrs;
      assert.ok(a.averageVehicleSpeed.value > 0 && a.occupancy.value >= 0, id);
    }

    // The expo's client heard every bound entity, with each bound attribute.
    const seen = new Map();
    await until(() => {
      for (const m of c.inbox.filter((x) => x.type === 'twin')) {
        const attrs = seen.get(m.entity) ?? {};
        for (const [k, v] of Object.entries(m.attrs)) (attrs[k] ??= []).push(v.value);
        seen.set(m.entity, attrs);
      }
      c.drain('twin');
      return bindings.every((b) => seen.get(b.entity)?.[b.attr]);
    }, { timeout: 5000, what: () => `twin messages for every binding; seen ${JSON.stringify([...seen.keys()])}` });
    // The meter only counts up (unless the day turned while we played).
    const energy = seen.get('urn:ngsi-ld:ThreePhaseAcMeasurement:demo-town-hall').totalActiveEnergyImport;
    if (new Date().toDateString() === day) {
      for (let i = 1; i < energy.length; i++) assert.ok(energy[i] >= energy[i - 1], `energy ${energy}`);
    }
  });
});

/* A fake HTTP peer on 127.0.0.1: answer(req, body) -> [status, headers, body]. */
async function fakePeer(answer) {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      const [status, headers, text] = answer(req, body, requests.length);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { requests, url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

test('demo-feed sends real notifications, retries a busy venue quietly, stops on a refusal or SIGTERM', async () => {
  const peer = await fakePeer((req, body, n) => (n <= 2
    ? [503, { 'Content-Type': 'application/json' }, '{"title":"busy"}']
    : [200, { 'Content-Type': 'application/json' }, '{}']));
  try {
    const r = await venued(['demo-feed', '--count', '2', '--period-ms', '100', '--url', `${peer.url}/`], { env: { VENUE_INGEST_KEY: KEY } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(peer.requests.length, 4, 'two refused, two delivered');
    assert.equal(r.stderr.match(/cannot deliver/g)?.length, 1, `one line per outage:\n${r.stderr}`);
    assert.match(r.stderr, /503/);
    assert.match(r.stderr, /delivering again, after 2 failed attempts/);
    for (const q of peer.requests) {
      assert.equal(q.method, 'POST');
      assert.equal(q.url, '/ngsi-ld/v1/notify');
      assert.equal(q.headers['content-type'], 'application/json');
      assert.equal(q.headers.authorization, `Bearer ${KEY}`);
      assert.equal(q.headers.link, `<${CONTEXT}>; rel="${LINK_REL}"; type="application/ld+json"`);
      const n = JSON.parse(q.body);
      assert.equal(n.type, 'Notification');
      assert.match(n.id, /^urn:ngsi-ld:Notification:/);
      assert.ok(!Number.isNaN(Date.parse(n.notifiedAt)));
      assert.equal(n['@context'], undefined, 'the context comes in the Link header');
      for (const e of n.data) {
        for (const [k, a] of Object.entries(e)) {
          if (k === 'id' || k === 'type') continue;
          assert.ok(['Property', 'GeoProperty'].includes(a.type), `${e.id} ${k} normalized`);
          if (a.type === 'Property' && k !== 'dateObserved') assert.ok(a.observedAt, `${e.id} ${k} observedAt`);
        }
      }
    }
    assert.notEqual(peer.requests[2].body, peer.requests[3].body, 'every notification is new');
  } finally {
    await peer.close();
  }

  // A refusal that repeating cannot cure: exit 1 with the answer.
  const refuse = await fakePeer(() => [401, { 'Content-Type': 'application/json' },
    '{"type":"https://uri.etsi.org/ngsi-ld/errors/Unauthorized","detail":"not this venue\'s key"}']);
  try {
    const r = await venued(['demo-feed', '--url', refuse.url, '--ingest-key', KEY, '--period-ms', '100']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /answered 401: .*not this venue's key/);
    assert.equal(refuse.requests.length, 1);
  } finally {
    await refuse.close();
  }

  // Forever until SIGTERM: a clean exit soon after.
  const ok = await fakePeer(() => [200, {}, '{}']);
  try {
    let child;
    const run = venued(['demo-feed', '--url', ok.url, '--ingest-key', KEY, '--period-ms', '100'],
      { onSpawn: (c) => { child = c; } });
    await until(() => ok.requests.length >= 2, { timeout: 10000, what: 'two notifications' });
    child.kill('SIGTERM');
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopped after \d+ notifications/);
  } finally {
    await ok.close();
  }
});

test('twin subscribe prints the Subscription and creates it on a broker with --post', async () => {
  const args = ['twin', 'subscribe', '--entity-type', 'AirQualityObserved', '--watch', 'no2,pm10',
    '--attrs', 'no2,pm10,location', '--public-url', 'https://venue.example.org/', '--ingest-key', KEY];
  const printed = await venued([...args, '--broker', 'http://127.0.0.1:9']);
  assert.equal(printed.code, 0, printed.stderr);
  const sub = JSON.parse(printed.stdout);
  assert.deepEqual(sub, {
    id: 'urn:ngsi-ld:Subscription:venue-AirQualityObserved',
    type: 'Subscription',
    entities: [{ type: 'AirQualityObserved' }],
    watchedAttributes: ['no2', 'pm10'],
    notification: {
      attributes: ['no2', 'pm10', 'location'],
      format: 'normalized',
      endpoint: {
        uri: 'https://venue.example.org/ngsi-ld/v1/notify',
        accept: 'application/json',
        receiverInfo: [{ key: 'Authorization', value: `Bearer ${KEY}` }],
      },
    },
    '@context': CONTEXT,
  });
  assert.match(printed.stdout, /\n {2}"type"/, 'pretty JSON');

  // The environment works as for the server; optional parts are left out.
  const fromEnv = await venued(['twin', 'subscribe', '--broker', 'http://127.0.0.1:9', '--entity-type', 'OffStreetParking',
    '--id', 'urn:ngsi-ld:Subscription:parking'], { env: { VENUE_INGEST_KEY: KEY, VENUE_PORT: '9100' } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  const s2 = JSON.parse(fromEnv.stdout);
  assert.equal(s2.id, 'urn:ngsi-ld:Subscription:parking');
  assert.equal(s2.watchedAttributes, undefined);
  assert.equal(s2.notification.attributes, undefined);
  assert.equal(s2.notification.endpoint.uri, 'http://localhost:9100/ngsi-ld/v1/notify');

  // --post: the broker gets the right request and answers 201.
  const broker = await fakePeer(() => [201, { Location: '/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:venue-AirQualityObserved' }, '']);
  try {
    const r = await venued([...args, '--broker', `${broker.url}/`, '--post']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /201.*\/ngsi-ld\/v1\/subscriptions\/urn:ngsi-ld:Subscription:venue-AirQualityObserved/);
    assert.equal(broker.requests.length, 1);
    const q = broker.requests[0];
    assert.equal(q.method, 'POST');
    assert.equal(q.url, '/ngsi-ld/v1/subscriptions');
    assert.equal(q.headers['content-type'], 'application/ld+json');
    const body = JSON.parse(q.body);
    assert.equal(body.type, 'Subscription');
    assert.deepEqual(body.entities, [{ type: 'AirQualityObserved' }]);
    assert.match(body.notification.endpoint.uri, /\/ngsi-ld\/v1\/notify$/);
    assert.deepEqual(body.notification.endpoint.receiverInfo, [{ key: 'Authorization', value: `Bearer ${KEY}` }]);
    assert.equal(body['@context'], CONTEXT);
    assert.deepEqual(body, sub, 'what is posted is what is printed');
  } finally {
    await broker.close();
  }

  // A broker that refuses: exit 1, its status and body reported.
  const detail = 'entities[0].type: AirQualityObserved is not known here';
  const bad = await fakePeer(() => [400, { 'Content-Type': 'application/json' },
    JSON.stringify({ type: 'https://uri.etsi.org/ngsi-ld/errors/BadRequestData', title: 'Bad request', detail })]);
  try {
    const r = await venued([...args, '--broker', bad.url, '--post']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /answered 400/);
    assert.ok(r.stderr.includes(detail), r.stderr);
  } finally {
    await bad.close();
  }
});

test('bad flags are refused, each naming the flag', async () => {
  const sub = ['twin', 'subscribe'];
  const good = { '--broker': 'http://127.0.0.1:9', '--entity-type': 'AirQualityObserved', '--ingest-key': KEY };
  const withFlag = (flag, value) => {
    const a = { ...good, [flag]: value };
    return [...sub, ...Object.entries(a).flatMap(([k, v]) => (v === null ? [] : [k, v]))];
  };
  const cases = [
    [withFlag('--broker', 'ftp://127.0.0.1'), /--broker/],
    [withFlag('--broker', 'http://'), /--broker/],
    [withFlag('--broker', 'http://127.0.0.1/a b'), /--broker/],
    [withFlag('--broker', null), /--broker/],
    [withFlag('--entity-type', 'Air-Quality'), /--entity-type/],
    [withFlag('--entity-type', null), /--entity-type/],
    [[...withFlag('--watch', 'no2,bad name')], /--watch/],
    [[...withFlag('--attrs', 'no2,,pm10')], /--attrs/],
    [[...withFlag('--attrs', 'no2,no2')], /--attrs/],
    [[...withFlag('--id', 'not a uri')], /--id/],
    [[...withFlag('--public-url', 'venue.example.org')], /--public-url/],
    [withFlag('--ingest-key', 'short'), /--ingest-key/],
    [withFlag('--ingest-key', null), /--ingest-key/],
    [[...withFlag('--frobnicate', 'x')], /--frobnicate/],
    [[...withFlag('--broker', good['--broker']), '--post=yes'], /--post/],
    [['twin', 'unsubscribe'], /unsubscribe/],
    [['demo-feed', '--ingest-key', KEY, '--url', 'ftp://127.0.0.1'], /--url/],
    [['demo-feed', '--ingest-key', KEY, '--period-ms', '10'], /--period-ms/],
    [['demo-feed', '--ingest-key', KEY, '--count', '-1'], /--count/],
    [['demo-feed', '--ingest-key', KEY, '--seed', 'abc'], /--seed/],
    [['demo-feed', '--ingest-key', KEY, '--bind', '0.0.0.0'], /--bind/],
    [['demo-feed'], /--ingest-key/],
  ];
  for (const [args, flag] of cases) {
    const r = await venued(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.split('\n')[0], flag, args.join(' '));
    assert.equal(r.stdout, '', `${args.join(' ')}: nothing printed`);
  }
  const help = await venued(['demo-feed', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--period-ms/);
});
