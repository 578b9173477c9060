/*
 * On stage in real browsers against the real venued (issue 10): a live
 * session in the plenary, imported with POST /api/admin/programme. Its
 * speaker uploads a PDF through the page's button (a bad file first:
 * refused, with the server's words) and turns the slides with the keys and
 * the buttons; an attendee in the plenary and someone in its overflow room
 * see each page, rendered by pdf.js on the slide panel and the 3D screens.
 * The captioner's lines reach the attendee as subtitles (in the size she
 * chose) and in a live region. Questions, votes, "Mark answered" and the
 * floor; then the moderator ends the session and starts the next one early.
 * axe-core checks the new panels. Screenshots go to tests/artifacts/.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join as pjoin } from 'node:path';
import { startVenued, launchBrowser, newPerson, join, shot, consoleErrors, until, stopAll, ROOT } from './harness.mjs';
import { makePdf } from '../integration/pdf.mjs'; /* "Slide 1", "Slide 2", ... one a page */

let venued;
let chrome;
let U; /* registered users, as `venued user add` printed them */
let spk; /* the speaker's page (2D map: the slide panel is how she sees the slides) */
let ada; /* an attendee in the plenary (3D: the screens) */
let olu; /* an attendee in the overflow room (3D) */
let mod; /* the session's moderator */
let cap; /* the captioner */

const TITLE = 'Cities as platforms';
const AXE = readFileSync(pjoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

before(async () => {
    venued = await startVenued([], {
        users: [
            ['spk', 'Sam Speaker', 'attendee'],
            ['ada', 'Ada Attendee', 'attendee'],
            ['olu', 'Olu Overflow', 'attendee'],
            ['mod', 'Mona Moderator', 'moderator'],
            ['cap', 'Cai Captioner', 'attendee'],
            ['admin', 'Ari Admin', 'admin'],
        ],
    });
    U = venued.users;
    const now = Date.now();
    const res = await fetch(`${venued.url}/api/admin/programme`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${U.admin.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
            sessions: [
                { id: 'keynote', title: TITLE, room: 'plenary', start: iso(now - 60000), end: iso(now + 3600000),
                    speakers: [U.spk.id], moderators: [U.mod.id], captioners: [U.cap.id] },
                { id: 'closing', title: 'Closing words', room: 'plenary', start: iso(now + 7200000), end: iso(now + 9000000),
                    speakers: [U.spk.id], moderators: [U.mod.id] },
            ],
        }),
    });
    assert.equal(res.status, 200, await res.text());
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

async function enter(u, room, view) {
    const page = await newPerson(chrome.browser);
    page.on('dialog', (d) => d.accept());
    await join(page, venued.url, 'typed name', { query: `?token=${u.token}&room=${room}`, view });
    await until(() => page.evaluate(() => window.__venue.client.liveSession('plenary')?.id === 'keynote'), 10000, 'the keynote live');
    return page;
}

const slideOf = (page) => page.evaluate(() => window.__venue.slide());
const altOf = (page) => page.getAttribute('#slide-canvas', 'aria-label');

/* Wait until page shows slide n of the deck: the alt text, and pdf.js's drawing of that page. */
async function seesSlide(page, n, what) {
    await until(async () => (await altOf(page)) === `Slide ${n} of 3: ${TITLE}`, 10000, `${what}: the alt text of slide ${n}`);
    await until(async () => (await slideOf(page)).drawn?.page === n, 10000, `${what}: slide ${n} drawn`);
    return slideOf(page);
}

/* axe-core on the page, WCAG 2.1 A and AA: the violations as readable lines. */
async function axe(page) {
    /* evaluated, not a script tag: the page's Content-Security-Policy allows no inline script */
    if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
    const v = await page.evaluate(async () => (await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })).violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`));
    return v;
}

test('the speaker has the slide panel with an upload button; an attendee sees nothing until there are slides', async () => {
    spk = await enter(U.spk, 'plenary', '2d');
    ada = await enter(U.ada, 'plenary', '3d');
    await until(() => spk.isVisible('#slide-upload'), 5000, 'the upload button');
    assert.equal(await spk.textContent('#slide-none'), 'No slides yet.');
    assert.equal(await ada.isVisible('#slide-panel'), false, 'no panel for an attendee without slides');
    assert.equal(await ada.locator('#slide-controls').isVisible(), false);
});

test('a file that is not a PDF is refused with the server\'s words; a PDF goes up through the button', async () => {
    let [chooser] = await Promise.all([spk.waitForEvent('filechooser'), spk.click('#slide-upload')]);
    await chooser.setFiles({ name: 'notes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('just some notes, not a PDF\n') });
    await until(() => spk.evaluate(() => /^The slides were not accepted: \S/.test(document.getElementById('slide-status').textContent)), 10000, 'the refusal');
    assert.equal(await spk.getAttribute('#slide-status', 'role'), 'status');
    [chooser] = await Promise.all([spk.waitForEvent('filechooser'), spk.click('#slide-upload')]);
    await chooser.setFiles({ name: 'deck.pdf', mimeType: 'application/pdf', buffer: makePdf(3) });
    await until(() => spk.evaluate(() => /Uploaded deck\.pdf: 3 pages/.test(document.getElementById('slide-status').textContent)), 10000, 'the upload');
    const s = await seesSlide(spk, 1, 'the speaker');
    assert.ok(s.ink > 0.002, `pdf.js drew the page (ink ${s.ink})`);
});

let page1; /* the attendee's slide canvas with page 1 on it, as a data URL */
const pixels = (page) => page.evaluate(() => document.getElementById('slide-canvas').toDataURL());

test('the attendee sees page 1 on the slide panel and on the plenary\'s screens', async () => {
    const s = await seesSlide(ada, 1, 'the attendee');
    assert.ok(s.ink > 0.002, `not blank (ink ${s.ink})`);
    assert.ok(s.drawn.screens >= 1, 'the 3D screens show the slide');
    assert.equal(await ada.getAttribute('#slide-canvas', 'role'), 'img');
    assert.equal(await ada.isVisible('#slide-controls'), false, 'no presenter controls for an attendee');
    page1 = await pixels(ada);
});

test('the speaker turns with the arrow key in the panel and with the Next button; the attendee follows', async () => {
    await spk.focus('#slide-next');
    await spk.keyboard.press('ArrowRight');
    await seesSlide(ada, 2, 'the attendee after ArrowRight');
    await spk.click('#slide-next');
    const s = await seesSlide(ada, 3, 'the attendee after Next');
    assert.ok(s.ink > 0.002, `not blank (ink ${s.ink})`);
    assert.notEqual(await pixels(ada), page1, 'page 3 is drawn, not page 1 again');
    assert.equal(await spk.getAttribute('#slide-next', 'aria-disabled'), 'true', 'the last page: Next does nothing more');
    await seesSlide(spk, 3, 'the speaker');
    await shot(ada, 'stage-slides-3d');
});

test('a joiner in the overflow room sees the current page at once; Page Up turns back from anywhere', async () => {
    olu = await enter(U.olu, 'plenary-overflow', '3d');
    const s = await seesSlide(olu, 3, 'the overflow');
    assert.ok(s.drawn.screens >= 1, 'the overflow room\'s screens show the hall\'s deck');
    /* Page Up with the keyboard in the map view (not in a field): the slides, not the walking */
    await spk.focus('#view');
    await spk.keyboard.press('PageUp');
    await seesSlide(olu, 2, 'the overflow after Page Up');
    await seesSlide(ada, 2, 'the attendee after Page Up');
    /* the arrows in the view still walk and turn: they did not turn the slides */
    await spk.keyboard.press('ArrowLeft');
    assert.equal((await slideOf(spk)).drawn.page, 2);
    await shot(olu, 'stage-overflow');
});

test('the captioner types a line; the attendee reads it as a large subtitle and in the live region', async () => {
    cap = await enter(U.cap, 'plenary', '2d');
    await until(() => cap.isVisible('#caption-form'), 5000, 'the caption line');
    assert.equal(await ada.isVisible('#caption-form'), false, 'only the captioner has it');
    /* the attendee makes captions large, in the settings kept in the prefs */
    await ada.click('#caption-settings-toggle');
    assert.equal(await ada.getAttribute('#caption-settings-toggle', 'aria-expanded'), 'true');
    await ada.check('input[name="caption-size"][value="l"]');
    assert.equal(await ada.evaluate(() => localStorage.getItem('venue.captionSize')), 'l');
    await ada.check('input[name="caption-pos"][value="top"]');
    assert.equal(await ada.getAttribute('#captions', 'data-pos'), 'top');
    assert.equal(await ada.evaluate(() => localStorage.getItem('venue.captionPos')), 'top');
    await ada.keyboard.press('Escape');
    assert.equal(await ada.isVisible('#caption-settings'), false);
    await cap.fill('#caption-input', 'Welcome, everyone, to the keynote.');
    await cap.press('#caption-input', 'Enter');
    assert.equal(await cap.inputValue('#caption-input'), '', 'cleared for the next line');
    await until(() => ada.evaluate(() => document.querySelector('#captions .caption-line')?.textContent === 'Welcome, everyone, to the keynote.'), 5000, 'the subtitle');
    assert.equal(await ada.getAttribute('#captions', 'aria-live'), 'polite');
    const size = await ada.evaluate(() => getComputedStyle(document.querySelector('#captions .caption-line')).fontSize);
    assert.equal(size, '32px', 'the large size');
    const top = await ada.evaluate(() => document.getElementById('captions').getBoundingClientRect().top - document.getElementById('view').getBoundingClientRect().top);
    assert.ok(top < 100, `at the top of the view (${top} px down)`);
    await until(() => olu.evaluate(() => /Welcome, everyone/.test(document.getElementById('captions').textContent)), 5000, 'the overflow reads it too');
    await shot(ada, 'stage-captions');
});

let q1;
let q2;

test('the attendee asks two questions; the overflow votes for the second; the moderator sees it first', async () => {
    await ada.click('#tab-questions');
    for (const text of ['How open is the city data?', 'Who pays for the platform?']) {
        await ada.fill('#ask-input', text);
        await ada.click('#ask-send');
        await until(async () => (await ada.inputValue('#ask-input')) === '', 5000, 'asked');
    }
    const ids = await ada.evaluate(() => window.__venue.client.questionsByVotes().map((q) => q.id));
    assert.equal(ids.length, 2);
    [q1, q2] = ids;
    assert.equal(await ada.locator(`#questions li[data-id="${q1}"] button[data-action="vote"]`).isDisabled(), true, 'not for my own');
    await olu.click('#tab-questions');
    await until(() => olu.locator(`#questions li[data-id="${q2}"]`).count(), 5000, 'the overflow lists it');
    await olu.click(`#questions li[data-id="${q2}"] button[data-action="vote"]`);
    await until(() => olu.locator(`#questions li[data-id="${q2}"] button[data-action="vote"]`).isDisabled(), 5000, 'voted once');
    assert.equal(await olu.textContent(`#questions li[data-id="${q2}"] button[data-action="vote"]`), 'Voted');
    mod = await enter(U.mod, 'plenary', '2d');
    await mod.click('#tab-questions');
    await until(async () => (await mod.$$eval('#questions li', (lis) => lis.map((li) => li.dataset.id))).join() === `${q2},${q1}`, 5000, 'most votes first');
    assert.match(await mod.textContent(`#questions li[data-id="${q2}"] .question-meta`), /Ada Attendee.*1 vote/);
});

test('the moderator marks it answered and gives the floor to the asker, then takes it back', async () => {
    await mod.click(`#questions li[data-id="${q2}"] button[data-action="answer"]`);
    await until(() => ada.evaluate((id) => document.querySelector(`#questions li[data-id="${id}"]`)?.classList.contains('answered'), q2), 5000, 'answered on the asker\'s page');
    assert.match(await ada.textContent(`#questions li[data-id="${q2}"]`), /Answered/);
    await mod.fill('#floor-seconds', '120');
    await mod.click(`#questions li[data-id="${q2}"] button[data-action="floor"]`);
    await until(() => ada.evaluate(() => window.__venue.client.me.role === 'speaker'), 5000, 'the asker is a speaker');
    await until(() => mod.evaluate((id) => window.__venue.client.roster.get(id)?.role === 'speaker', U.ada.id), 5000, 'seen so in presence');
    await until(() => ada.isVisible('#floor-box'), 5000, 'the floor on the asker\'s page');
    assert.match(await ada.textContent('#floor-text'), /^You have the floor until \d\d:\d\d\.$/);
    assert.match(await mod.textContent('#floor-text'), /^Ada Attendee has the floor/);
    assert.match(await mod.textContent('#floor-left'), /^[12]:\d\d left$/);
    assert.equal(await ada.isVisible('#floor-take'), false, 'only moderators take it back');
    await until(() => ada.evaluate(() => /You have the floor until/.test(document.getElementById('toasts').textContent)), 5000, 'told why she is a speaker');
    await shot(mod, 'stage-questions-moderator');
    await mod.click('#floor-take');
    await until(() => ada.evaluate(() => window.__venue.client.me.role === 'attendee'), 5000, 'back to attendee');
    await until(async () => !(await ada.isVisible('#floor-box')), 5000, 'no floor');
});

test('axe-core finds nothing in the slide panel, captions, questions and moderation panels', async () => {
    await ada.click('#caption-settings-toggle'); /* open, with the Questions tab shown */
    const found = [];
    for (const [who, page] of [['attendee', ada], ['moderator', mod], ['speaker', spk], ['captioner', cap]]) {
        for (const v of await axe(page)) found.push(`${who}: ${v}`);
    }
    await mod.click('#tab-mod');
    for (const v of await axe(mod)) found.push(`moderator, Moderate tab: ${v}`);
    assert.deepEqual(found, []);
});

test('the moderator ends the session and starts the next one early with "Start now"', async () => {
    await until(() => mod.locator('#mod-sessions button[data-session="keynote"]').count(), 5000, 'the sessions listed');
    assert.equal(await mod.textContent('#mod-sessions button[data-session="keynote"]'), 'End now');
    assert.equal(await mod.textContent('#mod-sessions button[data-session="closing"]'), 'Start now');
    await mod.click('#mod-sessions button[data-session="keynote"]');
    await until(() => ada.evaluate(() => !window.__venue.client.liveSession()), 5000, 'ended');
    await until(async () => !(await ada.isVisible('#tab-questions')), 5000, 'no questions tab');
    await until(async () => !(await ada.isVisible('#slide-panel')), 5000, 'no slides');
    await mod.click('#mod-sessions button[data-session="closing"]');
    await until(() => mod.evaluate(() => /“Closing words” is live now/.test(document.getElementById('mod-status').textContent)), 5000, 'the status line');
    await until(() => ada.evaluate(() => window.__venue.client.liveSession()?.id === 'closing'), 5000, 'live early');
    await until(() => ada.isVisible('#tab-questions'), 5000, 'questions open again');
    await until(() => spk.isVisible('#slide-upload'), 5000, 'the speaker may upload for it');
});

test('the stage pages log no console errors', () => {
    /* the refused upload's 400 is the browser's own line about it */
    const expected = (e) => /Failed to load resource: the server responded with a status of 4\d\d/.test(e);
    for (const p of [spk, ada, olu, mod, cap]) assert.deepEqual(consoleErrors(p).filter((e) => !expected(e)), []);
});
