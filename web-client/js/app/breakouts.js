/*
 * breakouts.js - a running breakout as its moderators see it (the
 * server's breakout_view, kept in client.breakoutViews): each breakout
 * room with the people in it now, the time left counting down, a Join
 * button for each room, and, while I look in on one, a button that takes
 * me back to the room I was in. For everyone else none of it shows.
 */

import { $, el, button } from '../dom.js';
import { clockLeft } from '../panels.js';
import { state, roomName } from './state.js';
import { joinRoom } from './rooms.js';

const SHOWN_NAMES = 12; /* names listed per room; the rest are counted */

let timer = null;
let home = null; /* the room I was in when I went to look in on a breakout room, or null */

export function startBreakouts() {
    state.client.on('breakout_view', render);
    state.client.on('joined', render);
    $('breakout-overview-back').addEventListener('click', () => {
        const to = home;
        home = null;
        if (to) joinRoom(to);
    });
    render();
}

/* The breakout to show: the one from my room, else the one I am in a room of. */
function current() {
    const client = state.client;
    const here = client.room && client.room.id;
    const views = [...client.breakoutViews.values()];
    return views.find((b) => b.from === here) || views.find((b) => b.rooms.some((r) => r.id === here)) || views[0] || null;
}

function render() {
    const box = $('breakout-overview');
    const b = current();
    clearInterval(timer);
    timer = null;
    if (!b) {
        box.hidden = true;
        home = null;
        return;
    }
    const client = state.client;
    const here = client.room && client.room.id;
    if (home === here) home = null; /* back where I was */
    $('breakout-overview-from').textContent = `from ${roomName(b.from)}, started by ${b.by.name} for ${b.minutes} min ·`;
    const list = $('breakout-overview-rooms');
    const focused = list.contains(document.activeElement) ? document.activeElement.dataset.room : null;
    list.replaceChildren(...b.rooms.map((r) => {
        const li = el('li');
        li.dataset.room = r.id;
        const name = el('span', 'overview-room', roomName(r.id));
        const count = el('span', 'overview-count', `${r.count} ${r.count === 1 ? 'person' : 'people'}`);
        const names = r.people.slice(0, SHOWN_NAMES).map((p) => p.name);
        const more = r.count - names.length;
        const people = el('span', 'overview-people', names.length ? `${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : 'nobody');
        people.dir = 'auto';
        li.append(name, count, people);
        if (r.id === here) {
            li.append(el('span', 'overview-here', '(you are here)'));
        } else {
            const go = button('mod-button', 'Join');
            go.dataset.room = r.id;
            go.setAttribute('aria-label', `Join ${roomName(r.id)}`);
            go.addEventListener('click', () => {
                if (!home) home = here;
                joinRoom(r.id);
            });
            li.append(go);
        }
        return li;
    }));
    if (focused) {
        const again = list.querySelector(`button[data-room="${CSS.escape(focused)}"]`);
        if (again) again.focus();
    }
    const back = $('breakout-overview-back');
    $('breakout-overview-back-line').hidden = !home;
    if (home) back.textContent = `Back to ${roomName(home)}`;
    const tick = () => {
        const left = clockLeft(b.ends);
        $('breakout-overview-left').textContent = left ? `${left} left` : 'time is up';
    };
    tick();
    timer = setInterval(tick, 1000);
    box.hidden = false;
}
