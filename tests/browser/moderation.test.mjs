/*
 * Moderation in real browsers against the real venued (issue 5): people
 * registered with `venued user add` join with ?token=...; a moderator's
 * panel (per-person actions, hand queue, room controls) and what each
 * action does on the other person's page: muted chat, a move, an
 * announcement banner, a locked room, a room ban, a kick with no
 * reconnect. An overflow room draws the hall's stage people. Then the
 * organiser's page at /admin: the token, registrations, import, presence
 * and the audit log of the actions above.
 * Screenshots go to tests/artifacts/.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { join as pjoin } from 'node:path';
import WebSocket from 'ws';
import {
    startVenued, launchBrowser, newPerson, join, rosterNames, shot, consoleErrors, until, stopAll, sleep, ROOT,
} from './harness.mjs';

const { VenueClient } = await import(pathToFileURL(pjoin(ROOT, 'web-client', 'js', 'venue-client.js')).href);

let venued;
let chrome;
let U; /* registered users: {mod, att, kim, bo, admin} as `venued user add` printed them */
let mod; /* the moderator's page */
let att; /* the attendee's page */
let kim; /* an attendee to be kicked */
let bo; /* an attendee to be banned from the room */

before(async () => {
    venued = await startVenued([], {
        users: [
            ['mod', 'Mona Moderator', 'moderator'],
            ['att', 'Arlo Attendee', 'attendee', 'Ghent'],
            ['kim', 'Kim Kickable', 'attendee'],
            ['bo', 'Bo Bannable', 'attendee'],
            ['admin', 'Ada Admin', 'admin'],
            ['spk', 'Stage Speaker', 'speaker'],
        ],
    });
    U = venued.users;
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const ROOM = 'breakout-2';
const inRoom = (page) => page.evaluate(() => window.__venue.client.room && window.__venue.client.room.id);
const item = (id) => `#roster li[data-id="${id}"]`;

/* Walk a VenueClient from where it stands to the plenary's stage (z < -9, raised to 0.9). */
export async function walkOnStage(c) {
    const [x0, , z0] = c.me.p;
    const to = [0, -11.5];
    const steps = Math.ceil(Math.hypot(to[0] - x0, to[1] - z0) / 0.45); /* 7.5 m/s: under --max-speed */
    for (let i = 1; i <= steps; i++) {
        const x = x0 + ((to[0] - x0) * i) / steps;
        const z = z0 + ((to[1] - z0) * i) / steps;
        c.sendPose([x, z < -9.2 ? 0.9 : 0, z], [0, 0, 0, 1]);
        await sleep(60);
    }
}

/* Join with a registered person's token, straight into a room (a join link). */
async function enter(u, view = '2d') {
    const page = await newPerson(chrome.browser);
    page.on('dialog', (d) => d.accept());
    /* the name field is required by the form; the registered name wins */
    await join(page, venued.url, 'typed name', { query: `?token=${u.token}&room=${ROOM}`, view });
    return page;
}

test('registered people join with their tokens; only the moderator gets the panel', async () => {
    mod = await enter(U.mod, '3d');
    att = await enter(U.att);
    kim = await enter(U.kim);
    bo = await enter(U.bo);
    for (const p of [mod, att, kim, bo]) assert.equal(await inRoom(p), ROOM);
    assert.equal(await mod.evaluate(() => window.__venue.client.me.role), 'moderator');
    assert.equal(await mod.evaluate(() => window.__venue.client.me.name), 'Mona Moderator', 'the registered name, not the typed one');
    await mod.click('#tab-people');
    await until(async () => (await rosterNames(mod)).length === 4, 5000, 'four people listed');
    /* the moderator: a Moderate tab and actions on each attendee, none on herself */
    assert.equal(await mod.isVisible('#tab-mod'), true);
    assert.equal(await mod.locator(`${item(U.att.id)} .person-mod-toggle`).count(), 1);
    assert.equal(await mod.locator(`${item(U.mod.id)} .person-mod-toggle`).count(), 0);
    /* the attendees: nothing of it in the page at all, not even hidden */
    for (const p of [att, kim, bo]) {
        await p.click('#tab-people');
        await until(async () => (await rosterNames(p)).length === 4, 5000, 'roster');
        const found = await p.evaluate(() => document.querySelectorAll(
            '#tab-mod, #panel-mod, #mod-status, .person-mod-toggle, .person-actions, #hand-queue').length);
        assert.equal(found, 0, 'no moderation controls for an attendee');
        assert.equal(await p.evaluate(() => window.__venue.client.canModerate), false);
    }
});

test('the moderator mutes the attendee: the attendee is told, and its chat is refused', async () => {
    /* by keyboard: open the person's actions, give a reason, press Mute */
    await mod.focus(`${item(U.att.id)} .person-mod-toggle`);
    await mod.keyboard.press('Enter');
    assert.equal(await mod.getAttribute(`${item(U.att.id)} .person-mod-toggle`, 'aria-expanded'), 'true');
    const focused = await mod.evaluate(() => ({ text: document.activeElement.textContent, ring: getComputedStyle(document.activeElement).outlineStyle }));
    assert.deepEqual(focused, { text: 'Mute', ring: 'solid' }, 'focus on Mute, visibly');
    await mod.fill(`${item(U.att.id)} input[type="text"]`, 'Please keep to the topic');
    await mod.focus(`${item(U.att.id)} .person-actions button:text-is("Mute")`);
    await mod.keyboard.press('Enter');
    await until(() => mod.evaluate(() => /Arlo Attendee is muted/.test(document.getElementById('mod-status').textContent)), 5000, 'the status line to say it worked');
    assert.equal(await mod.getAttribute('#mod-status', 'role'), 'status', 'the status line is polite');
    await until(() => mod.evaluate((id) => document.querySelector(`#roster li[data-id="${id}"] .pmeta`).textContent.includes('muted'), U.att.id), 5000, 'muted in the roster');
    await shot(mod, 'moderation-panel-person');

    /* the attendee's page says so plainly and switches the chat box off */
    await att.click('#tab-chat');
    await until(() => att.isDisabled('#chat-input'), 5000, 'chat input disabled');
    assert.match(await att.textContent('#chat-muted'), /A moderator has muted you/);
    assert.equal(await att.getAttribute('#chat-input', 'aria-describedby'), 'chat-muted');
    assert.equal(await att.isDisabled('#chat-send'), true);
    await until(() => att.evaluate(() => document.getElementById('toasts').textContent.includes('muted you')), 5000, 'a notice');
    /* and the server refuses what gets through anyway */
    await att.evaluate(() => window.__venue.client.chat('Can anyone hear me?'));
    await until(() => att.evaluate(() => /not allowed.*muted/.test(document.getElementById('toasts').textContent)), 5000, 'the refusal');
    await sleep(300);
    assert.equal(await mod.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'Can anyone hear me?')), false);
    await shot(att, 'muted-attendee');

    /* unmute: the box comes back */
    await mod.click(`${item(U.att.id)} .person-actions button:text-is("Unmute")`);
    await until(() => att.isEnabled('#chat-input'), 5000, 'chat input enabled again');
    assert.equal(await att.isVisible('#chat-muted'), false);
    await att.fill('#chat-input', 'Thanks, back on topic');
    await att.press('#chat-input', 'Enter');
    await mod.click('#tab-chat');
    await until(() => mod.evaluate(() => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent === 'Thanks, back on topic')), 5000, 'chat works again');
});

test('the hand queue lists raised hands in order; the moderator lowers them', async () => {
    await kim.click('#hand');
    await sleep(50);
    await att.click('#hand');
    await mod.click('#tab-mod');
    await until(() => mod.evaluate(() => document.querySelectorAll('#hand-queue li').length === 2), 5000, 'two hands queued');
    const order = await mod.$$eval('#hand-queue li .pname', (els) => els.map((e) => e.textContent));
    assert.deepEqual(order, ['Kim Kickable', 'Arlo Attendee'], 'first raised first');
    await mod.click(`#hand-queue button[data-id="${U.kim.id}"]`);
    await until(() => kim.evaluate(() => document.getElementById('hand').getAttribute('aria-pressed') === 'false'), 5000, 'Kim\'s hand button down');
    await until(() => mod.evaluate(() => document.querySelectorAll('#hand-queue li').length === 1), 5000, 'one left');
    await mod.click('#mod-lower-all');
    await until(() => att.evaluate(() => !window.__venue.client.me.hand), 5000, 'all lowered');
    await until(() => mod.evaluate(() => /All hands are lowered/.test(document.getElementById('mod-status').textContent)), 5000, 'status');
});

test('an announcement shows as a banner for everyone in the room', async () => {
    await mod.fill('#mod-announce-text', 'We start again in five minutes <b>sharp</b>');
    await mod.click('#panel-mod button:text-is("Announce")');
    for (const p of [att, kim, mod]) {
        await until(() => p.evaluate(() => [...document.querySelectorAll('#announcements .banner-text')].some((t) => t.textContent === 'We start again in five minutes <b>sharp</b>')), 5000, 'the banner');
    }
    assert.match(await att.textContent('#announcements .banner-head'), /Announcement from Mona Moderator · to Breakout 2: Citizens and participation · \d\d:\d\d/);
    assert.equal(await att.getAttribute('#announcements', 'aria-live'), 'polite');
    assert.equal(await att.$$eval('#announcements b', (e) => e.length), 0, 'as text');
    await shot(att, 'announcement-banner');
    /* dismissable, by keyboard too */
    await kim.focus('#announcements .banner-close');
    await kim.keyboard.press('Enter');
    assert.equal(await kim.locator('#announcements .banner').count(), 0);
});

test('a locked room shows as locked in its members\' rooms list', async () => {
    await mod.click('#mod-lock');
    await att.click('#tab-rooms');
    await until(() => att.evaluate((r) => !!document.querySelector(`#rooms button[data-room="${r}"] .room-locked`), ROOM), 5000, 'Locked in the list');
    await until(() => mod.evaluate(() => /: Locked/.test(document.getElementById('mod-room-state').textContent)), 5000, 'the panel says locked');
    await shot(mod, 'moderation-panel');
    await mod.click('#mod-unlock');
    await until(() => att.evaluate((r) => !document.querySelector(`#rooms button[data-room="${r}"] .room-locked`), ROOM), 5000, 'unlocked');
});

test('promote and demote: the person is told their new role', async () => {
    await mod.click('#tab-people');
    await mod.click(`${item(U.att.id)} button:text-is("Make speaker")`);
    await until(() => att.evaluate(() => window.__venue.client.me.role === 'speaker'), 5000, 'a speaker');
    await until(() => att.evaluate(() => /Your role is now speaker/.test(document.getElementById('toasts').textContent)), 5000, 'told');
    await until(() => mod.evaluate((id) => /speaker/.test(document.querySelector(`#roster li[data-id="${id}"] .pmeta`).textContent), U.att.id), 5000, 'in the roster');
    await mod.click(`${item(U.att.id)} button:text-is("Make attendee")`);
    await until(() => att.evaluate(() => window.__venue.client.me.role === 'attendee'), 5000, 'an attendee again');
    assert.equal(await att.locator('#tab-mod').count(), 0, 'still no panel');
});

test('a breakout: everyone is sent with a countdown, and recalled together', async () => {
    await mod.click('#tab-mod');
    await mod.check('#panel-mod .mod-room-choices input[value="breakout-1"]');
    await mod.fill('#mod-breakout-minutes', '10');
    await mod.click('#panel-mod button:text-is("Start the breakout")');
    for (const p of [att, kim, bo]) await until(async () => (await inRoom(p)) === 'breakout-1', 5000, 'sent to breakout-1');
    await until(() => att.isVisible('#breakout-banner'), 5000, 'the breakout banner');
    assert.match(await att.textContent('#breakout-text'), /You are in Breakout 1.* until \d\d:\d\d\. Then everyone goes back to Breakout 2/);
    const left = await att.textContent('#breakout-left');
    assert.match(left, /^(10:00|9:5\d) left$/);
    await sleep(1100);
    assert.notEqual(await att.textContent('#breakout-left'), left, 'it counts down');
    await until(() => mod.evaluate(() => /Breakout started: 1 room for 10 minutes/.test(document.getElementById('mod-status').textContent)), 5000, 'status');
    await shot(att, 'breakout');
    await mod.click('#mod-recall');
    for (const p of [att, kim, bo]) await until(async () => (await inRoom(p)) === ROOM, 5000, 'back');
    await until(() => att.evaluate(() => document.getElementById('breakout-banner').hidden), 5000, 'the banner gone');
    await until(() => att.evaluate(() => /The breakout is over: you are back in Breakout 2/.test(document.getElementById('toasts').textContent)), 5000, 'told');
    for (const p of [att, kim, bo]) await until(() => p.evaluate(() => window.__venue.ready), 8000, 'drawn');
});

test('a room ban: the person is told, and back at the rooms list', async () => {
    await mod.click('#tab-people');
    await mod.click(`${item(U.bo.id)} .person-mod-toggle`);
    await mod.fill(`${item(U.bo.id)} input[type="text"]`, 'Disrupting the session');
    await mod.click(`${item(U.bo.id)} button:text-is("Ban from this room")`);
    await until(() => bo.isVisible('#no-room'), 5000, 'the no-room notice');
    assert.match(await bo.textContent('#no-room-text'), /removed you from Breakout 2.*“Disrupting the session”.*cannot go back/);
    assert.equal(await bo.getAttribute('#tab-rooms', 'aria-selected'), 'true', 'the rooms list is shown');
    assert.equal(await bo.evaluate(() => document.activeElement.classList.contains('room')), true, 'the keyboard is on a room');
    assert.equal(await bo.evaluate(() => window.__venue.client.state), 'open', 'still connected');
    await shot(bo, 'room-ban');
    /* that room refuses, with the reason; another one works */
    await bo.click(`#rooms button[data-room="${ROOM}"]`);
    await until(() => bo.evaluate(() => /banned from this room/.test(document.getElementById('toasts').textContent)), 5000, 'refused');
    await bo.click('#rooms button[data-room="lobby"]');
    await until(async () => (await inRoom(bo)) === 'lobby', 5000, 'in the lobby');
    assert.equal(await bo.isVisible('#no-room'), false);
});

test('the moderator moves the attendee to another room', async () => {
    await mod.click(`${item(U.att.id)} .person-mod-toggle`);
    const toggle = await mod.getAttribute(`${item(U.att.id)} .person-mod-toggle`, 'aria-expanded');
    if (toggle !== 'true') await mod.click(`${item(U.att.id)} .person-mod-toggle`);
    await mod.selectOption(`${item(U.att.id)} select`, 'breakout-3');
    await mod.click(`${item(U.att.id)} button:text-is("Move")`);
    await until(async () => (await inRoom(att)) === 'breakout-3', 5000, 'the attendee in breakout-3');
    await until(() => att.evaluate(() => window.__venue.ready), 8000, 'the room drawn');
    assert.match(await att.textContent('#room-title'), /Breakout 3/);
    await until(() => att.evaluate(() => /A moderator moved you to Breakout 3/.test(document.getElementById('toasts').textContent)), 5000, 'told');
    await until(() => mod.evaluate(() => /Arlo Attendee was moved to Breakout 3/.test(document.getElementById('mod-status').textContent)), 5000, 'status');
    await until(async () => !(await rosterNames(mod)).includes('Arlo Attendee'), 5000, 'gone from the moderator\'s room');
});

test('kicked: a full-screen notice with the reason, and no reconnect', async () => {
    await kim.evaluate(() => {
        window.__states = [];
        window.__venue.client.on('status', (d) => window.__states.push(d.state));
    });
    await mod.click(`${item(U.kim.id)} .person-mod-toggle`);
    await mod.fill(`${item(U.kim.id)} input[type="text"]`, 'Repeated spam');
    await mod.click(`${item(U.kim.id)} button:text-is("Kick from the venue")`);
    await until(() => kim.isVisible('#removed'), 5000, 'the notice');
    assert.match(await kim.textContent('#removed-text'), /A moderator removed you from the venue: “Repeated spam”/);
    assert.equal(await kim.evaluate(() => document.activeElement.id), 'removed-title', 'focus on the notice');
    assert.equal(await kim.evaluate(() => document.getElementById('app').inert), true, 'the page behind is inert');
    assert.equal(await kim.getAttribute('#removed', 'role'), 'alertdialog');
    await until(() => mod.evaluate(() => /Kim Kickable was removed/.test(document.getElementById('mod-status').textContent)), 5000, 'status');
    await sleep(2500); /* longer than the first reconnect delays */
    assert.equal(await kim.evaluate(() => window.__venue.client.state), 'closed');
    assert.deepEqual(await kim.evaluate(() => window.__states), ['closed'], 'no reconnect attempt');
    await shot(kim, 'kicked');
});

test('an admin\'s announcement reaches every room', async () => {
    const ada = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name: 'x', token: U.admin.token, WebSocket });
    await ada.connect();
    await ada.mod('announce', { text: 'The venue closes at 18:00', room: '*' });
    for (const p of [att, bo, mod]) {
        await until(() => p.evaluate(() => [...document.querySelectorAll('#announcements .banner')].some((b) =>
            b.textContent.includes('The venue closes at 18:00') && b.textContent.includes('to everyone in the venue'))), 5000, 'the venue-wide banner');
    }
    assert.notEqual(await inRoom(att), await inRoom(bo), 'in different rooms');
    ada.close();
});

test('moderation pages log no console errors', () => {
    for (const p of [mod, att, kim, bo]) assert.deepEqual(consoleErrors(p), []);
});

test('an overflow room draws the hall\'s stage people on its own stage', async (t) => {
    /* a speaker in the plenary (the module in Node; only speakers and up
     * step onto a stage), someone in its overflow room (a page) */
    const speaker = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name: 'Stage Speaker', WebSocket });
    t.after(() => speaker.close());
    await speaker.connect({ token: U.spk.token, room: 'plenary' });
    await until(() => speaker.room, 5000, 'the speaker in the plenary');
    const page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Overflow Olu', { query: '?room=plenary-overflow' });
    await page.click('#tab-people');
    assert.equal(await page.isVisible('#stage-box'), true);
    assert.match(await page.textContent('#stage-title'), /On stage \(Plenary hall\)/);
    /* the overflow guest walks to the front (for the picture) while the
     * speaker walks up onto the plenary stage, at a walking pace */
    await page.evaluate(() => window.__venue.walkTo(1, -3));
    await walkOnStage(speaker);
    await until(() => page.evaluate(() => window.__venue.stage().length === 1), 8000, 'the speaker drawn in the overflow room');
    /* drawn at the hall pose plus the offset between the stages: [0, 0, -3] in the demo venue */
    await until(async () => {
        const s = (await page.evaluate(() => window.__venue.stage()))[0];
        return Math.abs(s.x - 0) < 0.05 && Math.abs(s.z - (speaker.me.p[2] - 3)) < 0.05 && Math.abs(s.y - 0.9) < 0.05;
    }, 5000, 'at the offset place');
    assert.deepEqual(await page.$$eval('#stage-list .pname', (els) => els.map((e) => e.textContent)), ['Stage Speaker']);
    assert.ok(!(await rosterNames(page)).includes('Stage Speaker'), 'not in this room\'s roster');
    await until(() => page.evaluate(() => Math.abs(window.__venue.client.me.p[2] + 3) < 0.5), 10000, 'walked to the front');
    await sleep(500);
    await shot(page, 'overflow-stage');
    await speaker.join('lobby');
    await until(() => page.evaluate(() => window.__venue.stage().length === 0), 5000, 'off the stage');
    await until(() => page.evaluate(() => document.getElementById('stage-empty').hidden === false), 5000, 'nobody on stage');
    speaker.close();
    assert.deepEqual(consoleErrors(page), []);
    await page.context_.close();
});

/* ---- /admin ------------------------------------------------------------------ */

let admin; /* the organiser's page */

test('/admin asks for the token again when it is wrong or not an admin\'s', async () => {
    admin = await newPerson(chrome.browser, { viewport: { width: 1280, height: 900 } });
    admin.on('dialog', (d) => d.accept());
    await admin.goto(`${venued.url}/admin`);
    assert.equal(await admin.evaluate(() => document.activeElement.id), 'token-input');
    await admin.fill('#token-input', '0123456789abcdef0123456789abcdef');
    await admin.press('#token-input', 'Enter');
    await until(() => admin.evaluate(() => /not accepted/.test(document.getElementById('token-error').textContent)), 5000, '401: asked again');
    assert.equal(await admin.isVisible('#admin-app'), false);
    await admin.fill('#token-input', U.mod.token);
    await admin.press('#token-input', 'Enter');
    await until(() => admin.evaluate(() => /not an admin's/.test(document.getElementById('token-error').textContent)), 5000, '403: not an admin\'s');
    assert.equal(await admin.evaluate(() => sessionStorage.getItem('venue.adminToken')), null, 'a refused token is not kept');
});

test('/admin with the admin token: registrations, search, add (token shown once), import, revoke', async () => {
    await admin.fill('#token-input', U.admin.token);
    await admin.press('#token-input', 'Enter');
    await until(() => admin.evaluate(() => document.querySelectorAll('#users-table tbody tr').length === 6), 5000, 'six registrations');
    assert.equal(await admin.evaluate(() => sessionStorage.getItem('venue.adminToken')), U.admin.token, 'kept for this tab');
    assert.equal(await admin.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    /* search goes to the server as ?q= */
    await admin.fill('#search-input', 'arlo');
    await admin.press('#search-input', 'Enter');
    await until(() => admin.evaluate(() => document.querySelectorAll('#users-table tbody tr').length === 1), 5000, 'one match');
    assert.match(await admin.textContent('#users-table tbody'), /Arlo Attendee.*Ghent.*attendee/);
    await admin.fill('#search-input', '');
    await admin.press('#search-input', 'Enter');
    /* add one: the token and link are shown, with copy buttons */
    await admin.fill('#add-name', 'Sam Speaker');
    await admin.selectOption('#add-role', 'speaker');
    await admin.fill('#add-org', 'Tampere');
    await admin.click('#add-form button[type="submit"]');
    await until(() => admin.isVisible('#add-result'), 5000, 'the new token');
    const tok = await admin.textContent('#add-token');
    assert.match(tok, /^[0-9a-f]{32}$/);
    assert.ok((await admin.textContent('#add-link')).endsWith(`/?token=${tok}`));
    assert.equal(await admin.isVisible('#copy-token'), true);
    await until(() => admin.evaluate(() => document.querySelectorAll('#users-table tbody tr').length === 7), 5000, 'listed');
    await shot(admin, 'admin-registrations');
    await admin.click('#add-done');
    assert.equal(await admin.isVisible('#add-result'), false);
    assert.equal(await admin.evaluate((t) => document.body.textContent.includes(t), tok), false, 'the token is gone from the page');
    /* a CSV with a mistake: nothing registered, the line and field named */
    await admin.fill('#import-text', 'name,organisation,role\nLi Wei,Espoo,attendee\nNoor,Espoo,boss\n');
    await admin.click('#import-form button[type="submit"]');
    await until(() => admin.isVisible('#import-error'), 5000, 'the import error');
    assert.match(await admin.textContent('#import-error'), /Nobody was registered: line 3: role: "boss".*Line: 3.*Field: the list/);
    await admin.fill('#import-text', 'Li Wei,Espoo,attendee\n"Noor, Jr.",Espoo,speaker\n"=HYPERLINK(""http://x"")",@Espoo,guest\n');
    await admin.click('#import-form button[type="submit"]');
    await until(() => admin.isVisible('#import-result'), 5000, 'the imported list');
    assert.equal(await admin.textContent('#import-result-title'), '3 people registered');
    const rows = await admin.$$eval('#import-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.deepEqual(rows.map((r) => r.slice(0, 3)),
        [['Li Wei', 'Espoo', 'attendee'], ['Noor, Jr.', 'Espoo', 'speaker'], ['=HYPERLINK("http://x")', '@Espoo', 'guest']]);
    for (const r of rows) assert.match(r[3], /^[0-9a-f]{32}$/);
    /* the copied list: a would-be formula is text, next to the tokens */
    await admin.evaluate(() => { navigator.clipboard.writeText = async (t) => { window.__copied = t; }; });
    await admin.click('#copy-import');
    const copied = await until(() => admin.evaluate(() => window.__copied), 5000, 'the list copied');
    assert.match(copied, /\r\n"'=HYPERLINK\(""http:\/\/x""\)","'@Espoo",guest,[0-9a-f]{32},/);
    assert.match(copied, /\r\n"Noor, Jr\.",Espoo,speaker,/);
    await until(() => admin.evaluate(() => document.querySelectorAll('#users-table tbody tr').length === 10), 5000, 'listed');
    await admin.click('#import-done');
    /* revoke, after a confirmation */
    const sam = await admin.evaluate(() => [...document.querySelectorAll('#users-table tbody tr')].find((tr) => tr.textContent.includes('Sam Speaker')).dataset.id);
    await admin.click(`#users-table tr[data-id="${sam}"] button:text-is("Revoke")`);
    await until(() => admin.evaluate((id) => document.querySelector(`#users-table tr[data-id="${id}"]`)?.classList.contains('revoked'), sam), 5000, 'revoked');
    assert.match(await admin.textContent(`#users-table tr[data-id="${sam}"]`), /Revoked/);
    /* someone in the venue right now: their page says so, and stays closed */
    assert.equal(await bo.evaluate(() => window.__venue.client.state), 'open');
    await admin.click(`#users-table tr[data-id="${U.bo.id}"] button:text-is("Revoke")`);
    await until(() => bo.isVisible('#removed'), 5000, 'the notice on Bo\'s page');
    assert.equal(await bo.textContent('#removed-title'), 'Your invitation is no longer valid');
    assert.match(await bo.textContent('#removed-text'), /no longer valid \(registration revoked\)\. Ask the organisers for a new link\./);
    await sleep(1000);
    assert.equal(await bo.evaluate(() => window.__venue.client.state), 'closed', 'no reconnect after 4001');
});

test('/admin shows who is in which room now, and the audit log with the mute and the move', async () => {
    await admin.click('#tab-now');
    await until(() => admin.evaluate(() => document.querySelectorAll('#now-rooms .now-room').length > 0), 5000, 'rooms');
    const b3 = await admin.textContent('#now-rooms .now-room[data-room="breakout-3"]');
    assert.match(b3, /Arlo Attendee/);
    assert.match(await admin.textContent(`#now-rooms .now-room[data-room="${ROOM}"]`), /Mona Moderator/);
    /* refresh picks up a change */
    await att.evaluate(() => window.__venue.client.join('expo'));
    await admin.click('#now-refresh');
    await until(() => admin.evaluate(() => /Arlo Attendee/.test(document.querySelector('#now-rooms .now-room[data-room="expo"]').textContent)), 5000, 'Arlo in the expo now');

    await admin.click('#tab-audit');
    await until(() => admin.evaluate(() => document.querySelectorAll('#audit-table tbody tr').length > 0), 5000, 'audit entries');
    const entries = await admin.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => ({
        action: tr.dataset.action, text: tr.textContent,
    })));
    const muted = entries.find((e) => e.action === 'mute');
    const moved = entries.find((e) => e.action === 'move');
    assert.ok(muted && /Mona Moderator/.test(muted.text) && /Arlo Attendee/.test(muted.text) && /Please keep to the topic/.test(muted.text), 'the mute, by whom, on whom, why');
    assert.ok(moved && /Mona Moderator/.test(moved.text) && /Arlo Attendee/.test(moved.text), 'the move');
    /* a breakout with its rooms and length, its recall with how many came back after how long */
    const breakout = entries.find((e) => e.action === 'breakout');
    assert.ok(breakout && /3 people to breakout-1 \(3\) for 10 min/.test(breakout.text), `the breakout's rooms and length: ${breakout && breakout.text}`);
    const recalled = entries.find((e) => e.action === 'recall');
    assert.ok(recalled && /3 people back after 0 of 10 min/.test(recalled.text), `the recall: ${recalled && recalled.text}`);
    /* filters: by room, by actor */
    await admin.selectOption('#audit-room', ROOM);
    await admin.click('#audit-form button[type="submit"]');
    await until(async () => {
        const acts = await admin.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => tr.dataset.action));
        return acts.includes('mute') && !acts.includes('user.register') && !acts.includes('move') ? acts : null;
    }, 5000, 'only Breakout 2');
    await admin.selectOption('#audit-room', '');
    await admin.fill('#audit-actor', U.admin.id);
    await admin.click('#audit-form button[type="submit"]');
    await until(async () => {
        const rows = await admin.$$eval('#audit-table tbody tr', (trs) => trs.map((tr) => [tr.dataset.action, tr.cells[1].textContent]));
        return rows.length && rows.every(([, who]) => who.includes(U.admin.id)) && rows.some(([a]) => a === 'user.register') &&
            rows.some(([a]) => a === 'announce') && !rows.some(([a]) => a === 'mute') ? rows : null;
    }, 5000, 'only the admin\'s actions');
    await admin.fill('#audit-actor', '');
    await admin.click('#audit-form button[type="submit"]');
    await until(() => admin.evaluate(() => document.querySelectorAll('#audit-table tbody tr[data-action="mute"]').length > 0), 5000, 'all again');
    await shot(admin, 'admin-audit');
    /* the only console errors are the refused token requests */
    assert.deepEqual(consoleErrors(admin).filter((e) => !/status of (401|403|400)/.test(e)), []);
});
