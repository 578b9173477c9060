/*
 * stage.js - the hall's stage relayed to an overflow room. Who is on the
 * hall's stage is drawn on this room's stage: their pose in the hall plus
 * the offset between the two stage places (scenes/FORMAT.md), kept in
 * state.stageOffset. They are not in this room's roster: the People tab
 * lists them apart, "On stage".
 */

import { normaliseScene } from '../scene.js';
import { state, roomName } from './state.js';
import { avatarOf, forget, rebuildList } from './people.js';

let hall = null; /* the hall relayed here, or null */
let hallStage = null; /* the hall's stage place, once its scene is loaded */

/* Who is on the hall's stage changed (or there is no hall any more). */
export function onStage(d) {
    const client = state.client;
    const now = performance.now();
    for (const u of d.removed) {
        const av = state.avatars.get(u.id);
        if (av && av.relay) forget(u.id);
    }
    if (!d.hall) {
        hall = null;
        hallStage = null;
        state.stageOffset = null;
        if (state.panels) state.panels.renderStage(null, []);
        rebuildList();
        return;
    }
    for (const u of d.users) {
        if (client.roster.has(u.id)) continue; /* cannot be, but never draw anyone twice */
        let av = state.avatars.get(u.id);
        if (!av) {
            av = avatarOf(u);
            av.relay = true;
            av.motion.place(u.id, u.p, u.q, now);
        }
        av.name = u.name;
        av.role = u.role;
        av.hand = u.hand;
        av.away = u.status === 'away';
        av.talking = u.talking;
    }
    const hallName = roomName(d.hall);
    if (state.panels) state.panels.renderStage(hallName, d.users);
    if (hall !== d.hall) {
        hall = d.hall;
        hallStage = null;
        state.stageOffset = null;
        loadHallStage(d.hall);
    }
    rebuildList();
    if (state.panels && d.added.length && d.added.length <= 3) {
        for (const u of d.added) state.panels.announce(`${u.name} is on the stage in ${hallName}.`);
    }
}

async function loadHallStage(id) {
    try {
        const res = await fetch(`/api/scenes/${encodeURIComponent(id)}`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const model = normaliseScene(await res.json());
        if (hall !== id) return;
        hallStage = model.places.find((p) => p.type === 'stage') || null;
        updateStageOffset();
    } catch (e) {
        console.warn(`the stage of ${id} could not be loaded:`, e);
    }
}

/* offset = this room's stage place − the hall's stage place; null until both are known. */
export function updateStageOffset() {
    const mine = state.model && state.model.places.find((p) => p.type === 'stage');
    const next = hall && hallStage && mine
        ? [mine.p[0] - hallStage.p[0], mine.p[1] - hallStage.p[1], mine.p[2] - hallStage.p[2]] : null;
    const had = !!state.stageOffset;
    state.stageOffset = next;
    if (had !== !!next) rebuildList();
}
