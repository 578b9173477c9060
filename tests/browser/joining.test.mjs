/*
 * Getting in and staying in (issue "An attendee's first ten minutes"), in
 * a real browser against the real venued: a join link's room checked and
 * named, a token greeted by its registered name, names of nothing refused
 * in words, bidi overrides dropped, a reload that resumes the same
 * session (room, hand, chat, no double), the hand button after a server
 * restart, and a kicked guest kept out.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
    startVenued, launchBrowser, newPerson, join, rosterNames, until, stopAll, sleep,
} from './harness.mjs';

let venued;
let chrome;

before(async () => {
    venued = await startVenued([], {
        users: [['reg', 'Rosa Registered', 'attendee'], ['mod', 'Milo Moderator', 'moderator']],
    });
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const client = (page) => page.evaluate(() => {
    const c = window.__venue.client;
    return { id: c.me.id, name: c.me.name, room: c.room && c.room.id, hand: c.me.hand };
});
const handButton = (page) => page.textContent('#hand .label');
const ready = (page) => page.waitForFunction(() => window.__venue && window.__venue.ready && window.__venue.client.room, null, { timeout: 20000 });

test('a join link to an unknown room says so before entering, and lands in the lobby without an error', async () => {
    const page = await newPerson(chrome.browser);
    await page.goto(`${venued.url}/?room=atlantis`);
    await until(() => page.isVisible('#join-room-unknown'), 5000, 'the unknown room said');
    assert.equal(await page.isVisible('#join-room-line'), false, 'no promise of atlantis');
    assert.match(await page.textContent('#join-room-unknown'), /“atlantis” that this venue does not have.*start in Lobby/);
    await page.fill('#join-name', 'Lost Lou');
    await page.click('#join-submit');
    await ready(page);
    assert.equal((await client(page)).room, 'lobby');
    assert.doesNotMatch(await page.textContent('#toasts'), /could not understand/);
    await page.context_.close();
});

test('?room=Plenary is the plenary, shown by its name', async () => {
    const page = await newPerson(chrome.browser);
    await page.goto(`${venued.url}/?room=Plenary`);
    await until(() => page.isVisible('#join-room-line'), 5000, 'the room line');
    const name = await page.evaluate(async () => (await (await fetch('/api/venue')).json()).rooms.find((r) => r.id === 'plenary').name);
    assert.equal(await page.textContent('#join-room-name'), name);
    await page.fill('#join-name', 'Capital Cat');
    await page.click('#join-submit');
    await ready(page);
    assert.equal((await client(page)).room, 'plenary');
    assert.doesNotMatch(await page.textContent('#toasts'), /could not understand/);
    await page.context_.close();
});

test('a name of invisible characters is refused in words; bidi overrides are dropped', async () => {
    const page = await newPerson(chrome.browser);
    await page.goto(`${venued.url}/`);
    await page.fill('#join-name', '\u200b\u200d\u2060');
    await page.click('#join-submit');
    assert.match(await page.textContent('#join-error'), /invisible characters.*Type letters, digits or symbols/);
    /* the server says the same to a client that does not check */
    const said = await page.evaluate(() => new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/ws`, 'venue.v1');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', name: '\u200b\u3164' }));
        ws.onmessage = (ev) => {
            resolve(JSON.parse(ev.data).message);
            ws.close();
        };
    }));
    assert.match(said, /^hello\.name: only whitespace or invisible characters/);
    await page.fill('#join-name', 'Ω\u202Eevil');
    await page.click('#join-submit');
    await ready(page);
    assert.equal((await client(page)).name, 'Ωevil', 'the override is gone from the name');
    await page.context_.close();
});

test('a join link with a token greets the registered name; nothing to type; the token leaves the address bar', async () => {
    const page = await newPerson(chrome.browser);
    const entries = await page.evaluate(() => history.length);
    await page.goto(`${venued.url}/?token=${venued.users.reg.token}&room=plenary`);
    await until(() => page.isVisible('#join-greeting'), 5000, 'the greeting');
    assert.match(await page.textContent('#join-greeting'), /Welcome, Rosa Registered/);
    /* replaced, not pushed: neither the address bar nor Back shows it */
    assert.equal(new URL(page.url()).search, '?room=plenary', `address bar: ${page.url()}`);
    assert.equal(await page.evaluate(() => history.length), entries + 1, 'one entry, not one with the token and one without');
    assert.equal(await page.isVisible('#join-name'), false, 'no name to type');
    await page.click('#join-submit');
    await ready(page);
    assert.equal((await client(page)).name, 'Rosa Registered');
    await page.context_.close();
    /* a bad token is said at once */
    const bad = await newPerson(chrome.browser);
    await bad.goto(`${venued.url}/?token=${'0'.repeat(32)}`);
    await until(async () => /not valid any more/.test(await bad.textContent('#join-error')), 5000, 'the bad token said');
    await bad.context_.close();
});

test('a reload resumes the same session: same person, room, hand and chat; others see one', async () => {
    const ada = await newPerson(chrome.browser);
    const bob = await newPerson(chrome.browser);
    await join(ada, venued.url, 'Ada Reload', { query: '?room=breakout-1', view: '2d' });
    await join(bob, venued.url, 'Bob Watcher', { query: '?room=breakout-1', view: '2d' });
    const before = await client(ada);
    await ada.click('#hand');
    await until(() => bob.evaluate((id) => window.__venue.client.roster.get(id)?.hand, before.id), 5000, 'hand seen');
    await ada.click('#tab-chat');
    await ada.fill('#chat-input', 'before the reload');
    await ada.press('#chat-input', 'Enter');
    await until(() => ada.evaluate(() => window.__venue.client.chatFor('breakout-1').length === 1), 5000, 'chat');
    await ada.reload();
    await ready(ada);
    const after = await client(ada);
    assert.equal(after.id, before.id, 'the same person');
    assert.equal(after.room, 'breakout-1', 'the same room');
    assert.equal(after.hand, true, 'the hand still up');
    assert.equal(await handButton(ada), 'Lower hand');
    await ada.click('#tab-chat');
    await until(() => ada.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'before the reload')), 5000, 'the chat kept');
    await bob.click('#tab-people');
    await until(async () => (await rosterNames(bob)).filter((n) => n === 'Ada Reload').length === 1, 5000, 'Ada listed once');
    /* and stays listed once: no ghost waiting out the grace */
    await sleep(1500);
    assert.equal((await rosterNames(bob)).filter((n) => n === 'Ada Reload').length, 1);
    assert.equal(await bob.evaluate(() => window.__venue.client.roster.size), 2);
    await ada.context_.close();
    await bob.context_.close();
});

test('after a server restart the hand button says what the others see, and one click turns it', async () => {
    const ada = await newPerson(chrome.browser);
    const bob = await newPerson(chrome.browser);
    await join(ada, venued.url, 'Ada Hand', { query: '?room=breakout-2', view: '2d' });
    await join(bob, venued.url, 'Bob Sees', { query: '?room=breakout-2', view: '2d' });
    const id = (await client(ada)).id;
    const bobSees = () => bob.evaluate((i) => window.__venue.client.roster.get(i)?.hand, id);
    await ada.click('#hand');
    await until(bobSees, 5000, 'hand up at Bob');
    await venued.restart();
    for (const p of [ada, bob]) {
        await until(() => p.evaluate(() => window.__venue.client.state === 'open' && !!window.__venue.client.room), 20000, 'reconnected');
    }
    await sleep(1000);
    const up = (await client(ada)).hand;
    assert.equal(await handButton(ada), up ? 'Lower hand' : 'Raise hand', 'the button says the hand as it is');
    await until(async () => (await bobSees()) === up, 5000, 'Bob sees the same');
    await ada.click('#hand');
    await until(async () => (await bobSees()) === !up, 5000, 'one click turns it for Bob');
    assert.equal(await handButton(ada), !up ? 'Lower hand' : 'Raise hand', 'and the button turns with it');
    assert.equal((await client(ada)).hand, !up);
    await ada.context_.close();
    await bob.context_.close();
});

test('a kicked guest cannot walk straight back in, and is told for how long', async () => {
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=breakout-3`, view: '2d' });
    const guest = await newPerson(chrome.browser);
    const gid = await join(guest, venued.url, 'Troll Toll', { query: '?room=breakout-3', view: '2d' });
    await until(() => mod.evaluate((i) => window.__venue.client.roster.has(i), gid), 5000, 'the guest in the room');
    await mod.evaluate((i) => window.__venue.client.mod('kick', { target: i, reason: 'spam' }), gid);
    await until(() => guest.isVisible('#removed'), 5000, 'removed');
    /* the same browser, another name */
    await guest.goto(`${venued.url}/`);
    await guest.fill('#join-name', 'Totally New');
    await guest.click('#join-submit');
    await until(async () => /removed you from the venue.*come back in 10 minutes/.test(await guest.textContent('#join-error')), 8000, 'refused in words');
    await guest.context_.close();
    await mod.context_.close();
});
