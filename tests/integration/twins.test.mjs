// Live digital twins over the real server: NGSI-LD notifications as city
// brokers send them (normalized and keyValues, with and without a JSON-LD
// context) reach a WebSocket client in the expo and /api/twins; every bad
// request is refused with nothing kept; values survive a restart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withServer, until, sleep } from './harness.mjs';

const KEY = 'itest-ingest-key-0123456789';
const CENTRE = 'urn:ngsi-ld:AirQualityObserved:demo-centre';
const PARKING = 'urn:ngsi-ld:OffStreetParking:demo-station';
const CONTEXT = 'https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld';

function notification(data, extra = {}) {
  return { id: `urn:ngsi-ld:Notification:${Math.random().toString(16).slice(2)}`, type: 'Notification',
    subscriptionId: 'urn:ngsi-ld:Subscription:itest', notifiedAt: new Date().toISOString(), data, ...extra };
}

async function notify(srv, body, { key = KEY, type = 'application/json', headers = {} } = {}) {
  const h = { 'Content-Type': type, ...headers };
  if (key) h.Authorization = `Bearer ${key}`;
  const res = await fetch(`${srv.url}/ngsi-ld/v1/notify`, {
    method: 'POST', headers: h, body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  return { status: res.status, body: text, json: text ? JSON.parse(text) : null, headers: res.headers };
}

const normalized = (no2, at) => ({
  id: CENTRE, type: 'AirQualityObserved',
  no2: { type: 'Property', value: no2, unitCode: 'GQ', observedAt: at },
  pm10: { type: 'Property', value: 21.5, unitCode: 'GQ', observedAt: at },
  location: { type: 'GeoProperty', value: { type: 'Point', coordinates: [4.8357, 45.764] } },
});

test('a normalized notification reaches a client in the expo and /api/twins', async () => {
  await withServer({ flags: { 'ingest-key': KEY } }, async (srv) => {
    const c = await srv.connect();
    await c.enter('expo');
    const lobby = await srv.connect();
    await lobby.enter('lobby');
    const at = '2026-12-01T10:00:00.000Z';
    const r = await notify(srv, notification([normalized(41.3, at)]),
      { headers: { Link: `<${CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`,
        'NGSILD-Tenant': 'lyon' } });
    assert.equal(r.status, 200, r.body);
    const m = await c.next('twin', { filter: (x) => x.entity === CENTRE });
    assert.equal(m.etype, 'AirQualityObserved');
    assert.equal(m.attrs.no2.value, 41.3);
    assert.equal(m.attrs.no2.unit, 'GQ');
    assert.equal(m.attrs.no2.observedAt, Date.parse(at));
    assert.deepEqual(m.attrs.location.value, { type: 'Point', coordinates: [4.8357, 45.764] });
    // A room whose scene binds nothing of it hears nothing.
    await sleep(200);
    assert.equal(lobby.all.filter((x) => x.type === 'twin').length, 0);

    const list = (await srv.getJSON('/api/twins')).json.entities;
    const e = list.find((x) => x.id === CENTRE);
    assert.ok(e, 'listed');
    assert.equal(e.type, 'AirQualityObserved');
    assert.equal(e.source, 'urn:ngsi-ld:Subscription:itest');
    assert.ok(e.rooms.includes('expo'));
    assert.equal(e.attrs.pm10.value, 21.5);

    // Coalesced per tick: two notifications in one tick, one twin message
    // each carrying only what changed, the newest value last.
    assert.equal((await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: 50 }]))).status, 200);
    const u = await c.next('twin', { filter: (x) => x.entity === CENTRE });
    assert.deepEqual(Object.keys(u.attrs), ['no2']);
    assert.equal(u.attrs.no2.value, 50);

    // A joiner gets the current values with its joined.
    const late = await srv.connect();
    await late.enter('expo');
    const now = await late.next('twin', { filter: (x) => x.entity === CENTRE });
    assert.equal(now.attrs.no2.value, 50);
    assert.equal(now.attrs.pm10.value, 21.5);
  });
});

test('keyValues and ld+json with @context at the top or per entity, told apart without a flag', async () => {
  await withServer({ flags: { 'ingest-key': KEY } }, async (srv) => {
    const kv = notification([{ id: PARKING, type: 'OffStreetParking', availableSpotNumber: 120, totalSpotNumber: 400,
      location: { type: 'Point', coordinates: [4.83, 45.75] } }], { '@context': CONTEXT });
    assert.equal((await notify(srv, kv, { type: 'application/ld+json' })).status, 200);
    const perEntity = notification([{ '@context': [CONTEXT], id: PARKING, type: 'OffStreetParking',
      availableSpotNumber: { type: 'Property', value: 118 } }]);
    assert.equal((await notify(srv, perEntity, { type: 'application/ld+json' })).status, 200);
    const r = await srv.getJSON(`/api/twins/${encodeURIComponent(PARKING)}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.attrs.availableSpotNumber.value, 118);
    assert.equal(r.json.attrs.totalSpotNumber.value, 400);
    assert.deepEqual(r.json.attrs.location.value.coordinates, [4.83, 45.75]);
    await until(async () => {
      const h = (await srv.getJSON(`/api/twins/${encodeURIComponent(PARKING)}`)).json.history;
      return h.availableSpotNumber?.length === 2;
    }, { what: 'history written by the next flush' });
    const h = (await srv.getJSON(`/api/twins/${encodeURIComponent(PARKING)}`)).json.history;
    assert.deepEqual(h.availableSpotNumber.map((x) => x.value), [120, 118]);
    assert.equal((await srv.getJSON('/api/twins/urn:ngsi-ld:Nothing:here')).status, 404);
  });
});

test('bad requests are refused with the right status and nothing is kept', async () => {
  await withServer({ flags: { 'ingest-key': KEY, 'ingest-max': 4096 } }, async (srv) => {
    const good = notification([normalized(10, '2026-12-01T10:00:00Z')]);
    const cases = [
      [{ key: null }, good, 401, /Authorization/],
      [{ key: 'wrong-key-0123456789' }, good, 401, /not this venue/],
      [{ type: 'text/plain' }, good, 415, /Content-Type/],
      [{}, '{"type":"Notification",', 400, /JSON/],
      [{}, { ...good, type: 'Subscription' }, 400, /type/],
      [{}, { ...good, data: [] }, 400, /data/],
      [{}, { ...good, data: [{ type: 'AirQualityObserved', no2: 1 }] }, 400, /data\[0\]\.id/],
      [{}, { ...good, data: [{ ...normalized(1, 'yesterday'), id: CENTRE }] }, 400, /observedAt/],
      [{}, { ...good, data: [{ id: CENTRE, type: 'AirQualityObserved', no2: { type: 'Property', value: 1, unitCode: 7 } }] }, 400, /unitCode/],
      // One bad entity spoils the whole notification: the good one is not kept either.
      [{}, { ...good, data: [{ id: PARKING, type: 'OffStreetParking', availableSpotNumber: 5 }, { id: 'not a uri', type: 'X' }] }, 400, /data\[1\]/],
      [{}, { ...good, data: [{ id: CENTRE, type: 'AirQualityObserved', note: 'x'.repeat(5000) }] }, 413, /ingest-max/],
    ];
    for (const [opts, body, status, detail] of cases) {
      const r = await notify(srv, body, opts);
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)}: ${r.body}`);
      assert.match(r.json.detail, detail);
      assert.match(r.json.type, /^https:\/\/uri\.etsi\.org\/ngsi-ld\/errors\//);
    }
    const get = await fetch(`${srv.url}/ngsi-ld/v1/notify`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await get.text();
    assert.deepEqual((await srv.getJSON('/api/twins')).json.entities, [], 'nothing was kept');
    assert.equal((await srv.get('/healthz')).status, 200, 'still serving');
  });
});

test('without --ingest-key the venue takes no twin data', async () => {
  await withServer({}, async (srv) => {
    const r = await notify(srv, notification([normalized(1, '2026-12-01T10:00:00Z')]));
    assert.equal(r.status, 401);
    assert.match(r.json.detail, /--ingest-key/);
  });
});

test('the ingest has its own rate limit: 429 with Retry-After, then it takes again', async () => {
  await withServer({ flags: { 'ingest-key': KEY, 'ingest-rate': 2 } }, async (srv) => {
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: i }]))).status);
    assert.deepEqual(statuses.slice(0, 2), [200, 200]);
    assert.ok(statuses.includes(429), `statuses ${statuses}`);
    const r = await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: 9 }]));
    if (r.status === 429) assert.equal(r.headers.get('retry-after'), '1');
    await sleep(1100);
    assert.equal((await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: 10 }]))).status, 200);
  });
});

test('twin values and their history survive a restart', async () => {
  await withServer({ flags: { 'ingest-key': KEY } }, async (srv) => {
    for (const v of [30, 31, 32])
      assert.equal((await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: v }]))).status, 200);
    await srv.restart();
    const r = await srv.getJSON(`/api/twins/${encodeURIComponent(CENTRE)}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.attrs.no2.value, 32);
    assert.deepEqual(r.json.history.no2.map((x) => x.value), [30, 31, 32]);
    const c = await srv.connect();
    await c.enter('expo');
    const m = await c.next('twin', { filter: (x) => x.entity === CENTRE });
    assert.equal(m.attrs.no2.value, 32);
  });
});

test('the history is bounded per attribute (--twin-history)', async () => {
  await withServer({ flags: { 'ingest-key': KEY, 'twin-history': 5, 'ingest-rate': 1000 } }, async (srv) => {
    for (let i = 0; i < 12; i++)
      assert.equal((await notify(srv, notification([{ id: CENTRE, type: 'AirQualityObserved', no2: i }]))).status, 200);
    await until(async () => {
      const h = (await srv.getJSON(`/api/twins/${encodeURIComponent(CENTRE)}`)).json.history;
      return h.no2?.at(-1)?.value === 11;
    }, { what: 'the last value written' });
    const h = (await srv.getJSON(`/api/twins/${encodeURIComponent(CENTRE)}`)).json.history;
    assert.deepEqual(h.no2.map((x) => x.value), [7, 8, 9, 10, 11]);
  });
});
