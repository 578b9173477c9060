/*
 * reactions.js - applause, a thumbs up, a heart, a laugh: the four buttons
 * with the room's running counts, each reaction shown for a moment over
 * the avatar of who sent it, and a short spoken summary for screen
 * readers (at most one every few seconds, however many clap).
 */

import { $, button, el } from '../dom.js';
import { REACTIONS } from '../venue-client.js';
import { state } from './state.js';

export const REACTION_LOOK = {
    applause: { emoji: '\u{1F44F}', name: 'Applause', said: 'applause' },
    thumbs_up: { emoji: '\u{1F44D}', name: 'Thumbs up', said: 'thumbs up' },
    heart: { emoji: '\u2764\uFE0F', name: 'Heart', said: 'hearts' },
    laugh: { emoji: '\u{1F602}', name: 'Laugh', said: 'laughter' },
};
const SHOWN_MS = 2500; /* over the avatar */
const GAP_MS = 550; /* the server takes 2 a second: a faster click is not sent */
const SUMMARY_MS = 8000;

const counts = new Map(); /* kind -> the count element of its button */
let lastSent = 0;
let pending = null; /* kind -> count, waiting to be said */
let summaryTimer = null;

export function startReactions() {
    const group = $('reactions');
    for (const kind of REACTIONS) {
        const look = REACTION_LOOK[kind];
        const b = button('tool react');
        b.dataset.kind = kind;
        const icon = el('span', 'react-emoji', look.emoji);
        icon.setAttribute('aria-hidden', 'true');
        const count = el('span', 'react-count', '0');
        b.append(icon, el('span', 'sr-only', look.name), count);
        b.addEventListener('click', () => send(kind));
        group.append(b);
        counts.set(kind, count);
    }
    state.client.on('reactions', onReactions);
    state.client.on('joined', () => showTotals(null));
}

function send(kind) {
    const now = performance.now();
    if (now - lastSent < GAP_MS) return;
    if (!state.client.react(kind)) {
        state.panels.showError('Not in a room right now: your reaction was not sent.');
        return;
    }
    lastSent = now;
}

function showTotals(total) {
    for (const [kind, elc] of counts) elc.textContent = String(total ? total[kind] : 0);
}

function onReactions(d) {
    const client = state.client;
    if (!client.room || d.room !== client.room.id) return;
    showTotals(d.total);
    const until = performance.now() + SHOWN_MS;
    for (const b of d.by) {
        const av = state.avatars.get(b.user);
        if (av) av.reaction = { emoji: REACTION_LOOK[b.kind].emoji, until };
    }
    pending = pending || {};
    for (const kind of REACTIONS) pending[kind] = (pending[kind] || 0) + d.counts[kind];
    if (!summaryTimer) summaryTimer = setTimeout(saySummary, SUMMARY_MS / 4);
}

function saySummary() {
    const parts = REACTIONS.filter((k) => pending[k]).map((k) => `${pending[k]} ${REACTION_LOOK[k].said}`);
    pending = null;
    if (parts.length) state.panels.announce(`Reactions: ${parts.join(', ')}.`);
    summaryTimer = setTimeout(() => {
        summaryTimer = null;
        if (pending) saySummary();
    }, SUMMARY_MS);
}
