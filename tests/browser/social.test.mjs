/*
 * What people say to each other (issue "An attendee's first ten
 * minutes"), in real browsers against the real venued: a room's chat with
 * its memory (a late joiner, a reload, a restart, a moderator's delete),
 * a guest refused a registered name and marked "guest" in chat,
 * reactions over the avatar and counted, and direct messages between
 * registered people with a block and a report to the moderators. axe-core
 * checks each view.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startVenued, launchBrowser, newPerson, join, until, stopAll, axe } from './harness.mjs';

let venued;
let chrome;

before(async () => {
    venued = await startVenued([], {
        users: [['ada', 'Ada Attendee', 'attendee'], ['bo', 'Bo Attendee', 'attendee'], ['mod', 'Milo Moderator', 'moderator']],
    });
    chrome = await launchBrowser();
});

after(async () => {
    await stopAll();
});

const chatTexts = (page) => page.$$eval('#chat-log .text', (ts) => ts.map((t) => t.textContent));
const ready = (page) => page.waitForFunction(() => window.__venue && window.__venue.ready && window.__venue.client.room, null, { timeout: 20000 });

async function say(page, text) {
    await page.click('#tab-chat');
    await page.fill('#chat-input', text);
    await page.press('#chat-input', 'Enter');
}

test('a late joiner, a reload and a restart see the room\'s recent chat; a moderator deletes a line for everyone', async () => {
    const ada = await newPerson(chrome.browser);
    await join(ada, venued.url, 'x', { query: `?token=${venued.users.ada.token}&room=breakout-1` });
    await say(ada, 'first words');
    await say(ada, 'a line to delete');
    await until(async () => (await chatTexts(ada)).length === 2, 5000, 'my own lines');

    /* a late joiner (a guest) gets them at once */
    const late = await newPerson(chrome.browser);
    await join(late, venued.url, 'Late Lee', { query: '?room=breakout-1' });
    await late.click('#tab-chat');
    await until(async () => (await chatTexts(late)).join('|') === 'first words|a line to delete', 5000, 'the history');
    assert.equal(await late.isVisible('#chat-log .msg-delete'), false, 'no delete for a guest');

    /* a reload: the server's memory, not the tab's */
    await late.evaluate(() => sessionStorage.clear());
    await late.reload();
    await ready(late);
    await late.click('#tab-chat');
    await until(async () => (await chatTexts(late)).length === 2, 5000, 'the history after a reload');

    /* a moderator deletes a line: gone for everyone, and from the memory */
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=breakout-1` });
    await mod.click('#tab-chat');
    await until(async () => (await chatTexts(mod)).length === 2, 5000, 'the moderator sees the history');
    assert.deepEqual(await axe(mod, '#panel'), [], 'the chat with delete buttons');
    const del = mod.locator('#chat-log li', { hasText: 'a line to delete' }).locator('.msg-delete');
    assert.equal(await del.getAttribute('aria-label'), 'Delete the message from Ada Attendee');
    await del.click();
    for (const p of [mod, ada, late]) {
        await until(async () => (await chatTexts(p)).join('|') === 'first words', 5000, 'the line gone');
    }

    /* a restart keeps the memory */
    await venued.restart();
    const after = await newPerson(chrome.browser);
    await join(after, venued.url, 'After Restart', { query: '?room=breakout-1' });
    await after.click('#tab-chat');
    await until(async () => (await chatTexts(after)).join('|') === 'first words', 8000, 'the history after a restart');
    for (const p of [ada, late, mod, after]) await p.context_.close();
});

test('a guest cannot take a registered name, and its chat lines say "guest"', async () => {
    /* "milo moderator" is Milo Moderator's name, whatever the case (a room
     * of its own: the others' avatars stay out of the next test's view) */
    const fake = await newPerson(chrome.browser);
    await fake.goto(`${venued.url}/?room=breakout-3`);
    await fake.fill('#join-name', 'milo moderator');
    await fake.click('#join-submit');
    await until(async () => /belongs to a registered participant/.test(await fake.textContent('#join-error')), 8000, 'the refusal');
    assert.equal(await fake.evaluate(() => document.activeElement && document.activeElement.id), 'join-name', 'the name field, to change it');

    /* another name gets in; the moderator sees the guest marked in chat */
    await fake.fill('#join-name', 'Milo Moderator.');
    await fake.click('#join-submit');
    await ready(fake);
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=breakout-3` });
    await say(fake, 'hello from a guest');
    await say(mod, 'hello from the moderator');
    await mod.click('#tab-chat');
    await until(async () => (await chatTexts(mod)).length === 2, 5000, 'both lines');
    const tags = await mod.$$eval('#chat-log li', (lis) => lis.map((li) => {
        const tag = li.querySelector('.who-role');
        return `${li.querySelector('.text').textContent}:${tag ? tag.textContent : ''}`;
    }));
    assert.deepEqual(tags, ['hello from a guest:guest', 'hello from the moderator:']);
    assert.deepEqual(await axe(mod, '#panel'), [], 'the chat with a guest tag');
    for (const p of [fake, mod]) await p.context_.close();
});

test('a reaction shows over the sender\'s avatar for everyone and is counted', async () => {
    const a = await newPerson(chrome.browser);
    const aId = await join(a, venued.url, 'Clapping Cleo', { query: '?room=breakout-2' });
    const b = await newPerson(chrome.browser);
    await join(b, venued.url, 'Watching Will', { query: '?room=breakout-2' });
    const applause = a.locator('#reactions button[data-kind="applause"]');
    assert.match(await applause.textContent(), /Applause/);
    await applause.click();
    for (const p of [a, b]) {
        await until(async () => (await p.textContent('#reactions button[data-kind="applause"] .react-count')) === '1', 5000, 'the count');
    }
    /* over Cleo's avatar in Will's view */
    await until(() => b.evaluate((id) => {
        const tag = document.querySelector(`.tag[data-id="${id}"] .tag-react`);
        return tag && !tag.hidden && tag.textContent === '\u{1F44F}';
    }, aId), 5000, 'the applause over the avatar');
    await until(async () => /Reactions: 1 applause/.test(await b.textContent('#announcer')), 8000, 'said to screen readers');
    /* two clicks at once send one: the server's rate is never hit */
    await a.evaluate(() => {
        const b = document.querySelector('#reactions button[data-kind="applause"]');
        b.click();
        b.click();
    });
    await until(async () => (await b.textContent('#reactions button[data-kind="applause"] .react-count')) === '2', 5000, 'the second');
    await a.waitForTimeout(700);
    assert.equal(await b.textContent('#reactions button[data-kind="applause"] .react-count'), '2');
    assert.deepEqual(await axe(b, '#reactions'), []);
    assert.deepEqual(a.errors.concat(b.errors), []);
    await a.context_.close();
    await b.context_.close();
});

test('direct messages: written from the roster, kept over a reload, blocked, and reported to the moderators', async () => {
    const ada = await newPerson(chrome.browser);
    await join(ada, venued.url, 'x', { query: `?token=${venued.users.ada.token}&room=expo` });
    const bo = await newPerson(chrome.browser);
    await join(bo, venued.url, 'x', { query: `?token=${venued.users.bo.token}&room=expo` });
    const mod = await newPerson(chrome.browser);
    await join(mod, venued.url, 'x', { query: `?token=${venued.users.mod.token}&room=lobby` });
    const guest = await newPerson(chrome.browser);
    await join(guest, venued.url, 'Guest Gus', { query: '?room=expo' });

    /* Ada writes to Bo from his roster entry */
    await ada.click('#tab-people');
    const msgBo = ada.getByRole('button', { name: 'Send a direct message to Bo Attendee' });
    await msgBo.click();
    assert.equal(await ada.isVisible('#panel-messages'), true);
    await ada.fill('#dm-input', 'Shall we meet at the energy twin?');
    await ada.press('#dm-input', 'Enter');
    await until(async () => /Shall we meet/.test(await ada.textContent('#dm-log')), 5000, 'my own line');
    assert.equal(await ada.getByRole('button', { name: 'Send a direct message to Guest Gus' }).count(), 0, 'guests take none');

    /* Bo sees it waiting, opens it, and it survives a reload */
    await until(async () => (await bo.textContent('#messages-unread')) === '1', 5000, 'the unread count');
    await until(async () => /Direct message from Ada Attendee/.test(await bo.textContent('#announcer')), 5000, 'said');
    await bo.reload();
    await ready(bo);
    await bo.click('#tab-messages');
    await bo.getByRole('button', { name: /^Ada Attendee/ }).click();
    await until(async () => /Shall we meet/.test(await bo.textContent('#dm-log')), 5000, 'kept over the reload');
    assert.deepEqual(await axe(bo, '#panel'), [], 'a conversation');

    /* Bo blocks Ada: her next message is refused in words, and does not arrive */
    await bo.click('#dm-block');
    await until(async () => (await bo.textContent('#dm-block')) === 'Unblock', 5000, 'blocked');
    await ada.fill('#dm-input', 'Hello?');
    await ada.press('#dm-input', 'Enter');
    await until(async () => /Bo Attendee does not take direct messages/.test(await ada.textContent('#dm-status')), 5000, 'the refusal');
    assert.doesNotMatch(await bo.textContent('#dm-log'), /Hello\?/);

    /* Bo reports Ada: the moderator sees the report with what she wrote */
    await bo.click('#dm-report');
    assert.deepEqual(await axe(bo, '#panel'), [], 'the report form');
    await bo.fill('#dm-report-reason', 'keeps writing to me');
    await bo.click('#dm-report-form button[type="submit"]');
    await until(async () => /Reported to the moderators \(1 online\)/.test(await bo.textContent('#dm-status')), 5000, 'the receipt');
    await mod.click('#tab-messages');
    await until(() => mod.isVisible('#dm-reports'), 5000, 'the reports');
    const report = await mod.textContent('#dm-report-list');
    assert.match(report, /Ada Attendee reported by Bo Attendee/);
    assert.match(report, /keeps writing to me/);
    assert.match(report, /Shall we meet at the energy twin\?/);
    assert.deepEqual(await axe(mod, '#panel'), [], 'the moderator\'s reports');

    /* a guest is told what direct messages are for */
    await guest.click('#tab-messages');
    assert.equal(await guest.isVisible('#dm-guest'), true);
    assert.deepEqual(ada.errors.concat(bo.errors, mod.errors, guest.errors), []);
    for (const p of [ada, bo, mod, guest]) await p.context_.close();
});
