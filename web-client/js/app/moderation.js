/*
 * moderation.js - moderation as this page shows it: the moderators' panel
 * (modpanel.js) while my role moderates, and what a moderator did to me:
 * a new role, a mute, my hand lowered, a ban from my room, and removal
 * from the venue (or a revoked registration) with its full-screen notice.
 */

import { removedText } from '../venue-client.js';
import { ModPanel } from '../modpanel.js';
import { $ } from '../dom.js';
import { state, roomName } from './state.js';
import { stopMoving } from './moving.js';
import { showNoRoom, showRooms } from './rooms.js';

let modPanel = null;

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
        const a = /^[aeiou]/.test(c.role.to) ? 'an' : 'a';
        panels.showInfo(`Your role is now ${c.role.to}: a moderator made you ${a} ${c.role.to}.`);
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
    if (c.hand && c.hand.from && !c.hand.to) {
        panels.setHand(false);
        if (state.me) {
            state.me.hand = false;
            state.listChanged = true;
        }
        panels.announce('A moderator lowered your hand.');
    }
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
