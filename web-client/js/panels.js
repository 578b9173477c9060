/*
 * panels.js - the side panel and the page's text: roster, chat, rooms,
 * hand button, connection indicator, error and info toasts, the ARIA live
 * region, the muted state of the chat box and the relayed stage's list.
 * The moderation panel (modpanel.js) adds its tab and the per-person
 * actions through addTab() and a person hook; voice (app/voice.js) adds
 * each person's volume through one too.
 *
 * Owns the DOM of those parts and nothing else. Every piece of text from
 * the server or other people goes in through textContent (never innerHTML)
 * with dir="auto", so markup shows as text and right-to-left names lay out
 * correctly. Large rooms are handled by batching: roster changes mark the
 * list dirty and it is rebuilt at most a few times a second, reusing its
 * elements; announcements of many joins at once are summarised.
 */

import { cssColourOf, inkColourOf } from './motion.js';
import { $, el, button, selectTab, wireTab } from './dom.js';
import { roleRank } from './venue-client.js';

const ROSTER_REFRESH_MS = 250;
const ANNOUNCE_MS = 1200;
const CHAT_SHOWN = 200;

export function timeOf(ts) {
    const d = new Date(ts);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/* The whole seconds until ends (ms since the epoch) as m:ss, or null once it has passed. */
export function clockLeft(ends) {
    const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
    return left > 0 ? `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` : null;
}

export class Panels {
    /*
     * client: a VenueClient. actions: {joinRoom(id), toggleHand(), sendChat(text),
     * deleteChat(message)}.
     */
    constructor(client, actions) {
        this.client = client;
        this.actions = actions;
        this.rosterItems = new Map(); /* id -> {li, name, role, status, hand, ...} */
        this.rosterDirty = false;
        this.rosterTimer = null;
        this.filter = '';
        this.unread = 0;
        this.pending = []; /* announcements waiting for the next flush */
        this.announceTimer = null;
        this.lastAnnounce = '';
        /* hook(user, item) for each: decorates a roster entry (moderation, voice) */
        this.personHooks = new Set();
        this._initTabs();
        this._initChat();
        this._initRoster();
        $('hand').addEventListener('click', () => this.actions.toggleHand());
    }

    /* ---- tabs: People / Chat / Rooms, ARIA tabs pattern ----------------- */

    _initTabs() {
        for (const tab of document.querySelectorAll('.tablist [role="tab"]')) this.addTab(tab);
    }

    /* Tabs that are shown now (the moderation tab comes and goes). */
    get tabs() {
        return [...document.querySelectorAll('.tablist [role="tab"]')].filter((t) => !t.hidden);
    }

    /* Wire a tab button (already in the tab list) into the ARIA tabs pattern. */
    addTab(tab) {
        wireTab(tab, () => this.tabs, (id) => this.showTab(id));
    }

    /* The id of the tab shown now. */
    currentTab() {
        const t = this.tabs.find((x) => x.getAttribute('aria-selected') === 'true');
        return t ? t.id : null;
    }

    showTab(tabId) {
        selectTab(document.querySelectorAll('.tablist [role="tab"]'), tabId);
        if (tabId === 'tab-chat') {
            this.unread = 0;
            this._showUnread();
            const log = $('chat-log');
            log.scrollTop = log.scrollHeight;
        }
    }

    _chatVisible() {
        return !$('panel-chat').hidden;
    }

    _showUnread() {
        const b = $('chat-unread');
        b.hidden = this.unread === 0;
        b.textContent = this.unread > 99 ? '99+' : String(this.unread);
    }

    /* ---- roster --------------------------------------------------------- */

    _initRoster() {
        $('roster-filter').addEventListener('input', (ev) => {
            this.filter = ev.target.value.trim().toLocaleLowerCase();
            this.rosterChanged();
        });
    }

    rosterChanged() {
        if (this.rosterTimer) {
            this.rosterDirty = true;
            return;
        }
        this._renderRoster();
        this.rosterTimer = setTimeout(() => {
            this.rosterTimer = null;
            if (this.rosterDirty) {
                this.rosterDirty = false;
                this._renderRoster();
            }
        }, ROSTER_REFRESH_MS);
    }

    _item(u) {
        let it = this.rosterItems.get(u.id);
        if (!it) {
            const li = el('li', 'person');
            li.dataset.id = u.id;
            const dot = el('span', 'dot');
            dot.setAttribute('aria-hidden', 'true');
            dot.style.background = cssColourOf(u.id);
            const name = el('span', 'pname');
            name.dir = 'auto';
            const meta = el('span', 'pmeta');
            li.append(dot, name, meta);
            it = { li, nameEl: name, metaEl: meta, key: '' };
            this.rosterItems.set(u.id, it);
        }
        const me = this.client.me && u.id === this.client.me.id;
        const myRole = this.client.me ? this.client.me.role : '';
        const key = `${u.name}\u0000${u.role}\u0000${u.status}\u0000${u.hand}\u0000${u.muted}\u0000${u.talking}\u0000${me}\u0000${myRole}`;
        if (key !== it.key) {
            it.key = key;
            it.nameEl.textContent = u.name || '(no name)';
            const bits = [u.role];
            if (me) bits.push('you');
            if (u.status === 'away') bits.push('away');
            if (u.muted) bits.push('muted');
            if (u.talking) bits.push('speaking');
            it.metaEl.textContent = bits.join(' · ');
            it.li.classList.toggle('away', u.status === 'away');
            it.li.classList.toggle('me', !!me);
            it.li.classList.toggle('muted', !!u.muted);
            it.li.classList.toggle('talking', !!u.talking);
            let hand = it.li.querySelector('.hand');
            if (u.hand && !hand) {
                hand = el('span', 'hand');
                const icon = el('span', 'icon icon-hand');
                icon.setAttribute('aria-hidden', 'true');
                hand.append(icon, el('span', 'sr-only', 'hand raised'));
                it.li.append(hand);
            } else if (!u.hand && hand) {
                hand.remove();
            }
            for (const hook of this.personHooks) hook(u, it);
        }
        return it.li;
    }

    /* A person hook came or went (moderation, voice): redecorate everyone. */
    redecorate() {
        for (const it of this.rosterItems.values()) it.key = '';
        this.rosterChanged();
    }

    _renderRoster() {
        const roster = this.client.roster;
        const myId = this.client.me && this.client.me.id;
        const users = [...roster.values()];
        /* me first, raised hands next in the order they went up (the
         * chair's queue), then by name */
        users.sort((a, b) => {
            if (a.id === myId) return -1;
            if (b.id === myId) return 1;
            if (a.hand !== b.hand) return a.hand ? -1 : 1;
            if (a.hand && a.hand_at !== b.hand_at) return (a.hand_at ?? Infinity) - (b.hand_at ?? Infinity);
            return a.name.localeCompare(b.name);
        });
        for (const id of this.rosterItems.keys()) {
            if (!roster.has(id)) this.rosterItems.delete(id);
        }
        const f = this.filter;
        const shown = [];
        for (const u of users) {
            const li = this._item(u);
            if (!f || u.name.toLocaleLowerCase().includes(f)) shown.push(li);
        }
        const list = $('roster');
        const same = list.childElementCount === shown.length && shown.every((li, i) => list.children[i] === li);
        if (!same) {
            /* Moving a focused entry (a moderator's action button) would blur
             * it: put the focus back where it was. */
            const focused = list.contains(document.activeElement) ? document.activeElement : null;
            list.replaceChildren(...shown);
            if (focused && focused.isConnected && document.activeElement !== focused) focused.focus({ preventScroll: true });
        }
        const n = roster.size;
        $('people-count').textContent = String(n);
        $('roster-summary').textContent =
            `${n} ${n === 1 ? 'person' : 'people'} here` + (f ? `, ${shown.length} shown` : '');
    }

    /* ---- chat ----------------------------------------------------------- */

    _initChat() {
        const form = $('chat-form');
        const input = $('chat-input');
        form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            const text = input.value.trim();
            if (!text) return;
            if (this.actions.sendChat(text)) input.value = '';
        });
    }

    /*
     * A moderator muted me (or lifted it): the chat box says so and is
     * switched off, so nobody types a message that would be refused.
     */
    setChatMuted(muted) {
        const input = $('chat-input');
        const send = $('chat-send');
        const note = $('chat-muted');
        input.disabled = muted;
        send.disabled = muted;
        note.hidden = !muted;
        note.textContent = muted
            ? 'A moderator has muted you: you cannot send chat messages in the venue until they unmute you.'
            : '';
        if (muted) input.setAttribute('aria-describedby', 'chat-muted');
        else input.removeAttribute('aria-describedby');
        input.placeholder = muted ? 'You are muted' : 'Message the room';
    }

    clearChat() {
        $('chat-log').replaceChildren();
        this.unread = 0;
        this._showUnread();
    }

    showChatHistory(messages) {
        this.clearChat();
        for (const m of messages.slice(-CHAT_SHOWN)) this._chatItem(m);
        const log = $('chat-log');
        log.scrollTop = log.scrollHeight;
        $('chat-empty').hidden = messages.length > 0;
    }

    /* A blocked person's lines are not shown (app/messages.js blocks). */
    _chatItem(m) {
        if (this.client.blocked.has(m.from)) return;
        const log = $('chat-log');
        const li = el('li', m.mine ? 'msg mine' : 'msg');
        const head = el('div', 'msg-head');
        const who = el('span', 'who', m.name || '(no name)');
        who.dir = 'auto';
        who.style.setProperty('--who', inkColourOf(m.from));
        const time = el('time', 'when', timeOf(m.ts));
        time.dateTime = new Date(m.ts).toISOString();
        head.append(who);
        /* A guest chose its own name: said in words, as the people list does,
         * so that a guest called like a moderator is not taken for one. */
        if (m.role === 'guest') head.append(el('span', 'who-role', 'guest'));
        head.append(time);
        const text = el('p', 'text', m.text);
        text.dir = 'auto';
        li.append(head, text);
        if (m.msg !== null) li.dataset.msg = String(m.msg);
        if (m.msg !== null && this.client.me && roleRank(this.client.me.role) >= roleRank('moderator')) {
            const del = button('msg-delete', 'Delete');
            del.setAttribute('aria-label', `Delete the message from ${m.name || 'someone'}`);
            del.addEventListener('click', () => this.actions.deleteChat(m));
            head.append(del);
        }
        log.append(li);
        while (log.childElementCount > CHAT_SHOWN) log.firstElementChild.remove();
    }

    /* A moderator deleted it: the line goes, for everyone. */
    removeChat(msg) {
        const li = $('chat-log').querySelector(`li[data-msg="${Number(msg)}"]`);
        if (li) li.remove();
        $('chat-empty').hidden = $('chat-log').childElementCount > 0;
    }

    addChat(m) {
        if (this.client.blocked.has(m.from)) return;
        const log = $('chat-log');
        const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
        this._chatItem(m);
        $('chat-empty').hidden = true;
        if (atBottom || m.mine) log.scrollTop = log.scrollHeight;
        if (!this._chatVisible() && !m.mine) {
            this.unread++;
            this._showUnread();
        }
        if (!m.mine) this.announce(`${m.name} says: ${m.text}`, 'chat');
    }

    /* ---- rooms ---------------------------------------------------------- */

    renderRooms(rooms, currentId) {
        const list = $('rooms');
        const items = [];
        for (const r of rooms) {
            const li = el('li');
            const b = button('room');
            b.dataset.room = r.id;
            const here = r.id === currentId;
            if (here) b.setAttribute('aria-current', 'true');
            const name = el('span', 'room-name', r.name);
            name.dir = 'auto';
            const full = r.capacity > 0 && r.count >= r.capacity;
            const count = el(
                'span',
                full ? 'room-count full' : 'room-count',
                r.capacity > 0 ? `${r.count} / ${r.capacity}` : String(r.count),
            );
            count.setAttribute('aria-label', `${r.count} ${r.count === 1 ? 'person' : 'people'}` +
                (r.capacity > 0 ? ` of ${r.capacity}` : '') + (full ? ', full' : ''));
            b.append(name, count);
            if (r.locked === true) {
                const lock = el('span', 'room-locked', 'Locked');
                lock.title = 'Locked: only moderators may come in';
                b.append(lock);
                count.setAttribute('aria-label', `${count.getAttribute('aria-label')}, locked`);
            }
            if (here) b.append(el('span', 'room-here', 'You are here'));
            if (r.description) {
                const d = el('span', 'room-desc', r.description);
                d.dir = 'auto';
                b.append(d);
            }
            b.addEventListener('click', () => this.actions.joinRoom(r.id));
            li.append(b);
            items.push(li);
        }
        /* keep keyboard focus on the same room across a refresh */
        const focused = document.activeElement && document.activeElement.dataset
            ? document.activeElement.dataset.room : null;
        list.replaceChildren(...items);
        if (focused) {
            const again = list.querySelector(`button[data-room="${CSS.escape(focused)}"]`);
            if (again) again.focus();
        }
    }

    /* ---- top bar -------------------------------------------------------- */

    setRoomTitle(name) {
        $('room-title').textContent = name;
        document.title = `${name} · Venue`;
    }

    setHand(up) {
        const b = $('hand');
        b.setAttribute('aria-pressed', String(up));
        b.querySelector('.label').textContent = up ? 'Lower hand' : 'Raise hand';
    }

    /* state: connecting | open | reconnecting | closed */
    setConnection(state, detail = {}) {
        const c = $('conn');
        c.dataset.state = state;
        const text = $('conn-text');
        const retry = $('conn-retry');
        retry.hidden = true;
        if (state === 'open') text.textContent = 'Connected';
        else if (state === 'connecting') text.textContent = 'Connecting…';
        else if (state === 'reconnecting') {
            if (detail.delay != null) {
                const s = Math.max(1, Math.round(detail.delay / 1000));
                text.textContent = `Reconnecting in ${s} s…`;
                retry.hidden = false;
            } else {
                text.textContent = 'Reconnecting…';
            }
        } else text.textContent = detail.reason ? `Disconnected: ${detail.reason}` : 'Disconnected';
    }

    /* ---- messages for people -------------------------------------------- */

    /* The people on the hall's stage, in an overflow room ("On stage"). */
    renderStage(hallName, users) {
        const box = $('stage-box');
        if (!hallName) {
            box.hidden = true;
            $('stage-list').replaceChildren();
            return;
        }
        box.hidden = false;
        $('stage-title').textContent = `On stage (${hallName})`;
        const items = users.map((u) => {
            const li = el('li', 'person relay');
            const dot = el('span', 'dot');
            dot.setAttribute('aria-hidden', 'true');
            dot.style.background = cssColourOf(u.id);
            const name = el('span', 'pname', u.name || '(no name)');
            name.dir = 'auto';
            li.append(dot, name, el('span', 'pmeta', u.role));
            li.dataset.id = u.id;
            return li;
        });
        $('stage-list').replaceChildren(...items);
        $('stage-empty').hidden = users.length > 0;
    }

    /*
     * A piece of news for this person (moved, unmuted): a calm toast.
     * action {label, name, run}: a button on it (a reminder's "Go"); such
     * a toast stays longer, there being something to do.
     */
    showInfo(text, action = null) {
        this.showError(text, 'info', action);
    }

    /* A readable error: a toast that stays a while, also read out. */
    showError(text, kind = 'error', action = null) {
        const box = $('toasts');
        const t = el('div', kind === 'info' ? 'toast info' : 'toast');
        const p = el('p', null, text);
        p.dir = 'auto';
        const close = button('toast-close', '×');
        close.setAttribute('aria-label', 'Dismiss message');
        close.addEventListener('click', () => t.remove());
        t.append(p);
        if (action) {
            const act = button('toast-action', action.label);
            act.setAttribute('aria-label', action.name || action.label);
            act.addEventListener('click', () => {
                t.remove();
                action.run();
            });
            t.append(act);
        }
        t.append(close);
        box.append(t);
        while (box.childElementCount > 3) box.firstElementChild.remove();
        setTimeout(() => t.remove(), action ? 60000 : 9000);
    }

    /*
     * Queue a sentence for the live region. Joins and leaves that arrive
     * together are summarised so that a plenary filling up is one sentence,
     * not three hundred.
     */
    announce(text, kind = 'info') {
        this.pending.push({ text, kind });
        if (!this.announceTimer) {
            this.announceTimer = setTimeout(() => this._flushAnnounce(), 300);
        }
    }

    _flushAnnounce() {
        this.announceTimer = null;
        const items = this.pending;
        this.pending = [];
        if (!items.length) return;
        const joins = items.filter((x) => x.kind === 'join');
        const leaves = items.filter((x) => x.kind === 'leave');
        const rest = items.filter((x) => x.kind !== 'join' && x.kind !== 'leave');
        const out = [];
        if (joins.length > 3) out.push(`${joins.length} people joined.`);
        else out.push(...joins.map((x) => x.text));
        if (leaves.length > 3) out.push(`${leaves.length} people left.`);
        else out.push(...leaves.map((x) => x.text));
        out.push(...rest.slice(-5).map((x) => x.text));
        let sentence = out.join(' ');
        if (sentence === this.lastAnnounce) sentence += '\u00a0'; /* make a repeat audible */
        this.lastAnnounce = sentence;
        const region = $('announcer');
        region.textContent = sentence;
        /* keep a short visible echo for sighted keyboard users too */
        $('activity').textContent = out[out.length - 1] || '';
        /* leave time for screen readers before the next sentence */
        this.announceTimer = setTimeout(() => {
            this.announceTimer = null;
            if (this.pending.length) this._flushAnnounce();
        }, ANNOUNCE_MS);
    }
}
