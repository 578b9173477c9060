/*
 * join.js - getting into the venue and staying connected: the join screen
 * (name, invitation token, view and motion choices), the first connection
 * and its hello, and then what the connection tells people: the indicator
 * with its "Retry now", reconnecting and resuming, a session the server
 * started anew, and back to the join screen when the server refuses me.
 *
 * Query parameters: ?token=...&room=plenary (join link), ?view=2d.
 *
 * A join link's room is checked against /api/venue at once (ids without
 * case: ?room=Plenary is the plenary) and shown by its name; a token is
 * shown as the registered name it stands for (/api/me), so that people
 * with a link type nothing. The session lives in sessionStorage
 * (venue-client.js opts.storage): a reload resumes it without the join
 * screen. This browser's id (localStorage "venue.browser", random) goes in
 * hello.browser: a moderator's kick of a guest keeps it out a while.
 */

import { VenueClient } from '../venue-client.js';
import { $ } from '../dom.js';
import { NAME_MAX } from '../limits.js';
import { state } from './state.js';
import { getPref, setPref } from './prefs.js';
import { showRemoved } from './moderation.js';
import { joinRoom } from './rooms.js';

const params = new URLSearchParams(location.search);
const TOKEN_KEY = 'venue.token'; /* sessionStorage: the join link's token, for a reload */

let wireClient = null;
let enterVenue = null;
let linkRoom = null; /* the join link's room as /api/venue names it: {id, name}; null: none or unknown */
let registered = null; /* {name, role} the join link's token stands for */
let tokenCheck = null; /* the /api/me look-up of the join link's token, while it runs */

/* Bidi embeddings, overrides and isolates: the server drops them from names (PROTOCOL.md, hello). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;
/* What shows nothing: White_Space and the invisible format and filler characters (PROTOCOL.md). */
const INVISIBLE = /^[\s\u0085\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u180E\u2000-\u200F\u2028-\u202F\u205F-\u2069\u2800\u3000\u3164\uFEFF\uFFA0]*$/;

/* This browser's id for hello.browser: random, made once, kept in localStorage. */
function browserId() {
    let id = getPref('browser', '');
    if (!/^b-[0-9a-f]{32}$/.test(id)) {
        const bytes = new Uint8Array(16);
        crypto.getRandomValues(bytes);
        id = `b-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
        setPref('browser', id);
    }
    return id;
}

function sessionStore() {
    try {
        return window.sessionStorage;
    } catch {
        return null; /* storage refused: a reload starts anew */
    }
}

/* Why a name cannot be used, for a person; '' when it can. */
export function nameProblem(name) {
    if (!name) return 'Please enter the name others will see.';
    if (INVISIBLE.test(name)) {
        return 'That name has only spaces or invisible characters (such as zero-width spaces), so nobody would see it. Type letters, digits or symbols.';
    }
    if (codePoints(name) > NAME_MAX) return `That name is too long: ${NAME_MAX} characters at most.`;
    if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'The name cannot contain control characters such as line breaks or tabs.';
    return '';
}

/* The join link's room: checked against the venue's rooms, matched without case. */
async function checkLinkRoom(asked) {
    const line = $('join-room-line');
    const unknown = $('join-room-unknown');
    let rooms = null;
    try {
        const res = await fetch('/api/venue', { cache: 'no-store' });
        if (res.ok) rooms = (await res.json()).rooms;
    } catch {
        rooms = null;
    }
    if (!Array.isArray(rooms)) {
        /* cannot check now: say nothing the venue might not keep */
        line.hidden = true;
        return;
    }
    const want = asked.trim().toLowerCase();
    const r = rooms.find((x) => x && String(x.id).toLowerCase() === want);
    const lobby = rooms.find((x) => x && x.id === 'lobby') || rooms[0];
    if (r) {
        linkRoom = { id: String(r.id), name: String(r.name || r.id) };
        $('join-room-name').textContent = linkRoom.name;
        line.hidden = false;
        unknown.hidden = true;
    } else {
        linkRoom = null;
        line.hidden = true;
        unknown.hidden = false;
        unknown.textContent = `Your link names a room “${asked}” that this venue does not have. You will start in ${lobby ? lobby.name || lobby.id : 'the lobby'}, and can choose any room from the Rooms list.`;
    }
}

/* The join link's token: greet the person by the name it is registered under. */
async function checkToken(token) {
    const greeting = $('join-greeting');
    let res;
    try {
        res = await fetch('/api/me', { headers: { Authorization: `Bearer ${token}` }, cache: 'no-store' });
    } catch {
        return; /* the venue will say at the door */
    }
    if (res.ok) {
        const me = await res.json().catch(() => null);
        if (!me || typeof me.name !== 'string') return;
        registered = { name: me.name, role: String(me.role || '') };
        greeting.textContent = `Welcome, ${me.name}. Your invitation is ready: press “Enter the venue”.`;
        greeting.hidden = false;
        $('join-name-box').hidden = true;
        $('join-name').value = me.name;
        $('token-box').open = false;
        $('join-submit').focus();
    } else if (res.status === 401) {
        $('join-error').textContent = 'This invitation link is not valid any more (unknown, expired or revoked). Ask the organisers for a new link, or clear the token to come in as a guest if the venue allows it.';
        $('token-box').open = true;
    }
}

/*
 * The join link's token, taken out of the address bar and the history
 * (screen shares, synced history, a shoulder) as soon as it is read, and
 * kept in this tab's sessionStorage so that a reload still has it.
 */
function linkToken() {
    const store = sessionStore();
    const token = params.get('token');
    if (token === null) return (store && store.getItem(TOKEN_KEY)) || '';
    if (store) store.setItem(TOKEN_KEY, token);
    const url = new URL(location.href);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url);
    return token;
}

/*
 * wire(client) hands a new connection's events to the page, before it
 * opens; enter() fills the venue page once the server has welcomed me.
 */
export function initJoin({ wire, enter }) {
    wireClient = wire;
    enterVenue = enter;
    const name = $('join-name');
    name.value = getPref('name', '');
    const token = linkToken();
    if (token) {
        $('join-token').value = token;
        $('token-box').open = true;
        tokenCheck = checkToken(token);
    }
    const room = params.get('room');
    if (room) checkLinkRoom(room);
    const view = params.get('view') || getPref('view', '3d');
    for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === view;
    const rm = getPref('reducedMotion', null);
    $('join-reduced-motion').checked =
        rm === null ? window.matchMedia('(prefers-reduced-motion: reduce)').matches : rm === 'true';
    $('join-form').addEventListener('submit', onJoinSubmit);
    name.focus();
    /* a reload: the session this tab had goes on, without the join screen */
    const probe = new VenueClient({ url: wsUrl(), storage: sessionStore() });
    if (probe.hasStoredSession) resumeStored(token || '');
}

async function resumeStored(token) {
    const name = getPref('name', '') || 'Guest';
    state.viewKind = getPref('view', '3d') === '2d' ? '2d' : '3d';
    const rm = getPref('reducedMotion', null);
    state.reducedMotion = rm === null ? window.matchMedia('(prefers-reduced-motion: reduce)').matches : rm === 'true';
    $('join-screen').hidden = true;
    try {
        await start(name, token, null);
    } catch (e) {
        $('join-screen').hidden = false;
        $('join-error').textContent = e && e.text ? e.text : (e && e.message) || 'Could not connect to the venue.';
        if (state.client) {
            state.client.close();
            state.client = null;
        }
    }
}

function codePoints(s) {
    return [...s].length;
}

async function onJoinSubmit(ev) {
    ev.preventDefault();
    const err = $('join-error');
    const token = $('join-token').value.trim();
    if (tokenCheck) await tokenCheck;
    /* with a token the server uses the registered name; the one typed is only a fallback */
    const typed = $('join-name').value.replace(BIDI_CONTROLS, '').trim();
    const name = registered && token ? registered.name : typed;
    err.textContent = '';
    const problem = registered && token ? '' : nameProblem(name);
    if (problem) {
        err.textContent = problem;
        $('join-name').focus();
        return;
    }
    const viewPref = document.querySelector('input[name="view"]:checked')?.value || '3d';
    state.viewKind = viewPref;
    state.reducedMotion = $('join-reduced-motion').checked;
    setPref('name', name);
    setPref('view', viewPref);
    setPref('reducedMotion', state.reducedMotion);

    const button = $('join-submit');
    button.disabled = true;
    button.textContent = 'Connecting…';
    try {
        await start(name, token, linkRoom ? linkRoom.id : 'lobby');
    } catch (e) {
        err.textContent = joinErrorText(e);
        if (e && (e.code === 'unauthorized' || e.code === 'forbidden')) {
            $('token-box').open = true;
            $('join-token').focus();
        } else if (e && e.code === 'name_taken') {
            $('join-name').focus();
        }
        if (state.client) {
            state.client.close();
            state.client = null;
        }
    } finally {
        button.disabled = false;
        button.textContent = 'Enter the venue';
    }
}

/* A refusal at the door, worded so that a person knows what to do. */
function joinErrorText(e) {
    const said = String((e && e.serverMessage) || '');
    if (/^hello\.name: only whitespace/.test(said)) return nameProblem(' ');
    if (/^hello\.name: longer/.test(said)) return nameProblem('x'.repeat(NAME_MAX + 1));
    if (/^hello\.name: control/.test(said)) return nameProblem('\n');
    if (e && e.code === 'name_taken') return e.text;
    if (/^hello\.name/.test(said)) return 'The venue cannot use that name. Please type another one.';
    if (/^hello: a moderator removed you/.test(said)) {
        const m = /come back in (\d+) minutes?/.exec(said);
        return `A moderator removed you from the venue. You can come back ${m ? `in ${m[1]} minute${m[1] === '1' ? '' : 's'}` : 'later'}.`;
    }
    if (e && e.code === 'unauthorized') {
        return /registered participants/.test(said)
            ? 'This venue is for registered participants: open the join link the organisers sent you, or paste its token below.'
            : 'That invitation token is not valid (unknown, expired or revoked). Check it, or ask the organisers for a new link.';
    }
    return e && e.text ? e.text : (e && e.message) || 'Could not connect to the venue.';
}

function wsUrl() {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

async function start(name, token, room) {
    const client = new VenueClient({
        url: wsUrl(), name, token, apiBase: location.origin, storage: sessionStore(), browser: browserId(),
    });
    state.client = client;
    wireClient(client);
    /* chat is written to storage at most twice a second: the last lines before a reload too */
    window.addEventListener('pagehide', () => {
        if (state.client === client && client.session) client.persist();
    });
    /* a first connection that cannot even open is a failure, not a retry */
    const opened = client.connect({ name, token, room: room || undefined });
    const firstClose = new Promise((_, reject) => {
        const off = client.on('status', (d) => {
            if (d.state === 'reconnecting' && client.session === null) {
                off();
                client.close();
                reject(new Error('The venue server cannot be reached. Please try again in a moment.'));
            } else if (d.state === 'open') {
                off();
            }
        });
    });
    await Promise.race([opened, firstClose]);
    $('join-screen').hidden = true;
    $('app').hidden = false;
    enterVenue();
}

/* On entering the venue: the connection indicator, and its "Retry now" while reconnecting. */
export function startConnection() {
    const client = state.client;
    state.panels.setConnection(client.state);
    $('conn-retry').addEventListener('click', () => client.retryNow());
}

export function onStatus(d) {
    const client = state.client;
    if (!state.panels) return;
    state.panels.setConnection(d.state, d);
    if (d.state === 'reconnecting' && d.delay != null && d.attempt === 1) {
        state.panels.announce('Connection lost. Reconnecting…');
    }
    if (d.state === 'closed' && d.kicked) {
        showRemoved(d.kicked);
        return;
    }
    /* a working session closed with 4001: the registration was revoked */
    if (d.state === 'closed' && d.code === 4001 && client.session) {
        showRemoved(null, 'Your invitation is no longer valid', d.reason);
        return;
    }
    if (d.state === 'closed' && d.reason) state.panels.showError(d.reason);
}

export function onWelcome(d) {
    if (state.panels && d.resumed) state.panels.announce('Reconnected.');
}

export function onError(e) {
    const client = state.client;
    if (!state.panels) return;
    if (e.request === 'mod') return; /* the moderation panel's status line says it */
    if (e.recovered) {
        state.panels.announce('The server started a new session for you.');
        return;
    }
    if (e.fatal) {
        showJoinAgain(e.text);
        return;
    }
    state.panels.showError(e.text);
    state.panels.announce(e.text);
    /* a join that failed while in no room at all: go to the lobby */
    if (e.request === 'join' && !client.room) {
        const fallback = client.rooms.find((r) => r.id === 'lobby') || client.rooms[0];
        if (fallback) joinRoom(fallback.id);
    }
}

function showJoinAgain(text) {
    $('app').hidden = true;
    $('join-screen').hidden = false;
    $('join-error').textContent = text;
    $('token-box').open = true;
    $('join-token').focus();
}
