/*
 * moderation.js - moderation as this page shows it: the moderators' panel
 * (modpanel.js) while my role moderates, and what a moderator did to me:
 * a new role, a mute, my hand lowered, a ban from my room, and removal
 * from the venue (or a revoked registration) with its full-screen notice.
 * A role that the stage gives or takes (a live session that lists me, the
 * floor) is told as such, not as a moderator's doing.
 */

import { removedText } from '../venue-client.js';
import { ModPanel } from '../modpanel.js';
import { $ } from '../dom.js';
import { timeOf } from '../panels.js';
import { state, roomName } from './state.js';
import { stopMoving } from './moving.js';
import { showNoRoom, showRooms } from './rooms.js';

let modPanel = null;

/*
 * The server sends my presence update before the floor message that
 * explains it, so the words for a new role wait this long for it.
 */
const ROLE_NEWS_MS = 400;
const STAGE_NEWS_MS = 5000; /* a role that drops this soon after the stage let go of me is the stage's doing */
let stageLeftAt = 0; /* when a session that listed me ended, or the floor left me */
let floorMine = false;

/* On entering the venue: the panel if I moderate, and the chat box muted if I am. */
export function startModeration() {
    const client = state.client;
    modPanel = new ModPanel(client, state.panels);
    modPanel.setEnabled(client.canModerate);
    state.panels.setChatMuted(!!(client.me && client.me.muted));
}

/* The server changed my role, mute or hand. */
export function onMeChanged(d) {
    const panels = state.panels;
    if (!panels) return;
    const c = d.changed;
    if (c.role && !d.first) {
        modPanel.setEnabled(state.client.canModerate);
        const to = c.role.to;
        setTimeout(() => panels.showInfo(roleNews(to)), ROLE_NEWS_MS);
        panels.rosterChanged();
    }
    if (c.muted) {
        panels.setChatMuted(c.muted.to);
        panels.rosterChanged();
        if (c.muted.to) {
            panels.showInfo('A moderator has muted you. You cannot send chat messages until they unmute you.');
        } else if (!d.first) {
            panels.showInfo('A moderator unmuted you: you can chat again.');
        }
    }
    if (c.hand) {
        /* the button and my tag show the server's word, whoever changed it */
        panels.setHand(c.hand.to);
        if (state.me) {
            state.me.hand = c.hand.to;
            state.listChanged = true;
        }
        if (d.cause === 'presence' && c.hand.from && !c.hand.to) panels.announce('A moderator lowered your hand.');
    }
}

function aRole(role) {
    return `${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}`;
}

/* Why my role is now role: the floor, a live session, the end of either, or a moderator. */
function roleNews(role) {
    const client = state.client;
    const live = client.liveSession();
    const f = client.floor;
    if (f && f.user && client.me && f.user.id === client.me.id && role === 'speaker') {
        return `You have the floor until ${timeOf(f.until)}: you are a speaker in this room until then.`;
    }
    if (live && ((role === 'speaker' && client.isSpeaker(live)) || (role === 'moderator' && client.isModerator(live)))) {
        return `“${live.title}” is live: you are ${aRole(role)} in this room while it lasts.`;
    }
    if (Date.now() - stageLeftAt < STAGE_NEWS_MS + ROLE_NEWS_MS) return `Your role here is ${role} again.`;
    return `Your role is now ${role}: a moderator made you ${aRole(role)}.`;
}

/* A session ended: if it listed me, a role that drops now is its doing. */
export function onSessionRoles(d) {
    const client = state.client;
    if (d.state === 'ended' && d.session && (client.isSpeaker(d.session) || client.isModerator(d.session))) stageLeftAt = Date.now();
}

/* The floor moved: if it left me, so did its speaker role. */
export function onFloorRoles(d) {
    const client = state.client;
    const mine = !!(d.user && client.me && d.user.id === client.me.id);
    if (floorMine && !mine) stageLeftAt = Date.now();
    floorMine = mine;
}

export function onKicked(d) {
    if (d.venue) showRemoved(d);
    else onRoomBan(d);
}

/*
 * Removed from the venue (kicked, or banned from it): a full-screen notice
 * with the moderator's reason. The page stays as it is behind it, inert;
 * the connection is closed and nothing reconnects.
 */
export function showRemoved(k, title = 'You have been removed from the venue', text = removedText(k)) {
    const box = $('removed');
    $('removed-text').textContent = text;
    $('removed-title').textContent = title;
    if (!box.hidden) return;
    box.hidden = false;
    $('app').inert = true;
    stopMoving();
    document.title = 'Removed · Venue';
    $('removed-title').focus();
}

/* Banned from my room: told why, and taken to the rooms list. */
function onRoomBan(k) {
    const why = k.reason ? `: “${k.reason}”${/[.!?]$/.test(k.reason) ? '' : '.'}` : '.';
    const text = `A moderator removed you from ${roomName(k.room)}${why} You cannot go back into that room. Choose another room.`;
    showNoRoom(text);
    state.panels.announce(text);
    showRooms();
}
