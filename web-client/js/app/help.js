/*
 * help.js - the Help dialog: the keys, the rooms, how to raise a hand and
 * whom to ask (the moderators in my room, when the roster says so). It
 * opens from the Help button, and on "?" when the keyboard is not in a
 * text field; Escape or Close shut it and the focus goes back to where it
 * was (dom.js openDialog).
 */

import { $, el, isTextField, openDialog } from '../dom.js';
import { state } from './state.js';

/* On entering the venue: the button and the "?" key. */
export function startHelp() {
    $('help-open').addEventListener('click', openHelp);
    window.addEventListener('keydown', (ev) => {
        if (ev.key !== '?' || ev.ctrlKey || ev.metaKey || ev.altKey || isTextField(ev.target)) return;
        if (document.querySelector('dialog[open]') || !$('removed').hidden) return;
        ev.preventDefault();
        openHelp();
    });
}

export function openHelp() {
    fillRooms();
    fillModerators();
    openDialog($('help'), $('help-close'));
}

function fillRooms() {
    const client = state.client;
    const here = client.room && client.room.id;
    $('help-rooms').replaceChildren(...client.rooms.map((r) => {
        const li = el('li');
        li.append(el('bdi', null, r.name));
        const n = r.count;
        const where = r.id === here ? ' (you are here)' : '';
        li.append(document.createTextNode(`${Number.isFinite(n) ? ` · ${n} ${n === 1 ? 'person' : 'people'}` : ''}${where}`));
        return li;
    }));
}

/* The moderators and admins in my room, by name; who to turn to when there are none. */
function fillModerators() {
    const client = state.client;
    const me = client.me;
    const mods = [...client.roster.values()].filter((u) => (u.role === 'moderator' || u.role === 'admin') && (!me || u.id !== me.id));
    const line = $('help-mods');
    if (!client.room) {
        line.textContent = 'You are in no room now: choose one in the Rooms tab to find a moderator.';
        return;
    }
    if (!mods.length) {
        line.textContent = 'No moderator is in this room right now: ask in the chat, or look for one in another room.';
        return;
    }
    line.replaceChildren(document.createTextNode(`${mods.length === 1 ? 'The moderator' : 'Moderators'} in this room: `));
    mods.forEach((u, i) => {
        if (i) line.append(document.createTextNode(', '));
        line.append(el('bdi', 'help-mod', u.name));
    });
    line.append(document.createTextNode('.'));
}
