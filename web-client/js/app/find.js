/*
 * find.js - finding a person: the venue-wide search of the People tab,
 * whose results say where each person is, "Go to" (join their room and
 * arrive beside them) and "Follow" (follow.js) on each result and on each
 * roster entry, and my privacy settings (may others find me, do I take
 * direct messages), the server's word shown, kept in prefs.js too so that
 * a guest's choice comes back on the next visit.
 */

import { $, el, button, say, popover } from '../dom.js';
import { getPref, setPref } from './prefs.js';
import { state } from './state.js';
import { follow } from './follow.js';

const Q_MAX = 64; /* find.q, in characters (code points) */

let searched = ''; /* the query whose results are shown */
let shown = null; /* those results ({q, people, truncated}), said again in a new room ("here") */

/* "Go to" and "Follow" for a person {user, name, room, roomName}, as two buttons. */
function actions(p) {
    const box = el('div', 'find-actions');
    const go = button('find-go', 'Go to');
    go.setAttribute('aria-label', `Go to ${p.name} in ${p.roomName}`);
    go.addEventListener('click', () => goTo(p));
    const fol = button('find-follow', 'Follow');
    fol.setAttribute('aria-label', `Follow ${p.name}`);
    fol.addEventListener('click', () => followPerson(p));
    box.append(go, fol);
    return box;
}

/* Join their room and arrive beside them; true when I stand beside them. */
export async function goTo(p) {
    const client = state.client;
    const panels = state.panels;
    panels.announce(`Going to ${p.name} in ${p.roomName}…`);
    let r;
    try {
        r = await client.join(p.room, { near: p.user });
    } catch {
        return false; /* the error event already showed a readable message */
    }
    if (r.near && r.near.placed) {
        panels.announce(`You are beside ${p.name} in ${p.roomName}.`);
        return true;
    }
    const gone = !r.near || /not in this room/.test(r.near.reason);
    panels.showInfo(gone
        ? `${p.name} is not in ${p.roomName} any more: you are in ${p.roomName}.`
        : `There is no free floor beside ${p.name}: you are in ${p.roomName}.`);
    return false;
}

async function followPerson(p) {
    const client = state.client;
    if (!client.room || client.room.id !== p.room || !client.roster.has(p.user)) {
        if (!(await goTo(p))) return;
    }
    follow(p.user, p.name);
}

/* The results of r; quiet: the same results again, not said again. */
function showResults(r, quiet = false) {
    shown = r;
    const list = $('find-results');
    const status = $('find-status');
    const here = state.client.room && state.client.room.id;
    list.replaceChildren(...r.people.map((p) => {
        const li = el('li', 'person found');
        li.dataset.user = p.user;
        const name = el('span', 'pname', p.name || '(no name)');
        name.dir = 'auto';
        const meta = el('span', 'pmeta', p.room === here ? `here, in ${p.roomName}` : `in ${p.roomName}`);
        li.append(name, meta, actions(p));
        return li;
    }));
    if (quiet) return;
    const n = r.people.length;
    let text = n === 0 ? `Nobody found for “${r.q}”.` : `${n} ${n === 1 ? 'person' : 'people'} found for “${r.q}”`;
    if (n) text += r.truncated ? ', the first shown: type more of the name to narrow it down.' : '.';
    say(status, text, 'ok');
}

async function search() {
    const q = $('find-q').value.trim();
    const status = $('find-status');
    if (!q) {
        say(status, 'Type some of a name to find someone.', 'bad');
        return;
    }
    if ([...q].length > Q_MAX) {
        say(status, `A name is at most ${Q_MAX} characters: type fewer.`, 'bad');
        return;
    }
    searched = q;
    say(status, 'Searching…', 'busy');
    try {
        const r = await state.client.find(q);
        if (searched === q) showResults(r);
    } catch (err) {
        say(status, err.code === 'rate_limited' ? 'Too many searches at once: try again in a moment.' : 'The search did not work: try again.', 'bad');
    }
}

/* The roster's "Go to" and "Follow" on everyone but me (a Panels person hook). */
function personActions(u, it) {
    const me = state.client.me;
    const mine = me && u.id === me.id;
    if (mine) {
        if (it.find) it.find.remove();
        it.find = null;
        return;
    }
    const client = state.client;
    if (!client.room) return;
    /* the room I am in when the button is pressed */
    const p = {
        user: u.id,
        name: u.name || '(no name)',
        get room() {
            return client.room ? client.room.id : '';
        },
        get roomName() {
            return client.room ? client.room.name : '';
        },
    };
    if (it.find) it.find.remove();
    it.find = actions(p);
    it.li.append(it.find);
}

/* I am in another room: the results say "here" of the people in it. */
export function onFindJoined() {
    if (shown && state.panels) showResults(shown, true);
}

/* ---- privacy ------------------------------------------------------------ */

function showPrivacy(pv) {
    $('privacy-findable').checked = pv.findable;
    $('privacy-dms').checked = pv.dms;
}

/* The server said my settings: after a welcome, or answering a change. */
export function onPrivacy(d) {
    const client = state.client;
    const pv = d.privacy;
    if (!d.reply && !client.token && client.me && client.me.role === 'guest') {
        /* a guest's settings last a session: a new one gets my last choice back */
        const want = { findable: getPref('findable', 'true') === 'true', dms: getPref('dms', 'true') === 'true' };
        if (want.findable !== pv.findable || want.dms !== pv.dms) {
            client.setPrivacy(want).catch(() => {});
            return;
        }
    }
    setPref('findable', pv.findable);
    setPref('dms', pv.dms);
    if (state.panels) showPrivacy(pv);
}

async function changePrivacy() {
    const status = $('privacy-status');
    const want = { findable: $('privacy-findable').checked, dms: $('privacy-dms').checked };
    try {
        const pv = await state.client.setPrivacy(want);
        showPrivacy(pv);
        say(status, pv.findable ? 'Others can find you and see which room you are in.' : 'Nobody can find you in the venue search now.', 'ok');
    } catch {
        if (state.client.privacy) showPrivacy(state.client.privacy);
        say(status, 'That did not change: try again.', 'bad');
    }
}

/* On entering the venue. */
export function startFind() {
    const form = $('find-form');
    form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        search();
    });
    $('find-q').addEventListener('input', () => {
        if ($('find-q').value.trim()) return;
        $('find-results').replaceChildren();
        $('find-status').hidden = true;
        shown = null;
    });
    const box = $('privacy-settings');
    popover($('privacy-settings-toggle'), box, () => $('privacy-findable'));
    for (const id of ['privacy-findable', 'privacy-dms']) $(id).addEventListener('change', changePrivacy);
    if (state.client.privacy) showPrivacy(state.client.privacy);
    state.panels.personHooks.add(personActions);
    state.panels.redecorate();
}
