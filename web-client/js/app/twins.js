/*
 * twins.js - the live city data of my room's showcases: each `twin` the
 * connection reports goes into the recent values kept for the sparklines
 * (seeded once per entity and room from GET /api/twins/{id}), and every
 * second, or soon after a change, the showcases are read again
 * (livedata.js) and handed to the view shown (3D or 2D) and to the Live
 * data tab (livepanel.js).
 */

import { Series, readShowcases, seedSeries } from '../livedata.js';
import { LivePanel } from '../livepanel.js';
import { state } from './state.js';

const TICK_MS = 1000; /* ages move on */
const SOON_MS = 150; /* a burst of twin messages is read once */

const series = new Series();
let seeded = new Set(); /* entities whose history was asked for in this room */
let room = null; /* the room series and seeded are about */
let panel = null;
let soon = null;

/* On entering the venue: the Live data tab, and the readings every second. */
export function startTwins() {
    panel = new LivePanel(state.panels);
    setInterval(refresh, TICK_MS);
    refresh();
}

export function onTwin(d) {
    sameRoom();
    for (const [attr, a] of Object.entries(d.attrs)) series.add(d.entity, attr, [{ t: a.observedAt ?? a.receivedAt, v: a.value }]);
    /* only entities the venue knows come here: their history exists */
    if (room && !seeded.has(d.entity)) {
        seeded.add(d.entity);
        seed(d.entity, room);
    }
    refreshSoon();
}

/* Recent values belong to one room: a new room starts afresh. */
function sameRoom() {
    const id = state.client.room ? state.client.room.id : null;
    if (id === room) return;
    room = id;
    series.clear();
    seeded = new Set();
}

function refreshSoon() {
    if (!soon) {
        soon = setTimeout(() => {
            soon = null;
            refresh();
        }, SOON_MS);
    }
}

function refresh() {
    if (!panel) return;
    sameRoom();
    const readings = room ? readShowcases(state.model, state.client.twins, series, Date.now()) : [];
    if (state.view) state.view.setTwins(readings);
    panel.show(readings);
}

async function seed(entity, forRoom) {
    try {
        const res = await fetch(`/api/twins/${encodeURIComponent(entity)}`, { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const doc = await res.json();
        if (room !== forRoom) return;
        seedSeries(series, doc);
        refreshSoon();
    } catch (e) {
        console.warn(`the history of ${entity} could not be loaded:`, e);
    }
}
