/*
 * Live digital twins in the expo, in a real browser against the real
 * venued started with an ingest key: an NGSI-LD notification posted to
 * /ngsi-ld/v1/notify shows in the Live data tab as text (value, unit
 * symbol from its unitCode, age, source) and on the showcase in the 3D
 * view and the 2D map; a newer value replaces it; an old one says "stale"; and the
 * projector view /show has the value in large type and a QR code of the
 * join link. Screenshots: tests/artifacts/twins-booth.png, twins-map.png,
 * show.png.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVenued, launchBrowser, newPerson, join, shot, consoleErrors, until, stopAll } from './harness.mjs';

const KEY = 'twins-test-ingest-key-0123456789';
const CENTRE = 'urn:ngsi-ld:AirQualityObserved:demo-centre';
const HARBOUR = 'urn:ngsi-ld:AirQualityObserved:demo-harbour';

let venued;
let chrome;
let page;

before(async () => {
    venued = await startVenued(['--ingest-key', KEY]);
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

/* POST a normalized notification of one AirQualityObserved attribute. */
async function notify(entity, attr, value, unitCode, observedAt = new Date()) {
    const body = {
        id: 'urn:ngsi-ld:Notification:x', type: 'Notification',
        data: [{ id: entity, type: 'AirQualityObserved', [attr]: { type: 'Property', value, unitCode, observedAt: observedAt.toISOString() } }],
    };
    const res = await fetch(`${venued.url}/ngsi-ld/v1/notify`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}` },
        body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.text());
}

/* The Live data tab's row for a label in a showcase, as people read it. */
const liveRow = (label, booth = 'Air quality') => page.evaluate(([l, b]) => {
    const sec = [...document.querySelectorAll('#live-list .live-booth')].find((s) => s.querySelector('h2').textContent === b);
    const li = sec && [...sec.querySelectorAll('.live-item')].find((x) => x.querySelector('.live-label').textContent === l);
    return li ? li.innerText.replace(/\s+/g, ' ') : null;
}, [label, booth]);

const drawn = (show, label) => page.evaluate(([s, l]) => window.__venue.twinLabels().find((d) => d.show === s && d.label === l) || null, [show, label]);

test('a value posted by a city broker shows in the Live data list and on the showcase', async () => {
    page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Ada', { query: '?room=expo' });
    await notify(CENTRE, 'no2', 41.3, 'GQ');
    await notify(CENTRE, 'temperature', 21.4, 'CEL');
    await page.evaluate(() => document.getElementById('tab-live').click());
    assert.equal(await page.getAttribute('#tab-live', 'aria-selected'), 'true');
    assert.equal(await page.getAttribute('#live-list', 'aria-live'), 'polite');
    const row = await until(async () => {
        const r = await liveRow('NO₂');
        return r && r.includes('41.3') ? r : null;
    }, 15000, 'NO₂ 41.3 in the Live data list');
    assert.match(row, /41\.3 µg\/m³/);
    assert.match(row, /updated (just now|\d+ s ago)/);
    assert.match(row, /source: urn:ngsi-ld:AirQualityObserved:demo-centre/);
    assert.doesNotMatch(row, /stale/i);
    /* the scene gives °C itself; a binding without a unit would show CEL as °C too */
    await until(async () => /21\.4 °C/.test((await liveRow('Temperature')) || ''), 10000, 'temperature');
    /* in 3D: the ramp colours the showcase, the sparkline carries the value */
    const ramp = await until(() => drawn('ramp', 'NO₂'), 10000, 'the ramp drawn');
    assert.match(ramp.colour, /^#[0-9a-f]{6}$/);
    assert.equal(ramp.stale, false);
    await until(async () => ((await drawn('label', 'Temperature')) || {}).text === '21.4 °C', 10000, 'the 3D label of the temperature');
});

test('a newer value replaces the old one in the list and in the 3D label', async () => {
    await notify(CENTRE, 'no2', 57, 'GQ');
    await notify(CENTRE, 'pm25', 12.4, 'GQ');
    await until(async () => /\b57 µg\/m³/.test((await liveRow('NO₂')) || ''), 15000, 'NO₂ 57 in the list');
    await until(async () => ((await drawn('sparkline', 'NO₂')) || {}).text === '57 µg/m³', 10000, 'the sparkline at 57');
    await until(async () => ((await drawn('label', 'PM2.5')) || {}).text === '12.4 µg/m³', 10000, 'the 3D label of PM2.5');
    /* walk up to the air-quality booth and look at it */
    await page.evaluate(() => window.__venue.walkTo(7, 0));
    await until(() => page.evaluate(() => Math.abs(window.__venue.client.me.p[0] - 7) < 0.5), 20000, 'walking to the booth');
    await page.evaluate(() => window.__venue.walkTo(7, -2.5));
    await until(() => page.evaluate(() => window.__venue.client.me.p[2] < -2), 20000, 'facing the booth');
    await shot(page, 'twins-booth');
});

test('a value older than its stale_after says "stale", and is never shown as current', async () => {
    await notify(HARBOUR, 'no2', 63, 'GQ', new Date(Date.now() - 10 * 60 * 1000));
    const row = await until(async () => {
        const r = await liveRow('NO₂ harbour');
        return r && r.includes('63') ? r : null;
    }, 15000, 'the harbour value');
    assert.match(row, /stale/i);
    assert.match(row, /10 min ago/);
    assert.ok(await page.evaluate(() => [...document.querySelectorAll('#live-list .live-item.stale')].length >= 1), 'greyed');
    const label = await until(() => drawn('label', 'NO₂ harbour'), 10000, 'the 3D harbour label');
    assert.equal(label.stale, true);
    /* the ages are kept current without being read out */
    assert.equal(await page.$$eval('#live-list .live-meta', (els) => els.every((e) => e.getAttribute('aria-live') === 'off')), true);
    assert.deepEqual(consoleErrors(page), []);
});

test('the 2D map writes the values beside each showcase and shows the ramp colour', async () => {
    await page.evaluate(() => document.getElementById('view-toggle').click());
    await until(() => page.evaluate(() => window.__venue.view === '2d'), 10000, 'the 2D map');
    await until(async () => ((await drawn('label', 'PM2.5')) || {}).text === '12.4 µg/m³', 10000, 'PM2.5 on the map');
    const ramp = await until(() => drawn('ramp', 'NO₂'), 10000, 'the ramp on the map');
    assert.match(ramp.colour, /^#[0-9a-f]{6}$/);
    assert.equal((await drawn('label', 'NO₂ harbour')).stale, true);
    await shot(page, 'twins-map');
});

test('the projector view shows the values large, with a QR code of the join link', async () => {
    const show = await newPerson(chrome.browser, { viewport: { width: 1600, height: 900 } });
    await show.goto(`${venued.url}/show?room=expo&booth=air-quality`);
    await show.waitForFunction(() => /57/.test(document.getElementById('show-values').textContent), null, { timeout: 20000 });
    assert.equal(await show.textContent('#show-title'), 'Air quality');
    const big = await show.evaluate(() => {
        const v = [...document.querySelectorAll('.show-item')].find((li) => li.querySelector('.show-label').textContent === 'NO₂');
        return { text: v.querySelector('.show-value').textContent, px: parseFloat(getComputedStyle(v.querySelector('.show-value')).fontSize) };
    });
    assert.equal(big.text, '57 µg/m³');
    assert.ok(big.px >= 0.04 * 1600, `the value is large: ${big.px}px`);
    /* the QR code: a canvas with both dark and light modules */
    const qr = await show.evaluate(() => {
        const c = document.getElementById('show-qr');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
        return { w: c.width, dark: dark / (d.length / 4), link: document.getElementById('show-link').textContent };
    });
    assert.ok(qr.w >= 100 && qr.dark > 0.2 && qr.dark < 0.7, `a real QR code: ${JSON.stringify(qr)}`);
    assert.equal(qr.link, `${venued.url.replace(/^http:\/\//, '')}/?room=expo`);
    /* the harbour value is stale there too */
    assert.match(await show.evaluate(() => [...document.querySelectorAll('.show-item.stale .show-age')].map((e) => e.textContent).join(' ')), /stale/);
    await shot(show, 'show');
    assert.deepEqual(consoleErrors(show), []);
});
