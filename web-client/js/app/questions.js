/*
 * questions.js - questions to the live session on my room's stage (an
 * overflow room: its hall's), in the Questions tab that is there only
 * while a session is live: anyone asks in writing and votes for others'
 * questions (once each, not their own), the list most votes first, then
 * the oldest; answered ones are marked. The session's moderators (and the
 * room's moderators, and admins) mark a question answered and give the
 * floor to the person who asked it: speaker rights in the room for a
 * number of seconds, with a countdown everyone sees, until it is over or
 * they take it back.
 *
 * The questions and the floor are venue-client.js's `questions` and
 * `floor`; the list is drawn again from them on each change (a session
 * has at most a few hundred questions).
 */

import { $, el, button, say } from '../dom.js';
import { timeOf } from '../panels.js';
import { runMod } from '../modpanel.js';
import { state, stageSession, roomName } from './state.js';

const FLOOR_MIN_S = 10;
const FLOOR_MAX_S = 3600;

let countdown = null; /* the floor's countdown timer, while someone has it */

/* On entering the venue: the ask form and the floor's button, and the session live now. */
export function startQuestions() {
    $('ask-form').addEventListener('submit', ask);
    $('floor-take').addEventListener('click', () => runMod(state.client, $('questions-status'), 'take_floor', {},
        'take back the floor', 'The floor is taken back.'));
    refreshQuestions();
    renderFloor();
}

export function onQuestions() {
    if (state.panels) renderQuestions();
}

export function onQuestion() {
    if (state.panels) renderQuestions();
}

export function onFloor(d) {
    if (!state.panels) return;
    renderFloor();
    const client = state.client;
    if (d.cleared) return;
    const mine = d.user && client.me && d.user.id === client.me.id;
    if (!d.user) state.panels.announce('The floor is free again.');
    else if (!mine) state.panels.announce(`${d.user.name} has the floor until ${timeOf(d.until)}.`);
}

/* My room, the session or my rights changed: whether there is a tab, and what it offers. */
export function refreshQuestions() {
    if (!state.panels) return;
    const live = stageSession();
    const tab = $('tab-questions');
    if (!live && state.panels.currentTab() === 'tab-questions') state.panels.showTab('tab-chat');
    const had = !tab.hidden;
    tab.hidden = !live;
    if (!live) return;
    const here = state.client.room && state.client.room.id === live.room;
    $('questions-session').textContent = here
        ? `Questions to “${live.title}”, most votes first.`
        : `Questions to “${live.title}” in ${roomName(live.room)}, most votes first.`;
    $('floor-time').hidden = !moderates(live);
    if (!had) state.panels.announce(`Questions are open for “${live.title}”: see the Questions tab.`);
    renderQuestions();
    renderFloor();
}

/* I may moderate the questions of the session: one of its moderators, a moderator in its room, an admin. */
function moderates(live) {
    const client = state.client;
    if (!live || !client.me) return false;
    return client.isModerator(live) || client.me.role === 'admin' || (client.canModerate && !!client.room && client.room.id === live.room);
}

function renderQuestions() {
    const client = state.client;
    const live = stageSession();
    const list = $('questions');
    const mod = moderates(live);
    const qs = client.questionsByVotes();
    const active = document.activeElement;
    const keep = list.contains(active) && active.dataset.action
        ? { action: active.dataset.action, id: active.closest('[data-id]').dataset.id } : null;
    list.replaceChildren(...qs.map((q) => item(q, mod)));
    $('questions-empty').hidden = qs.length > 0;
    const open = qs.filter((q) => !q.answered).length;
    $('questions-count').textContent = String(open);
    if (keep) {
        const li = list.querySelector(`[data-id="${CSS.escape(keep.id)}"]`);
        const again = li && (li.querySelector(`[data-action="${keep.action}"]:not(:disabled)`) || li.querySelector('button:not(:disabled)'));
        if (again) again.focus();
    }
}

function item(q, mod) {
    const client = state.client;
    const mine = !!(client.me && q.from.id === client.me.id);
    const li = el('li', 'question');
    li.dataset.id = String(q.id);
    li.classList.toggle('answered', q.answered);
    li.classList.toggle('mine', mine);
    const text = el('p', 'question-text', q.text);
    text.dir = 'auto';
    const who = el('span', 'question-from', mine ? 'You' : q.from.name);
    who.dir = 'auto';
    const meta = el('p', 'question-meta');
    meta.append(who, ` · ${timeOf(q.ts)} · ${q.votes} ${q.votes === 1 ? 'vote' : 'votes'}`);
    if (q.answered) meta.append(' · ', el('strong', 'question-answered', 'Answered'));
    const acts = el('div', 'question-actions');
    const vote = button('mod-button', q.voted ? 'Voted' : 'Vote');
    vote.dataset.action = 'vote';
    vote.disabled = mine || q.voted;
    vote.setAttribute('aria-label', mine ? 'Your own question: others vote for it'
        : q.voted ? `You voted for ${q.from.name}'s question` : `Vote for ${q.from.name}'s question`);
    vote.addEventListener('click', () => client.vote(q.id).catch(() => {
        /* refused: the error's toast (join.js) says why */
    }));
    acts.append(vote);
    if (mod) {
        if (!q.answered) {
            const done = button('mod-button', 'Mark answered');
            done.dataset.action = 'answer';
            done.setAttribute('aria-label', `Mark answered: ${q.from.name}'s question`);
            done.addEventListener('click', () => runMod(client, $('questions-status'), 'answer', { question: q.id },
                'mark the question answered', `${q.from.name}'s question is marked answered.`));
            acts.append(done);
        }
        if (!mine) {
            const give = button('mod-button', 'Give the floor');
            give.dataset.action = 'floor';
            give.setAttribute('aria-label', `Give the floor to ${q.from.name}`);
            give.addEventListener('click', () => giveFloor(q.from));
            acts.append(give);
        }
    }
    li.append(text, meta, acts);
    return li;
}

function giveFloor(user) {
    const input = $('floor-seconds');
    const n = Number(input.value.trim() || '120');
    if (!Number.isInteger(n) || n < FLOOR_MIN_S || n > FLOOR_MAX_S) {
        say($('questions-status'), `Floor time: a whole number of seconds, ${FLOOR_MIN_S} to ${FLOOR_MAX_S}.`, 'bad');
        input.focus();
        return;
    }
    runMod(state.client, $('questions-status'), 'give_floor', { target: user.id, seconds: n },
        `give the floor to ${user.name}`, `${user.name} has the floor for ${minutesText(n)}.`);
}

function minutesText(s) {
    if (s < 60 || s % 60) return `${s} seconds`;
    return s === 60 ? '1 minute' : `${s / 60} minutes`;
}

/* Who has the floor, until when, a countdown, and for moderators the button to take it back. */
function renderFloor() {
    const client = state.client;
    const f = client.floor;
    const box = $('floor-box');
    clearInterval(countdown);
    countdown = null;
    if (!f || !f.user) {
        box.hidden = true;
        return;
    }
    const mine = client.me && f.user.id === client.me.id;
    box.hidden = false;
    $('floor-text').textContent = mine
        ? `You have the floor until ${timeOf(f.until)}.`
        : `${f.user.name} has the floor until ${timeOf(f.until)}.`;
    const live = stageSession();
    $('floor-take').hidden = !(moderates(live) && client.room && live && client.room.id === live.room);
    const tick = () => {
        const left = Math.max(0, Math.round((f.until - Date.now()) / 1000));
        $('floor-left').textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
    };
    tick();
    countdown = setInterval(tick, 1000);
}

async function ask(ev) {
    ev.preventDefault();
    const input = $('ask-input');
    const text = input.value.trim();
    if (!text) {
        input.focus();
        return;
    }
    $('ask-send').disabled = true;
    try {
        await state.client.ask(text);
        input.value = '';
        say($('questions-status'), 'Your question is in: others can vote for it now.', 'ok');
    } catch {
        /* refused: the error's toast (join.js) says why, and the question stays to be sent again */
    } finally {
        $('ask-send').disabled = false;
    }
}
