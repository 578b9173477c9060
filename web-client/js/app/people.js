/*
 * people.js - the people in my room as the views draw them: one avatar
 * object each, kept in step with the roster (presence) and placed every
 * frame from their poses (motion.js), with their raised hands and who is
 * speaking (voice); also what I show of myself to the others, my raised
 * hand and being away while the tab is hidden.
 */

import { yawOf } from '../venue-client.js';
import { Motion, hueOf } from '../motion.js';
import { state } from './state.js';

const motion = new Motion({ delayMs: 100, maxExtrapolateMs: 200 });

/* The ?simulate crowd runs on a tick clock of its own, and is not announced. */
function simulated(id) {
    return !!state.sim && state.sim.owns(id);
}

function motionOf(id) {
    return simulated(id) ? state.sim.motion : motion;
}

/* The avatar of a roster entry, made on first sight. */
export function avatarOf(u) {
    let av = state.avatars.get(u.id);
    if (!av) {
        av = {
            id: u.id, name: u.name, role: u.role, hue: hueOf(u.id),
            x: u.p[0], y: u.p[1], z: u.p[2], yaw: yawOf(u.q),
            hand: u.hand, away: u.status === 'away', speaking: 0, talking: u.talking,
            me: !!(state.client.me && u.id === state.client.me.id),
            motion: motionOf(u.id),
            r: 1, g: 1, b: 1, hr: 1, hg: 1, hb: 1,
        };
        state.avatars.set(u.id, av);
    }
    return av;
}

export function forget(id) {
    state.avatars.delete(id);
    motionOf(id).remove(id);
}

export function rebuildList() {
    /* relayed stage people are drawn once we know where this room's stage is */
    state.list = [...state.avatars.values()].filter((av) => !av.relay || state.stageOffset);
    state.listChanged = true;
}

/* A room joined: everyone in its roster, where the server says they are. */
export function fillFromRoster() {
    const client = state.client;
    motion.reset();
    state.avatars.clear();
    const now = performance.now();
    for (const u of client.roster.values()) {
        const av = avatarOf(u);
        if (!av.me) av.motion.place(u.id, u.p, u.q, now);
    }
    state.me = client.me ? state.avatars.get(client.me.id) || null : null;
    /* my hand as the server's roster has it (venue-client.js: a resume takes the roster's word) */
    if (state.me) state.me.hand = !!client.me.hand;
    if (state.panels && client.me) state.panels.setHand(!!client.me.hand);
    rebuildList();
}

/* In no room: nobody to draw. */
export function clearPeople() {
    state.avatars.clear();
    motion.reset();
    state.me = null;
    rebuildList();
}

export function onPresence(d) {
    const u = d.user;
    const panels = state.panels;
    if (d.self) {
        panels.setHand(!!u.hand);
        if (state.me) {
            state.me.hand = u.hand;
            state.me.away = u.status === 'away';
            state.me.talking = u.talking;
            state.listChanged = true;
        }
        panels.rosterChanged();
        return;
    }
    if (d.event === 'join') {
        const av = avatarOf(u);
        av.motion.place(u.id, u.p, u.q, performance.now());
        av.x = u.p[0];
        av.y = u.p[1];
        av.z = u.p[2];
        rebuildList();
        if (!simulated(u.id)) panels.announce(`${u.name} joined.`, 'join');
    } else if (d.event === 'leave') {
        forget(u.id);
        rebuildList();
        if (!simulated(u.id)) panels.announce(`${u.name} left.`, 'leave');
    } else if (d.event === 'update') {
        const av = state.avatars.get(u.id);
        if (av) {
            if (av.hand !== u.hand) {
                panels.announce(`${u.name} ${u.hand ? 'raised their hand' : 'lowered their hand'}.`);
            }
            av.hand = u.hand;
            av.away = u.status === 'away';
            av.talking = u.talking;
            av.name = u.name;
            av.role = u.role;
            state.listChanged = true;
        }
    }
    panels.rosterChanged();
}

export function onPoses(d) {
    motionOf(d.users.length > 0 ? String(d.users[0].id) : '').onPoses(d.tick, d.tickHz, d.users, performance.now());
}

const tmpOut = new Float32Array(3);

/* Everyone but me where their motion puts them now; the relayed stage people shifted onto this room's stage. */
export function placeAvatars(now) {
    const list = state.list;
    for (let i = 0; i < list.length; i++) {
        const av = list[i];
        if (av.me) continue;
        const yaw = av.motion.sample(av.id, now, tmpOut);
        if (yaw === yaw) {
            av.x = tmpOut[0];
            av.y = tmpOut[1];
            av.z = tmpOut[2];
            av.yaw = yaw;
            if (av.relay) {
                const o = state.stageOffset;
                av.x += o[0];
                av.y += o[1];
                av.z += o[2];
            }
        }
    }
}

export function toggleHand() {
    const client = state.client;
    const panels = state.panels;
    /* what the others see is what the button turns: the server's last word on my hand */
    client.setHand(!(client.me && client.me.hand));
    panels.setHand(client._wantHand);
    if (state.me) {
        state.me.hand = client._wantHand;
        state.listChanged = true;
    }
    panels.announce(client._wantHand ? 'Your hand is raised.' : 'Your hand is lowered.');
}

/* On entering the venue: my hand is down, and a hidden tab shows me away. */
export function startPeople() {
    const client = state.client;
    state.panels.setHand(!!(client.me && client.me.hand));
    document.addEventListener('visibilitychange', () => {
        client.setStatus(document.hidden ? 'away' : 'active');
    });
}
