/*
 * A first visit (issue 12, "An attendee's first ten minutes"), in Chromium
 * against the real venued: the three-step welcome (Next, Back, Skip, never
 * again once skipped or finished, not after a reload either) and the Help
 * dialog ("?" or the Help button: keys, rooms, who the moderators are).
 * Both are modal dialogs: focus in, kept in, given back; axe-core checks
 * each view.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVenued, launchBrowser, newPerson, join, axe, shot, consoleErrors, until, stopAll, sleep } from './harness.mjs';

let venued;
let chrome;

before(async () => {
    venued = await startVenued([], { users: [['mod', 'Milo Moderator', 'moderator']] });
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const focusIn = (page, id) => page.evaluate((d) => document.getElementById(d).contains(document.activeElement), id);
const activeId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);
const isOpen = (page, id) => page.evaluate((d) => document.getElementById(d).open && document.getElementById(d).matches(':modal'), id);
const stepText = (page) => page.evaluate(() => document.querySelector('#welcome .welcome-step:not([hidden]) h2').textContent);

/* Tab and Shift+Tab n times: the keyboard never leaves the dialog. */
async function staysIn(page, id, n = 12) {
    for (let i = 0; i < n; i++) {
        await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
        assert.equal(await focusIn(page, id), true, `focus left #${id} after ${i + 1} presses (on ${await activeId(page)})`);
    }
}

test('the welcome: three steps with Next and Back, finished once and never again, not after a reload', async () => {
    const page = await newPerson(chrome.browser, { welcome: true });
    await join(page, venued.url, 'Fiona First', { view: '2d' });
    await until(() => isOpen(page, 'welcome'), 5000, 'the welcome open, modal');
    assert.equal(await activeId(page), 'welcome-next', 'the keyboard on Next');
    assert.match(await page.textContent('#welcome-title'), /Welcome · step 1 of 3/);
    assert.equal(await stepText(page), 'Move around');
    assert.equal(await page.isVisible('#welcome-back'), false, 'no Back on the first step');
    assert.deepEqual(await axe(page), [], 'step 1');
    await shot(page, 'welcome-step-1');
    await page.keyboard.press('Enter');
    assert.equal(await stepText(page), 'Talk and raise your hand');
    assert.match(await page.textContent('#welcome-title'), /step 2 of 3/);
    assert.deepEqual(await axe(page), [], 'step 2');
    await page.click('#welcome-back');
    assert.equal(await stepText(page), 'Move around');
    assert.equal(await activeId(page), 'welcome-next', 'Back went away: the keyboard on Next');
    await page.click('#welcome-next');
    await page.click('#welcome-next');
    assert.equal(await stepText(page), 'Find people and get help');
    assert.equal(await page.textContent('#welcome-next'), 'Start');
    assert.deepEqual(await axe(page), [], 'step 3');
    await staysIn(page, 'welcome');
    /* the room behind does not take keys or clicks meanwhile */
    assert.equal(await page.evaluate(() => document.getElementById('app').matches(':modal *')), false);
    await page.click('#welcome-next');
    assert.equal(await page.evaluate(() => document.getElementById('welcome').open), false, 'closed');
    assert.equal(await activeId(page), 'view', 'the focus back on the room');
    assert.equal(await page.evaluate(() => localStorage.getItem('venue.welcomed')), '1');
    await page.reload();
    await page.waitForFunction(() => window.__venue && window.__venue.ready && window.__venue.client.room, null, { timeout: 20000 });
    await sleep(800);
    assert.equal(await page.evaluate(() => document.getElementById('welcome').open), false, 'not again after a reload');
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

test('the welcome skipped (or closed with Escape) does not come back either', async () => {
    for (const how of ['skip', 'escape']) {
        const page = await newPerson(chrome.browser, { welcome: true });
        await join(page, venued.url, `Sam Skip ${how}`, { view: '2d' });
        await until(() => isOpen(page, 'welcome'), 5000, 'the welcome open');
        if (how === 'skip') await page.click('#welcome-skip');
        else await page.keyboard.press('Escape');
        assert.equal(await page.evaluate(() => document.getElementById('welcome').open), false, `${how}: closed`);
        assert.equal(await activeId(page), 'view');
        /* another visit in the same browser (a new tab: a new session): straight into the room */
        const again = await page.context_.newPage();
        again.errors = [];
        await join(again, venued.url, `Sam Again ${how}`, { view: '2d' });
        await sleep(800);
        assert.equal(await again.evaluate(() => document.getElementById('welcome').open), false, `${how}: not again`);
        await page.context_.close();
    }
});

test('help: "?" opens it outside text fields; keys, rooms and the room\'s moderators; Escape and Close give the focus back', async () => {
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=breakout-1`, view: '2d' });
    const page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Hana Help', { query: '?room=breakout-1', view: '2d' });
    await until(() => page.evaluate(() => window.__venue.client.roster.size === 2), 5000, 'the moderator in the roster');
    assert.equal(await page.evaluate(() => document.getElementById('welcome').open), false, 'no welcome (the harness saw it)');
    /* typed into the chat, "?" is a question mark */
    await page.click('#tab-chat');
    await page.fill('#chat-input', 'where');
    await page.press('#chat-input', '?');
    assert.equal(await page.inputValue('#chat-input'), 'where?');
    assert.equal(await page.evaluate(() => document.getElementById('help').open), false, 'no help while typing');
    /* from the room: help */
    await page.focus('#view');
    await page.keyboard.press('?');
    await until(() => isOpen(page, 'help'), 3000, 'help open, modal');
    assert.equal(await activeId(page), 'help-close', 'the keyboard in the dialog');
    assert.equal(await page.evaluate(() => document.getElementById('help').getAttribute('aria-labelledby')), 'help-title');
    const text = await page.textContent('#help');
    for (const k of ['W', 'A', 'S', 'D', 'Q', 'E', 'Shift', 'Space', 'Raise hand']) assert.ok(text.includes(k), `help names ${k}`);
    const rooms = await page.evaluate(() => window.__venue.client.rooms.map((r) => r.name));
    const listed = await page.$$eval('#help-rooms li', (lis) => lis.map((li) => li.textContent));
    assert.equal(listed.length, rooms.length, 'every room');
    for (const r of rooms) assert.ok(listed.some((l) => l.startsWith(r)), `room ${r} listed`);
    assert.ok(listed.some((l) => /\(you are here\)/.test(l)));
    assert.match(await page.textContent('#help-mods'), /The moderator in this room: Milo Moderator\./);
    assert.deepEqual(await axe(page), [], 'help open');
    await shot(page, 'help');
    await staysIn(page, 'help');
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => document.getElementById('help').open), false, 'Escape closes');
    assert.equal(await activeId(page), 'view', 'focus back on the room');
    /* the visible button, for mouse and touch; Close */
    await page.click('#help-open');
    await until(() => isOpen(page, 'help'), 3000, 'help open from the button');
    await page.click('#help-close');
    assert.equal(await page.evaluate(() => document.getElementById('help').open), false, 'Close closes');
    assert.equal(await activeId(page), 'help-open', 'focus back on the Help button');
    /* without a moderator in the room, it says whom to ask */
    await mod.evaluate(() => window.__venue.client.join('lobby'));
    await until(() => page.evaluate(() => window.__venue.client.roster.size === 1), 8000, 'the moderator gone');
    await page.focus('#view');
    await page.keyboard.press('?');
    await until(() => isOpen(page, 'help'), 3000, 'help again');
    assert.match(await page.textContent('#help-mods'), /No moderator is in this room right now/);
    await page.keyboard.press('Escape');
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
    await mod.context_.close();
});
