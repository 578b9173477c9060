/*
 * follow.js - following someone: my avatar walks to a point behind them,
 * from the poses the page already gets for them (moving.js steers), until
 * I move by myself or choose to stop. When they leave my room, the venue's
 * find says where they went and I join them there, beside them; someone
 * who cannot be found (they opted out) is not followed out of the room.
 * Start and stop are said in the page's live region and in a banner with
 * a Stop button.
 */

import { $ } from '../dom.js';
import { state } from './state.js';
import { steer } from './moving.js';

const BEHIND_M = 1.5; /* how far behind them I walk */
const CLOSE_M = 0.3; /* near enough to the point behind them: stand */

let followed = null; /* {id, name} while I follow someone */

/* The point behind them where I walk, or null to stand; [x, z]. */
function pointBehind(me) {
    const av = followed && state.avatars.get(followed.id);
    const model = state.model;
    if (!av || !model) return null;
    /* forward is -Z at yaw 0: behind is (sin, cos) */
    let x = av.x + Math.sin(av.yaw) * BEHIND_M;
    let z = av.z + Math.cos(av.yaw) * BEHIND_M;
    if (!model.walkable(x, z)) {
        /* a wall behind them: on my side of them instead */
        const d = Math.hypot(me.x - av.x, me.z - av.z) || 1;
        x = av.x + ((me.x - av.x) / d) * BEHIND_M;
        z = av.z + ((me.z - av.z) / d) * BEHIND_M;
    }
    return Math.hypot(x - me.x, z - me.z) < CLOSE_M ? null : [x, z];
}

function showBanner() {
    const banner = $('follow-banner');
    banner.hidden = !followed;
    $('follow-text').textContent = followed ? `Following ${followed.name}.` : '';
}

/* Who I follow now: {id, name}, or null. */
export function following() {
    return followed;
}

/* Follow the person id (name for the words) in my room. */
export function follow(id, name) {
    if (followed && followed.id === id) return;
    followed = { id, name };
    steer({ pointFor: pointBehind, stop: () => stopFollowing('You moved: you stopped following') });
    showBanner();
    state.panels.announce(`You are following ${name}. Move to stop.`);
}

/* Stop following; why begins the sentence said ("You stopped following"). */
export function stopFollowing(why = 'You stopped following') {
    if (!followed) return;
    const name = followed.name;
    followed = null;
    steer(null);
    showBanner();
    state.panels.announce(`${why} ${name}.`);
}

/* They left my room: where to? Only the venue's find may say (it keeps their privacy). */
async function afterThem(id, name) {
    const client = state.client;
    let where = null;
    try {
        const r = await client.find(name);
        where = r.people.find((p) => p.user === id) || null;
    } catch {
        /* the error is shown; they are just not followed */
    }
    if (!followed || followed.id !== id) return;
    if (!where) {
        stopFollowing(`${name} left the room and cannot be found: you stopped following`);
        return;
    }
    if (client.room && client.room.id === where.room) return; /* I walked after them already */
    state.panels.announce(`${name} went to ${where.roomName}: following them there.`);
    try {
        await client.join(where.room, { near: id });
    } catch {
        stopFollowing(`You could not go to ${where.roomName}: you stopped following`);
    }
}

export function onFollowPresence(d) {
    if (!followed || d.event !== 'leave' || !d.user || d.user.id !== followed.id) return;
    afterThem(followed.id, followed.name);
}

/* I arrived in a room: with them still, or (a moderator moved me, a door took me elsewhere) not. */
export function onFollowJoined() {
    if (!followed || state.client.roster.has(followed.id)) return;
    stopFollowing(`${followed.name} is not in this room: you stopped following`);
}

/* In no room, or removed: nobody to follow. */
export function onFollowLeft() {
    stopFollowing();
}

export function startFollow() {
    $('follow-stop').addEventListener('click', () => {
        stopFollowing();
        $('view').focus();
    });
}
