/*
 * Finding a person (issue "An attendee's first ten minutes"), in a real
 * browser against the real venued: A searches the venue for B, sees the
 * room B is in, goes to B and arrives beside them, follows B as B walks
 * and stops when A moves, and into another room; B opts out and A finds B no more, and B's
 * setting shows the truth after a reload. axe-core checks the results.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVenued, launchBrowser, newPerson, join, until, stopAll, sleep, consoleErrors, axe } from './harness.mjs';

let venued;
let chrome;

before(async () => {
    venued = await startVenued([], { users: [['bea', 'Beatrix Found', 'attendee']] });
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

/* Where the page draws avatar id: {x, z}. */
const where = (page, id) => page.evaluate((i) => window.__venue.avatar(i), id);
const apart = (a, b) => Math.hypot(a.x - b.x, a.z - b.z);
const announced = (page) => page.textContent('#announcer');

async function search(page, q) {
    await page.click('#tab-people');
    await page.fill('#find-q', q);
    await page.click('#find-submit');
    await until(async () => !(await page.isHidden('#find-status')) && !/Searching/.test(await page.textContent('#find-status')), 5000, 'the search answered');
}

/* A walkable point about 4 m from where B stands, for B to walk to. */
const walkAway = (page) => page.evaluate(() => {
    const v = window.__venue;
    const me = v.avatar(v.client.me.id);
    const model = v._state.model;
    for (const [dx, dz] of [[4, 0], [-4, 0], [0, 4], [0, -4], [3, 3], [-3, -3]]) {
        if (model.walkable(me.x + dx, me.z + dz)) {
            v.walkTo(me.x + dx, me.z + dz);
            return [me.x + dx, me.z + dz];
        }
    }
    return null;
});

test('A finds B in another room, goes to B, follows B until A moves; B opts out and is found no more', async () => {
    const b = await newPerson(chrome.browser);
    const bId = await join(b, venued.url, 'x', { query: `?token=${venued.users.bea.token}&room=plenary` });
    const a = await newPerson(chrome.browser);
    const aId = await join(a, venued.url, 'Ann Seeker');
    assert.equal(await a.evaluate(() => window.__venue.client.room.id), 'lobby');
    const plenary = await a.evaluate(() => window.__venue.client.rooms.find((r) => r.id === 'plenary').name);

    /* the search says where B is */
    await search(a, 'beatrix');
    const rows = await a.$$eval('#find-results li', (lis) => lis.map((li) => li.textContent));
    assert.equal(rows.length, 1);
    assert.match(rows[0], /Beatrix Found/);
    assert.match(rows[0], new RegExp(`in ${plenary}`));
    assert.match(await a.textContent('#find-status'), /1 person found/);
    assert.deepEqual(await axe(a), [], 'the find results pass axe');

    /* Go to: A arrives in B's room, beside B */
    await a.click(`#find-results li[data-user="${bId}"] .find-go`);
    await a.waitForFunction(() => window.__venue.ready && window.__venue.client.room.id === 'plenary', null, { timeout: 10000 });
    await until(async () => (await where(a, bId)) !== null, 5000, 'B drawn in A\'s view');
    const d0 = apart(await where(a, aId), await where(a, bId));
    assert.ok(d0 > 1 && d0 < 2.6, `A arrived beside B: ${d0.toFixed(2)} m`);
    await until(async () => /You are beside Beatrix Found/.test(await announced(a)), 5000, 'the arrival said');

    /* Follow: B walks away, A walks after them */
    await a.click(`#roster li[data-id="${bId}"] .find-follow`);
    await until(async () => /following Beatrix Found/.test(await announced(a)), 5000, 'following said');
    assert.equal(await a.isVisible('#follow-banner'), true);
    const to = await walkAway(b);
    assert.ok(to, 'somewhere for B to walk');
    await until(async () => {
        const bNow = await where(a, bId);
        return Math.hypot(bNow.x - to[0], bNow.z - to[1]) < 0.3;
    }, 10000, 'B arrived (as A sees B)');
    await until(async () => apart(await where(a, aId), await where(a, bId)) < 2.2, 10000, 'A behind B again');

    /* A moves by themself: following stops */
    await a.focus('#view');
    await a.keyboard.down('s');
    await sleep(300);
    await a.keyboard.up('s');
    await until(async () => /stopped following Beatrix Found/.test(await announced(a)), 5000, 'the stop said');
    assert.equal(await a.isVisible('#follow-banner'), false);
    const aStill = await where(a, aId);
    const back = await walkAway(b);
    assert.ok(back);
    await sleep(2500);
    const aAfter = await where(a, aId);
    assert.ok(apart(aStill, aAfter) < 0.05, 'A stays put while B walks on');

    /* following across a room change: B goes elsewhere, A is taken beside B there */
    await a.click(`#roster li[data-id="${bId}"] .find-follow`);
    await until(async () => /You are following Beatrix Found/.test(await announced(a)), 5000, 'following again');
    await b.evaluate(() => window.__venue.client.join('breakout-1'));
    await a.waitForFunction(() => window.__venue.ready && window.__venue.client.room.id === 'breakout-1', null, { timeout: 10000 });
    await until(async () => (await where(a, bId)) !== null, 5000, 'B drawn in breakout-1');
    const d1 = apart(await where(a, aId), await where(a, bId));
    assert.ok(d1 > 1 && d1 < 2.6, `A arrived beside B in breakout-1: ${d1.toFixed(2)} m`);
    assert.equal(await a.isVisible('#follow-banner'), true, 'still following');
    await a.click('#follow-stop');
    await until(async () => /You stopped following Beatrix Found/.test(await announced(a)), 5000, 'stopped by the button');

    /* B opts out: A finds B no more; B's page shows it after a reload */
    await b.click('#privacy-settings-toggle');
    assert.equal(await b.isChecked('#privacy-findable'), true);
    await b.uncheck('#privacy-findable');
    await b.waitForFunction(() => window.__venue.client.privacy && !window.__venue.client.privacy.findable, null, { timeout: 5000 });
    await search(a, 'beatrix');
    assert.equal(await a.$$eval('#find-results li', (lis) => lis.length), 0);
    assert.match(await a.textContent('#find-status'), /Nobody found/);
    await b.reload();
    await b.waitForFunction(() => window.__venue && window.__venue.ready && window.__venue.client.privacy, null, { timeout: 20000 });
    assert.equal(await b.isChecked('#privacy-findable'), false, 'the setting after a reload');
    assert.equal(await b.isChecked('#privacy-dms'), true);

    assert.deepEqual(consoleErrors(a), []);
    assert.deepEqual(consoleErrors(b), []);
    await a.context_.close();
    await b.context_.close();
});
