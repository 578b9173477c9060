/*
 * programme.js - the programme, for the person at the page: the Programme
 * tab (live now, next, later and earlier; each session with its time in
 * the viewer's time zone, its room, speakers and state, a "Go" to its room
 * and a star), the reminder a starred session sends, the line under the
 * room's name saying what is on here (or that nothing is, and what is
 * next), and what the programme boards show (board3d.js draws them).
 *
 * The sessions are venue-client.js's `programme`; everything here is
 * derived from it again whenever it, a session's state, my stars or my
 * room change: a programme is a few dozen sessions.
 */

import { $, el, button } from '../dom.js';
import { setProgrammeBoard } from '../board3d.js';
import { state, roomName } from './state.js';
import { joinRoom } from './rooms.js';
import { runMod } from '../modpanel.js';

/* the viewer's locale and time zone: the server's times are UTC */
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const names = new Intl.ListFormat(undefined, { type: 'conjunction' });
const ZONE = clock.resolvedOptions().timeZone;

const STATE_TEXT = { live: 'Live now', scheduled: 'Coming up', ended: 'Ended' };

function sameDay(a, b) {
    return new Date(a).toDateString() === new Date(b).toDateString();
}

/* "10:00–10:45", with the day in front when it is not today. */
function timeRange(s) {
    const t = `${clock.format(s.start)}–${clock.format(s.end)}`;
    return sameDay(s.start, Date.now()) ? t : `${day.format(s.start)}, ${t}`;
}

/* "10:00", or "Thu 3 Dec, 10:00" on another day. */
function startTime(s) {
    return sameDay(s.start, Date.now()) ? clock.format(s.start) : `${day.format(s.start)}, ${clock.format(s.start)}`;
}

/*
 * The programme as people read it: what is live, what comes next (the
 * sessions of the next starting time: parallel breakouts start together),
 * the rest still to come, and what has ended.
 */
function groups(programme) {
    const scheduled = programme.filter((s) => s.state === 'scheduled');
    const first = scheduled.length ? scheduled[0].start : null;
    return {
        live: programme.filter((s) => s.state === 'live'),
        next: scheduled.filter((s) => s.start === first),
        later: scheduled.filter((s) => s.start !== first),
        earlier: programme.filter((s) => s.state === 'ended'),
    };
}

/* Guests have no stars: they are kept per registered participant. */
function mayStar() {
    const me = state.client.me;
    return !!(me && me.role !== 'guest');
}

/* On entering the venue: what came between the welcome and now. */
export function startProgramme() {
    $('programme-zone').textContent = `Times are in your time zone (${ZONE}).`;
    refresh();
}

/* The programme, my stars or an overflow room's hall changed. */
export function onProgramme() {
    refresh();
}

/* A session went live or ended: if it is in my room, say so. */
export function onSessionState(d) {
    if (!state.panels) return;
    refresh();
    const client = state.client;
    if (!client.room || d.room !== client.room.id) return;
    const title = d.session ? d.session.title : d.id;
    state.panels.announce(d.state === 'live' ? `“${title}” is live now in this room.` : `“${title}” has ended.`);
}

/* My room changed (or I am in none): its line, and where "Go" is "You are here". */
export function onRoomChanged(d) {
    if (!state.panels) return;
    refresh();
    if (state.client.room && d.reason !== 'resume') state.panels.announce(roomLine());
}

export function onReminder(r) {
    if (!state.panels) return;
    const client = state.client;
    const where = roomName(r.room);
    const when = clock.format(r.start);
    if (client.room && client.room.id === r.room) {
        state.panels.showInfo(`Starting at ${when} here in ${where}: “${r.title}”.`);
        return;
    }
    state.panels.showInfo(`Starting at ${when} in ${where}: “${r.title}”.`, {
        label: 'Go',
        name: `Go to ${where} for “${r.title}”`,
        run: () => joinRoom(r.room),
    });
}

function refresh() {
    if (!state.panels) return;
    renderPanel();
    renderRoomLine();
    setProgrammeBoard(boardContent());
}

/* ---- the room's line --------------------------------------------------- */

/* What is on in my room (in an overflow room: its hall), or that nothing is and what is next. */
function roomLine() {
    const client = state.client;
    if (!client.room) return '';
    const hall = client.stage ? client.stage.hall : null;
    const relayed = hall ? client.liveSession(hall) : null;
    if (relayed) return `Live from ${roomName(hall)}: “${relayed.title}”, until ${clock.format(relayed.end)}.`;
    const live = client.liveSession();
    if (live) return `Live now: “${live.title}”, until ${clock.format(live.end)}.`;
    const next = client.nextSession();
    return next ? `No live session here. Next: “${next.title}” at ${startTime(next)}.` : 'No live session here, and none planned.';
}

function renderRoomLine() {
    const line = $('room-session');
    const text = roomLine();
    line.textContent = text;
    line.hidden = !text;
    line.dir = 'auto';
}

/* ---- the Programme tab --------------------------------------------------- */

function renderPanel() {
    const client = state.client;
    const box = $('programme');
    $('programme-guest').hidden = mayStar();
    /* keep the keyboard on the same button across a redraw */
    const active = document.activeElement;
    const keep = box.contains(active) && active.dataset.action
        ? { action: active.dataset.action, session: active.closest('[data-session]').dataset.session } : null;
    if (!client.programme.length) {
        box.replaceChildren(el('p', 'summary', 'There is no programme yet.'));
        return;
    }
    const g = groups(client.programme);
    const parts = [
        group('live', 'Live now', g.live, 'Nothing is live right now.'),
        group('next', 'Next', g.next, 'Nothing more is planned.'),
    ];
    if (g.later.length) parts.push(group('later', 'Later', g.later));
    if (g.earlier.length) parts.push(group('earlier', 'Earlier', g.earlier));
    box.replaceChildren(...parts);
    if (keep) {
        const again = box.querySelector(`[data-session="${CSS.escape(keep.session)}"] [data-action="${keep.action}"]`);
        if (again) again.focus();
    }
}

function group(key, heading, sessions, empty) {
    const sec = el('section', `programme-group ${key}`);
    const h = el('h2', 'subhead', heading);
    h.id = `programme-${key}`;
    sec.setAttribute('aria-labelledby', h.id);
    sec.append(h);
    if (!sessions.length) {
        sec.append(el('p', 'summary', empty));
        return sec;
    }
    const list = el('ul', 'sessions');
    list.setAttribute('aria-labelledby', h.id);
    for (const s of sessions) list.append(item(s));
    sec.append(list);
    return sec;
}

function item(s) {
    const client = state.client;
    const li = el('li', `session ${s.state}`);
    li.dataset.session = s.id;
    const title = el('h3', 'session-title', s.title);
    title.dir = 'auto';
    const meta = el('p', 'session-meta');
    const time = el('time', 'session-time', timeRange(s));
    time.dateTime = new Date(s.start).toISOString();
    const room = el('span', 'session-room', roomName(s.room));
    room.dir = 'auto';
    meta.append(time, ' · ', room, ' · ', el('span', 'session-state', STATE_TEXT[s.state]));
    li.append(title, meta);
    if (s.speakers.length) {
        const who = el('p', 'session-speakers', `With ${names.format(s.speakers.map((u) => u.name))}`);
        who.dir = 'auto';
        li.append(who);
    }
    if (s.description) {
        const d = el('p', 'session-desc', s.description);
        d.dir = 'auto';
        li.append(d);
    }
    const acts = el('div', 'session-actions');
    if (s.state !== 'ended') {
        if (client.room && client.room.id === s.room) {
            acts.append(el('span', 'session-here', 'You are here'));
        } else {
            const go = button('session-go', 'Go');
            go.dataset.action = 'go';
            go.setAttribute('aria-label', `Go to ${roomName(s.room)} for “${s.title}”`);
            go.addEventListener('click', () => joinRoom(s.room));
            acts.append(go);
        }
    }
    /* A session's own moderators start and end it from here: the Moderate
     * tab is only for those whose own role moderates. */
    if (client.isModerator(s) && s.state !== 'ended') {
        const live = s.state === 'live';
        const b = button('session-run', live ? 'End now' : 'Start now');
        b.dataset.action = live ? 'end' : 'start';
        b.setAttribute('aria-label', `${live ? 'End' : 'Start'} “${s.title}” now`);
        b.addEventListener('click', () =>
            runMod(client, $('programme-status'), live ? 'end_session' : 'start_session', { session: s.id },
                `${live ? 'end' : 'start'} “${s.title}”`, `“${s.title}” ${live ? 'has ended' : 'is live'}.`));
        acts.append(b);
    }
    if (mayStar() && s.state !== 'ended') {
        const on = client.stars.has(s.id);
        const star = button('session-star');
        star.dataset.action = 'star';
        star.setAttribute('aria-pressed', String(on));
        star.setAttribute('aria-label', `Star “${s.title}”`);
        const icon = el('span', 'session-star-icon', on ? '★' : '☆');
        icon.setAttribute('aria-hidden', 'true');
        star.append(icon, ' Star');
        star.addEventListener('click', () => toggleStar(s, !on));
        acts.append(star);
    }
    if (acts.childElementCount) li.append(acts);
    return li;
}

async function toggleStar(s, on) {
    try {
        await state.client.star(s.id, on);
        state.panels.announce(on ? `Starred “${s.title}”: you will get a reminder before it starts.` : `“${s.title}” is no longer starred.`);
    } catch {
        /* the error event already showed a readable message */
    }
}

/* ---- the boards ----------------------------------------------------------- */

function boardContent() {
    const g = groups(state.client.programme);
    const row = (s) => ({ time: timeRange(s), title: s.title, room: roomName(s.room), live: s.state === 'live' });
    return {
        zone: ZONE,
        groups: [
            { heading: 'Live now', empty: 'Nothing is live right now.', rows: g.live.map(row) },
            { heading: 'Next', empty: '', rows: g.next.map(row) },
            { heading: 'Later', empty: '', rows: g.later.map(row) },
        ],
    };
}
