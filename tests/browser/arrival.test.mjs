/*
 * An attendee's first ten minutes (the issue of that name): what the page
 * says on arrival, the order of the Rooms tab, where the 3D camera puts
 * me, the 2D map's labels, and a 390 px phone. axe-core checks each view.
 * Screenshots go to tests/artifacts/.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVenued, launchBrowser, newPerson, join, shot, consoleErrors, until, stopAll, sleep, axe } from './harness.mjs';

const MIN = 60000;
const DEMO_ROOMS = ['lobby', 'plenary', 'plenary-overflow', 'breakout-1', 'expo'];

let venued;
let chrome;
let U;

before(async () => {
    venued = await startVenued([], { users: [['admin', 'Ada Admin', 'admin'], ['mod', 'Mo Moderator', 'moderator']] });
    U = venued.users;
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const activity = (page) => page.textContent('#activity');
const roomOrder = (page) => page.$$eval('#rooms button.room', (bs) => bs.map((b) => b.dataset.room));

test('arriving says where I am, not the room\'s capacity; a moderator\'s change is said', async () => {
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${U.mod.token}&room=breakout-2`, view: '2d' });
    const att = await newPerson(chrome.browser);
    await join(att, venued.url, 'Ari Arriving', { query: '?room=breakout-2', view: '2d' });
    /* the room message comes right after joined: give it time to be (not) said */
    await sleep(1500);
    for (const p of [mod, att]) {
        const said = `${await activity(p)} | ${await p.textContent('#announcer')} | ${await p.textContent('#toasts')}`;
        assert.doesNotMatch(said, /capacity|room is open/i, `nothing about the capacity on arrival: "${said}"`);
    }
    await mod.evaluate(() => window.__venue.client.mod('capacity', { room: 'breakout-2', capacity: 25 }));
    await until(async () => /capacity to 25/.test(await activity(att)), 5000, 'the capacity change said');
    await mod.evaluate(() => window.__venue.client.mod('capacity', { room: 'breakout-2', capacity: 30 }));
    await mod.context_.close();
    await att.context_.close();
});

const VENUE_ORDER = ['lobby', 'plenary', 'plenary-overflow', 'breakout-1', 'breakout-2', 'breakout-3', 'expo'];

test('the Rooms tab lists what is on first, not the alphabet', async () => {
    /* nothing on yet: the venue's order (each scene's "order"), the plenary second, not last */
    const bare = await newPerson(chrome.browser);
    await join(bare, venued.url, 'Rob Roomlist', { view: '2d' });
    await bare.click('#tab-rooms');
    await until(async () => (await roomOrder(bare)).length === VENUE_ORDER.length, 8000, 'the room list');
    assert.deepEqual(await roomOrder(bare), VENUE_ORDER, 'lobby, plenary, overflow, breakouts, expo');
    await bare.context_.close();
    const now = Date.now();
    const iso = (min) => new Date(now + min * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const res = await fetch(`${venued.url}/api/admin/programme`, {
        method: 'POST',
        headers: { authorization: `Bearer ${U.admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessions: [
            { id: 'opening', title: 'Opening plenary', room: 'plenary', start: iso(-10), end: iso(30) },
            { id: 'expo-tour', title: 'Expo tour', room: 'expo', start: iso(120), end: iso(160) },
            { id: 'twins', title: 'Local digital twins', room: 'breakout-1', start: iso(60), end: iso(100) },
        ] }),
    });
    assert.equal(res.status, 200, await res.text());
    const served = (await (await fetch(`${venued.url}/api/venue`)).json()).rooms.map((r) => r.id);
    assert.deepEqual(served, VENUE_ORDER, 'the server lists the rooms in the venue\'s order');
    const page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Rhea Rooms', { view: '2d' });
    await page.click('#tab-rooms');
    const order = await until(async () => {
        const o = await roomOrder(page);
        return o.length === served.length && o[0] === 'plenary' ? o : null;
    }, 8000, 'the live plenary first');
    assert.deepEqual(order.slice(0, 3), ['plenary', 'breakout-1', 'expo'], `live, then next: ${order}`);
    assert.deepEqual(order.slice(3), served.filter((id) => !['plenary', 'breakout-1', 'expo'].includes(id)),
        'the rest in the venue\'s order');
    assert.deepEqual(await axe(page), []);
    await shot(page, 'arrival-rooms');
    await page.context_.close();
});

/*
 * My own figure on arrival, in the 3D view: the share of the view its head
 * covers, and how much of the view's height the figure takes from the top
 * of its head down (its feet or the view's bottom edge).
 */
async function ownFigure(page) {
    return page.evaluate(() => {
        const V = window.__venue;
        const a = V.avatar(V.client.me.id);
        const view = document.getElementById('view').getBoundingClientRect();
        const clampX = (x) => Math.min(view.right, Math.max(view.left, x));
        const clampY = (y) => Math.min(view.bottom, Math.max(view.top, y));
        const xs = [];
        const ys = [];
        const N = 200;
        for (let i = 0; i < N; i++) {
            /* points on the head's sphere (r 0.24 m, centre 1.38 m up: view3d.js) */
            const t = Math.acos(1 - (2 * (i + 0.5)) / N);
            const f = Math.PI * (1 + Math.sqrt(5)) * i;
            const s = V.screenOf(a.x + 0.24 * Math.sin(t) * Math.cos(f), a.y + 1.38 + 0.24 * Math.cos(t), a.z + 0.24 * Math.sin(t) * Math.sin(f));
            if (!s) continue;
            xs.push(clampX(s.x));
            ys.push(clampY(s.y));
        }
        const head = ((Math.max(...xs) - Math.min(...xs)) * (Math.max(...ys) - Math.min(...ys))) / (view.width * view.height);
        const feet = V.screenOf(a.x, a.y, a.z);
        const bottom = feet ? clampY(feet.y) : view.bottom;
        const figure = (bottom - Math.min(...ys)) / view.height;
        return { head, figure, camera: V.camera() };
    });
}

test('arriving in the plenary, the expo and a breakout, my own head does not fill the 3D view', async () => {
    for (const room of ['plenary', 'expo', 'breakout-1']) {
        /* arriving by a join link to the room, as a newcomer does */
        const page = await newPerson(chrome.browser);
        await join(page, venued.url, `Cam ${room}`, { query: `?room=${room}` });
        /* the camera glides to its place: measure once it is still */
        await until(async () => {
            const a = await page.evaluate(() => window.__venue.camera());
            await sleep(300);
            const b = await page.evaluate(() => window.__venue.camera());
            return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z) < 0.005 && Math.abs(a.fov - b.fov) < 0.05;
        }, 10000, `the camera settled in ${room}`);
        const f = await ownFigure(page);
        const what = `${room}: camera ${JSON.stringify(f.camera)}`;
        assert.ok(f.head < 0.025, `${what}: my head covers ${(f.head * 100).toFixed(1)} % of the view`);
        assert.ok(f.figure < 0.25, `${what}: my figure takes ${(f.figure * 100).toFixed(1)} % of the view's height`);
        assert.ok(f.figure > 0.05, `${what}: I still see myself (${(f.figure * 100).toFixed(1)} % of the height)`);
        await shot(page, `arrival-3d-${room}`);
        if (room === 'plenary') assert.deepEqual(await axe(page), []);
        assert.deepEqual(consoleErrors(page), []);
        await page.context_.close();
    }
});

/* Room labels that leave the map's canvas, and pairs of labels that overlap. */
async function badLabels(page) {
    return page.evaluate(() => {
        const c = document.querySelector('#view canvas').getBoundingClientRect();
        const L = window.__venue.mapLabels();
        const out = L.filter((l) => l.left < c.left - 0.5 || l.right > c.right + 0.5 || l.top < c.top - 0.5 || l.bottom > c.bottom + 0.5)
            .map((l) => l.text);
        const overlaps = [];
        for (let i = 0; i < L.length; i++) {
            for (let j = i + 1; j < L.length; j++) {
                const a = L[i];
                const b = L[j];
                if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) overlaps.push(`${a.text} / ${b.text}`);
            }
        }
        return { count: L.length, out, overlaps };
    });
}

test('in the 2D map of every demo room, labels stay inside the map and apart', async () => {
    const page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Mira Map', { view: '2d' });
    for (const room of DEMO_ROOMS) {
        if (room !== 'lobby') {
            await page.evaluate((r) => window.__venue.client.join(r), room);
            await until(() => page.evaluate((r) => window.__venue.ready && window.__venue.client.room.id === r, room), 8000, `in ${room}`);
        }
        const bad = await until(async () => {
            await sleep(300);
            const b = await badLabels(page);
            return b.count > 0 ? b : null;
        }, 5000, `the labels of ${room}`);
        assert.deepEqual(bad.out, [], `${room}: labels cut off at the map's edge`);
        assert.deepEqual(bad.overlaps, [], `${room}: labels on top of each other`);
        await shot(page, `arrival-map-${room}`);
    }
    /* the lobby's doors are all named */
    await page.evaluate(() => window.__venue.client.join('lobby'));
    await until(() => page.evaluate(() => window.__venue.client.room.id === 'lobby'), 8000, 'back in the lobby');
    await sleep(500);
    const texts = (await page.evaluate(() => window.__venue.mapLabels())).map((l) => l.text);
    assert.equal(texts.filter((t) => t.startsWith('→ ')).length, 6, `the lobby's six doors: ${texts}`);
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

test('on a 390 px phone the touch pad leaves the map free and the arrival line fits', async () => {
    const page = await newPerson(chrome.browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await join(page, venued.url, 'Pia Phone', { view: '2d' });
    await until(async () => (await activity(page)).length > 0, 5000, 'the arrival line');
    const box = (sel) => page.evaluate((s) => {
        const r = document.querySelector(s).getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    }, sel);
    const map = await box('#view canvas');
    const pad = await box('#touch');
    assert.equal(await page.isVisible('#touch button[data-move="forward"]'), true);
    assert.ok(pad.top >= map.bottom - 0.5 || pad.bottom <= map.top + 0.5 || pad.left >= map.right - 0.5 || pad.right <= map.left + 0.5,
        `the touch pad ${JSON.stringify(pad)} is clear of the map ${JSON.stringify(map)}`);
    const act = await box('#activity');
    assert.ok(act.left >= 0 && act.top >= 0 && act.right <= 390 && act.bottom <= 844, `the arrival line inside the screen: ${JSON.stringify(act)}`);
    const clipped = await page.evaluate(() => {
        const e = document.getElementById('activity');
        return e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1;
    });
    assert.equal(clipped, false, `the arrival line is shown whole: "${await activity(page)}"`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
    await shot(page, 'arrival-phone-390-map');
    assert.deepEqual(await axe(page), []);
    await page.click('#view-toggle');
    await until(() => page.evaluate(() => window.__venue.view === '3d'), 5000, 'the 3D view');
    const view3d = await box('#view canvas');
    assert.ok(pad.top >= view3d.bottom - 0.5, 'the touch pad is below the 3D view too');
    await sleep(500);
    await shot(page, 'arrival-phone-390-3d');
    assert.deepEqual(await axe(page), []);
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});
