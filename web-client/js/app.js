/*
 * app.js - the page: join screen, wiring between the connection, the views
 * and the panels, my own avatar's movement, and the frame loop.
 *
 * Owns the page-level state (which view is shown, reduced motion, my pose
 * while I walk) and one avatar object per person that the views read each
 * frame. Everything protocol-shaped lives in venue-client.js, smoothing in
 * motion.js, drawing in view3d.js / map2d.js, text in panels.js, and the
 * moderators' panel in modpanel.js. What moderation does to me is told
 * here: announcements as banners, a breakout's countdown, muted chat, the
 * notice of a room ban, and the full-screen notice after a kick. In an
 * overflow room the hall's stage people are drawn on this room's stage.
 *
 * Query parameters: ?token=...&room=plenary (join link), ?view=2d,
 * ?simulate=N (stress hook: N extra simulated avatars walking in the room,
 * fed through the client's normal message path; see PROTOCOL.md).
 */

import { VenueClient, quatOfYaw, yawOf, describeError, removedText } from './venue-client.js';
import { Motion, hueOf } from './motion.js';
import { Panels, el, timeOf } from './panels.js';
import { ModPanel } from './modpanel.js';
import { Controls } from './controls.js';
import { Map2D } from './map2d.js';
import { normaliseScene, fallbackScene } from './scene.js';

const WALK_SPEED = 2.6; /* m/s; the server refuses more than --max-speed (10) */
const RUN_SPEED = 5;
const TURN_SPEED = 2.2; /* rad/s */
const ROOMS_POLL_MS = 5000;
const SPEAKING_MS = 4000; /* the speech bubble after a chat message */
const BANNERS_SHOWN = 3; /* announcements on screen at once */

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const store = {
    get(k, d) {
        try {
            const v = localStorage.getItem(`venue.${k}`);
            return v === null ? d : v;
        } catch {
            return d;
        }
    },
    set(k, v) {
        try {
            localStorage.setItem(`venue.${k}`, String(v));
        } catch {
            /* private mode: preferences just do not stick */
        }
    },
};

const state = {
    client: null,
    panels: null,
    controls: null,
    view: null,
    viewKind: '3d',
    webgl: null, /* null: not checked yet */
    reducedMotion: false,
    model: null, /* the scene model of my room */
    sceneUrl: '',
    motion: new Motion({ delayMs: 100, maxExtrapolateMs: 200 }),
    simMotion: new Motion({ delayMs: 100, maxExtrapolateMs: 200 }), /* ?simulate: its own clock */
    avatars: new Map(), /* id -> avatar object */
    list: [], /* the same objects, in an array the views walk */
    listChanged: true,
    me: null, /* my avatar object */
    walkTo: null, /* [x, z] target of click-to-move */
    lastFrame: 0,
    inPortal: null,
    simulate: 0,
    sim: null,
    mod: null, /* the ModPanel */
    stage: { hall: null, hallStage: null, offset: null, loading: null }, /* overflow relay */
    breakoutTimer: null,
    fps: { frames: 0, since: 0, value: 0 },
};

/* ---- join screen ------------------------------------------------------ */

function initJoin() {
    const name = $('join-name');
    name.value = store.get('name', '');
    const token = params.get('token');
    if (token) {
        $('join-token').value = token;
        $('token-box').open = true;
    }
    const room = params.get('room');
    if (room) {
        $('join-room-line').hidden = false;
        $('join-room-name').textContent = room;
    }
    const view = params.get('view') || store.get('view', '3d');
    for (const r of document.querySelectorAll('input[name="view"]')) r.checked = r.value === view;
    const rm = store.get('reducedMotion', null);
    $('join-reduced-motion').checked =
        rm === null ? window.matchMedia('(prefers-reduced-motion: reduce)').matches : rm === 'true';
    state.simulate = Math.min(2000, Math.max(0, parseInt(params.get('simulate') || '0', 10) || 0));
    $('join-form').addEventListener('submit', onJoinSubmit);
    name.focus();
}

function codePoints(s) {
    return [...s].length;
}

async function onJoinSubmit(ev) {
    ev.preventDefault();
    const err = $('join-error');
    const name = $('join-name').value.trim();
    const token = $('join-token').value.trim();
    err.textContent = '';
    if (!name) {
        err.textContent = 'Please enter the name others will see.';
        $('join-name').focus();
        return;
    }
    if (codePoints(name) > 64) {
        err.textContent = 'That name is too long: 64 characters at most.';
        $('join-name').focus();
        return;
    }
    if (/[\u0000-\u001f\u007f]/.test(name)) {
        err.textContent = 'The name cannot contain control characters.';
        return;
    }
    const viewPref = document.querySelector('input[name="view"]:checked')?.value || '3d';
    state.viewKind = viewPref;
    state.reducedMotion = $('join-reduced-motion').checked;
    store.set('name', name);
    store.set('view', viewPref);
    store.set('reducedMotion', state.reducedMotion);

    const button = $('join-submit');
    button.disabled = true;
    button.textContent = 'Connecting…';
    try {
        await start(name, token, params.get('room') || 'lobby');
    } catch (e) {
        err.textContent = e && e.text ? e.text : (e && e.message) || 'Could not connect to the venue.';
        if (e && (e.code === 'unauthorized' || e.code === 'forbidden')) {
            $('token-box').open = true;
            $('join-token').focus();
        }
        if (state.client) {
            state.client.close();
            state.client = null;
        }
    } finally {
        button.disabled = false;
        button.textContent = 'Enter the venue';
    }
}

/* ---- connection and events -------------------------------------------- */

function wsUrl() {
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
}

async function start(name, token, room) {
    const client = new VenueClient({ url: wsUrl(), name, token, apiBase: location.origin });
    state.client = client;
    wireClient(client);
    /* a first connection that cannot even open is a failure, not a retry */
    const opened = client.connect({ name, token, room });
    const firstClose = new Promise((_, reject) => {
        const off = client.on('status', (d) => {
            if (d.state === 'reconnecting' && client.session === null) {
                off();
                client.close();
                reject(new Error('The venue server cannot be reached. Please try again in a moment.'));
            } else if (d.state === 'open') {
                off();
            }
        });
    });
    await Promise.race([opened, firstClose]);
    enterVenue();
}

function enterVenue() {
    $('join-screen').hidden = true;
    $('app').hidden = false;
    document.documentElement.classList.toggle('reduce-motion', state.reducedMotion);
    const client = state.client;
    state.panels = new Panels(client, {
        joinRoom: (id) => joinRoom(id),
        toggleHand: () => {
            client.setHand(!client._wantHand);
            state.panels.setHand(client._wantHand);
            if (state.me) {
                state.me.hand = client._wantHand;
                state.listChanged = true;
            }
            state.panels.announce(client._wantHand ? 'Your hand is raised.' : 'Your hand is lowered.');
        },
        sendChat: (text) => {
            if (client.state !== 'open' || !client.room) {
                state.panels.showError('Not connected right now: your message was not sent. It will work again once reconnected.');
                return false;
            }
            return client.chat(text);
        },
    });
    state.panels.setConnection(client.state);
    state.panels.renderRooms(client.rooms, client.room && client.room.id);
    state.panels.setHand(false);
    state.mod = new ModPanel(client, state.panels);
    state.mod.setEnabled(client.canModerate);
    state.panels.setChatMuted(!!(client.me && client.me.muted));
    $('no-room-rooms').addEventListener('click', () => showRooms());
    state.controls = new Controls($('view'), $('touch'), onTap);
    $('view-toggle').addEventListener('click', () => setView(state.viewKind === '3d' ? '2d' : '3d', true));
    $('motion-toggle').addEventListener('click', () => setReducedMotion(!state.reducedMotion));
    $('conn-retry').addEventListener('click', () => client.retryNow());
    setReducedMotion(state.reducedMotion);
    setView(state.viewKind, false);
    document.addEventListener('visibilitychange', () => {
        client.setStatus(document.hidden ? 'away' : 'active');
    });
    setInterval(() => {
        if (document.hidden || client.state !== 'open') return;
        client.refreshRooms().catch(() => {
            /* the connection indicator already tells about outages */
        });
    }, ROOMS_POLL_MS);
    client.refreshRooms().catch(() => {});
    if (client.room) onJoined({ room: client.room, reason: 'request' });
    if (client.stage) onStage({ hall: client.stage.hall, users: [...client.stage.users.values()], added: [...client.stage.users.values()], removed: [] });
    requestAnimationFrame(frame);
    $('view').focus();
}

function wireClient(client) {
    client.on('status', (d) => {
        if (!state.panels) return;
        state.panels.setConnection(d.state, d);
        if (d.state === 'reconnecting' && d.delay != null && d.attempt === 1) {
            state.panels.announce('Connection lost. Reconnecting…');
        }
        if (d.state === 'closed' && d.kicked) {
            showRemoved(d.kicked);
            return;
        }
        /* a working session closed with 4001: the registration was revoked */
        if (d.state === 'closed' && d.code === 4001 && client.session) {
            showRemoved(null, 'Your invitation is no longer valid', d.reason);
            return;
        }
        if (d.state === 'closed' && d.reason) state.panels.showError(d.reason);
    });
    client.on('me', (d) => onMeChanged(d));
    client.on('kicked', (d) => {
        if (d.venue) showRemoved(d);
        else onRoomBan(d);
    });
    client.on('announce', (a) => showAnnouncement(a));
    client.on('breakout', (d) => onBreakout(d));
    client.on('stage', (d) => onStage(d));
    client.on('room', (d) => {
        if (!state.panels || !client.room || d.room !== client.room.id) return;
        state.panels.announce(d.locked ? 'A moderator locked this room: only moderators may come in now.'
            : `This room is open. Capacity ${d.capacity}.`);
    });
    client.on('welcome', (d) => {
        if (state.panels && d.resumed) state.panels.announce('Reconnected.');
    });
    client.on('joined', (d) => onJoined(d));
    client.on('left', (d) => {
        state.model = null;
        if (d.kicked) return; /* onRoomBan tells */
        showNoRoom('You are not in a room right now.');
    });
    client.on('presence', (d) => onPresence(d));
    client.on('poses', (d) => {
        const sim = d.users.length > 0 && String(d.users[0].id).startsWith('sim-');
        (sim ? state.simMotion : state.motion).onPoses(d.tick, d.tickHz, d.users, performance.now());
    });
    client.on('pose', (d) => {
        /* the server put me somewhere else (clamped, too fast): snap there */
        if (!state.me) return;
        state.me.x = d.p[0];
        state.me.y = d.p[1];
        state.me.z = d.p[2];
        state.me.yaw = yawOf(d.q);
        state.walkTo = null;
    });
    client.on('chat', (m) => {
        const av = state.avatars.get(m.from);
        if (av) av.speaking = performance.now() + SPEAKING_MS;
        if (state.panels && client.room && m.room === client.room.id) state.panels.addChat(m);
    });
    client.on('scene', (d) => {
        if (client.room && d.room === client.room.id) loadScene(d.scene, true);
    });
    client.on('rooms', (d) => {
        if (state.panels) state.panels.renderRooms(d.rooms, client.room && client.room.id);
    });
    client.on('error', (e) => {
        if (!state.panels) return;
        if (e.request === 'mod') return; /* the moderation panel's status line says it */
        if (e.recovered) {
            state.panels.announce('The server started a new session for you.');
            return;
        }
        if (e.fatal) {
            showJoinAgain(e.text);
            return;
        }
        state.panels.showError(e.text);
        state.panels.announce(e.text);
        /* a join that failed while in no room at all: go to the lobby */
        if (e.request === 'join' && !client.room) {
            const fallback = client.rooms.find((r) => r.id === 'lobby') || client.rooms[0];
            if (fallback) joinRoom(fallback.id);
        }
    });
}

function showJoinAgain(text) {
    $('app').hidden = true;
    $('join-screen').hidden = false;
    $('join-error').textContent = text;
    $('token-box').open = true;
    $('join-token').focus();
}

async function joinRoom(id) {
    const client = state.client;
    if (client.room && client.room.id === id) {
        state.panels.announce(`You are already in ${client.room.name}.`);
        return;
    }
    state.panels.announce(`Going to ${client.rooms.find((r) => r.id === id)?.name || id}…`);
    try {
        await client.join(id);
    } catch {
        /* the error event already showed a readable message */
    }
}

/* ---- rooms, people, avatars ------------------------------------------- */

function avatarOf(u) {
    let av = state.avatars.get(u.id);
    if (!av) {
        av = {
            id: u.id, name: u.name, role: u.role, hue: hueOf(u.id),
            x: u.p[0], y: u.p[1], z: u.p[2], yaw: yawOf(u.q),
            hand: u.hand, away: u.status === 'away', speaking: 0,
            me: !!(state.client.me && u.id === state.client.me.id),
            sim: u.id.startsWith('sim-'),
            r: 1, g: 1, b: 1, hr: 1, hg: 1, hb: 1,
        };
        state.avatars.set(u.id, av);
    }
    return av;
}

function rebuildList() {
    /* relayed stage people are drawn once we know where this room's stage is */
    state.list = [...state.avatars.values()].filter((av) => !av.relay || state.stage.offset);
    state.listChanged = true;
}

function onJoined(d) {
    const client = state.client;
    if (!state.panels) return;
    const wasInPortal = !!state.inPortal; /* my own walk took me through a door */
    const room = client.room;
    state.motion.reset();
    state.simMotion.reset();
    state.sim = null;
    state.avatars.clear();
    const now = performance.now();
    for (const u of client.roster.values()) {
        const av = avatarOf(u);
        if (!av.me) state.motion.place(u.id, u.p, u.q, now);
    }
    state.me = client.me ? state.avatars.get(client.me.id) || null : null;
    if (state.me) state.me.hand = client._wantHand;
    rebuildList();
    state.walkTo = null;
    state.inPortal = null;
    $('portal-hint').hidden = true;
    $('no-room').hidden = true;
    state.panels.setRoomTitle(room.name);
    state.panels.rosterChanged();
    state.panels.showChatHistory(client.chatFor(room.id));
    state.panels.renderRooms(client.rooms, room.id);
    if (d.reason !== 'resume' || !state.model || state.sceneUrl !== room.scene) {
        loadScene(room.scene, false);
    }
    if (d.reason !== 'resume') {
        const n = client.roster.size;
        state.panels.announce(`You are in ${room.name}. ${n} ${n === 1 ? 'person' : 'people'} here.`);
    }
    /* A room change nobody here asked for, away from a door: a moderator's move. */
    if (d.reason === 'portal' && !wasInPortal && d.previous) {
        state.panels.showInfo(`A moderator moved you to ${room.name}.`);
    } else if (d.reason === 'recall') {
        state.panels.showInfo(`The breakout is over: you are back in ${room.name}.`);
    }
    if (state.simulate) startSimulation();
}

function motionOf(id) {
    return id.startsWith('sim-') ? state.simMotion : state.motion;
}

function onPresence(d) {
    const u = d.user;
    if (d.self) {
        if (state.me) {
            state.me.hand = u.hand;
            state.me.away = u.status === 'away';
            state.listChanged = true;
        }
        state.panels.rosterChanged();
        return;
    }
    if (d.event === 'join') {
        const av = avatarOf(u);
        motionOf(u.id).place(u.id, u.p, u.q, performance.now());
        av.x = u.p[0];
        av.y = u.p[1];
        av.z = u.p[2];
        rebuildList();
        if (!u.id.startsWith('sim-')) state.panels.announce(`${u.name} joined.`, 'join');
    } else if (d.event === 'leave') {
        state.avatars.delete(u.id);
        motionOf(u.id).remove(u.id);
        rebuildList();
        if (!u.id.startsWith('sim-')) state.panels.announce(`${u.name} left.`, 'leave');
    } else if (d.event === 'update') {
        const av = state.avatars.get(u.id);
        if (av) {
            if (av.hand !== u.hand) {
                state.panels.announce(`${u.name} ${u.hand ? 'raised their hand' : 'lowered their hand'}.`);
            }
            av.hand = u.hand;
            av.away = u.status === 'away';
            av.name = u.name;
            av.role = u.role;
            state.listChanged = true;
        }
    }
    state.panels.rosterChanged();
}

async function loadScene(url, revalidate) {
    state.sceneUrl = url;
    let model;
    try {
        const res = await fetch(url, { cache: revalidate ? 'no-cache' : 'default' });
        if (!res.ok) {
            let msg = `HTTP ${res.status}`;
            try {
                const body = await res.json();
                if (body && body.error && body.error.message) msg = body.error.message;
            } catch {
                /* not JSON: keep the status */
            }
            throw new Error(msg);
        }
        model = normaliseScene(await res.json());
    } catch (e) {
        if (state.sceneUrl !== url) return;
        state.panels.showError(`The room's layout could not be loaded (${e.message}). You can still chat and change rooms.`);
        model = fallbackScene(state.client.room);
    }
    if (state.sceneUrl !== url) return; /* a newer room won the race */
    state.model = model;
    if (state.view) state.view.setScene(model);
    stageOffset();
}

/* ---- what moderation does to me ---------------------------------------- */

function onMeChanged(d) {
    const panels = state.panels;
    if (!panels) return;
    const c = d.changed;
    if (c.role && !d.first) {
        state.mod.setEnabled(state.client.canModerate);
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

/*
 * Removed from the venue (kicked, or banned from it): a full-screen notice
 * with the moderator's reason. The page stays as it is behind it, inert;
 * the connection is closed and nothing reconnects.
 */
function showRemoved(k, title = 'You have been removed from the venue', text = removedText(k)) {
    const box = $('removed');
    $('removed-text').textContent = text;
    $('removed-title').textContent = title;
    if (!box.hidden) return;
    box.hidden = false;
    $('app').inert = true;
    if (state.controls) state.controls.enabled = false;
    state.walkTo = null;
    document.title = 'Removed · Venue';
    $('removed-title').focus();
}

/* Banned from my room: told why, and taken to the rooms list. */
function onRoomBan(k) {
    const name = state.client.rooms.find((r) => r.id === k.room)?.name || k.room;
    const why = k.reason ? `: “${k.reason}”${/[.!?]$/.test(k.reason) ? '' : '.'}` : '.';
    const text = `A moderator removed you from ${name}${why} You cannot go back into that room. Choose another room.`;
    showNoRoom(text);
    state.panels.announce(text);
    showRooms();
}

function showNoRoom(text) {
    $('no-room-text').textContent = text;
    $('no-room').hidden = false;
    state.panels.setRoomTitle('No room');
    state.avatars.clear();
    state.motion.reset();
    state.me = null;
    rebuildList();
    state.panels.rosterChanged();
    state.panels.renderRooms(state.client.rooms, null);
    state.client.refreshRooms().catch(() => {}); /* the counts without me */
}

/* The Rooms tab, with the keyboard on its first room. */
function showRooms() {
    state.panels.showTab('tab-rooms');
    const first = document.querySelector('#rooms button.room:not([aria-current="true"])') || document.querySelector('#rooms button.room');
    if (first) first.focus();
}

/* An announcement: a banner until dismissed; the newest few are kept. */
function showAnnouncement(a) {
    const box = $('announcements');
    const b = el('div', 'banner announce');
    b.setAttribute('role', 'group');
    b.setAttribute('aria-label', 'Announcement');
    const head = el('p', 'banner-head');
    const who = el('bdi', null, a.name || 'A moderator');
    head.append(el('strong', null, 'Announcement'), document.createTextNode(' from '), who,
        document.createTextNode(` · to ${a.venue ? 'everyone in the venue' : state.client.rooms.find((r) => r.id === a.room)?.name || a.room} · ${timeOf(a.ts)}`));
    const text = el('p', 'banner-text', a.text);
    text.dir = 'auto';
    const close = el('button', 'banner-close', '×');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss this announcement');
    close.addEventListener('click', () => {
        const next = b.nextElementSibling || b.previousElementSibling;
        b.remove();
        (next ? next.querySelector('.banner-close') : $('view')).focus();
    });
    b.append(head, text, close);
    box.append(b);
    while (box.childElementCount > BANNERS_SHOWN) box.firstElementChild.remove();
}

/* A breakout: a banner with the time left and where everyone goes back to. */
function onBreakout(d) {
    const banner = $('breakout-banner');
    clearInterval(state.breakoutTimer);
    state.breakoutTimer = null;
    if (!d.active) {
        banner.hidden = true;
        return;
    }
    const rooms = state.client.rooms;
    const name = (id) => rooms.find((r) => r.id === id)?.name || id;
    $('breakout-text').textContent = `You are in ${name(d.room)} until ${timeOf(d.ends)}. ` +
        `Then everyone goes back to ${name(d.returnTo)} together.`;
    const tick = () => {
        const left = Math.max(0, Math.round((d.ends - Date.now()) / 1000));
        const mm = Math.floor(left / 60);
        const ss = String(left % 60).padStart(2, '0');
        $('breakout-left').textContent = left > 0 ? `${mm}:${ss} left` : `time is up: going back to ${name(d.returnTo)}…`;
    };
    tick();
    state.breakoutTimer = setInterval(tick, 1000);
    banner.hidden = false;
    state.panels.announce(`Breakout: a moderator sent you to ${name(d.room)} for ${Math.max(1, Math.round((d.ends - Date.now()) / 60000))} minutes. ` +
        `Then you go back to ${name(d.returnTo)}.`);
}

/* ---- the hall's stage, relayed to an overflow room ---------------------- */

/*
 * Who is on the hall's stage changed. Each is drawn on this room's stage:
 * their pose in the hall plus the offset between the two stage places
 * (scenes/FORMAT.md). They are not in this room's roster: the People tab
 * lists them apart, "On stage".
 */
function onStage(d) {
    const client = state.client;
    const st = state.stage;
    const now = performance.now();
    for (const u of d.removed) {
        const av = state.avatars.get(u.id);
        if (av && av.relay) {
            state.avatars.delete(u.id);
            state.motion.remove(u.id);
        }
    }
    if (!d.hall) {
        st.hall = null;
        st.hallStage = null;
        st.offset = null;
        if (state.panels) state.panels.renderStage(null, []);
        rebuildList();
        return;
    }
    for (const u of d.users) {
        if (client.roster.has(u.id)) continue; /* cannot be, but never draw anyone twice */
        let av = state.avatars.get(u.id);
        if (!av) {
            av = avatarOf(u);
            av.relay = true;
            state.motion.place(u.id, u.p, u.q, now);
        }
        av.name = u.name;
        av.role = u.role;
        av.hand = u.hand;
        av.away = u.status === 'away';
    }
    const hallName = client.rooms.find((r) => r.id === d.hall)?.name || d.hall;
    if (state.panels) state.panels.renderStage(hallName, d.users);
    if (st.hall !== d.hall) {
        st.hall = d.hall;
        st.hallStage = null;
        st.offset = null;
        loadHallStage(d.hall);
    }
    rebuildList();
    if (state.panels && d.added.length && d.added.length <= 3) {
        for (const u of d.added) state.panels.announce(`${u.name} is on the stage in ${hallName}.`);
    }
}

async function loadHallStage(hall) {
    try {
        const res = await fetch(`/api/scenes/${encodeURIComponent(hall)}`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const model = normaliseScene(await res.json());
        if (state.stage.hall !== hall) return;
        state.stage.hallStage = model.places.find((p) => p.type === 'stage') || null;
        stageOffset();
    } catch (e) {
        console.warn(`the stage of ${hall} could not be loaded:`, e);
    }
}

/* offset = this room's stage place − the hall's stage place; null until both are known. */
function stageOffset() {
    const st = state.stage;
    const mine = state.model && state.model.places.find((p) => p.type === 'stage');
    const next = st.hall && st.hallStage && mine
        ? [mine.p[0] - st.hallStage.p[0], mine.p[1] - st.hallStage.p[1], mine.p[2] - st.hallStage.p[2]] : null;
    const had = !!st.offset;
    st.offset = next;
    if (had !== !!next) rebuildList();
}

/* ---- views ------------------------------------------------------------ */

async function setView(kind, byUser) {
    const notice = $('notice');
    if (kind === '3d' && state.webgl === null) {
        const mod = await import('./view3d.js').catch((e) => {
            console.warn('3D view unavailable:', e);
            return null;
        });
        state.view3dModule = mod;
        state.webgl = !!(mod && mod.webglAvailable());
    }
    if (kind === '3d' && !state.webgl) {
        kind = '2d';
        notice.textContent = 'This device cannot show the 3D view (no WebGL), so the 2D map is shown instead. Everything else works the same.';
        notice.hidden = false;
    } else if (byUser) {
        notice.hidden = true;
    }
    if (state.view && state.view.kind === kind) return;
    if (state.view) state.view.dispose();
    state.view = null;
    try {
        if (kind === '3d') {
            state.view = new state.view3dModule.View3D($('view'), $('tags'), { reducedMotion: state.reducedMotion });
        } else {
            state.view = new Map2D($('view'), { reducedMotion: state.reducedMotion });
        }
    } catch (e) {
        console.warn('view failed, using the 2D map:', e);
        state.webgl = false;
        kind = '2d';
        state.view = new Map2D($('view'), { reducedMotion: state.reducedMotion });
        notice.textContent = 'The 3D view could not start on this device, so the 2D map is shown instead.';
        notice.hidden = false;
    }
    state.viewKind = kind;
    $('view').dataset.view = kind;
    store.set('view', kind);
    const b = $('view-toggle');
    b.setAttribute('aria-pressed', String(kind === '2d'));
    b.querySelector('.label').textContent = kind === '2d' ? '3D view' : '2D map';
    const icon = b.querySelector('.icon');
    icon.classList.toggle('icon-map', kind !== '2d');
    icon.classList.toggle('icon-cube', kind === '2d');
    b.setAttribute('aria-label', kind === '2d' ? 'Switch to the 3D view' : 'Switch to the 2D map');
    if (state.model) state.view.setScene(state.model);
    state.listChanged = true;
    if (byUser) state.panels.announce(kind === '2d' ? 'Showing the 2D map.' : 'Showing the 3D view.');
}

function setReducedMotion(on) {
    state.reducedMotion = on;
    store.set('reducedMotion', on);
    document.documentElement.classList.toggle('reduce-motion', on);
    $('motion-toggle').setAttribute('aria-pressed', String(on));
    if (state.view) state.view.setReducedMotion(on);
}

function onTap(clientX, clientY) {
    $('view').focus({ preventScroll: true });
    if (!state.view || !state.me) return;
    const pt = state.view.floorPointAt(clientX, clientY);
    if (!pt) return;
    state.walkTo = pt;
}

/* ---- my movement ------------------------------------------------------ */

const intent = { forward: 0, strafe: 0, turn: 0, run: false, dragYaw: 0, keyUsed: false };
const tmpP = [0, 0, 0];
const tmpQ = [0, 0, 0, 1];

function moveMe(dtS) {
    const me = state.me;
    const model = state.model;
    if (!me || !model) return;
    state.controls.read(intent);
    if (intent.keyUsed) state.walkTo = null;
    let yaw = me.yaw + intent.turn * TURN_SPEED * dtS + intent.dragYaw;
    /* a far click-to-move target is jogged to */
    const far = state.walkTo && Math.hypot(state.walkTo[0] - me.x, state.walkTo[1] - me.z) > 6;
    const speed = intent.run || far ? RUN_SPEED : WALK_SPEED;
    let fwd = intent.forward;
    let side = intent.strafe;
    if (state.walkTo) {
        const dx = state.walkTo[0] - me.x;
        const dz = state.walkTo[1] - me.z;
        const dist = Math.hypot(dx, dz);
        if (dist < 0.15) {
            state.walkTo = null;
        } else {
            const want = Math.atan2(-dx, -dz); /* yaw that faces the target */
            let d = want - yaw;
            while (d > Math.PI) d -= 2 * Math.PI;
            while (d < -Math.PI) d += 2 * Math.PI;
            const maxTurn = TURN_SPEED * 2 * dtS;
            yaw += Math.max(-maxTurn, Math.min(maxTurn, d));
            fwd = Math.abs(d) < 1.2 ? Math.min(1, dist / (speed * dtS + 1e-6)) : 0;
            side = 0;
        }
    }
    while (yaw > Math.PI) yaw -= 2 * Math.PI;
    while (yaw < -Math.PI) yaw += 2 * Math.PI;
    const len = Math.hypot(fwd, side);
    if (len > 1) {
        fwd /= len;
        side /= len;
    }
    let nx = me.x;
    let nz = me.z;
    if (fwd || side) {
        const step = speed * dtS;
        const sin = Math.sin(yaw);
        const cos = Math.cos(yaw);
        /* forward is -Z at yaw 0; right is +X */
        nx += (-sin * fwd + cos * side) * step;
        nz += (-cos * fwd - sin * side) * step;
        /* stay on the floor; slide along an edge rather than stop dead */
        if (!model.walkable(nx, nz)) {
            if (model.walkable(nx, me.z)) nz = me.z;
            else if (model.walkable(me.x, nz)) nx = me.x;
            else {
                nx = me.x;
                nz = me.z;
                state.walkTo = null;
            }
        }
    }
    const moved = nx !== me.x || nz !== me.z || yaw !== me.yaw;
    me.x = nx;
    me.z = nz;
    me.y = model.floorAt(nx, nz, me.y);
    me.yaw = yaw;
    if (moved) {
        tmpP[0] = me.x;
        tmpP[1] = me.y;
        tmpP[2] = me.z;
        quatOfYaw(yaw, tmpQ);
        state.client.sendPose(tmpP, tmpQ);
    }
    const portal = model.portalAt(me.x, me.y, me.z);
    if (portal !== state.inPortal) {
        state.inPortal = portal;
        const hint = $('portal-hint');
        if (portal) {
            const target = state.client.rooms.find((r) => r.id === portal.room);
            hint.textContent = `Going through to ${target ? target.name : portal.room}…`;
            hint.hidden = false;
        } else {
            hint.hidden = true;
        }
    }
}

/* ---- the frame loop --------------------------------------------------- */

const tmpOut = new Float32Array(3);

function frame(now) {
    requestAnimationFrame(frame);
    const dtS = Math.min(0.1, state.lastFrame ? (now - state.lastFrame) / 1000 : 0);
    state.lastFrame = now;
    const f = state.fps;
    f.frames++;
    if (now - f.since >= 1000) {
        f.value = (f.frames * 1000) / (now - f.since);
        f.frames = 0;
        f.since = now;
    }
    if (state.sim) stepSimulation(now);
    moveMe(dtS);
    const list = state.list;
    for (let i = 0; i < list.length; i++) {
        const av = list[i];
        if (av.me) continue;
        const yaw = (av.sim ? state.simMotion : state.motion).sample(av.id, now, tmpOut);
        if (yaw === yaw) {
            av.x = tmpOut[0];
            av.y = tmpOut[1];
            av.z = tmpOut[2];
            av.yaw = yaw;
            if (av.relay) {
                const o = state.stage.offset;
                av.x += o[0];
                av.y += o[1];
                av.z += o[2];
            }
        }
    }
    if (state.view && state.model) {
        state.view.render(list, state.me, now, dtS, state.listChanged);
        state.listChanged = false;
    }
}

/* ---- stress hook: ?simulate=N ------------------------------------------ */

const SIM_NAMES = ['Amara', 'Bjørn', 'Chen Wei', 'Dalia', 'Émile', 'Farah', 'Giulia', 'Hiro', 'Ines', 'João',
    'Kaito', 'Lena', 'Mateo', 'Nadia', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tariq'];

/*
 * Adds N simulated people to the roster and walks them in circles, by
 * handing the client the same presence and poses frames the server would
 * send. Everything downstream (roster, interpolation, drawing, tags) runs
 * as in a real crowd; only the network is left out.
 */
function startSimulation() {
    const client = state.client;
    const model = state.model || fallbackScene(client.room);
    const n = state.simulate;
    const b = model.bounds;
    const cx = (b.minX + b.maxX) / 2;
    const cz = (b.minZ + b.maxZ) / 2;
    const rx = Math.max(1, (b.maxX - b.minX) / 2 - 1);
    const rz = Math.max(1, (b.maxZ - b.minZ) / 2 - 1);
    const people = [];
    for (let i = 0; i < n; i++) {
        const id = `sim-${i}`;
        const a = (i / n) * Math.PI * 2;
        const r = 0.25 + 0.7 * ((i * 7919) % 101) / 101;
        const p = [cx + Math.cos(a) * rx * r, model.floorY, cz + Math.sin(a) * rz * r];
        people.push({ id, a, r, speed: 0.15 + ((i * 31) % 17) / 100 });
        client._onText(JSON.stringify({
            type: 'presence', room: client.room.id, event: 'join',
            user: { id, name: `${SIM_NAMES[i % SIM_NAMES.length]} ${i}`, role: 'attendee', status: 'active',
                hand: i % 23 === 0, p, q: [0, 0, 0, 1] },
        }));
    }
    state.sim = { people, cx, cz, rx, rz, tick: 0, next: 0, floorY: model.floorY, entries: people.map((p) => ({ id: p.id, p: [0, 0, 0], q: [0, 0, 0, 1] })) };
}

function stepSimulation(now) {
    const s = state.sim;
    if (now < s.next) return;
    s.next = now + 1000 / state.client.tickHz;
    s.tick++;
    const t = now / 1000;
    for (let i = 0; i < s.people.length; i++) {
        const p = s.people[i];
        const a = p.a + t * p.speed;
        const e = s.entries[i];
        e.p[0] = +(s.cx + Math.cos(a) * s.rx * p.r).toFixed(3);
        e.p[1] = s.floorY;
        e.p[2] = +(s.cz + Math.sin(a) * s.rz * p.r).toFixed(3);
        quatOfYaw(Math.atan2(Math.sin(a), -Math.cos(a)), e.q);
    }
    state.client._onText(JSON.stringify({ type: 'poses', tick: s.tick, users: s.entries }));
}

/* ---- a small window for tests and the curious -------------------------- */

window.__venue = {
    _state: state,
    get client() {
        return state.client;
    },
    get view() {
        return state.viewKind;
    },
    get fps() {
        return state.fps.value;
    },
    get ready() {
        return !!(state.client && state.client.room && state.model && state.view);
    },
    /* where avatar id is drawn right now: {x, y, z, yaw} or null */
    avatar(id) {
        const av = state.avatars.get(id);
        return av ? { x: av.x, y: av.y, z: av.z, yaw: av.yaw, hand: av.hand } : null;
    },
    count() {
        return state.list.length;
    },
    /* the hall's stage people drawn in this overflow room: [{id, name, x, y, z}] */
    stage() {
        return state.list.filter((av) => av.relay).map((av) => ({ id: av.id, name: av.name, x: av.x, y: av.y, z: av.z }));
    },
    /* draw calls and triangles of the last 3D frame, for performance checks */
    renderInfo() {
        const r = state.view && state.view.renderer;
        return r ? { calls: r.info.render.calls, triangles: r.info.render.triangles, quality: state.view.quality } : null;
    },
    /* click-to-move without the click: walk towards (x, z) on the floor */
    walkTo(x, z) {
        state.walkTo = [x, z];
    },
    /* where a world point is on the screen (3D view), for tests that click */
    screenOf(x, y, z) {
        return state.view && state.view.screenOf ? state.view.screenOf(x, y, z) : null;
    },
    describeError,
};

initJoin();
