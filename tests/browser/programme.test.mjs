/*
 * The programme in real browsers against the real venued (issue 10): a
 * programme imported through the admin API, with times around now (one
 * session live in the plenary, the next in a breakout, one later). A guest
 * in another time zone reads it in the Programme tab in their own time,
 * sees it on the lobby's board, goes to the live session with "Go", and
 * reads what the room says when nothing is on there. A registered attendee
 * stars a session that starts within the reminder window and follows the
 * reminder's "Go". The organiser's page refuses a bad programme file,
 * naming the session and the field, an edit made there reaches the venue's
 * pages, and it lists a question asked and voted for in the live session
 * (through the client module in Node). axe-core checks both pages.
 * Screenshots go to tests/artifacts/.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as pjoin } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import {
    startVenued, launchBrowser, newPerson, join, shot, consoleErrors, until, stopAll, ROOT,
} from './harness.mjs';

const ZONE = 'Australia/Adelaide'; /* +09:30 or +10:30: a half-hour offset shows a time converted, not just shifted by hours */
const MIN = 60000;
const AXE = readFileSync(pjoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
const { VenueClient } = await import(pathToFileURL(pjoin(ROOT, 'web-client', 'js', 'venue-client.js')).href);

let venued;
let chrome;
let U; /* registered users as `venued user add` printed them */
let guest; /* the guest's page, in ZONE */
let att; /* the registered attendee's page */
let admin; /* the organiser's page */
let plan; /* the sessions of the programme file imported */
const modules = []; /* VenueClients in Node, closed after */

/* A session of the programme file, its times minutes from now. */
function session(id, title, room, fromMin, toMin, extra = {}) {
    const now = Date.now();
    return {
        id, title, room,
        start: new Date(now + fromMin * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        end: new Date(now + toMin * MIN).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...extra,
    };
}

async function importProgramme(sessions) {
    const res = await fetch(`${venued.url}/api/admin/programme`, {
        method: 'POST',
        headers: { authorization: `Bearer ${U.admin.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sessions }),
    });
    assert.equal(res.status, 200, await res.text());
}

/* axe-core in the page (evaluated, as the page's CSP allows no injected script tag): the violations. */
async function axe(page, include) {
    await page.evaluate(AXE);
    return page.evaluate(async (sel) => {
        const r = await window.axe.run(sel ? { include: [sel] } : document, { resultTypes: ['violations'] });
        return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }, include);
}

const inRoom = (page) => page.evaluate(() => window.__venue.client.room && window.__venue.client.room.id);
const sessionItem = (id) => `#programme li[data-session="${id}"]`;

before(async () => {
    /* a reminder 5 minutes ahead: the breakout below starts in 3 */
    venued = await startVenued(['--reminder-min', '5'], {
        users: [['admin', 'Ada Admin', 'admin'], ['att', 'Arlo Attendee', 'attendee'], ['spk', 'Sam Speaker', 'speaker']],
    });
    U = venued.users;
    plan = [
        session('opening', 'Opening plenary', 'plenary', -10, 50, { speakers: [U.spk.id], description: 'Welcome to the assembly.' }),
        session('twins', 'Local digital twins', 'breakout-1', 3, 60),
        session('citizens', 'Citizens and participation', 'breakout-2', 120, 180),
    ];
    await importProgramme(plan);
    chrome = await launchBrowser();
});

after(async () => {
    for (const c of modules) c.close();
    await stopAll();
});

test('a guest in another time zone: the programme in their time, on the lobby board, and Go to the live session', async () => {
    guest = await newPerson(chrome.browser);
    /* the page's time zone, before it loads (playwright's timezoneId, on this page) */
    const cdp = await guest.context().newCDPSession(guest);
    await cdp.send('Emulation.setTimezoneOverride', { timezoneId: ZONE });
    await join(guest, venued.url, 'Gita Guest');
    assert.equal(await guest.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), ZONE);
    await until(() => guest.evaluate(() => window.__venue.client.liveSession('plenary') !== null), 10000, 'the opening to be live');

    await guest.click('#tab-programme');
    assert.match(await guest.textContent('#programme-zone'), new RegExp(ZONE));
    assert.match(await guest.textContent('#programme section.live'), /Opening plenary/);
    assert.match(await guest.textContent('#programme section.next'), /Local digital twins/);
    assert.match(await guest.textContent('#programme section.later'), /Citizens and participation/);
    const item = await guest.textContent(sessionItem('opening'));
    assert.match(item, /Plenary/, 'the room by name');
    assert.match(item, /Sam Speaker/, 'the speakers');
    assert.match(item, /Live now/, 'the state');
    /* the start in the viewer's zone, as this page's locale writes it */
    const locale = await guest.evaluate(() => Intl.DateTimeFormat().resolvedOptions().locale);
    const expected = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', timeZone: ZONE }).format(Date.parse(plan[0].start));
    const shown = await guest.textContent(`${sessionItem('opening')} time`);
    assert.ok(shown.startsWith(expected), `"${shown}" starts with ${expected} (${ZONE})`);
    assert.equal(await guest.getAttribute(`${sessionItem('opening')} time`, 'datetime'), new Date(Date.parse(plan[0].start)).toISOString());

    /* guests have no stars, and are told why */
    assert.equal(await guest.locator('#programme .session-star').count(), 0);
    assert.equal(await guest.isVisible('#programme-guest'), true);

    /* the lobby's board (3D) shows the same */
    const boards = await guest.evaluate(() => window.__venue.boards());
    assert.equal(boards.length, 1, 'one board in the lobby');
    const lines = boards[0].join('\n');
    assert.match(lines, /Live now\n.*Opening plenary · Plenary/);
    assert.match(lines, /Next\n.*Local digital twins · Breakout 1/);
    await shot(guest, 'programme-lobby-board');

    assert.match(await guest.textContent('#room-session'), /No live session here/);
    await guest.click(`${sessionItem('opening')} .session-go`);
    await until(async () => (await inRoom(guest)) === 'plenary', 10000, 'in the plenary');
    await until(() => guest.evaluate(() => /^Live now: “Opening plenary”/.test(document.getElementById('room-session').textContent)), 5000, 'the room line');
    assert.equal(await guest.textContent(`${sessionItem('opening')} .session-here`), 'You are here');
    assert.equal(await guest.evaluate(() => window.__venue.boards().length), 0, 'the plenary has no board');
    await shot(guest, 'programme-panel');
});

test('a room with no live session says so, and what is next there', async () => {
    await guest.click(`${sessionItem('citizens')} .session-go`);
    await until(async () => (await inRoom(guest)) === 'breakout-2', 10000, 'in breakout 2');
    const start = new Intl.DateTimeFormat(await guest.evaluate(() => Intl.DateTimeFormat().resolvedOptions().locale),
        { hour: '2-digit', minute: '2-digit', timeZone: ZONE }).format(Date.parse(plan[2].start));
    await until(() => guest.evaluate(() => /No live session here\. Next: “Citizens and participation” at /.test(document.getElementById('room-session').textContent)), 5000, 'the line');
    assert.ok((await guest.textContent('#room-session')).includes(start), 'at its time in the viewer\'s zone');
    assert.deepEqual(consoleErrors(guest), []);
});

test('a registered attendee stars a session starting soon, gets the reminder, and follows its Go', async () => {
    att = await newPerson(chrome.browser);
    await join(att, venued.url, 'typed name', { query: `?token=${U.att.token}&room=lobby`, view: '2d' });
    await att.click('#tab-programme');
    assert.equal(await att.isVisible('#programme-guest'), false);
    const star = `${sessionItem('twins')} .session-star`;
    assert.equal(await att.getAttribute(star, 'aria-pressed'), 'false');
    assert.equal(await att.getAttribute(star, 'aria-label'), 'Star “Local digital twins”');
    await att.click(star);
    await until(async () => (await att.getAttribute(star, 'aria-pressed')) === 'true', 5000, 'starred');
    assert.deepEqual(await att.evaluate(() => [...window.__venue.client.stars]), ['twins']);
    /* it starts in 3 minutes, inside the 5-minute window: starring it now reminds at once
     * (the reminder at the window's edge is the core's test, with its clock moved by hand) */
    const room = (await (await fetch(`${venued.url}/api/venue`)).json()).rooms.find((r) => r.id === 'breakout-1').name;
    const reminder = `in ${room}: “Local digital twins”.`;
    await until(() => att.evaluate((t) => document.getElementById('toasts').textContent.includes(t), reminder), 5000, 'the reminder');
    assert.match(await att.textContent('#toasts'), /Starting at \d/);
    await shot(att, 'programme-reminder');
    assert.equal(await att.getAttribute('#toasts .toast-action', 'aria-label'), `Go to ${room} for “Local digital twins”`);
    await att.click('#toasts .toast-action');
    await until(async () => (await inRoom(att)) === 'breakout-1', 10000, 'in breakout 1');
    assert.match(await att.textContent('#room-session'), /No live session here\. Next: “Local digital twins”/);
    assert.deepEqual(consoleErrors(att), []);
    /* the star is kept for the person, not the page: another browser with the same
     * token (which takes the session over; a reload of this tab would resume it) */
    const again = await newPerson(chrome.browser);
    await join(again, venued.url, 'typed name', { query: `?token=${U.att.token}&room=lobby`, view: '2d' });
    await until(() => again.evaluate(() => window.__venue.client.stars.has('twins')), 5000, 'the star kept');
    assert.deepEqual(consoleErrors(again), []);
    await att.context_.close();
    att = again;
});

test('the organiser\'s page: a bad programme file is refused, naming the session and field; an edit reaches the venue; the questions', async () => {
    /* two people in the live plenary (the module in Node): one asks, the other votes */
    const asker = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name: 'Quinn Asker', WebSocket });
    const voter = new VenueClient({ url: `ws://127.0.0.1:${venued.port}/ws`, name: 'Vic Voter', WebSocket });
    modules.push(asker, voter);
    await asker.connect({ room: 'plenary' });
    await voter.connect({ room: 'plenary' });
    await until(() => asker.room && voter.room, 5000, 'both in the plenary');
    const q = await asker.ask('Will the twins be open data?');
    assert.equal(q.votes, 0);
    const voted = await voter.vote(q.id);
    assert.equal(voted.votes, 1);
    assert.equal(voter.questions.get(q.id).voted, true);
    await until(() => asker.questions.get(q.id) && asker.questions.get(q.id).votes === 1, 5000, 'the asker sees the vote');

    admin = await newPerson(chrome.browser);
    admin.on('dialog', (d) => d.accept());
    await admin.goto(`${venued.url}/admin`);
    await admin.fill('#token-input', U.admin.token);
    await admin.press('#token-input', 'Enter');
    await until(() => admin.isVisible('#admin-app'), 5000, 'the admin app');
    await admin.click('#tab-programme');
    await until(() => admin.evaluate(() => document.querySelectorAll('#prog-table tbody tr').length === 3), 5000, 'three sessions');
    assert.match(await admin.textContent('#prog-table tbody tr[data-session="opening"]'), /Opening plenary.*Plenary.*Sam Speaker.*Live\s*1/);
    assert.match(await admin.textContent('#prog-questions'), /Opening plenary.*Will the twins be open data\?.*1 vote · asked by Quinn Asker/);

    /* a file whose second session ends before it starts */
    const bad = { sessions: [plan[0], { ...plan[1], end: plan[0].start }, plan[2]] };
    await admin.setInputFiles('#prog-file', { name: 'programme.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)) });
    await admin.click('#prog-import-form button[type="submit"]');
    await until(() => admin.isVisible('#prog-import-error'), 5000, 'the refusal');
    const refusal = await admin.textContent('#prog-import-error');
    assert.match(refusal, /^Nothing was imported: sessions\[1\]/);
    assert.match(refusal, /Session: twins.*Field: end/);
    assert.equal(await admin.getAttribute('#prog-import-error', 'role'), 'alert');
    await shot(admin, 'programme-admin-refused');
    const still = await (await fetch(`${venued.url}/api/programme`)).json();
    assert.deepEqual(still.sessions.map((s) => s.id), ['opening', 'twins', 'citizens'], 'nothing imported');

    /* edit: a new title, saved as the whole programme */
    await admin.click('#prog-table tr[data-session="citizens"] button:text-is("Edit")');
    assert.equal(await admin.evaluate(() => document.activeElement.id), 'prog-edit-title');
    assert.equal(await admin.inputValue('#prog-room'), 'breakout-2');
    await admin.fill('#prog-f-title', 'Citizens, data and participation');
    await admin.selectOption('#prog-speakers', [U.spk.id]);
    await admin.click('#prog-form button[type="submit"]');
    await until(() => admin.evaluate(() => /The programme is saved: 3 sessions/.test(document.getElementById('admin-status').textContent)), 5000, 'saved');
    await until(() => admin.evaluate(() => /Citizens, data and participation/.test(document.querySelector('#prog-table tr[data-session="citizens"]').textContent)), 5000, 'the table');
    const got = await (await fetch(`${venued.url}/api/programme`)).json();
    const citizens = got.sessions.find((s) => s.id === 'citizens');
    assert.equal(citizens.title, 'Citizens, data and participation');
    assert.deepEqual(citizens.speakers.map((s) => s.id), [U.spk.id]);
    assert.equal(citizens.start, plan[2].start, 'the times as they were');
    const full = await (await fetch(`${venued.url}/api/admin/programme`, { headers: { authorization: `Bearer ${U.admin.token}` } })).json();
    assert.equal(full.sessions.find((s) => s.id === 'opening').description, 'Welcome to the assembly.', 'the other sessions as they were');
    /* the venue's pages get the new programme at once */
    await until(() => guest.evaluate(() => /Citizens, data and participation/.test(document.getElementById('room-session').textContent)), 5000, 'the guest\'s room line');
    assert.match(await guest.textContent(sessionItem('citizens')), /Citizens, data and participation.*With Sam Speaker/);
    await shot(admin, 'programme-admin');
    /* the refused import's 400 is what the page asked for */
    assert.deepEqual(consoleErrors(admin).filter((e) => !/status of 400/.test(e)), []);
});

test('axe-core finds nothing on the venue page with the programme open, nor on the organiser\'s programme', async () => {
    await guest.click('#tab-programme');
    assert.deepEqual(await axe(guest), []);
    await att.click('#tab-programme');
    assert.deepEqual(await axe(att, '#panel'), [], 'with stars');
    await admin.click('#prog-new');
    assert.deepEqual(await axe(admin), []);
});

test('a session\'s own moderator, an attendee by role, starts it early from the Programme tab', async () => {
    const workshop = session('workshop', 'Sensors workshop', 'breakout-3', 200, 240, { moderators: [U.att.id] });
    const full = await (await fetch(`${venued.url}/api/admin/programme`, { headers: { authorization: `Bearer ${U.admin.token}` } })).json();
    const kept = full.sessions.map((s) => ({
        id: s.id, title: s.title, description: s.description || undefined, room: s.room, start: s.start, end: s.end,
        speakers: s.speakers.map((u) => u.id), moderators: s.moderators.map((u) => u.id), captioners: s.captioners.map((u) => u.id),
    }));
    await importProgramme([...kept, workshop]);
    await att.click('#tab-programme');
    const start = `${sessionItem('workshop')} [data-action="start"]`;
    await until(() => att.isVisible(start), 5000, 'Start now on the session it moderates');
    assert.equal(await att.locator(`${sessionItem('citizens')} [data-action="start"]`).count(), 0, 'not on the others');
    await att.click(start);
    await until(() => att.evaluate(() => window.__venue.client.liveSession('breakout-3')?.id === 'workshop'), 5000, 'the workshop live');
    await until(() => att.evaluate(() => /is live/.test(document.getElementById('programme-status').textContent)), 5000, 'said so');
    await until(() => att.isVisible(`${sessionItem('workshop')} [data-action="end"]`), 5000, 'End now in its place');
    const audit = await (await fetch(`${venued.url}/api/admin/audit`, { headers: { authorization: `Bearer ${U.admin.token}` } })).json();
    assert.ok(audit.entries.some((e) => e.action === 'start_session' && (e.actor_id ?? e.actor) === U.att.id), 'audited as the attendee\'s');
});
