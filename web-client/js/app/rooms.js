/*
 * rooms.js - which room I am in: going to a room, arriving in one (its
 * scene, roster, chat history and what to tell me about how I got there),
 * being in none, and the Rooms tab with its live counts, polled while the
 * tab is visible, in the order of what is on: rooms with a live session
 * first, then those whose next session starts soonest, then the rest in
 * the venue's order.
 */

import { normaliseScene, fallbackScene } from '../scene.js';
import { $ } from '../dom.js';
import { state, roomName } from './state.js';
import { fillFromRoster, clearPeople } from './people.js';
import { arrive } from './moving.js';
import { updateStageOffset } from './stage.js';

const ROOMS_POLL_MS = 5000;

let sceneUrl = ''; /* the scene asked for last: a slower, older answer is dropped */
let settings = null; /* {room, locked, capacity}: my room's lock and capacity as last told */

/* On entering the venue: the rooms list now and every few seconds. */
export function startRooms() {
    const client = state.client;
    showRoomList();
    $('no-room-rooms').addEventListener('click', () => showRooms());
    setInterval(() => {
        if (document.hidden || client.state !== 'open') return;
        client.refreshRooms().catch(() => {
            /* the connection indicator already tells about outages */
        });
    }, ROOMS_POLL_MS);
    client.refreshRooms().catch(() => {});
}

export async function joinRoom(id) {
    const client = state.client;
    if (client.room && client.room.id === id) {
        state.panels.announce(`You are already in ${client.room.name}.`);
        return;
    }
    state.panels.announce(`Going to ${roomName(id)}…`);
    try {
        await client.join(id);
    } catch {
        /* the error event already showed a readable message */
    }
}

export function onJoined(d) {
    const client = state.client;
    const panels = state.panels;
    if (!panels) return;
    const room = client.room;
    fillFromRoster();
    const throughDoor = arrive();
    $('no-room').hidden = true;
    panels.setRoomTitle(room.name);
    panels.rosterChanged();
    panels.showChatHistory(client.chatFor(room.id));
    showRoomList();
    if (d.reason !== 'resume' || !state.model || sceneUrl !== room.scene) {
        loadScene(room.scene, false);
    }
    if (d.reason !== 'resume') {
        const n = client.roster.size;
        panels.announce(`You are in ${room.name}. ${n} ${n === 1 ? 'person' : 'people'} here.`);
    }
    /* A room change nobody here asked for, away from a door: a moderator's move. */
    if (d.reason === 'portal' && !throughDoor && d.previous) {
        panels.showInfo(`A moderator moved you to ${room.name}.`);
    } else if (d.reason === 'recall') {
        panels.showInfo(`The breakout is over: you are back in ${room.name}.`);
    }
    if (state.sim) state.sim.joined();
}

export function onLeft(d) {
    state.model = null;
    if (d.kicked) return; /* moderation.js tells */
    showNoRoom('You are not in a room right now.');
}

export function showNoRoom(text) {
    $('no-room-text').textContent = text;
    $('no-room').hidden = false;
    state.panels.setRoomTitle('No room');
    clearPeople();
    state.panels.rosterChanged();
    showRoomList();
    state.client.refreshRooms().catch(() => {}); /* the counts without me */
}

/* The Rooms tab, with the keyboard on its first room. */
export function showRooms() {
    state.panels.showTab('tab-rooms');
    const first = document.querySelector('#rooms button.room:not([aria-current="true"])') || document.querySelector('#rooms button.room');
    if (first) first.focus();
}

/* The rooms list changed, or what is on in them (the programme, a session going live or ending). */
export function showRoomList() {
    const client = state.client;
    if (state.panels) state.panels.renderRooms(byWhatIsOn(client.rooms), client.room && client.room.id);
}

/*
 * The rooms, live sessions first, then by the start of their next session,
 * then those with nothing (more) on; otherwise in the order the venue
 * lists them. A new array: client.rooms is left as the server sent it.
 */
function byWhatIsOn(rooms) {
    const client = state.client;
    const rank = new Map();
    for (const r of rooms) {
        const next = client.nextSession(r.id);
        rank.set(r.id, client.liveSession(r.id) ? -Infinity : next ? next.start : Infinity);
    }
    return rooms.map((r, i) => ({ r, i })).sort((a, b) => rank.get(a.r.id) - rank.get(b.r.id) || a.i - b.i).map((x) => x.r);
}

/*
 * My room's lock or capacity, as the server tells on every arrival: said
 * only when it changed while I am in the room (a moderator's doing), not
 * on coming in.
 */
export function onRoomSettings(d) {
    const client = state.client;
    if (!state.panels || !client.room || d.room !== client.room.id) return;
    const before = settings;
    settings = { room: d.room, locked: d.locked, capacity: d.capacity };
    if (!before || before.room !== d.room) return;
    if (d.locked !== before.locked) {
        state.panels.announce(d.locked ? 'A moderator locked this room: only moderators may come in now.'
            : 'A moderator opened this room again: everyone may come in.');
    }
    if (d.capacity !== before.capacity) state.panels.announce(`A moderator set this room's capacity to ${d.capacity}.`);
}

/* My room's scene changed on the server: fetch it again, past the cache. */
export function onScene(d) {
    const client = state.client;
    if (client.room && d.room === client.room.id) loadScene(d.scene, true);
}

async function loadScene(url, revalidate) {
    sceneUrl = url;
    let model;
    try {
        const res = await fetch(url, { cache: revalidate ? 'no-cache' : 'default' });
        if (!res.ok) {
            let msg = `HTTP ${res.status}`;
            try {
                const body = await res.json();
                if (body && body.error && body.error.message) msg = body.error.message;
            } catch {
                /* not JSON: keep the status */
            }
            throw new Error(msg);
        }
        model = normaliseScene(await res.json());
    } catch (e) {
        if (sceneUrl !== url) return;
        state.panels.showError(`The room's layout could not be loaded (${e.message}). You can still chat and change rooms.`);
        model = fallbackScene(state.client.room);
    }
    if (sceneUrl !== url) return; /* a newer room won the race */
    state.model = model;
    if (state.view) state.view.setScene(model);
    updateStageOffset();
}
