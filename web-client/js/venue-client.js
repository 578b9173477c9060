/*
 * venue-client.js - the venue.v1 connection and the state it implies.
 *
 * Owns: one WebSocket to venued, the hello/welcome handshake, joining rooms,
 * the resume token and automatic reconnect (exponential backoff with
 * jitter), rate-limited pose sending, and the client-side mirror of the
 * server state: who I am, the room I am in, its roster, the rooms list with
 * live counts and the room's recent chat; moderation requests (`mod`) and
 * what moderation does to me (kicked, muted, moved, a breakout), room
 * settings, announcements, an overflow room's relayed stage, and the live
 * city data (digital twins) that my room's showcases show; the programme
 * (sessions in time, my starred ones, reminders) and the stage of my
 * room's live session (slides, captions, questions, the floor); and what
 * the server says about voice: where to connect, whether I may speak,
 * whose voices to hear (the media itself is voice.js's).
 *
 * It has no DOM in it: the browser page, Node tests and other front ends use
 * it alike. Pass a WebSocket constructor (e.g. `ws`'s) and a fetch function
 * when the globals are missing. Events are dispatched as CustomEvents whose
 * `detail` carries the data; see protocol/PROTOCOL.md, "JavaScript client
 * module", for the list.
 */

import { decodePoses, encodePose, normBounds } from './poses-binary.js';

export const SUBPROTOCOL = 'venue.v1';

/* Close codes after which reconnecting would be wrong or pointless. */
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_RESUMED_ELSEWHERE = 4002;
const CLOSE_REMOVED = 4003;

/* Roles in rank order (PROTOCOL.md, "Registration, roles and moderation"). */
export const ROLES = ['guest', 'attendee', 'speaker', 'moderator', 'admin'];

export function roleRank(role) {
    const i = ROLES.indexOf(role);
    return i < 0 ? 0 : i;
}

/* Whether a role may moderate at all. */
export function canModerate(role) {
    return roleRank(role) >= roleRank('moderator');
}

/* The mod fields the server knows; anything else is left out of the message. */
const MOD_FIELDS = ['target', 'room', 'reason', 'minutes', 'text', 'capacity', 'rooms', 'targets', 'session', 'question', 'seconds', 'message'];
const ANNOUNCE_KEEP = 20;
const CAPTIONS_KEEP = 20;

const CHAT_KEEP = 200; /* messages kept per room */
const DM_KEEP = 100; /* direct messages kept per conversation */
const DM_CONVERSATIONS = 30; /* conversations kept, the most recent */
const REPORTS_KEEP = 20; /* reports a moderator keeps */
export const REACTIONS = ['applause', 'thumbs_up', 'heart', 'laugh'];
const STORE_KEY = 'venue.session';
const REQUEST_TIMEOUT_MS = 10000;

/* A readable sentence for each protocol error code. */
const ERROR_TEXT = {
    bad_request: 'The server could not understand a request from this page. Reload the page; if it happens again, tell the organisers.',
    unknown_type: 'The server does not know this kind of request. Reload the page to get the current version.',
    not_in_room: 'You are not in a room right now: choose one from the Rooms list.',
    not_found: 'That room or session does not exist. Choose one from the Rooms list or the Programme.',
    room_full: 'That room is full right now.',
    rate_limited: 'Slow down a little: too many messages at once.',
    forbidden: 'You are not allowed to do that.',
    unauthorized: 'This venue needs a valid invitation token.',
    too_large: 'That message is too long.',
    busy: 'The venue is busy saving other changes, so nothing was changed. Try again in a moment.',
    unavailable: 'The venue could not save that just now, so nothing was changed. Try again later.',
    name_taken: 'That name belongs to a registered participant of this venue: choose another name. If it is yours, open your invitation link.',
};

/* A rejected request: message is the readable text; the server's own words stay in serverMessage. */
function asError(err) {
    return Object.assign(new Error(err.text), { code: err.code, serverMessage: err.message, re: err.re, text: err.text });
}

export function describeError(code, message) {
    const base = ERROR_TEXT[code] || 'Something went wrong.';
    /* For a refusal the server's words say why (locked, banned, muted, full). */
    const why = code === 'forbidden' || code === 'room_full' || !ERROR_TEXT[code];
    return message && why ? `${base} (${message})` : base;
}

/* What to tell someone a moderator removed from the venue. */
export function removedText(kicked) {
    const reason = kicked && kicked.reason ? kicked.reason : '';
    return `A moderator removed you from the venue${reason ? `: “${reason}”` : '.'}` +
        (reason && !/[.!?]$/.test(reason) ? '.' : '') + ' You will not be reconnected.';
}

/* Yaw (radians, about +Y) of a quaternion [x, y, z, w]. */
export function yawOf(q) {
    const [x, y, z, w] = q;
    return Math.atan2(2 * (w * y + x * z), 1 - 2 * (y * y + x * x));
}

/* Unit quaternion [x, y, z, w] for a turn of yaw radians about +Y. */
export function quatOfYaw(yaw, out = [0, 0, 0, 1]) {
    out[0] = 0;
    out[1] = Math.sin(yaw / 2);
    out[2] = 0;
    out[3] = Math.cos(yaw / 2);
    return out;
}

function vec(a, n, fallback) {
    if (!Array.isArray(a) || a.length !== n) return fallback.slice();
    return a.map((v, i) => (Number.isFinite(+v) ? +v : fallback[i]));
}

/* One roster entry in the shape the rest of the client uses. */
export function normUser(u) {
    return {
        id: String(u.id ?? ''),
        name: String(u.name ?? ''),
        role: String(u.role ?? 'guest'),
        status: u.status === 'away' ? 'away' : 'active',
        hand: !!u.hand,
        /* when the hand went up (ms since the epoch): the hand queue's order */
        hand_at: u.hand && u.hand_at != null && Number.isFinite(+u.hand_at) ? +u.hand_at : null,
        muted: u.muted === true,
        /* Janus hears them speaking now (relayed by venued) */
        talking: u.talking === true,
        /* the index in the room's binary poses frames, while in a room */
        ix: Number.isInteger(u.ix) ? u.ix : null,
        p: vec(u.p, 3, [0, 0, 0]),
        q: vec(u.q, 4, [0, 0, 0, 1]),
    };
}

function normRoom(r) {
    return {
        id: String(r.id ?? ''),
        name: String(r.name ?? r.id ?? ''),
        description: r.description == null ? '' : String(r.description),
        count: Number.isFinite(+r.count) ? +r.count : 0,
        capacity: Number.isFinite(+r.capacity) ? +r.capacity : 0,
        scene: r.scene == null ? `/api/scenes/${r.id}` : String(r.scene),
        /* null: not known (only the `room` message of my own room tells) */
        locked: typeof r.locked === 'boolean' ? r.locked : null,
    };
}

/* Chat frames: {room, from:{id,name,role}} or the flat from_id/from_name form. */
function normChat(m, myId) {
    const from = m.from && typeof m.from === 'object' ? m.from : null;
    const id = String(from ? from.id : m.from_id ?? m.from ?? m.id ?? '');
    const name = String(from ? from.name : m.from_name ?? m.name ?? '');
    const ts = Number.isFinite(+m.ts) ? +m.ts : Number.isFinite(+m.ts_ms) ? +m.ts_ms : Date.now();
    const msg = Number.isInteger(m.msg) ? m.msg : null;
    /* '' when the server did not say (an older venued): no guest mark then */
    const role = String(from && from.role != null ? from.role : '');
    return { room: String(m.room ?? ''), msg, from: id, name, role, text: String(m.text ?? ''), ts, mine: id === myId };
}

/* A direct message, from the side of whoever I am: `with` is the other person. */
function normDm(m, myId) {
    const from = normPerson(m.from);
    const to = normPerson(m.to);
    const mine = from.id === myId;
    return {
        with: mine ? to : from, mine, text: String(m.text ?? ''), ts: Number.isFinite(+m.ts) ? +m.ts : Date.now(),
    };
}

/* {id, name} of a person the server names (a speaker, a question's author). */
function normPerson(u) {
    const o = u && typeof u === 'object' ? u : {};
    return { id: String(o.id ?? ''), name: String(o.name ?? '') };
}

function people(list) {
    return Array.isArray(list) ? list.filter((u) => u && typeof u === 'object').map(normPerson) : [];
}

/* ISO 8601 text or ms since the epoch, as ms; NaN when it is neither. */
function msOf(t) {
    if (typeof t === 'number') return t;
    return typeof t === 'string' ? Date.parse(t) : NaN;
}

const SESSION_STATES = ['scheduled', 'live', 'ended'];

/* One session of the programme (PROTOCOL.md, "The session object"), times as ms. */
function normSession(s) {
    const sl = s.slides && typeof s.slides === 'object' ? s.slides : null;
    return {
        id: String(s.id ?? ''),
        title: String(s.title ?? s.id ?? ''),
        description: s.description == null ? '' : String(s.description),
        room: String(s.room ?? ''),
        start: msOf(s.start),
        end: msOf(s.end),
        state: SESSION_STATES.includes(s.state) ? s.state : 'scheduled',
        speakers: people(s.speakers),
        moderators: people(s.moderators),
        captioners: people(s.captioners),
        slides: sl ? { pages: +sl.pages || 0, page: +sl.page || 0, url: String(sl.url ?? '') } : null,
    };
}

/* A question of a live session; `voted` is whether I voted for it (only `questions` says, and my own votes). */
function normQuestion(q, voted) {
    return {
        id: Number.isFinite(+q.id) ? +q.id : 0,
        from: normPerson(q.from),
        text: String(q.text ?? ''),
        votes: Number.isFinite(+q.votes) ? +q.votes : 0,
        answered: q.answered === true,
        ts: Number.isFinite(+q.ts) ? +q.ts : Date.now(),
        voted: typeof q.voted === 'boolean' ? q.voted : !!voted,
    };
}

/* Most votes first, then the oldest: the order moderators take them in. */
function byVotes(a, b) {
    return b.votes - a.votes || a.ts - b.ts || a.id - b.id;
}

const VOICE_STATES = ['up', 'down', 'off'];
const VOICE_RANGE = 12; /* metres, when the server does not say */

/* A Janus id (room, participant): a positive integer JavaScript holds exactly, else 0. */
function janusId(v) {
    return Number.isSafeInteger(v) && v > 0 ? v : 0;
}

/* The voice message (PROTOCOL.md, "voice") in the shape the page uses. */
export function normVoice(m) {
    /* a state this client does not know is one it cannot connect to */
    const state = VOICE_STATES.includes(m.state) ? m.state : 'down';
    const range = +m.range;
    return {
        state,
        reason: state === 'up' || m.reason == null ? '' : String(m.reason),
        url: state === 'up' && m.url != null ? String(m.url) : '',
        token: state === 'up' && m.token != null ? String(m.token) : '',
        room: state === 'up' ? janusId(m.room) : 0,
        listen: state === 'up' ? janusId(m.listen) : 0,
        id: state === 'up' ? janusId(m.id) : 0,
        mode: m.mode === 'stage' ? 'stage' : 'spatial',
        range: Number.isFinite(range) && range > 0 ? range : VOICE_RANGE,
        publish: state === 'up' && m.publish === true,
        muted: m.muted === true,
        locked: m.locked === true,
        ice: state === 'up' ? iceServers(m.ice) : [],
    };
}

/* The TURN relays of a voice message as RTCIceServer objects: only turn:
 * and turns: URLs with string credentials; anything else is left out. */
function iceServers(list) {
    if (!Array.isArray(list)) return [];
    const out = [];
    for (const s of list) {
        if (!s || typeof s !== 'object') continue;
        const urls = (Array.isArray(s.urls) ? s.urls : [s.urls])
            .filter((u) => typeof u === 'string' && /^turns?:/.test(u));
        if (urls.length && typeof s.username === 'string' && typeof s.credential === 'string') {
            out.push({ urls, username: s.username, credential: s.credential });
        }
    }
    return out;
}

/* Why I may not speak now (a normVoice with publish false), as a sentence for people. */
export function voiceBlockedText(v) {
    if (v.muted) return 'A moderator muted your microphone.';
    if (v.state !== 'up') return 'Voice is unavailable right now.';
    if (!v.room) return 'You are listening to the hall: only its stage speaks.';
    if (v.locked) return "The room's microphones are locked: only moderators, and whoever has the floor, speak.";
    if (v.mode === 'stage') return 'Only the people on stage speak here.';
    return 'You may not speak here right now.';
}

export class VenueClient extends EventTarget {
    /*
     * opts.url        ws:// or wss:// URL of /ws (required)
     * opts.name       display name for hello
     * opts.token      registration token, when the venue needs one
     * opts.WebSocket  constructor, default globalThis.WebSocket
     * opts.fetch      function, default globalThis.fetch (rooms list)
     * opts.apiBase    http(s) origin for /api/venue, default from url
     * opts.backoff    {baseMs: 500, maxMs: 15000}
     * opts.random     () => [0,1), for tests
     * opts.storage    a Storage (the page's sessionStorage): the resume token,
     *                 and the session are kept there, so that a reload (or a
     *                 duplicated tab) resumes the same session
     * opts.browser    this browser's id (hello.browser), kept by the page
     * opts.poses      'binary' (default) or 'json': how poses frames travel
     *                 (PROTOCOL.md, "Binary poses")
     */
    constructor(opts = {}) {
        super();
        if (!opts.url) throw new TypeError('VenueClient: url is required');
        this.url = opts.url;
        this.name = opts.name || '';
        this.token = opts.token || '';
        this.WS = opts.WebSocket || globalThis.WebSocket;
        this.fetchFn = opts.fetch || (globalThis.fetch ? globalThis.fetch.bind(globalThis) : null);
        this.apiBase = opts.apiBase || this.url.replace(/^ws/, 'http').replace(/\/ws\/?$/, '');
        this.backoff = { baseMs: 500, maxMs: 15000, ...(opts.backoff || {}) };
        this.random = opts.random || Math.random;
        this.storage = opts.storage || null;
        this.browser = opts.browser || '';
        this.posesWanted = opts.poses === 'json' ? 'json' : 'binary';
        this.posesFormat = 'json'; /* what welcome said is in force */
        this._bounds = null; /* my room's, for binary poses (joined.bounds) */
        this._ixIds = new Map(); /* my room's binary poses index -> user id */

        this.state = 'idle'; /* idle | connecting | open | reconnecting | closed */
        this.ws = null;
        this.session = null;
        this.resumeToken = null;
        this.me = null; /* normUser of myself, p/q as last known */
        this.tickHz = 20;
        this.room = null; /* {id, name, scene} */
        this.roster = new Map(); /* id -> normUser, includes me */
        this.rooms = []; /* normRoom[] */
        this.chatLog = new Map(); /* room id -> [{room, msg, from, name, text, ts, mine}] */
        this.lastError = null;
        this.roomState = null; /* {room, locked, capacity} of my room, from `room` messages */
        this.breakout = null; /* {room, returnTo, ends} while I am sent to a breakout */
        this.breakoutViews = new Map(); /* from room -> {from, by, ends, minutes, rooms}: breakouts I moderate */
        /* {hall, users: Map id -> normUser, bounds, ixIds: Map ix -> id}: the hall's stage, in an overflow room */
        this.stage = null;
        this.announcements = []; /* the last few {from, name, text, room, ts} */
        this.kicked = null; /* {reason, room} once a moderator removed me from the venue */
        /* entity id -> {etype, attrs: {name: {value, unit, observedAt, receivedAt}}}: my room's live data */
        this.twins = new Map();
        this.programme = []; /* normSession[], by start */
        this.stars = new Set(); /* ids of the sessions I starred (registered participants) */
        /* the stage of my room's live session (an overflow room: its hall's) */
        this.slides = null; /* {session, room, pages, page, url} */
        this.questions = new Map(); /* question id -> normQuestion, of questionsFor's session */
        this.questionsFor = null; /* {session, room}: whose questions those are */
        this.floor = null; /* {room, user: {id, name}, until} while someone holds the floor */
        this.captions = []; /* the last few {session, room, from: {id, name}, text, ts} */
        this.voice = null; /* normVoice, as the server last said; null before it did (or no voice at all) */
        this.voicePeers = null; /* {room, peers: [{id, user}]}: whom to hear in voice.listen, nearest first */
        /* user id -> {with: {id, name}, lines: [{mine, text, ts}], unread}: direct messages, most recent last */
        this.conversations = new Map();
        this.blocked = new Set(); /* ids of the people whose direct messages I block */
        this.reports = []; /* moderators: the last few {from, about, room, reason, messages, ts} */
        this.privacy = null; /* {findable, dms}: my privacy settings as the server last said; null before */

        this._wantRoom = null; /* the room to be in after a reconnect */
        this._wantHand = false;
        this._wantStatus = 'active';
        this._nextId = 1;
        this._pending = new Map(); /* message id -> {type, resolve, reject, timer} */
        this._attempt = 0;
        this._retryTimer = null;
        this._helloId = null;
        this._resuming = false;
        this._stopped = false;
        this._pose = { p: null, q: null, sentP: null, sentQ: null, lastSent: 0, timer: null };
        this._stored = null; /* {session} of the session a stored resume token belongs to */
        this._load();
    }

    /* ---- what survives a reload (opts.storage) -------------------------- */

    /* The session a reload left in storage: resume it on connect. */
    _load() {
        let saved = null;
        try {
            saved = this.storage && JSON.parse(this.storage.getItem(STORE_KEY) || 'null');
        } catch {
            saved = null;
        }
        if (!saved || typeof saved.resume !== 'string' || typeof saved.session !== 'string') return;
        this.resumeToken = saved.resume;
        this._stored = { session: saved.session };
        for (const c of Array.isArray(saved.dms) ? saved.dms : []) {
            if (c && c.with && typeof c.with.id === 'string' && Array.isArray(c.lines)) {
                this.conversations.set(c.with.id, { with: normPerson(c.with), lines: c.lines.slice(-DM_KEEP), unread: 0 });
            }
        }
    }

    /* Whether a reload left a session to resume. */
    get hasStoredSession() {
        return !!this._stored;
    }

    _save() {
        if (!this.storage) return;
        try {
            if (!this.session || !this.resumeToken) {
                this.storage.removeItem(STORE_KEY);
                return;
            }
            const dms = [...this.conversations.values()].map((c) => ({ with: c.with, lines: c.lines }));
            this.storage.setItem(STORE_KEY, JSON.stringify({ session: this.session, resume: this.resumeToken, dms }));
        } catch {
            /* storage full or refused: a reload starts anew */
        }
    }

    /* Write what a reload needs now (the page calls it on pagehide). */
    persist() {
        if (!this._stopped) this._save();
    }

    /* The session is over for good: a reload must not try it. */
    _forget() {
        this._stored = null;
        if (!this.storage) return;
        try {
            this.storage.removeItem(STORE_KEY);
        } catch {
            /* nothing kept */
        }
    }

    /* ---- events --------------------------------------------------------- */

    _emit(type, detail) {
        this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    /* on('chat', fn) is addEventListener with fn receiving the detail. */
    on(type, fn) {
        const h = (ev) => fn(ev.detail);
        this.addEventListener(type, h);
        return () => this.removeEventListener(type, h);
    }

    _setState(state, extra = {}) {
        this.state = state;
        this._emit('status', { state, ...extra });
    }

    /* ---- connection ----------------------------------------------------- */

    /*
     * Open the connection and say hello. Resolves with the welcome message;
     * rejects if the server refuses the hello (e.g. unauthorized). After the
     * first welcome, drops are repaired by reconnecting on their own.
     */
    connect({ name, token, room } = {}) {
        if (name != null) this.name = name;
        if (token != null) this.token = token;
        if (room) this._wantRoom = room;
        this._stopped = false;
        return new Promise((resolve, reject) => {
            this._firstWelcome = { resolve, reject };
            this._open();
        });
    }

    _open() {
        clearTimeout(this._retryTimer);
        this._retryTimer = null;
        this._setState(this.session ? 'reconnecting' : 'connecting', { attempt: this._attempt });
        let ws;
        try {
            ws = new this.WS(this.url, SUBPROTOCOL);
        } catch (err) {
            this._onClose({ code: 1006, reason: String(err && err.message) });
            return;
        }
        this.ws = ws;
        ws.binaryType = 'arraybuffer';
        ws.addEventListener('open', () => {
            if (this.ws !== ws) return;
            this._hello();
        });
        ws.addEventListener('message', (ev) => {
            if (this.ws !== ws) return;
            if (typeof ev.data === 'string') this._onText(ev.data);
            else this._onBinary(ev.data);
        });
        ws.addEventListener('close', (ev) => {
            if (this.ws !== ws) return;
            this.ws = null;
            this._onClose(ev);
        });
        ws.addEventListener('error', () => {
            /* a close event always follows; nothing to do here */
        });
    }

    _hello() {
        const msg = { type: 'hello', name: this.name, poses: this.posesWanted };
        if (this.token) msg.token = this.token;
        if (this.browser) msg.browser = this.browser;
        this._resuming = !!this.resumeToken;
        if (this.resumeToken) msg.resume = this.resumeToken;
        this._helloId = this._nextId++;
        msg.id = this._helloId;
        this._send(msg);
    }

    _onClose(ev) {
        const code = ev && ev.code;
        this._failPending('disconnected');
        this._stopPoseTimer();
        /* A kicked message stops reconnecting before its 4003 arrives. */
        if (this._stopped && !(this.kicked && code === CLOSE_REMOVED)) {
            this._setVoice(null);
            this._setState('closed', { code });
            return;
        }
        /* PROTOCOL.md: after 4002 or 4003 never reconnect; after 4001, 1009
         * or 1008 "flooding" not without changing what we do. A 1008 for
         * being too slow is repaired by resuming: the server sends a snapshot. */
        const why = String((ev && ev.reason) || '');
        const flooding = code === 1008 && /flood/i.test(why);
        if (code === CLOSE_RESUMED_ELSEWHERE || code === CLOSE_UNAUTHORIZED || code === CLOSE_REMOVED ||
            code === 1009 || flooding) {
            this._stopped = true;
            let reason;
            if (code === CLOSE_RESUMED_ELSEWHERE) reason = 'This session was opened in another tab or window.';
            else if (code === CLOSE_REMOVED) reason = removedText(this.kicked);
            else if (code === CLOSE_UNAUTHORIZED && this.session) {
                /* a session that was fine until now: the registration went */
                reason = `Your invitation is no longer valid${why ? ` (${why})` : ''}. Ask the organisers for a new link.`;
            } else if (code === CLOSE_UNAUTHORIZED) reason = ERROR_TEXT.unauthorized;
            else reason = 'The server closed the connection because this page sent too much. Reload the page to come back.';
            if (code === CLOSE_REMOVED || code === CLOSE_UNAUTHORIZED) this._clearRoom();
            /* 4002: the session lives on in the other tab; 4001, 4003, 1009, flooding: it is over here */
            if (code !== CLOSE_RESUMED_ELSEWHERE) this._forget();
            this._setVoice(null);
            const kicked = code === CLOSE_REMOVED ? this.kicked || (this.kicked = { reason: '', room: null }) : undefined;
            this._setState('closed', { code, reason, kicked });
            this._rejectFirst(Object.assign(new Error(reason), { code: 'closed', closeCode: code }));
            return;
        }
        const delay = this._nextDelay();
        this._attempt++;
        this._setState('reconnecting', { code, attempt: this._attempt, delay });
        this._retryTimer = setTimeout(() => this._open(), delay);
    }

    /* Exponential backoff with "equal jitter": half fixed, half random. */
    _nextDelay() {
        const exp = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this._attempt, 16));
        return Math.round(exp / 2 + this.random() * (exp / 2));
    }

    /* Reconnect now instead of waiting for the backoff timer. */
    retryNow() {
        if (this.state === 'reconnecting' && this._retryTimer) {
            this._open();
        }
    }

    /* Leave for good: no reconnect. */
    close() {
        this._stopped = true;
        this._forget();
        clearTimeout(this._retryTimer);
        this._stopPoseTimer();
        if (this.ws) {
            try {
                this.ws.close(1000, 'bye');
            } catch {
                /* already closing */
            }
        } else {
            this._setVoice(null);
            this._setState('closed', {});
        }
    }

    _rejectFirst(err) {
        if (this._firstWelcome) {
            this._firstWelcome.reject(err);
            this._firstWelcome = null;
        }
    }

    _send(msg) {
        return this._sendRaw(JSON.stringify(msg));
    }

    /* A string goes as a text message, an ArrayBuffer as a binary one. */
    _sendRaw(data) {
        const ws = this.ws;
        if (!ws || ws.readyState !== 1) return false;
        ws.send(data);
        return true;
    }

    /*
     * A request whose reply carries "re": resolves with it, rejects on error.
     * echo(m), for a request the server answers only by its broadcast (which
     * reaches the sender too, without "re"): whether m is that broadcast;
     * the oldest such request of the type it matches is settled by it.
     */
    _request(msg, type, echo = null) {
        return new Promise((resolve, reject) => {
            const id = this._nextId++;
            msg.id = id;
            if (!this._send(msg)) {
                reject(Object.assign(new Error('Not connected to the venue.'), { code: 'disconnected' }));
                return;
            }
            const timer = setTimeout(() => {
                this._pending.delete(id);
                reject(Object.assign(new Error('The server did not answer in time.'), { code: 'timeout' }));
            }, REQUEST_TIMEOUT_MS);
            this._pending.set(id, { type, resolve, reject, timer, echo });
        });
    }

    _settle(re, ok, value) {
        if (re == null) return false;
        const p = this._pending.get(re);
        if (!p) return false;
        this._pending.delete(re);
        clearTimeout(p.timer);
        if (ok) p.resolve(value);
        else p.reject(value);
        return true;
    }

    /* A broadcast that answers my own request of this type: settle the oldest one it matches. */
    _settleEcho(type, m, value) {
        for (const [id, p] of this._pending) {
            if (p.type === type && p.echo && p.echo(m)) return this._settle(id, true, value);
        }
        return false;
    }

    _failPending(code) {
        for (const [, p] of this._pending) {
            clearTimeout(p.timer);
            p.reject(Object.assign(new Error('The connection dropped.'), { code }));
        }
        this._pending.clear();
    }

    /* ---- requests ------------------------------------------------------- */

    /*
     * Join (or re-join) a room. opts.near: a user id to arrive beside (when
     * they are in that room). Resolves with {room, roster, near}; near is
     * {user, placed, reason} when asked for.
     */
    join(room, opts = {}) {
        this._wantRoom = room;
        const msg = { type: 'join', room };
        if (opts.near) msg.near = String(opts.near);
        return this._request(msg, 'join');
    }

    /*
     * Find people across the venue whose name holds q (PROTOCOL.md, "find").
     * Resolves with {q, people: [{user, name, role, room, roomName}], truncated}.
     */
    find(q) {
        return this._request({ type: 'find', q: String(q) }, 'find');
    }

    /* Change my privacy settings ({findable, dms}, either or both). Resolves with the settings in force. */
    setPrivacy(fields) {
        const msg = { type: 'privacy' };
        for (const k of ['findable', 'dms']) if (typeof fields[k] === 'boolean') msg[k] = fields[k];
        return this._request(msg, 'privacy');
    }

    leave() {
        this._wantRoom = null;
        return this._request({ type: 'leave' }, 'leave');
    }

    chat(text) {
        const t = String(text).trim();
        if (!t) return false;
        if (!this.room) return false;
        return this._send({ type: 'chat', text: t });
    }

    setHand(up) {
        this._wantHand = !!up;
        if (this.me) this._updateMe({ hand: this._wantHand });
        return this._send({ type: 'hand', up: this._wantHand });
    }

    setStatus(status) {
        this._wantStatus = status === 'away' ? 'away' : 'active';
        if (this.me) this._updateMe({ status: this._wantStatus });
        return this._send({ type: 'status', status: this._wantStatus });
    }

    /*
     * A moderation request (PROTOCOL.md, "mod"): action plus the fields it
     * needs ({target, room, reason, minutes, text, capacity, rooms,
     * targets}); empty ones are left out. Resolves with {action} on mod_ok,
     * rejects with an Error (code, readable message, serverMessage).
     */
    mod(action, fields = {}) {
        const msg = { type: 'mod', action: String(action) };
        for (const k of MOD_FIELDS) {
            const v = fields[k];
            if (v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)) continue;
            msg[k] = v;
        }
        return this._request(msg, 'mod');
    }

    /* ---- people to people: reactions, direct messages, blocks, reports -- */

    /* A reaction in my room (one of REACTIONS); no reply: `reactions` comes at the tick. */
    react(kind) {
        return REACTIONS.includes(kind) && !!this.room && this._send({ type: 'react', kind });
    }

    /* Resolves with the dm as I hear it ({with, mine, text, ts}); rejects with the server's reason. */
    dm(to, text) {
        return this._request({ type: 'dm', to: String(to), text: String(text) }, 'dm');
    }

    /* Block (on) or let in again a person's direct messages. Resolves with the blocked Set. */
    block(user, on = true) {
        return this._request({ type: 'block', user: String(user), on: !!on }, 'block');
    }

    /* Tell the moderators. Resolves with {user, moderators}: how many were told. */
    report(user, reason = '') {
        const msg = { type: 'report', user: String(user) };
        if (reason) msg.reason = String(reason);
        return this._request(msg, 'report');
    }

    conversationWith(userId) {
        return this.conversations.get(userId) || null;
    }

    /* ---- the programme and the stage ------------------------------------ */

    /* Star (on) or unstar a session. Resolves with `stars` (a Set of ids) on the server's reply. */
    star(session, on) {
        return this._request({ type: 'star', session: String(session), on: !!on }, 'star');
    }

    /* Turn my room's slides to page (1-based). Resolves with `slides` once every client hears it. */
    turnSlide(page) {
        const n = Math.trunc(+page);
        /* the server says nothing to a turn to the page shown: there is nothing to wait for */
        if (this.slides && this.slides.page === n) return Promise.resolve({ ...this.slides });
        return this._request({ type: 'slide', page: n }, 'slide', (m) => m.page === n);
    }

    /* A caption line for my room's live session. Resolves with the caption as everyone got it. */
    caption(text) {
        return this._request({ type: 'caption', text: String(text) }, 'caption', (m) => this._mine(m.from));
    }

    /* A question to my room's live session. Resolves with the question (its id) once it is in. */
    ask(text) {
        return this._request({ type: 'ask', text: String(text) }, 'ask',
            (m) => this._mine(m.question && m.question.from) && !this.questions.has(+m.question.id));
    }

    /* Vote for a question. Resolves with the question and its new count. */
    vote(question) {
        const id = Math.trunc(+question);
        /* the count goes up with my vote: the question's own news (asked, answered) does not answer it */
        const known = this.questions.get(id);
        const before = known ? known.votes : 0;
        return this._request({ type: 'vote', question: id }, 'vote',
            (m) => m.question && +m.question.id === id && +m.question.votes > before);
    }

    _mine(from) {
        return !!(this.me && from && typeof from === 'object' && String(from.id) === this.me.id);
    }

    _sessionOf(id) {
        return this.programme.find((s) => s.id === id) || null;
    }

    /* The live session in a room (default: mine), or null. */
    liveSession(room = this.room && this.room.id) {
        return this.programme.find((s) => s.room === room && s.state === 'live') || null;
    }

    /* The next session still to come in a room (default: mine), or null. */
    nextSession(room = this.room && this.room.id) {
        /* the programme is sorted by start: the first scheduled one is next */
        return this.programme.find((s) => s.room === room && s.state === 'scheduled') || null;
    }

    _listed(session, key) {
        const s = typeof session === 'string' ? this._sessionOf(session) : session;
        return !!(s && this.me && s[key].some((u) => u.id === this.me.id));
    }

    /* Whether I am one of a session's (an object or an id) speakers, moderators, captioners. */
    isSpeaker(session) {
        return this._listed(session, 'speakers');
    }

    isModerator(session) {
        return this._listed(session, 'moderators');
    }

    isCaptioner(session) {
        return this._listed(session, 'captioners');
    }

    /* My room's questions, most votes first, then the oldest. */
    questionsByVotes() {
        return [...this.questions.values()].sort(byVotes);
    }

    /* Raised hands in my room, first raised first: the hand queue. */
    handQueue() {
        return [...this.roster.values()]
            .filter((u) => u.hand)
            .sort((a, b) => (a.hand_at ?? Infinity) - (b.hand_at ?? Infinity) || a.name.localeCompare(b.name));
    }

    /* I may moderate (my role is moderator or admin). */
    get canModerate() {
        return !!(this.me && canModerate(this.me.role));
    }

    _updateMe(fields) {
        Object.assign(this.me, fields);
        const r = this.roster.get(this.me.id);
        if (r) {
            Object.assign(r, fields);
            this._emit('presence', { event: 'update', user: r, room: this.room && this.room.id, self: true });
        }
    }

    /*
     * Report my pose. Sent at most tickHz times a second and only when it
     * changed (1 mm, ~0.01 degree); the latest pose always goes out.
     */
    sendPose(p, q) {
        const s = this._pose;
        s.p = [+p[0], +p[1], +p[2]];
        s.q = [+q[0], +q[1], +q[2], +q[3]];
        if (this.me) {
            this.me.p = s.p;
            this.me.q = s.q;
        }
        this._flushPose();
    }

    _poseChanged() {
        const s = this._pose;
        if (!s.p) return false;
        if (!s.sentP) return true;
        for (let i = 0; i < 3; i++) if (Math.abs(s.p[i] - s.sentP[i]) > 0.001) return true;
        for (let i = 0; i < 4; i++) if (Math.abs(s.q[i] - s.sentQ[i]) > 0.0001) return true;
        return false;
    }

    _flushPose() {
        const s = this._pose;
        if (!this.room || !this._poseChanged() || s.timer) return;
        const interval = 1000 / Math.max(1, this.tickHz);
        const now = Date.now();
        const wait = s.lastSent + interval - now;
        if (wait > 0) {
            s.timer = setTimeout(() => {
                s.timer = null;
                this._flushPose();
            }, wait);
            return;
        }
        const sent = this.posesFormat === 'binary' && this._bounds
            ? this._sendRaw(encodePose(s.p, s.q, this._bounds))
            : this._send({ type: 'pose', p: s.p, q: s.q });
        if (sent) {
            s.sentP = s.p;
            s.sentQ = s.q;
            s.lastSent = now;
        }
    }

    _stopPoseTimer() {
        clearTimeout(this._pose.timer);
        this._pose.timer = null;
    }

    /* I am in no room any more (removed from it, or from the venue). */
    _clearRoom() {
        const had = this.room ? this.room.id : null;
        this.room = null;
        this.roster.clear();
        this._ixIds.clear();
        this._bounds = null;
        this.roomState = null;
        this.twins.clear();
        this._stopPoseTimer();
        this._setStage(null);
        this._clearSessionStage();
        this._setVoicePeers(null);
        return had;
    }

    /* Adopt a pose the server decided (spawn, correction): no echo back. */
    _acceptPose(p, q) {
        const s = this._pose;
        s.p = s.sentP = p.slice();
        s.q = s.sentQ = q.slice();
        this._stopPoseTimer();
        if (this.me) {
            this.me.p = p.slice();
            this.me.q = q.slice();
        }
    }

    /* Fetch /api/venue and merge it into the rooms list. */
    async refreshRooms() {
        if (!this.fetchFn) return this.rooms;
        const res = await this.fetchFn(`${this.apiBase}/api/venue`, { cache: 'no-store' });
        if (!res.ok) throw new Error(`/api/venue: HTTP ${res.status}`);
        const body = await res.json();
        if (body && Array.isArray(body.rooms)) {
            this.rooms = body.rooms.map(normRoom);
            this._fixOwnCount();
            this._applyRoomState();
            this._emit('rooms', { rooms: this.rooms });
        }
        return this.rooms;
    }

    /* A room's lock and capacity, as its last `room` message said (default: my room's). */
    _applyRoomState(st = this.roomState) {
        if (!st) return;
        const r = this.rooms.find((x) => x.id === st.room);
        if (r) {
            r.locked = st.locked;
            if (st.capacity > 0) r.capacity = st.capacity;
        }
    }

    /* The count for my own room is what my roster says: it is live. */
    _fixOwnCount() {
        if (!this.room) return;
        const r = this.rooms.find((x) => x.id === this.room.id);
        if (r) r.count = this.roster.size;
    }

    chatFor(room) {
        return this.chatLog.get(room) || [];
    }

    /* ---- incoming ------------------------------------------------------- */

    _onText(data) {
        let m;
        try {
            m = JSON.parse(typeof data === 'string' ? data : String(data));
        } catch {
            this._emit('error', { code: 'bad_frame', message: 'The server sent something unreadable.' });
            return;
        }
        if (!m || typeof m.type !== 'string') return;
        switch (m.type) {
            case 'welcome':
                return this._onWelcome(m);
            case 'joined':
                return this._onJoined(m);
            case 'left':
                return this._onLeft(m);
            case 'presence':
                return this._onPresence(m);
            case 'presence_batch':
                return this._onPresenceBatch(m);
            case 'poses':
                return this._onPoses(m);
            case 'pose':
                return this._onPoseFix(m);
            case 'chat':
                return this._onChat(m);
            case 'chat_history':
                return this._onChatHistory(m);
            case 'chat_deleted':
                return this._onChatDeleted(m);
            case 'scene':
                return this._emit('scene', { room: String(m.room ?? ''), scene: String(m.scene ?? '') });
            case 'mod_ok':
                this._settle(m.re, true, { action: String(m.action ?? ''), re: m.re });
                return undefined;
            case 'kicked':
                return this._onKicked(m);
            case 'announce':
                return this._onAnnounce(m);
            case 'room':
                return this._onRoomState(m);
            case 'breakout':
                return this._onBreakout(m);
            case 'breakout_view':
                return this._onBreakoutView(m);
            case 'stage':
                return this._onStage(m);
            case 'twin':
                return this._onTwin(m);
            case 'programme':
                return this._onProgramme(m);
            case 'session':
                return this._onSessionState(m);
            case 'stars':
                return this._onStars(m);
            case 'reminder':
                return this._emit('reminder', {
                    session: String(m.session ?? ''), title: String(m.title ?? ''), room: String(m.room ?? ''), start: msOf(m.start),
                });
            case 'slides':
                return this._onSlides(m);
            case 'caption':
                return this._onCaption(m);
            case 'questions':
                return this._onQuestions(m);
            case 'question':
                return this._onQuestion(m);
            case 'floor':
                return this._onFloor(m);
            case 'voice':
                return this._setVoice(normVoice(m));
            case 'voice_peers':
                return this._onVoicePeers(m);
            case 'reactions':
                return this._onReactions(m);
            case 'dm':
                return this._onDm(m);
            case 'blocks':
                this.blocked = new Set(Array.isArray(m.users) ? m.users.map(String) : []);
                this._settle(m.re, true, this.blocked);
                return this._emit('blocks', { blocked: this.blocked });
            case 'report':
                return this._onReport(m);
            case 'reported':
                this._settle(m.re, true, { user: String(m.user ?? ''), moderators: +m.moderators || 0 });
                return undefined;
            case 'found':
                return this._onFound(m);
            case 'privacy':
                return this._onPrivacy(m);
            case 'error':
                return this._onError(m);
            default:
                /* newer servers may add types: ignore them */
                return undefined;
        }
    }

    _onWelcome(m) {
        const known = this.session || (this._stored && this._stored.session);
        const resumed = this._resuming && !!known && m.session === known;
        this._stored = null;
        this._resuming = false;
        this._attempt = 0;
        this.session = m.session ?? null;
        this.resumeToken = m.resume ?? m.resume_token ?? this.resumeToken;
        const before = this.me;
        if (m.user) this.me = normUser(m.user);
        else this.me = normUser({ id: m.id ?? m.session, name: this.name });
        /* welcome says nothing about a mute: keep what we knew of this person */
        if (before && before.id === this.me.id) this.me.muted = before.muted;
        this._meChanged(before, 'welcome');
        this.posesFormat = m.poses === 'binary' ? 'binary' : 'json';
        const hz = +(m.tick_hz ?? m.tickHz ?? m.tick);
        if (Number.isFinite(hz) && hz > 0) this.tickHz = hz;
        if (Array.isArray(m.rooms)) this.rooms = m.rooms.map(normRoom);
        this._save();
        this._setState('open', { resumed });
        this._emit('welcome', { resumed, me: this.me, rooms: this.rooms, msg: m });
        if (this.rooms.length) this._emit('rooms', { rooms: this.rooms });
        if (this._firstWelcome) {
            this._firstWelcome.resolve(m);
            this._firstWelcome = null;
        }
        /* A breakout may have ended while I was away (or with the server):
         * a running one is sent again to a moderator who resumed. */
        for (const from of [...this.breakoutViews.keys()]) this._dropBreakoutView(from);
        /* A resumed session gets a fresh joined on its own. A new session
         * (first connect, or the server forgot us) joins where we were. */
        if (!resumed) {
            this.room = null;
            this.roster.clear();
            this.roomState = null;
            this.twins.clear();
            this._setStage(null);
            this._clearSessionStage();
            /* the old session's voice token is no good: the server sends a new one */
            this._setVoice(null);
            if (this._wantRoom) {
                this.join(this._wantRoom).catch((err) => {
                    if (err.code !== 'disconnected') this._wantRoom = null;
                });
            }
        }
    }

    _onJoined(m) {
        const room = m.room && typeof m.room === 'object' ? m.room : { id: m.room };
        const prev = this.room ? this.room.id : null;
        this.room = {
            id: String(room.id ?? ''),
            name: String(room.name ?? room.id ?? ''),
            scene: String(room.scene ?? `/api/scenes/${room.id}`),
        };
        this._wantRoom = this.room.id;
        if (prev !== this.room.id) {
            this.roomState = null;
            this.twins.clear(); /* the new room's values follow this joined */
        }
        /* the room's slides, questions and floor follow this joined, also
         * after a resume (whatever ended meanwhile is not repeated); the
         * captions of the room I stay in are kept */
        this._clearSessionStage(prev !== this.room.id);
        /* the server sends the new room's stage after this, if it has one */
        this._setStage(null);
        this.roster.clear();
        this._ixIds.clear();
        this._bounds = normBounds(m.bounds);
        for (const u of Array.isArray(m.roster) ? m.roster : []) {
            const nu = normUser(u);
            this.roster.set(nu.id, nu);
            if (nu.ix != null) this._ixIds.set(nu.ix, nu.id);
        }
        const mine = this.me && this.roster.get(this.me.id);
        const before = this.me;
        if (mine) {
            this.me = { ...this.me, ...mine, p: mine.p.slice(), q: mine.q.slice() };
            this._acceptPose(mine.p, mine.q);
            /* a moderator may have lowered my hand while I was away */
            if (!mine.hand && before && before.hand && !this._wantHand) this.me.hand = false;
        }
        this._fixOwnCount();
        this._applyRoomState();
        if (!this.chatLog.has(this.room.id)) this.chatLog.set(this.room.id, []);
        /* Not asked for and not a resume: a portal, a moderator's move, a
         * breakout or its end. A breakout names its room in the message before. */
        let reason = m.re != null ? 'request' : prev && prev !== this.room.id ? 'portal' : 'resume';
        const bo = this.breakout;
        if (reason === 'portal' && bo) {
            if (bo.room === this.room.id && !bo.arrived) {
                reason = 'breakout';
                bo.arrived = true;
            } else if (bo.returnTo === this.room.id) {
                reason = 'recall';
            }
        }
        /* the server tells a breakout's moderators only while they are in one of its rooms */
        for (const [from, view] of [...this.breakoutViews]) {
            if (from !== this.room.id && !view.rooms.some((r) => r.id === this.room.id)) this._dropBreakoutView(from);
        }
        if (bo && bo.arrived && this.room.id === bo.returnTo) {
            this.breakout = null;
            this._emit('breakout', { active: false, room: bo.room, returnTo: bo.returnTo, ends: bo.ends });
        }
        /* A resumed session (after a drop, a restart or a reload) is the
         * server's: my hand is what its roster says, not what this page
         * remembered. A new session (the server forgot mine) gets back
         * the hand I had raised. Away is this page's own (a hidden tab). */
        if (mine && reason === 'resume') this._wantHand = mine.hand;
        this._save();
        const near = m.near && typeof m.near === 'object'
            ? { user: String(m.near.user ?? ''), placed: !!m.near.placed, reason: m.near.reason ? String(m.near.reason) : '' }
            : null;
        const detail = { room: this.room, roster: this.roster, previous: prev, reason, near, msg: m };
        this._settle(m.re, true, detail);
        this._emit('joined', detail);
        this._meChanged(before, 'joined');
        this._emit('rooms', { rooms: this.rooms });
        if (mine) {
            if (mine.hand !== this._wantHand) this.setHand(this._wantHand);
            if (mine.status !== this._wantStatus) this.setStatus(this._wantStatus);
        }
    }

    _onLeft(m) {
        const room = String(m.room ?? (this.room && this.room.id) ?? '');
        this.room = null;
        this.roster.clear();
        this.twins.clear();
        this._stopPoseTimer();
        this._clearSessionStage();
        this._setVoicePeers(null);
        this._settle(m.re, true, { room });
        this._emit('left', { room });
    }

    _onPresence(m) {
        const room = String(m.room ?? '');
        if (this.room && room && room !== this.room.id) return;
        const ev = String(m.event ?? '');
        if (!m.user) return;
        const u = normUser(m.user);
        if (ev === 'leave') {
            if (u.ix != null && this._ixIds.get(u.ix) === u.id) this._ixIds.delete(u.ix);
        } else if (u.ix != null) {
            this._ixIds.set(u.ix, u.id);
        }
        if (ev === 'join') {
            this.roster.set(u.id, u);
        } else if (ev === 'leave') {
            const old = this.roster.get(u.id);
            this.roster.delete(u.id);
            if (old && !u.name) u.name = old.name;
        } else if (ev === 'update') {
            const old = this.roster.get(u.id);
            if (old) {
                /* an update may carry a stale pose: keep the streamed one */
                old.name = u.name || old.name;
                old.role = u.role;
                old.status = u.status;
                old.hand = u.hand;
                old.hand_at = u.hand_at;
                old.muted = u.muted;
                old.talking = u.talking;
            } else {
                this.roster.set(u.id, u);
            }
        } else {
            return;
        }
        this._fixOwnCount();
        /* Presence about myself: a moderator muted me, lowered my hand or
         * changed my role. It is the server's word: take it. */
        const self = !!(this.me && u.id === this.me.id);
        if (self && ev === 'update') {
            const before = { ...this.me };
            Object.assign(this.me, { role: u.role, muted: u.muted, hand: u.hand, hand_at: u.hand_at, talking: u.talking });
            if (before.hand && !u.hand) this._wantHand = false;
            this._emit('presence', { event: ev, user: this.roster.get(u.id) || u, room, self: true, server: true });
            this._meChanged(before);
            return;
        }
        this._emit('presence', { event: ev, user: this.roster.get(u.id) || u, room });
        if (ev !== 'update') this._emit('rooms', { rooms: this.rooms });
    }

    /* A mass arrival's presence, in order; my own arrival or departure in it is old news. */
    _onPresenceBatch(m) {
        for (const e of Array.isArray(m.events) ? m.events : []) {
            if (!e || !e.user) continue;
            const self = this.me && String(e.user.id) === this.me.id;
            if (self && e.event !== 'update') continue;
            this._onPresence({ room: m.room, event: e.event, user: e.user });
        }
    }

    /* A binary message: a binary poses frame, read as the JSON one would be. */
    _onBinary(data) {
        if (!(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return;
        const stage = this.stage;
        const frame = decodePoses(data, this._bounds, stage && stage.bounds);
        if (!frame) {
            this._emit('error', { code: 'bad_frame', message: 'The server sent something unreadable.' });
            return;
        }
        const users = [];
        for (let k = 0; k < frame.entries.length; k++) {
            const e = frame.entries[k];
            const id = e.stage ? stage && stage.ixIds.get(e.ix) : this._ixIds.get(e.ix);
            if (id) users.push({ id, p: e.p, q: e.q, far: frame.near !== null && k >= frame.near });
        }
        this._onPoses({ tick: frame.tick, users });
    }

    _onPoses(m) {
        let users = Array.isArray(m.users) ? m.users : [];
        const tick = Number.isFinite(+m.tick) ? +m.tick : null;
        /* A tiered frame: who comes after its nearest tier comes seldom (motion.js glides them). */
        if (Number.isInteger(m.near) && m.near >= 0) for (let k = 0; k < users.length; k++) if (users[k] && typeof users[k] === 'object') users[k].far = k >= m.near;
        const stage = this.stage;
        /* The room's one frame holds my own entry when I moved: mine is
         * the pose I sent, not one to take back (PROTOCOL.md). */
        const mine = this.me ? users.findIndex((e) => String(e.id) === this.me.id) : -1;
        if (mine >= 0) users = users.filter((_, i) => i !== mine);
        for (const e of users) {
            const id = String(e.id);
            const u = this.roster.get(id) || (stage && stage.users.get(id));
            if (!u || !Array.isArray(e.p) || !Array.isArray(e.q)) continue;
            u.p = e.p;
            u.q = e.q;
        }
        this._emit('poses', { tick, users, tickHz: this.tickHz });
    }

    _onFound(m) {
        const people = (Array.isArray(m.people) ? m.people : []).map((p) => ({
            user: String(p.user ?? ''), name: String(p.name ?? ''), role: String(p.role ?? ''),
            room: String(p.room ?? ''), roomName: String(p.room_name ?? p.room ?? ''),
        }));
        this._settle(m.re, true, { q: String(m.q ?? ''), people, truncated: !!m.truncated });
    }

    _onPrivacy(m) {
        const before = this.privacy;
        this.privacy = { findable: m.findable !== false, dms: m.dms !== false };
        this._settle(m.re, true, this.privacy);
        this._emit('privacy', { privacy: this.privacy, previous: before, reply: m.re != null });
    }

    _onPoseFix(m) {
        const p = vec(m.p, 3, this.me ? this.me.p : [0, 0, 0]);
        const q = vec(m.q, 4, this.me ? this.me.q : [0, 0, 0, 1]);
        this._acceptPose(p, q);
        const r = this.me && this.roster.get(this.me.id);
        if (r) {
            r.p = p.slice();
            r.q = q.slice();
        }
        this._emit('pose', { p, q, reason: String(m.reason ?? '') });
    }

    _onChat(m) {
        const c = normChat(m, this.me && this.me.id);
        if (!c.room && this.room) c.room = this.room.id;
        let log = this.chatLog.get(c.room);
        if (!log) this.chatLog.set(c.room, (log = []));
        /* a resume replays what we missed; a frame we already have is a repeat */
        if (log.some((x) => x.msg === c.msg && x.ts === c.ts && x.from === c.from)) return;
        log.push(c);
        if (log.length > CHAT_KEEP) log.splice(0, log.length - CHAT_KEEP);
        this._emit('chat', c);
    }

    _onReactions(m) {
        const counts = {};
        const total = {};
        for (const k of REACTIONS) {
            counts[k] = +(m.counts && m.counts[k]) || 0;
            total[k] = +(m.total && m.total[k]) || 0;
        }
        const by = (Array.isArray(m.by) ? m.by : [])
            .filter((b) => b && REACTIONS.includes(b.kind))
            .map((b) => ({ user: String(b.user ?? ''), kind: b.kind }));
        this._emit('reactions', { room: String(m.room ?? ''), counts, total, by, more: +m.more || 0 });
    }

    _onDm(m) {
        const d = normDm(m, this.me && this.me.id);
        let c = this.conversations.get(d.with.id);
        if (!c) c = { with: d.with, lines: [], unread: 0 };
        this.conversations.delete(d.with.id); /* most recent last */
        this.conversations.set(d.with.id, c);
        c.with = d.with;
        c.lines.push({ mine: d.mine, text: d.text, ts: d.ts });
        if (c.lines.length > DM_KEEP) c.lines.splice(0, c.lines.length - DM_KEEP);
        if (!d.mine) c.unread++;
        while (this.conversations.size > DM_CONVERSATIONS) this.conversations.delete(this.conversations.keys().next().value);
        this._save();
        this._settle(m.re, true, d);
        this._emit('dm', d);
    }

    _onReport(m) {
        const r = {
            from: normPerson(m.from),
            about: normPerson(m.about),
            room: m.room == null ? null : String(m.room),
            reason: String(m.reason ?? ''),
            messages: (Array.isArray(m.messages) ? m.messages : []).map((x) => ({ text: String(x.text ?? ''), ts: +x.ts || 0 })),
            ts: +m.ts || Date.now(),
        };
        this.reports.push(r);
        if (this.reports.length > REPORTS_KEEP) this.reports.shift();
        this._emit('report', r);
    }

    /* The room's memory, after joined: it replaces what I showed of the room. */
    _onChatHistory(m) {
        const room = String(m.room ?? '');
        const myId = this.me && this.me.id;
        const lines = Array.isArray(m.lines) ? m.lines.filter((l) => l && typeof l === 'object') : [];
        this.chatLog.set(room, lines.map((l) => normChat({ ...l, room }, myId)).slice(-CHAT_KEEP));
        this._emit('chathistory', { room, lines: this.chatFor(room) });
    }

    _onChatDeleted(m) {
        const room = String(m.room ?? '');
        const log = this.chatLog.get(room);
        if (!log || !Number.isInteger(m.msg)) return;
        const at = log.findIndex((x) => x.msg === m.msg);
        if (at < 0) return;
        log.splice(at, 1);
        this._emit('chatdeleted', { room, msg: m.msg });
    }

    _onError(m) {
        const code = String(m.code ?? 'error');
        const message = String(m.message ?? '');
        const re = m.re;
        const err = { code, message, re, text: describeError(code, message) };
        this.lastError = err;
        const aboutHello =
            (re != null && re === this._helloId) ||
            (re == null && this.state !== 'open' && (this._resuming || code === 'unauthorized' || code === 'forbidden'));
        if (aboutHello) {
            this._helloId = null;
            if (code === 'rate_limited') {
                /* Too many hellos from our address (a hall behind one NAT
                 * arriving at once): the server closes, and the reconnect's
                 * backoff tries again, with the resume token if we had one. */
                this._emit('error', err);
                return;
            }
            if (this._resuming) {
                /* The server no longer knows the session (restart without a
                 * save, or too late): start a new one and re-join. */
                this._resuming = false;
                this.resumeToken = null;
                this.session = null;
                this._stored = null;
                this._emit('error', { ...err, recovered: true });
                this._hello();
                return;
            }
            /* hello refused: wrong or missing token. Do not retry. */
            this._stopped = true;
            this._emit('error', { ...err, fatal: true });
            this._rejectFirst(asError(err));
            this.close();
            return;
        }
        const pend = re != null ? this._pending.get(re) : null;
        if (pend) err.request = pend.type;
        this._settle(re, false, asError(err));
        this._emit('error', err);
    }

    /* Tell listeners what the server changed about me: role, mute, hand. */
    /* cause: 'presence' (the server changed me: a moderator, the stage) or 'joined' (a roster). */
    _meChanged(before, cause = 'presence') {
        const me = this.me;
        if (!me) return;
        const changed = {};
        const b = before || {};
        if (b.role !== me.role) changed.role = { from: b.role ?? null, to: me.role };
        if (!!b.muted !== !!me.muted) changed.muted = { from: !!b.muted, to: !!me.muted };
        if (before && !!b.hand !== !!me.hand) changed.hand = { from: !!b.hand, to: !!me.hand };
        if (Object.keys(changed).length) this._emit('me', { me, changed, first: !before, cause });
    }

    /* kicked: from my room (room set: a room ban) or the venue (room null; 4003 follows). */
    _onKicked(m) {
        const room = m.room == null ? null : String(m.room);
        const k = { reason: m.reason == null ? '' : String(m.reason), room };
        if (room === null) {
            this.kicked = k;
            this._stopped = true; /* the close that follows must not be repaired */
            clearTimeout(this._retryTimer);
        }
        let left = null;
        if (room === null || (this.room && this.room.id === room)) {
            left = this._clearRoom();
            if (room !== null) this._wantRoom = null;
        }
        this._emit('kicked', { ...k, venue: room === null });
        if (left) this._emit('left', { room: left, kicked: true });
    }

    _onAnnounce(m) {
        const from = m.from && typeof m.from === 'object' ? m.from : {};
        const a = {
            from: String(from.id ?? ''),
            name: String(from.name ?? ''),
            text: String(m.text ?? ''),
            room: m.room == null ? null : String(m.room),
            ts: Number.isFinite(+m.ts) ? +m.ts : Date.now(),
        };
        a.venue = a.room === null;
        a.mine = !!(this.me && a.from === this.me.id);
        /* a resume replays what we missed: a repeat is not news */
        if (this.announcements.some((x) => x.ts === a.ts && x.from === a.from && x.text === a.text)) return;
        this.announcements.push(a);
        if (this.announcements.length > ANNOUNCE_KEEP) this.announcements.shift();
        this._emit('announce', a);
    }

    _onRoomState(m) {
        const st = {
            room: String(m.room ?? ''),
            locked: m.locked === true,
            capacity: Number.isFinite(+m.capacity) ? +m.capacity : 0,
        };
        if (this.room && st.room === this.room.id) this.roomState = st;
        this._applyRoomState(st);
        this._emit('room', st);
        this._emit('rooms', { rooms: this.rooms });
    }

    _onBreakout(m) {
        this.breakout = {
            room: String(m.room ?? ''),
            returnTo: String(m.return_to ?? ''),
            ends: Number.isFinite(+m.ends) ? +m.ends : Date.now(),
            arrived: false,
        };
        this._emit('breakout', { active: true, ...this.breakout });
    }

    /* A breakout I moderate: its rooms and who is in each now, or that it is over. */
    _onBreakoutView(m) {
        const from = String(m.from ?? '');
        if (!m.active) {
            this._dropBreakoutView(from);
            return;
        }
        const person = (u) => ({ id: String(u?.id ?? ''), name: String(u?.name ?? '') });
        const view = {
            from,
            by: person(m.by),
            ends: Number.isFinite(+m.ends) ? +m.ends : Date.now(),
            minutes: Number.isFinite(+m.minutes) ? +m.minutes : 0,
            rooms: (Array.isArray(m.rooms) ? m.rooms : []).map((r) => ({
                id: String(r?.id ?? ''),
                count: Number.isFinite(+r?.count) ? +r.count : 0,
                people: (Array.isArray(r?.people) ? r.people : []).map(person),
            })),
        };
        this.breakoutViews.set(from, view);
        this._emit('breakout_view', { active: true, ...view });
    }

    _dropBreakoutView(from) {
        if (!this.breakoutViews.delete(from)) return;
        this._emit('breakout_view', { active: false, from });
    }

    /* The hall's stage, relayed to this overflow room. null: none. */
    _setStage(hall, users = [], bounds = null) {
        const before = this.stage;
        if (!hall) {
            if (!before) return;
            this.stage = null;
            this._emit('stage', { hall: null, users: [], added: [], removed: [...before.users.values()] });
            return;
        }
        const map = new Map();
        for (const raw of users) {
            const u = normUser(raw);
            const old = before && before.hall === hall ? before.users.get(u.id) : null;
            /* a stage update may carry an older pose than the poses frames gave */
            if (old) {
                u.p = old.p;
                u.q = old.q;
            }
            map.set(u.id, u);
        }
        const prev = before && before.hall === hall ? before.users : new Map();
        const added = [...map.values()].filter((u) => !prev.has(u.id));
        const removed = [...prev.values()].filter((u) => !map.has(u.id));
        const ixIds = new Map([...map.values()].filter((u) => u.ix != null).map((u) => [u.ix, u.id]));
        this.stage = { hall, users: map, bounds, ixIds };
        this._emit('stage', { hall, users: [...map.values()], added, removed });
    }

    /* Live values of one entity my room shows: merged, only changed attributes come. */
    _onTwin(m) {
        const entity = String(m.entity ?? '');
        if (!entity || !this.room || !m.attrs || typeof m.attrs !== 'object') return;
        let twin = this.twins.get(entity);
        if (!twin) this.twins.set(entity, (twin = { etype: '', attrs: {} }));
        if (m.etype != null) twin.etype = String(m.etype);
        const receivedAt = Date.now();
        const changed = {};
        for (const [name, a] of Object.entries(m.attrs)) {
            if (!a || typeof a !== 'object') continue;
            changed[name] = twin.attrs[name] = {
                value: a.value === undefined ? null : a.value,
                unit: a.unit == null ? '' : String(a.unit),
                observedAt: typeof a.observedAt === 'number' && Number.isFinite(a.observedAt) ? a.observedAt : null,
                receivedAt,
            };
        }
        this._emit('twin', { entity, etype: twin.etype, attrs: changed, twin });
    }

    _onStage(m) {
        const hall = String(m.room ?? '');
        if (!hall || !this.room) return;
        this._setStage(hall, Array.isArray(m.users) ? m.users : [], normBounds(m.bounds));
    }

    /* ---- the programme and the stage, incoming -------------------------- */

    /* The whole programme: after welcome, and whenever an admin replaces it. */
    _onProgramme(m) {
        const list = Array.isArray(m.sessions) ? m.sessions.filter((x) => x && typeof x === 'object' && x.id != null) : [];
        this.programme = list.map(normSession).sort((a, b) => a.start - b.start || a.room.localeCompare(b.room));
        this._emit('programme', { sessions: this.programme });
    }

    /* The room whose stage I see: its overflow hall's in an overflow room, else my own. */
    _seesStageOf(room) {
        return !!(this.room && (room === this.room.id || (this.stage && room === this.stage.hall)));
    }

    /* A session went live or ended. Its questions and slides belong to it. */
    _onSessionState(m) {
        const id = String(m.id ?? '');
        if (!id || !SESSION_STATES.includes(m.state)) return;
        const session = this._sessionOf(id);
        const room = m.room == null ? (session ? session.room : '') : String(m.room);
        if (session) {
            session.state = m.state;
            session.room = room;
        }
        if (m.state === 'live' && this._seesStageOf(room) && !(this.questionsFor && this.questionsFor.session === id)) {
            this._setQuestions({ session: id, room }, []); /* a new session: no questions yet */
        } else if (m.state === 'ended') {
            if (this.questionsFor && this.questionsFor.session === id) this._setQuestions(null);
            if (this.slides && this.slides.session === id) this._setSlides(null);
        }
        this._emit('session', { id, state: m.state, room, session });
    }

    _onStars(m) {
        this.stars.clear();
        for (const id of Array.isArray(m.sessions) ? m.sessions : []) this.stars.add(String(id));
        this._settle(m.re, true, this.stars);
        this._emit('stars', { stars: this.stars });
    }

    _onSlides(m) {
        if (!this.room) return;
        const sl = {
            session: String(m.session ?? ''),
            room: String(m.room ?? ''),
            pages: Number.isFinite(+m.pages) ? +m.pages : 0,
            page: Number.isFinite(+m.page) ? +m.page : 0,
            url: String(m.url ?? ''),
        };
        const session = this._sessionOf(sl.session);
        if (session) session.slides = { pages: sl.pages, page: sl.page, url: sl.url };
        this._settleEcho('slide', m, sl);
        this._setSlides(sl);
    }

    /* null: no slides any more (I left the room, or their session ended). */
    _setSlides(sl) {
        const had = this.slides;
        if (!sl && !had) return;
        this.slides = sl;
        this._emit('slides', sl ? { ...sl } : { session: null, room: had.room, pages: 0, page: 0, url: null, cleared: true });
    }

    _onCaption(m) {
        if (!this.room) return;
        const c = {
            session: String(m.session ?? ''),
            room: String(m.room ?? ''),
            from: normPerson(m.from),
            text: String(m.text ?? ''),
            ts: Number.isFinite(+m.ts) ? +m.ts : Date.now(),
        };
        this.captions.push(c);
        if (this.captions.length > CAPTIONS_KEEP) this.captions.shift();
        this._settleEcho('caption', m, c);
        this._emit('caption', c);
    }

    /* A joiner's questions of the live session, with my votes. */
    _onQuestions(m) {
        if (!this.room) return;
        const list = Array.isArray(m.questions) ? m.questions.filter((q) => q && typeof q === 'object') : [];
        this._setQuestions({ session: String(m.session ?? ''), room: String(m.room ?? '') }, list.map((q) => normQuestion(q)));
    }

    /* owner {session, room} and its questions, or null: none any more. */
    _setQuestions(owner, list = []) {
        const had = this.questionsFor;
        if (!owner && !had && !this.questions.size) return;
        this.questionsFor = owner;
        this.questions.clear();
        for (const q of list) this.questions.set(q.id, q);
        this._emit('questions', owner ? { session: owner.session, room: owner.room, questions: this.questionsByVotes() }
            : { session: null, room: had ? had.room : null, questions: [], cleared: true });
    }

    /* A new question, a vote or an answer. */
    _onQuestion(m) {
        if (!this.room || !m.question || typeof m.question !== 'object') return;
        const session = String(m.session ?? '');
        const room = String(m.room ?? '');
        if (!this.questionsFor || this.questionsFor.session !== session) this._setQuestions({ session, room }, []);
        const old = this.questions.get(+m.question.id);
        const q = normQuestion(m.question, old && old.voted);
        this._settleEcho('ask', m, q); /* before it is listed: a question of mine not seen yet */
        if (this._settleEcho('vote', m, q)) q.voted = true;
        this.questions.set(q.id, q);
        this._emit('question', { session, room, question: q });
    }

    _onFloor(m) {
        if (!this.room) return;
        const user = m.user && typeof m.user === 'object' ? normPerson(m.user) : null;
        const f = { room: String(m.room ?? ''), user, until: user && typeof m.until === 'number' ? m.until : null };
        this.floor = user ? f : null;
        this._emit('floor', { ...f });
    }

    /* ---- voice, incoming ------------------------------------------------- */

    /*
     * What the server says about voice now (a normVoice), or null: none
     * known (a new session, closed for good). Whom to hear goes with the
     * room listened to: another listen room, or no voice, drops it.
     */
    _setVoice(v) {
        const previous = this.voice;
        if (!v && !previous) return;
        this.voice = v;
        if (!v || v.state !== 'up' || (this.voicePeers && this.voicePeers.room !== v.listen)) this._setVoicePeers(null);
        this._emit('voice', { voice: v, previous });
    }

    /* voice_peers: the publishers of my listen room to hear, nearest first; another room's list is stale. */
    _onVoicePeers(m) {
        const room = janusId(m.room);
        const v = this.voice;
        if (!room || !v || v.state !== 'up' || room !== v.listen) return;
        const peers = [];
        const seen = new Set();
        for (const e of Array.isArray(m.peers) ? m.peers : []) {
            const id = e && typeof e === 'object' ? janusId(e.id) : 0;
            if (!id || seen.has(id) || e.user == null) continue;
            seen.add(id);
            peers.push({ id, user: String(e.user) });
        }
        this._setVoicePeers({ room, peers });
    }

    /* vp {room, peers} or null: nobody to hear. */
    _setVoicePeers(vp) {
        const before = this.voicePeers;
        if (!vp && !before) return;
        this.voicePeers = vp;
        const now = vp ? vp.peers : [];
        const had = before ? before.peers : [];
        const added = now.filter((p) => !had.some((h) => h.id === p.id));
        const removed = had.filter((h) => !now.some((p) => p.id === h.id));
        this._emit('voice_peers', vp ? { room: vp.room, peers: now, added, removed }
            : { room: before.room, peers: [], added: [], removed, cleared: true });
    }

    /* The slides, questions, floor (and captions) of the room I was in: gone with it, and the page told. */
    _clearSessionStage(captions = true) {
        this._setSlides(null);
        this._setQuestions(null);
        if (this.floor) {
            const room = this.floor.room;
            this.floor = null;
            this._emit('floor', { room, user: null, until: null, cleared: true });
        }
        if (captions && this.captions.length) {
            const room = this.captions[this.captions.length - 1].room;
            this.captions.length = 0;
            this._emit('caption', { session: null, room, from: null, text: '', ts: null, cleared: true });
        }
    }
}
