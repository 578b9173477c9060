/*
 * join.js - getting into the venue and staying connected: the join screen
 * (name, invitation token, view and motion choices), the first connection
 * and its hello, and then what the connection tells people: the indicator
 * with its "Retry now", reconnecting and resuming, a session the server
 * started anew, and back to the join screen when the server refuses me.
 *
 * Query parameters: ?token=...&room=plenary (join link), ?view=2d.
 */

import { VenueClient } from '../venue-client.js';
import { $ } from '../dom.js';
import { NAME_MAX } from '../limits.js';
import { state } from './state.js';
import { getPref, setPref } from './prefs.js';
import { showRemoved } from './moderation.js';
import { joinRoom } from './rooms.js';

const params = new URLSearchParams(location.search);

let wireClient = null;
let enterVenue = null;

/*
 * wire(client) hands a new connection's events to the page, before it
 * opens; enter() fills the venue page once the server has welcomed me.
 */
export function initJoin({ wire, enter }) {
    wireClient = wire;
    enterVenue = enter;
    const name = $('join-name');
    name.value = getPref('name', '');
    const token = params.get('token');
    if (token) {
        $('join-token').value = token;
        $('token-box').open = true;
    }
    const room = params.get('room');
    if (room) {
        $('join-room-line').hidden = false;
        $('join-room-name').textContent = room;
    }
    const view = params.get('view') || getPref('view', '3d');
    for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === view;
    const rm = getPref('reducedMotion', null);
    $('join-reduced-motion').checked =
        rm === null ? window.matchMedia('(prefers-reduced-motion: reduce)').matches : rm === 'true';
    $('join-form').addEventListener('submit', onJoinSubmit);
    name.focus();
}

function codePoints(s) {
    return [...s].length;
}

async function onJoinSubmit(ev) {
    ev.preventDefault();
    const err = $('join-error');
    const name = $('join-name').value.trim();
    const token = $('join-token').value.trim();
    err.textContent = '';
    if (!name) {
        err.textContent = 'Please enter the name others will see.';
        $('join-name').focus();
        return;
    }
    if (codePoints(name) > NAME_MAX) {
        err.textContent = `That name is too long: ${NAME_MAX} characters at most.`;
        $('join-name').focus();
        return;
    }
    if (/[\u0000-\u001f\u007f]/.test(name)) {
        err.textContent = 'The name cannot contain control characters.';
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
        await start(name, token, params.get('room') || 'lobby');
    } catch (e) {
        err.textContent = e && e.text ? e.text : (e && e.message) || 'Could not connect to the venue.';
        if (e && (e.code === 'unauthorized' || e.code === 'forbidden')) {
            $('token-box').open = true;
            $('join-token').focus();
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

function wsUrl() {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

async function start(name, token, room) {
    const client = new VenueClient({ url: wsUrl(), name, token, apiBase: location.origin });
    state.client = client;
    wireClient(client);
    /* a first connection that cannot even open is a failure, not a retry */
    const opened = client.connect({ name, token, room });
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
