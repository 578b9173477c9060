/*
 * A breakout as its moderator sees it (issue 12), in Chromium against the
 * real venued: the overview of who went where (the server's breakout_view),
 * the time left counting down, following people as they move, joining a
 * breakout room and coming back to where the moderator was, and gone when
 * the breakout ends. The participants (the client module in Node) get no
 * view. axe-core checks the overview, in the moderator's room and in a
 * breakout room.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { join as pjoin } from 'node:path';
import WebSocket from 'ws';
import { ROOT, startVenued, launchBrowser, newPerson, join, axe, shot, consoleErrors, until, stopAll, sleep } from './harness.mjs';

const { VenueClient } = await import(pathToFileURL(pjoin(ROOT, 'web-client', 'js', 'venue-client.js')).href);

const ROOM = 'breakout-2';
let venued;
let chrome;
let mod; /* the moderator's page */
const people = []; /* VenueClients in ROOM */

before(async () => {
    venued = await startVenued([], { users: [['mod', 'Mona Moderator', 'moderator']] });
    chrome = await launchBrowser();
    mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=${ROOM}`, view: '2d' });
    for (const name of ['Ann Able', 'Ben Baker', 'Cy Cole']) {
        const c = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name, WebSocket });
        await c.connect({ room: ROOM });
        await until(() => c.room && c.room.id === ROOM, 5000, `${name} in ${ROOM}`);
        people.push(c);
    }
    await until(() => mod.evaluate(() => window.__venue.client.roster.size === 4), 5000, 'four in the room');
});

after(async () => {
    for (const c of people) c.close();
    await stopAll();
});

const inRoom = (page) => page.evaluate(() => window.__venue.client.room && window.__venue.client.room.id);
/* The overview's rooms as {id: [count text, people text]}. */
const overview = (page) => page.$$eval('#breakout-overview-rooms li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.room,
    [li.querySelector('.overview-count').textContent, li.querySelector('.overview-people').textContent]])));

test('nothing shows before a breakout', async () => {
    assert.equal(await mod.isVisible('#breakout-overview'), false);
    assert.equal(await mod.evaluate(() => window.__venue.client.breakoutViews.size), 0);
});

test('the moderator sees who went where and the time left, counting down; the participants get no view', async () => {
    await mod.evaluate(() => window.__venue.client.mod('breakout', { rooms: ['breakout-1', 'breakout-3'], minutes: 10 }));
    await until(() => mod.isVisible('#breakout-overview'), 5000, 'the overview');
    await until(async () => {
        const o = await overview(mod);
        return o['breakout-1'] && o['breakout-1'][0] === '2 people' && o['breakout-3'] && o['breakout-3'][0] === '1 person';
    }, 5000, 'two in one room, one in the other');
    const o = await overview(mod);
    const names = `${o['breakout-1'][1]}, ${o['breakout-3'][1]}`.split(', ').sort();
    assert.deepEqual(names, ['Ann Able', 'Ben Baker', 'Cy Cole'], 'everyone, by name, in one room');
    assert.match(await mod.textContent('#breakout-overview-title'), /Breakout from Breakout 2.*started by Mona Moderator for 10 min · (10:00|9:5\d) left/);
    const left = await mod.textContent('#breakout-overview-left');
    await sleep(1100);
    assert.notEqual(await mod.textContent('#breakout-overview-left'), left, 'it counts down');
    assert.equal(await mod.isVisible('#breakout-overview-back-line'), false, 'nothing to go back to yet');
    for (const c of people) assert.equal(c.breakoutViews.size, 0, `${c.name} gets no view`);
    assert.deepEqual(await axe(mod), [], 'the overview in the moderator\'s room');
    await shot(mod, 'breakout-overview');
});

test('the overview follows people as they move', async () => {
    const walker = people.find((c) => c.room.id === 'breakout-1');
    await walker.join('breakout-3');
    await until(async () => {
        const o = await overview(mod);
        return o['breakout-1'][0] === '1 person' && o['breakout-3'][0] === '2 people' && o['breakout-3'][1].includes(walker.me.name);
    }, 5000, 'the walker in breakout-3');
});

test('the moderator joins a breakout room and comes back to where she was', async () => {
    await mod.click('#breakout-overview-rooms button[aria-label="Join Breakout 3: Climate and energy"]');
    await until(async () => (await inRoom(mod)) === 'breakout-3', 5000, 'the moderator in breakout-3');
    await until(() => mod.isVisible('#breakout-overview-back'), 5000, 'the way back');
    assert.equal(await mod.textContent('#breakout-overview-back'), 'Back to Breakout 2: Citizens and participation');
    await until(async () => (await overview(mod))['breakout-3'][0] === '3 people', 5000, 'the moderator counted where she is');
    assert.equal(await mod.locator('#breakout-overview-rooms li[data-room="breakout-3"] .overview-here').count(), 1, 'here, no Join');
    assert.deepEqual(await axe(mod), [], 'the overview in a breakout room');
    await shot(mod, 'breakout-overview-visiting');
    /* on to the other room: the way back still goes to where she started */
    await mod.click('#breakout-overview-rooms button[data-room="breakout-1"]');
    await until(async () => (await inRoom(mod)) === 'breakout-1', 5000, 'in breakout-1');
    await until(async () => /Back to Breakout 2/.test(await mod.textContent('#breakout-overview-back')), 5000, 'still back to breakout-2');
    await mod.click('#breakout-overview-back');
    await until(async () => (await inRoom(mod)) === ROOM, 5000, 'back in breakout-2');
    await until(async () => !(await mod.isVisible('#breakout-overview-back-line')), 5000, 'no way back needed');
    assert.equal(await mod.isVisible('#breakout-overview'), true, 'the overview stays');
});

test('the overview goes when the breakout ends', async () => {
    await mod.evaluate(() => window.__venue.client.mod('recall', {}));
    await until(async () => !(await mod.isVisible('#breakout-overview')), 5000, 'the overview gone');
    for (const c of people) await until(() => c.room && c.room.id === ROOM, 5000, `${c.name} back`);
    assert.equal(await mod.evaluate(() => window.__venue.client.breakoutViews.size), 0);
    assert.deepEqual(consoleErrors(mod), []);
});
