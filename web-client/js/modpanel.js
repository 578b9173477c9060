/*
 * modpanel.js - the moderation panel, for moderators and admins only:
 * per-person actions in the roster, the hand queue, the room's sessions
 * (start one now, end the live one), the room's controls (lock, capacity,
 * announce, lower all hands, close, breakout and recall) and one polite
 * status line that says how each action went.
 *
 * Owns the DOM it builds, and builds it only while my role (welcome, then
 * the server's presence updates about me) is moderator or admin: for
 * everyone else none of it exists, not even hidden. The server decides
 * what is allowed; the panel offers what makes sense for a person's role
 * and reports the server's answer (mod_ok or the error's words).
 */

import { $, el, button, option, say } from './dom.js';
import { timeOf } from './panels.js';
import { roleRank } from './venue-client.js';
import { TEXT_MAX, REASON_MAX, MINUTES_MAX, CAPACITY_MAX } from './limits.js';

const HAND_QUEUE_REFRESH_MS = 250;

/* A field for a whole number from 1 to max. */
function countInput(max) {
    const input = el('input');
    input.type = 'number';
    input.min = '1';
    input.max = String(max);
    input.inputMode = 'numeric';
    return input;
}

/* What a countInput(max) holds: the number, '' when left empty, null when it is not one. */
function countOf(input, max) {
    const v = input.value.trim();
    if (!v) return '';
    const n = Number(v);
    return Number.isInteger(n) && n >= 1 && n <= max ? n : null;
}

/*
 * Send one moderation action and report how it went in a status line
 * (dom.js say). what: the words for it ("mute Ada"), done: the sentence
 * when it worked. Resolves with whether it did. The questions panel
 * (app/questions.js) reports its actions the same way.
 */
export async function runMod(client, line, action, fields, what, done) {
    say(line, `Working: ${what}…`, 'busy');
    try {
        await client.mod(action, fields);
        say(line, done, 'ok');
        return true;
    } catch (e) {
        const server = e.serverMessage && !String(e.message).includes(e.serverMessage) ? ` (${e.serverMessage})` : '';
        say(line, `Could not ${what}: ${e.message}${server}`, 'bad');
        return false;
    }
}

/* A labelled field: {wrap, input}. */
function field(id, labelText, input) {
    const wrap = el('div', 'mod-field');
    const label = el('label', null, labelText);
    label.htmlFor = id;
    input.id = id;
    wrap.append(label, input);
    return { wrap, input };
}

export class ModPanel {
    /*
     * client: the VenueClient. panels: the Panels (roster, tabs, live region).
     */
    constructor(client, panels) {
        this.client = client;
        this.panels = panels;
        this.on = false;
        this.seq = 0; /* unique ids for the per-person forms */
        this.dom = null; /* what setEnabled(true) built */
        this.handTimer = null;
        this.personHook = (u, it) => this._person(u, it); /* the roster's per-person actions, while on */
        const refresh = () => this._refreshSoon();
        client.on('presence', refresh);
        client.on('joined', () => {
            this._refreshRoom();
            this._refreshSoon();
            this._renderSessions();
        });
        client.on('left', () => this._refreshRoom());
        client.on('room', () => this._refreshRoom());
        client.on('voice', () => this._refreshRoom());
        client.on('rooms', () => this._refreshRooms());
        client.on('programme', () => this._renderSessions());
        client.on('session', () => this._renderSessions());
    }

    /* Build the panel (my role moderates) or take it all away. */
    setEnabled(on) {
        on = !!on;
        if (on === this.on) return;
        this.on = on;
        if (on) {
            this._build();
            this.panels.personHooks.add(this.personHook);
        } else {
            this.panels.personHooks.delete(this.personHook);
            for (const it of this.panels.rosterItems.values()) this._dropPerson(it);
            if (this.panels.currentTab() === 'tab-mod') this.panels.showTab('tab-people');
            for (const e of [this.dom.tab, this.dom.section, this.dom.status]) e.remove();
            this.dom = null;
        }
        this.panels.redecorate();
        this._refreshRoom();
    }

    /* ---- the status line -------------------------------------------------- */

    status(text, kind) {
        if (this.dom) say(this.dom.status, text, kind);
    }

    /* Send one action and report how it went in the status line (runMod). */
    async run(action, fields, what, done) {
        if (!this.dom) return false;
        return runMod(this.client, this.dom.status, action, fields, what, done);
    }

    _roomName(id) {
        const r = this.client.rooms.find((x) => x.id === id);
        return r ? r.name : id;
    }

    /* ---- the panel ---------------------------------------------------------- */

    _build() {
        const tab = button(null, 'Moderate');
        tab.id = 'tab-mod';
        tab.setAttribute('role', 'tab');
        tab.setAttribute('aria-selected', 'false');
        tab.setAttribute('aria-controls', 'panel-mod');
        tab.tabIndex = -1;
        $('tab-rooms').after(tab);

        const status = el('p', 'mod-status');
        status.id = 'mod-status';
        status.setAttribute('role', 'status');
        status.hidden = true;
        document.querySelector('#panel .tablist').after(status);

        const sec = el('section', 'tabpanel mod-panel');
        sec.id = 'panel-mod';
        sec.setAttribute('role', 'tabpanel');
        sec.setAttribute('aria-labelledby', 'tab-mod');
        sec.hidden = true;
        $('panel-rooms').after(sec);
        this.dom = { tab, status, section: sec };
        this.panels.addTab(tab);

        /* hand queue */
        const hq = el('section', 'mod-section');
        hq.setAttribute('aria-labelledby', 'mod-hands-title');
        const hqTitle = el('h2', 'subhead', 'Hand queue');
        hqTitle.id = 'mod-hands-title';
        const hqEmpty = el('p', 'summary', 'No hands are raised.');
        hqEmpty.id = 'hand-queue-empty';
        const hqList = el('ol', 'hand-queue');
        hqList.id = 'hand-queue';
        hqList.setAttribute('aria-labelledby', 'mod-hands-title');
        const lowerAll = button('mod-button', 'Lower all hands');
        lowerAll.id = 'mod-lower-all';
        lowerAll.addEventListener('click', () => this.run('lower_all_hands', {}, 'lower all hands', 'All hands are lowered.'));
        hq.append(hqTitle, hqEmpty, hqList, lowerAll);
        Object.assign(this.dom, { hqList, hqEmpty });

        /* the room */
        const rs = el('section', 'mod-section');
        rs.setAttribute('aria-labelledby', 'mod-room-title');
        const rsTitle = el('h2', 'subhead', 'This room');
        rsTitle.id = 'mod-room-title';
        const state = el('p', 'mod-room-state');
        state.id = 'mod-room-state';
        const lockRow = el('div', 'mod-row');
        const lock = button('mod-button', 'Lock the room');
        lock.id = 'mod-lock';
        lock.addEventListener('click', () => this.run('lock', {}, 'lock the room', 'The room is locked: only moderators may come in.'));
        const unlock = button('mod-button', 'Unlock');
        unlock.id = 'mod-unlock';
        unlock.addEventListener('click', () => this.run('unlock', {}, 'unlock the room', 'The room is open again.'));
        lockRow.append(lock, unlock);
        /* who may speak here (voice): attendees only with the floor */
        const micRow = el('div', 'mod-row');
        const lockMics = button('mod-button', 'Lock microphones');
        lockMics.id = 'mod-lock-mics';
        lockMics.addEventListener('click', () => this.run('lock_mics', {}, 'lock the microphones',
            'Microphones are locked: attendees speak only when you give them the floor.'));
        const unlockMics = button('mod-button', 'Unlock microphones');
        unlockMics.id = 'mod-unlock-mics';
        unlockMics.addEventListener('click', () => this.run('unlock_mics', {}, 'unlock the microphones',
            'Microphones are open again.'));
        micRow.append(lockMics, unlockMics);

        const capForm = el('form', 'mod-row mod-inline');
        const capInput = countInput(CAPACITY_MAX);
        const cap = field('mod-capacity', 'Capacity', capInput);
        const capGo = el('button', 'mod-button', 'Set capacity');
        capGo.type = 'submit';
        capForm.append(cap.wrap, capGo);
        capForm.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const n = countOf(capInput, CAPACITY_MAX);
            if (!n) {
                this.status(`Capacity: give a whole number of people, 1 to ${CAPACITY_MAX}.`, 'bad');
                capInput.focus();
                return;
            }
            this.run('capacity', { capacity: n }, `set the capacity to ${n}`, `The room's capacity is now ${n}.`);
        });

        const annForm = el('form', 'mod-form');
        const annText = el('textarea');
        annText.maxLength = TEXT_MAX;
        annText.rows = 2;
        annText.dir = 'auto';
        const ann = field('mod-announce-text', 'Announcement', annText);
        const venueLine = el('label', 'choice');
        const venueBox = el('input');
        venueBox.type = 'checkbox';
        venueBox.id = 'mod-announce-venue';
        venueLine.append(venueBox, document.createTextNode(' To the whole venue, not just this room'));
        venueLine.hidden = this.client.me.role !== 'admin';
        const annGo = el('button', 'mod-button', 'Announce');
        annGo.type = 'submit';
        annForm.append(ann.wrap, venueLine, annGo);
        annForm.addEventListener('submit', async (ev) => {
            ev.preventDefault();
            const text = annText.value.trim();
            if (!text) {
                this.status('Write the announcement first.', 'bad');
                annText.focus();
                return;
            }
            const everyone = venueBox.checked && !venueLine.hidden;
            const ok = await this.run('announce', everyone ? { text, room: '*' } : { text },
                'send the announcement', everyone ? 'Announcement sent to the whole venue.' : 'Announcement sent to this room.');
            if (ok) annText.value = '';
        });

        const close = button('mod-button danger', 'Close this room…');
        close.id = 'mod-close-room';
        close.addEventListener('click', () => {
            const room = this.client.room;
            if (!room) return;
            if (!window.confirm(`Close ${room.name}? Everyone in it, you included, goes to the lobby and the room is locked.`)) return;
            this.run('close_room', {}, `close ${room.name}`, `${room.name} is closed: everyone was moved to the lobby.`);
        });
        rs.append(rsTitle, state, lockRow, micRow, capForm, annForm, close);
        Object.assign(this.dom, { state, capInput, close, venueLine });

        /* breakout */
        const bo = el('section', 'mod-section');
        bo.setAttribute('aria-labelledby', 'mod-breakout-title');
        const boTitle = el('h2', 'subhead', 'Breakout');
        boTitle.id = 'mod-breakout-title';
        const boForm = el('form', 'mod-form');
        const fs = el('fieldset', 'mod-rooms');
        fs.append(el('legend', null, 'Send everyone here to'));
        const boRooms = el('div', 'mod-room-choices');
        fs.append(boRooms);
        const minInput = countInput(MINUTES_MAX);
        minInput.value = '15';
        const mins = field('mod-breakout-minutes', 'Minutes', minInput);
        const boGo = el('button', 'mod-button', 'Start the breakout');
        boGo.type = 'submit';
        const recall = button('mod-button', 'Recall the breakout');
        recall.id = 'mod-recall';
        const boRow = el('div', 'mod-row');
        boRow.append(boGo, recall);
        boForm.append(fs, mins.wrap, boRow);
        boForm.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const rooms = [...boRooms.querySelectorAll('input:checked')].map((x) => x.value);
            const minutes = countOf(minInput, MINUTES_MAX);
            if (!rooms.length) {
                this.status('Choose at least one breakout room.', 'bad');
                const first = boRooms.querySelector('input');
                if (first) first.focus();
                return;
            }
            if (!minutes) {
                this.status('Minutes: give a whole number, 1 or more.', 'bad');
                minInput.focus();
                return;
            }
            const n = rooms.length;
            this.run('breakout', { rooms, minutes }, 'start the breakout',
                `Breakout started: ${n} ${n === 1 ? 'room' : 'rooms'} for ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`);
        });
        recall.addEventListener('click', () => this.run('recall', {}, 'recall the breakout', 'Breakout recalled: everyone is coming back.'));
        bo.append(boTitle, boForm);
        Object.assign(this.dom, { boRooms });

        /* the room's sessions: start the next one early, end the live one now */
        const ss = el('section', 'mod-section');
        ss.setAttribute('aria-labelledby', 'mod-sessions-title');
        const ssTitle = el('h2', 'subhead', 'Sessions in this room');
        ssTitle.id = 'mod-sessions-title';
        const ssEmpty = el('p', 'summary', 'No sessions are planned here.');
        const ssList = el('ul', 'mod-sessions');
        ssList.id = 'mod-sessions';
        ssList.setAttribute('aria-labelledby', 'mod-sessions-title');
        ss.append(ssTitle, ssEmpty, ssList);
        Object.assign(this.dom, { ssList, ssEmpty });

        sec.append(hq, ss, rs, bo);
        this._refreshRooms();
        this._renderHands();
        this._renderSessions();
    }

    /*
     * My room's sessions still to come or live, each with the one action
     * that applies: "Start now" (scheduled) or "End now" (live). The server
     * refuses a start while another session is live here, and says so.
     */
    _renderSessions() {
        if (!this.dom) return;
        const { ssList, ssEmpty } = this.dom;
        const here = this.client.room ? this.client.room.id : null;
        const sessions = this.client.programme.filter((s) => s.room === here && s.state !== 'ended');
        const focused = ssList.contains(document.activeElement) ? document.activeElement.dataset.session : null;
        ssList.replaceChildren(...sessions.map((s) => {
            const li = el('li', `mod-session ${s.state}`);
            const title = el('span', 'pname', s.title);
            title.dir = 'auto';
            const when = el('span', 'pmeta', `${timeOf(s.start)}–${timeOf(s.end)} · ${s.state === 'live' ? 'live now' : 'scheduled'}`);
            const live = s.state === 'live';
            const b = button(live ? 'mod-button danger' : 'mod-button', live ? 'End now' : 'Start now');
            b.dataset.session = s.id;
            b.setAttribute('aria-label', `${live ? 'End now' : 'Start now'}: “${s.title}”`);
            b.addEventListener('click', () => {
                if (live) {
                    if (!window.confirm(`End “${s.title}” now? Its speakers lose the stage and its questions close.`)) return;
                    this.run('end_session', { session: s.id }, `end “${s.title}”`, `“${s.title}” has ended.`);
                } else {
                    this.run('start_session', { session: s.id }, `start “${s.title}”`, `“${s.title}” is live now.`);
                }
            });
            li.append(title, when, b);
            return li;
        }));
        ssEmpty.hidden = sessions.length > 0;
        if (focused) (ssList.querySelector(`button[data-session="${CSS.escape(focused)}"]`) || ssList.querySelector('button'))?.focus();
    }

    /* The room line, capacity field and close button for the room I am in. */
    _refreshRoom() {
        if (!this.dom) return;
        const room = this.client.room;
        const d = this.dom;
        if (!room) {
            d.state.textContent = 'You are not in a room.';
            d.close.disabled = true;
            return;
        }
        const st = this.client.roomState;
        const info = this.client.rooms.find((r) => r.id === room.id);
        const cap = st && st.capacity > 0 ? st.capacity : info ? info.capacity : 0;
        /* The server tells a room's lock only when it changes: before that
         * this page cannot know, and says so. */
        const lock = st ? (st.locked ? 'Locked' : 'Open') : info && info.locked === true ? 'Locked' : 'Not locked by anyone since you came in';
        const v = this.client.voice;
        const mics = v && v.state === 'up' ? (v.locked ? ' · microphones locked' : ' · microphones open') : '';
        d.state.textContent = `${room.name}: ${lock}${mics} · capacity ${cap || '?'} · ${this.client.roster.size} here`;
        if (document.activeElement !== d.capInput && cap) d.capInput.value = String(cap);
        d.close.disabled = room.id === 'lobby';
        d.close.title = room.id === 'lobby' ? 'The lobby cannot be closed' : '';
        this._refreshRooms();
    }

    /* Breakout room choices: every room but mine, checks kept. */
    _refreshRooms() {
        if (!this.dom) return;
        const box = this.dom.boRooms;
        const here = this.client.room ? this.client.room.id : null;
        const rooms = this.client.rooms.filter((r) => r.id !== here);
        const key = rooms.map((r) => `${r.id}\u0000${r.name}`).join('\u0001');
        if (box.dataset.key === key) return;
        const checked = new Set([...box.querySelectorAll('input:checked')].map((x) => x.value));
        const focused = box.contains(document.activeElement) ? document.activeElement.value : null;
        box.dataset.key = key;
        box.replaceChildren(...rooms.map((r) => {
            const label = el('label', 'choice');
            const cb = el('input');
            cb.type = 'checkbox';
            cb.value = r.id;
            cb.name = 'breakout-room';
            cb.checked = checked.has(r.id);
            const name = el('span', null, r.name);
            name.dir = 'auto';
            label.append(cb, name);
            return label;
        }));
        if (focused) box.querySelector(`input[value="${CSS.escape(focused)}"]`)?.focus();
        /* the move pickers of open per-person forms too */
        for (const it of this.panels.rosterItems.values()) if (it.mod && !it.mod.box.hidden) this._fillMove(it.mod.move);
    }

    _refreshSoon() {
        if (!this.on || this.handTimer) return;
        this.handTimer = setTimeout(() => {
            this.handTimer = null;
            this._renderHands();
            this._refreshRoom();
        }, HAND_QUEUE_REFRESH_MS);
    }

    /* The hand queue: raised hands, first raised first, each with a Lower button. */
    _renderHands() {
        if (!this.dom) return;
        const { hqList, hqEmpty } = this.dom;
        const queue = this.client.handQueue();
        const focusedId = hqList.contains(document.activeElement) ? document.activeElement.dataset.id : null;
        hqList.replaceChildren(...queue.map((u, i) => {
            const li = el('li', 'hand-item');
            li.dataset.id = u.id;
            const name = el('span', 'pname', u.name || '(no name)');
            name.dir = 'auto';
            const when = el('span', 'pmeta', u.hand_at ? `${i === 0 ? 'first, ' : ''}since ${timeOf(u.hand_at)}` : '');
            const b = button('mod-button', 'Lower');
            b.dataset.id = u.id;
            b.setAttribute('aria-label', `Lower ${u.name}'s hand`);
            const mine = this.client.me && u.id === this.client.me.id;
            b.addEventListener('click', () => {
                if (mine) {
                    this.client.setHand(false);
                    this.status('Your hand is lowered.', 'ok');
                    return;
                }
                this.run('lower_hand', { target: u.id }, `lower ${u.name}'s hand`, `${u.name}'s hand is lowered.`);
            });
            li.append(name, when, b);
            return li;
        }));
        hqEmpty.hidden = queue.length > 0;
        if (focusedId) {
            /* keep the keyboard where it was: the same person, else the queue's next, else "Lower all" */
            const again = hqList.querySelector(`button[data-id="${CSS.escape(focusedId)}"]`) ||
                hqList.querySelector('button') || document.getElementById('mod-lower-all');
            again.focus();
        }
    }

    /* ---- per-person actions in the roster ----------------------------------- */

    /* Decorate a roster entry: actions for the people I outrank, nothing on the rest. */
    _person(u, it) {
        const me = this.client.me;
        const can = this.on && me && u.id !== me.id && roleRank(u.role) < roleRank(me.role);
        if (!can) {
            this._dropPerson(it);
            return;
        }
        if (!it.mod) it.mod = this._buildPerson(u, it);
        it.mod.user = u;
        this._updatePerson(it.mod);
    }

    _dropPerson(it) {
        if (!it.mod) return;
        it.mod.toggle.remove();
        it.mod.box.remove();
        it.mod = null;
    }

    _buildPerson(u, it) {
        const n = ++this.seq;
        const m = { user: u };
        const toggle = button('person-mod-toggle', 'Actions');
        toggle.setAttribute('aria-expanded', 'false');
        toggle.setAttribute('aria-controls', `pa-${n}`);
        const box = el('div', 'person-actions');
        box.id = `pa-${n}`;
        box.hidden = true;
        box.setAttribute('role', 'group');
        toggle.addEventListener('click', () => {
            const open = box.hidden;
            box.hidden = !open;
            toggle.setAttribute('aria-expanded', String(open));
            if (open) {
                this._fillMove(m.move);
                m.mute.focus();
            }
        });
        box.addEventListener('keydown', (ev) => {
            if (ev.key === 'Escape') {
                box.hidden = true;
                toggle.setAttribute('aria-expanded', 'false');
                toggle.focus();
            }
        });

        const row1 = el('div', 'mod-row');
        m.mute = button('mod-button', 'Mute');
        m.mute.addEventListener('click', () => {
            const x = m.user;
            if (x.muted) {
                this.run('unmute', { target: x.id }, `unmute ${x.name}`, `${x.name} can chat again.`);
                return;
            }
            const minutes = countOf(m.minutes, MINUTES_MAX);
            if (minutes === null) return this._badMinutes(m);
            this.run('mute', { target: x.id, minutes, reason: m.reason.value.trim() }, `mute ${x.name}`,
                `${x.name} is muted${minutes ? ` for ${minutes} min` : ''}.`).then((ok) => this._clearSanction(m, ok));
        });
        m.hand = button('mod-button', 'Lower hand');
        m.hand.addEventListener('click', () => this.run('lower_hand', { target: m.user.id }, `lower ${m.user.name}'s hand`, `${m.user.name}'s hand is lowered.`));
        m.role = button('mod-button', 'Make speaker');
        m.role.addEventListener('click', () => {
            const x = m.user;
            if (x.role === 'speaker') this.run('demote', { target: x.id }, `make ${x.name} an attendee`, `${x.name} is now an attendee.`);
            else this.run('promote', { target: x.id }, `make ${x.name} a speaker`, `${x.name} is now a speaker.`);
        });
        row1.append(m.mute, m.hand, m.role);

        const row2 = el('div', 'mod-row mod-inline');
        const sel = el('select');
        const mv = field(`pa-${n}-room`, 'Move to', sel);
        m.move = sel;
        const go = button('mod-button', 'Move');
        go.addEventListener('click', () => {
            const to = sel.value;
            if (!to) return;
            const name = this._roomName(to);
            this.run('move', { target: m.user.id, room: to }, `move ${m.user.name} to ${name}`, `${m.user.name} was moved to ${name}.`);
        });
        row2.append(mv.wrap, go);

        const reason = el('input');
        reason.type = 'text';
        reason.maxLength = REASON_MAX;
        reason.dir = 'auto';
        reason.autocomplete = 'off';
        const rf = field(`pa-${n}-reason`, 'Reason (they are told)', reason);
        m.reason = reason;
        const minutes = countInput(MINUTES_MAX);
        minutes.placeholder = 'until lifted';
        const mf = field(`pa-${n}-minutes`, 'Minutes (mute or ban)', minutes);
        m.minutes = minutes;
        const row3 = el('div', 'mod-row mod-inline');
        row3.append(rf.wrap, mf.wrap);

        const row4 = el('div', 'mod-row');
        const kick = button('mod-button danger', 'Kick from the venue');
        kick.addEventListener('click', () => {
            const x = m.user;
            const why = m.reason.value.trim();
            if (!window.confirm(`Remove ${x.name} from the venue? They are disconnected${why ? ` and told: “${why}”` : ''}.`)) return;
            this.run('kick', { target: x.id, reason: why }, `kick ${x.name}`, `${x.name} was removed from the venue.`);
        });
        const ban = button('mod-button danger', 'Ban from this room');
        ban.addEventListener('click', () => {
            const x = m.user;
            const room = this.client.room;
            const mins = countOf(m.minutes, MINUTES_MAX);
            if (mins === null) return this._badMinutes(m);
            if (!room) return;
            if (!window.confirm(`Ban ${x.name} from ${room.name}${mins ? ` for ${mins} minutes` : ' until lifted'}? They leave the room at once.`)) return;
            this.run('ban', { target: x.id, room: room.id, minutes: mins, reason: m.reason.value.trim() }, `ban ${x.name}`,
                `${x.name} is banned from ${room.name}${mins ? ` for ${mins} min` : ''}.`).then((ok) => this._clearSanction(m, ok));
        });
        row4.append(kick, ban);
        box.append(row1, row2, row3, row4);
        it.li.append(toggle, box);
        Object.assign(m, { toggle, box });
        return m;
    }

    /* After a sanction went through, its reason and length are spent. */
    _clearSanction(m, ok) {
        if (!ok) return;
        m.reason.value = '';
        m.minutes.value = '';
    }

    _badMinutes(m) {
        this.status('Minutes: a whole number, 1 or more, or leave it empty for "until lifted".', 'bad');
        m.minutes.focus();
    }

    _updatePerson(m) {
        const u = m.user;
        const name = u.name || '(no name)';
        m.toggle.setAttribute('aria-label', `Actions for ${name}`);
        m.box.setAttribute('aria-label', `Moderate ${name}`);
        m.mute.textContent = u.muted ? 'Unmute' : 'Mute';
        m.mute.setAttribute('aria-pressed', String(!!u.muted));
        m.hand.hidden = !u.hand;
        const r = u.role;
        m.role.hidden = !(r === 'guest' || r === 'attendee' || r === 'speaker');
        m.role.textContent = r === 'speaker' ? 'Make attendee' : 'Make speaker';
    }

    _fillMove(sel) {
        const here = this.client.room ? this.client.room.id : null;
        const keep = sel.value;
        sel.replaceChildren(...this.client.rooms.filter((r) => r.id !== here).map((r) => option(r.id, r.name)));
        if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
    }
}
