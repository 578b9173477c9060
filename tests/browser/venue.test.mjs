/*
 * The web client in a real browser against the real venued: two people in
 * one room, names as text, walking, chat, changing rooms by the list and by
 * a portal, the 2D map, no WebGL, a phone-sized screen, keyboard alone, a
 * readable error, and the server restarting under the page.
 * Screenshots of each view go to tests/artifacts/.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
    startVenued, launchBrowser, newPerson, join, rosterNames, shot, consoleErrors, until, stopAll, sleep,
} from './harness.mjs';

const XSS = '<img src=x onerror="window.__pwned=1">';
const RTL = 'مريم الحسيني';

let venued;
let chrome;
let ada; /* page of "Ada Lovelace" */
let mal; /* page of the person whose name is markup */
let adaId;
let malId;

before(async () => {
    venued = await startVenued();
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const me = (page) => page.evaluate(() => {
    const c = window.__venue.client;
    return { room: c.room && c.room.id, p: c.me.p, id: c.me.id };
});
const drawnAt = (page, id) => page.evaluate((i) => window.__venue.avatar(i), id);

/* One keep-alive connection, as a browser uses: GET path, resolve the body length. */
function getOn(agent, port, path) {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 3000 }, (res) => {
            let n = 0;
            res.on('data', (d) => { n += d.length; });
            res.on('end', () => resolve({ status: res.statusCode, length: +res.headers['content-length'], got: n }));
            res.on('aborted', () => resolve({ status: res.statusCode, length: +res.headers['content-length'], got: n }));
        });
        req.on('timeout', () => req.destroy(new Error(`${path}: no complete reply in 3 s`)));
        req.on('error', reject);
    });
}

test('the page\'s files load over one keep-alive connection, as browsers fetch them', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
        for (const path of ['/', '/style.css', '/js/app.js', '/api/venue']) {
            const r = await getOn(agent, venued.port, path).catch((e) => ({ error: e.message }));
            assert.ok(!r.error && r.status === 200 && r.got === r.length,
                `${path} after other requests on the same connection: ${JSON.stringify(r)}`);
        }
    } finally {
        agent.destroy();
    }
});

test('two people join the same room and each lists the other', async () => {
    ada = await newPerson(chrome.browser);
    adaId = await join(ada, venued.url, 'Ada Lovelace');
    mal = await newPerson(chrome.browser);
    malId = await join(mal, venued.url, XSS);
    assert.equal((await me(ada)).room, 'lobby');
    assert.equal((await me(mal)).room, 'lobby');
    await ada.click('#tab-people');
    await mal.click('#tab-people');
    await until(async () => (await rosterNames(ada)).includes(XSS), 5000, 'Ada to list the other');
    await until(async () => (await rosterNames(mal)).includes('Ada Lovelace'), 5000, 'the other to list Ada');
    assert.equal(await ada.textContent('#people-count'), '2');
    /* the arrival was announced to screen readers */
    await until(() => ada.evaluate(() => document.getElementById('announcer').textContent.includes('joined')), 5000, 'announcement');
    await shot(ada, 'lobby-3d');
});

test('a name with markup is shown as text, never run', async () => {
    const roster = await ada.$$eval('#roster img, #tags img, #chat-log img', (els) => els.length);
    assert.equal(roster, 0, 'no <img> made from a name');
    assert.equal(await ada.evaluate(() => window.__pwned), undefined);
    /* the name tag over the avatar shows the same text */
    await until(() => ada.evaluate((n) => [...document.querySelectorAll('#tags .tag bdi')].some((b) => b.textContent === n), XSS), 5000, 'name tag');
    await mal.click('#tab-chat');
    await mal.fill('#chat-input', '<b>bold?</b> <script>window.__pwned=2</script>');
    await mal.press('#chat-input', 'Enter');
    await until(() => ada.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent.includes('<b>bold?</b>'))), 5000, 'chat as text');
    assert.equal(await ada.$$eval('#chat-log b, #chat-log script', (els) => els.length), 0);
    assert.equal(await ada.evaluate(() => window.__pwned), undefined);
});

test('chat goes both ways, with the room\'s recent messages', async () => {
    await ada.click('#tab-chat');
    await mal.click('#tab-chat');
    await ada.fill('#chat-input', 'Hello from Ada, مرحبا');
    await ada.press('#chat-input', 'Enter');
    await until(() => mal.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'Hello from Ada, مرحبا')), 5000, 'Ada\'s line at the other');
    await mal.fill('#chat-input', 'Hi Ada!');
    await mal.click('#chat-form button[type="submit"]');
    await until(() => ada.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'Hi Ada!')), 5000, 'reply at Ada');
    /* announced, and the sender's own line is marked as theirs */
    await until(() => ada.evaluate(() => document.getElementById('announcer').textContent.includes('Hi Ada!')), 5000, 'chat announced');
    assert.equal(await ada.$$eval('#chat-log .msg.mine', (els) => els.length), 1);
    await shot(ada, 'chat');
});

test('walking with the keyboard moves the avatar for the other person too', async () => {
    const before = await me(ada);
    await ada.focus('#view');
    await ada.keyboard.down('KeyW');
    await sleep(1200);
    await ada.keyboard.up('KeyW');
    await ada.keyboard.down('KeyQ');
    await sleep(300);
    await ada.keyboard.up('KeyQ');
    const after = await until(async () => {
        const m = await me(ada);
        return Math.hypot(m.p[0] - before.p[0], m.p[2] - before.p[2]) > 1.5 ? m : null;
    }, 5000, 'Ada to move');
    /* the other page draws Ada where she went (interpolated, ~100 ms behind) */
    await until(async () => {
        const d = await drawnAt(mal, adaId);
        return d && Math.hypot(d.x - after.p[0], d.z - after.p[2]) < 0.3;
    }, 5000, 'the other page to draw Ada at her new place');
    await shot(mal, 'walked');
});

test('click on the floor to walk there', async () => {
    const start = await me(ada);
    const yaw = await ada.evaluate(() => window.__venue.avatar(window.__venue.client.me.id).yaw);
    const tx = start.p[0] - Math.sin(yaw) * 3;
    const tz = start.p[2] - Math.cos(yaw) * 3;
    const pt = await ada.evaluate(([x, z]) => window.__venue.screenOf(x, 0, z), [tx, tz]);
    assert.ok(pt, 'the target is on screen');
    await ada.mouse.click(pt.x, pt.y);
    await until(async () => {
        const m = await me(ada);
        return Math.hypot(m.p[0] - tx, m.p[2] - tz) < 0.6;
    }, 6000, 'Ada to arrive where she clicked');
});

test('a raised hand shows for the other person', async () => {
    await ada.focus('#hand');
    await ada.keyboard.press('Space');
    assert.equal(await ada.getAttribute('#hand', 'aria-pressed'), 'true');
    await mal.click('#tab-people');
    await until(() => mal.evaluate((id) => !!document.querySelector(`#roster li[data-id="${id}"] .hand`), adaId), 5000, 'hand in the roster');
    await until(async () => (await drawnAt(mal, adaId))?.hand === true, 5000, 'hand on the avatar');
    await ada.click('#hand');
    await until(() => mal.evaluate((id) => !document.querySelector(`#roster li[data-id="${id}"] .hand`), adaId), 5000, 'hand lowered');
});

test('a hidden tab shows as away, and back', async () => {
    const setHidden = (hidden) => ada.evaluate((h) => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(true);
    await until(() => mal.evaluate((id) => document.querySelector(`#roster li[data-id="${id}"]`)?.classList.contains('away'), adaId), 5000, 'away in the roster');
    assert.match(await mal.textContent(`#roster li[data-id="${adaId}"] .pmeta`), /away/);
    await setHidden(false);
    await until(() => mal.evaluate((id) => !document.querySelector(`#roster li[data-id="${id}"]`)?.classList.contains('away'), adaId), 5000, 'active again');
});

test('changing rooms from the room list', async () => {
    await ada.click('#tab-rooms');
    await ada.click('#rooms button[data-room="breakout-1"]');
    await until(async () => (await me(ada)).room === 'breakout-1', 8000, 'Ada in breakout-1');
    await until(() => ada.evaluate(() => window.__venue.ready), 8000, 'room drawn');
    assert.match(await ada.textContent('#room-title'), /Breakout 1/);
    await until(async () => !(await rosterNames(mal)).includes('Ada Lovelace'), 5000, 'Ada gone from the lobby roster');
    /* the list marks where you are; counts are live */
    assert.equal(await ada.getAttribute('#rooms button[data-room="breakout-1"]', 'aria-current'), 'true');
    await shot(ada, 'breakout-1');
    await ada.click('#rooms button[data-room="lobby"]');
    await until(async () => (await me(ada)).room === 'lobby', 8000, 'Ada back in the lobby');
});

test('walking through a portal changes rooms', async () => {
    await until(() => ada.evaluate(() => window.__venue.ready), 8000, 'lobby drawn');
    /* the lobby's door to the plenary: its trigger reaches into the floor at z -11.6 .. -10.8 */
    const portal = await ada.evaluate(async () => {
        const s = await (await fetch('/api/scenes/lobby')).json();
        return s.portals.find((p) => p.room === 'plenary');
    });
    assert.ok(portal, 'the lobby has a portal to the plenary');
    const x = (portal.trigger.min[0] + portal.trigger.max[0]) / 2;
    const z = Math.max(portal.trigger.min[2], -11.5) + 0.3;
    await ada.evaluate(([px, pz]) => window.__venue.walkTo(px, pz), [x, z]);
    await until(async () => (await me(ada)).room === 'plenary', 15000, 'the portal to take Ada to the plenary');
    await until(() => ada.evaluate(() => window.__venue.ready), 8000, 'plenary drawn');
    await sleep(1500); /* models and slides load */
    await shot(ada, 'plenary-3d');
    await until(async () => !(await rosterNames(mal)).includes('Ada Lovelace'), 5000, 'Ada gone from the lobby');
});

test('the 2D map shows the room and works by keyboard', async () => {
    await ada.click('#view-toggle');
    await until(() => ada.evaluate(() => window.__venue.view === '2d' && !!document.querySelector('#view canvas.map2d')), 5000, '2D map');
    assert.equal(await ada.getAttribute('#view-toggle', 'aria-pressed'), 'true');
    const before = await me(ada);
    await ada.focus('#view');
    await ada.keyboard.down('ArrowUp');
    await sleep(700);
    await ada.keyboard.up('ArrowUp');
    await until(async () => {
        const m = await me(ada);
        return Math.hypot(m.p[0] - before.p[0], m.p[2] - before.p[2]) > 0.8;
    }, 5000, 'walking on the map');
    await shot(ada, 'plenary-2d');
    await ada.click('#view-toggle');
    await until(() => ada.evaluate(() => window.__venue.view === '3d'), 5000, 'back to 3D');
});

test('normal use logs no console errors', () => {
    assert.deepEqual(consoleErrors(ada), []);
    assert.deepEqual(consoleErrors(mal), []);
});

test('without WebGL the page falls back to the 2D map with a notice', async () => {
    const page = await newPerson(chrome.browser, { noWebGL: true });
    await join(page, venued.url, RTL, { query: '?room=expo' });
    assert.equal(await page.evaluate(() => window.__venue.view), '2d');
    assert.equal(await page.isVisible('#notice'), true);
    assert.match(await page.textContent('#notice'), /2D map/);
    assert.equal((await me(page)).room, 'expo', 'a join link takes you to its room');
    await page.click('#tab-people');
    assert.ok((await rosterNames(page)).includes(RTL), 'a right-to-left name is listed as written');
    await sleep(500);
    await shot(page, 'expo-2d-no-webgl');
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

test('an unknown room in a join link is said on the join screen, then the lobby', async () => {
    const page = await newPerson(chrome.browser);
    await page.goto(`${venued.url}/?room=no-such-room`);
    /* checked against /api/venue before entering (tests/browser/joining.test.mjs has the rest) */
    await until(() => page.evaluate(() => document.getElementById('join-room-unknown').textContent.includes('does not have')), 8000, 'the unknown room said');
    await page.fill('#join-name', 'Grace');
    await page.click('#join-submit');
    await until(() => page.evaluate(() => window.__venue.ready && window.__venue.client.room.id === 'lobby'), 8000, 'the lobby instead');
    await page.context_.close();
});

test('on a 360 px phone screen everything fits and touch controls walk', async () => {
    const page = await newPerson(chrome.browser, { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await join(page, venued.url, 'Lin 林');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no sideways scrolling (overflow ${overflow}px)`);
    assert.equal(await page.isVisible('#touch button[data-move="forward"]'), true);
    const before = await me(page);
    /* a finger held on "forward": real touch events through the DevTools protocol */
    const box = await page.locator('#touch button[data-move="forward"]').boundingBox();
    const cdp = await page.context().newCDPSession(page);
    const at = [{ x: box.x + box.width / 2, y: box.y + box.height / 2 }];
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at });
    await sleep(800);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await until(async () => {
        const m = await me(page);
        return Math.hypot(m.p[0] - before.p[0], m.p[2] - before.p[2]) > 0.8;
    }, 5000, 'walking by touch');
    await shot(page, 'phone-360');
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

test('keyboard alone: join, walk, chat, with a visible focus', async () => {
    const page = await newPerson(chrome.browser);
    await page.goto(`${venued.url}/`);
    /* the name field has focus on arrival */
    assert.equal(await page.evaluate(() => document.activeElement.id), 'join-name');
    await page.keyboard.type('Kim Keyboard');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__venue && window.__venue.ready, null, { timeout: 20000 });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'view', 'the view has focus after joining');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(ring, 'none', 'focus is visible');
    const before = await me(page);
    /* Held until the avatar has walked: a frame moves at most 0.1 s worth,
     * so on a loaded machine with software GL a fixed press may not be
     * enough, and the test is of the keyboard, not of the frame rate. */
    await page.keyboard.down('KeyS');
    try {
        await until(async () => {
            const m = await me(page);
            return Math.hypot(m.p[0] - before.p[0], m.p[2] - before.p[2]) > 0.5;
        }, 10000, 'walking by keyboard');
    } finally {
        await page.keyboard.up('KeyS');
    }
    /* Tab through to the chat box: every stop shows a focus ring */
    let found = false;
    for (let i = 0; i < 25 && !found; i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(() => {
            const e = document.activeElement;
            const cs = getComputedStyle(e);
            return { id: e.id, visible: cs.outlineStyle !== 'none' || cs.boxShadow !== 'none' };
        });
        assert.ok(f.visible, `focus is visible on #${f.id}`);
        found = f.id === 'chat-input';
    }
    assert.ok(found, 'the chat box is reachable by Tab');
    await page.keyboard.type('typed without a mouse');
    await page.keyboard.press('Enter');
    await until(() => page.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'typed without a mouse')), 5000, 'own line in chat');
    await shot(page, 'keyboard-focus');
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

test('the page reconnects by itself when the server restarts', async () => {
    for (const p of [ada, mal]) {
        await p.evaluate(() => {
            window.__states = [];
            window.__venue.client.on('status', (d) => window.__states.push(d.state));
        });
    }
    const roomBefore = (await me(ada)).room;
    await venued.restart();
    for (const p of [ada, mal]) {
        await until(() => p.evaluate(() => window.__states.includes('reconnecting') && window.__venue.client.state === 'open' && !!window.__venue.client.room), 20000, 'reconnected');
    }
    const after = await me(ada);
    assert.equal(after.id, adaId, 'the same session, resumed');
    assert.equal(after.room, roomBefore, 'back in the same room');
    assert.equal(await ada.getAttribute('#conn', 'data-state'), 'open');
    assert.match(await ada.textContent('#conn-text'), /Connected/);
    /* and the two still see each other once Ada returns to the lobby */
    await ada.click('#tab-rooms');
    await ada.click('#rooms button[data-room="lobby"]');
    await mal.click('#tab-people');
    await until(async () => (await rosterNames(mal)).includes('Ada Lovelace'), 8000, 'Ada listed again');
    assert.equal((await me(mal)).id, malId);
    await shot(mal, 'after-restart');
});
