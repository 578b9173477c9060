/*
 * messages.js - direct messages as a person handles them: the Messages tab
 * with one conversation per person, "Message" on a roster entry, blocking
 * and reporting someone, and (for moderators) the reports that come in.
 * Blocked people's lines also leave the room chat (panels.js asks
 * client.blocked).
 */

import { $, button, el, say } from '../dom.js';
import { timeOf } from '../panels.js';
import { roleRank } from '../venue-client.js';
import { state } from './state.js';

let open = null; /* the user id of the conversation shown, or null */

const registered = (u) => !!u && u.role !== 'guest';
const isModerator = () => roleRank(state.client.me && state.client.me.role) >= roleRank('moderator');

export function startMessages() {
    const client = state.client;
    state.panels.addTab($('tab-messages'));
    $('tab-messages').addEventListener('click', () => markRead());
    $('dm-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        send();
    });
    $('dm-back').addEventListener('click', () => show(null));
    $('dm-block').addEventListener('click', toggleBlock);
    $('dm-report').addEventListener('click', () => {
        $('dm-report-form').hidden = false;
        $('dm-report-reason').focus();
    });
    $('dm-report-cancel').addEventListener('click', () => {
        $('dm-report-form').hidden = true;
        $('dm-report').focus();
    });
    $('dm-report-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        sendReport();
    });
    client.on('dm', onDm);
    client.on('blocks', () => {
        renderThread();
        state.panels.showChatHistory(client.room ? client.chatFor(client.room.id) : []);
    });
    client.on('report', onReport);
    client.on('welcome', renderAll);
    state.panels.personHooks.add(messageButton);
    state.panels.redecorate();
    renderAll();
}

/* "Message" on each registered person's roster entry, for registered people. */
function messageButton(u, it) {
    const me = state.client.me;
    const want = registered(me) && registered(u) && u.id !== me.id;
    if (!want) {
        if (it.dm) it.dm.remove();
        it.dm = null;
        return;
    }
    if (!it.dm) {
        it.dm = button('person-dm', 'Message');
        it.dm.addEventListener('click', () => startWith({ id: it.li.dataset.id, name: it.dmName }));
        it.li.append(it.dm);
    }
    it.dmName = u.name;
    it.dm.setAttribute('aria-label', `Send a direct message to ${u.name}`);
}

/* Open (making it if new) the conversation with person, on the Messages tab. */
export function startWith(person) {
    const client = state.client;
    if (!client.conversations.has(person.id)) {
        client.conversations.set(person.id, { with: person, lines: [], unread: 0 });
    }
    state.panels.showTab('tab-messages');
    show(person.id);
    $('dm-input').focus();
}

function show(userId) {
    open = userId;
    $('dm-report-form').hidden = true;
    renderAll();
    markRead();
}

function markRead() {
    const c = open && state.client.conversationWith(open);
    if (c && !$('panel-messages').hidden) c.unread = 0;
    renderUnread();
}

function renderUnread() {
    let n = 0;
    for (const c of state.client.conversations.values()) n += c.unread;
    const badge = $('messages-unread');
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? '99+' : String(n);
}

function renderAll() {
    const client = state.client;
    const guest = !registered(client.me);
    $('dm-guest').hidden = !guest;
    $('dm-conversations').hidden = guest || !!open;
    $('dm-thread').hidden = guest || !open;
    const list = $('dm-list');
    const items = [...client.conversations.values()].reverse().map((c) => {
        const li = el('li');
        const b = button('dm-open', c.with.name || '(no name)');
        b.dir = 'auto';
        if (c.unread) b.append(el('span', 'count unread', String(c.unread)));
        b.setAttribute('aria-label', `${c.with.name}${c.unread ? `, ${c.unread} unread` : ''}`);
        b.addEventListener('click', () => show(c.with.id));
        li.append(b);
        return li;
    });
    list.replaceChildren(...items);
    $('dm-none').hidden = items.length > 0;
    renderThread();
    renderReports();
    renderUnread();
}

function renderThread() {
    const c = open && state.client.conversationWith(open);
    if (!c) return;
    const name = c.with.name || 'this person';
    $('dm-with').textContent = name;
    $('dm-input-label').textContent = `Message to ${name}`;
    const blocked = state.client.blocked.has(c.with.id);
    $('dm-block').textContent = blocked ? 'Unblock' : 'Block';
    $('dm-block').setAttribute('aria-pressed', String(blocked));
    const log = $('dm-log');
    log.replaceChildren(...c.lines.map((l) => {
        const li = el('li', l.mine ? 'msg mine' : 'msg');
        const head = el('div', 'msg-head');
        const who = el('span', 'who', l.mine ? 'You' : name);
        who.dir = 'auto';
        const time = el('time', 'when', timeOf(l.ts));
        time.dateTime = new Date(l.ts).toISOString();
        head.append(who, time);
        const text = el('p', 'text', l.text);
        text.dir = 'auto';
        li.append(head, text);
        return li;
    }));
    log.scrollTop = log.scrollHeight;
}

function onDm(d) {
    if (!d.mine) {
        const viewing = open === d.with.id && !$('panel-messages').hidden;
        if (viewing) state.client.conversationWith(d.with.id).unread = 0;
        state.panels.announce(`Direct message from ${d.with.name}: ${d.text}`, 'chat');
    }
    renderAll();
}

async function send() {
    const input = $('dm-input');
    const text = input.value.trim();
    if (!text || !open) return;
    try {
        await state.client.dm(open, text);
        input.value = '';
    } catch (e) {
        say($('dm-status'), `Not sent: ${e.message}`, 'bad');
    }
}

async function toggleBlock() {
    const c = state.client.conversationWith(open);
    if (!c) return;
    const on = !state.client.blocked.has(c.with.id);
    try {
        await state.client.block(c.with.id, on);
        say($('dm-status'), on ? `You have blocked ${c.with.name}: their direct messages and chat lines will not reach you.`
            : `${c.with.name} is no longer blocked.`, 'ok');
    } catch (e) {
        say($('dm-status'), `Not changed: ${e.message}`, 'bad');
    }
}

async function sendReport() {
    const c = state.client.conversationWith(open);
    if (!c) return;
    try {
        const r = await state.client.report(c.with.id, $('dm-report-reason').value.trim());
        $('dm-report-form').hidden = true;
        $('dm-report-reason').value = '';
        say($('dm-status'), r.moderators
            ? `Reported to the moderators (${r.moderators} online). They see your report and the messages ${c.with.name} sent you.`
            : 'Reported: no moderator is online now; the report is kept in the audit log.', 'ok');
        $('dm-report').focus();
    } catch (e) {
        say($('dm-status'), `Not reported: ${e.message}`, 'bad');
    }
}

function onReport(r) {
    state.panels.showInfo(`${r.from.name} reported ${r.about.name}${r.reason ? `: ${r.reason}` : '.'}`);
    renderReports();
}

function renderReports() {
    const box = $('dm-reports');
    const reports = state.client.reports;
    box.hidden = !isModerator() || reports.length === 0;
    if (box.hidden) return;
    $('dm-report-list').replaceChildren(...reports.slice().reverse().map((r) => {
        const li = el('li', 'report');
        const head = el('p', 'report-head');
        const about = el('strong', null, r.about.name || r.about.id);
        about.dir = 'auto';
        const from = el('span', null, r.from.name || r.from.id);
        from.dir = 'auto';
        head.append(about, ' reported by ', from, ` at ${timeOf(r.ts)}${r.room ? ` (now in ${r.room})` : ''}`);
        li.append(head);
        if (r.reason) li.append(el('p', 'text', r.reason));
        for (const m of r.messages) {
            const q = el('blockquote', 'report-msg', m.text);
            q.dir = 'auto';
            li.append(q);
        }
        return li;
    }));
}
