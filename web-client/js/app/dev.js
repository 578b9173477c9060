/*
 * dev.js - hooks for tests and the curious, loaded by app.js only when
 * asked for: window.__venue (what the page is drawing, see PROTOCOL.md,
 * "The page's test and stress hooks"), the frame rate, and ?simulate=N,
 * N extra simulated people walking in circles in my room.
 *
 * The simulation hands the client the same presence and poses frames the
 * server would send, so everything downstream (roster, interpolation,
 * drawing, tags) runs as in a real crowd; only the network is left out.
 */

import { quatOfYaw, describeError } from '../venue-client.js';
import { Motion } from '../motion.js';
import { fallbackScene } from '../scene.js';
import { state } from './state.js';
import { walkTo } from './moving.js';
import { boardsDrawn } from '../board3d.js';
import { slideCanvas, slideDrawn } from '../slides.js';
import { voiceProbe } from './voice.js';

const SIM_MAX = 2000;
const SIM_PREFIX = 'sim-';
const SIM_NAMES = ['Amara', 'Bjørn', 'Chen Wei', 'Dalia', 'Émile', 'Farah', 'Giulia', 'Hiro', 'Ines', 'João',
    'Kaito', 'Lena', 'Mateo', 'Nadia', 'Olu', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tariq'];

const fps = { frames: 0, since: 0, value: 0 };
let crowd = null; /* the simulated people walking now */

window.__venue = {
    _state: state,
    get client() {
        return state.client;
    },
    get view() {
        return state.viewKind;
    },
    get fps() {
        return fps.value;
    },
    get ready() {
        return !!(state.client && state.client.room && state.model && state.view);
    },
    /* where avatar id is drawn right now: {x, y, z, yaw, hand, talking} or null (talking: its ring is drawn) */
    avatar(id) {
        const av = state.avatars.get(id);
        return av ? { x: av.x, y: av.y, z: av.z, yaw: av.yaw, hand: av.hand, talking: !!av.talking } : null;
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
    /* click-to-move without the click */
    walkTo,
    /* the showcases' live data as the view draws it: [{showcase, show, label, text, age, stale, colour}] */
    twinLabels() {
        return state.view ? state.view.twinsDrawn() : [];
    },
    /* what each programme board in the 3D room shows now, line by line: [[line, ...], ...] */
    boards: boardsDrawn,
    /*
     * the slide on stage as drawn: {alt, drawn: {url, page, screens} or
     * null, ink}; ink is the share of the canvas's pixels that are not
     * near white (0 for a blank page), screens the 3D screens showing it
     */
    slide() {
        const c = slideCanvas();
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && px[i] + px[i + 1] + px[i + 2] < 600) dark++;
        return { alt: c.getAttribute('aria-label'), drawn: slideDrawn(), ink: dark / (px.length / 4) };
    },
    /*
     * voice as this page has it: {state, mic, publishing, peers: [{user,
     * feed, left, right}]}, each voice heard with its RMS level now after
     * its panner, per ear (an AnalyserNode each side)
     */
    voice: voiceProbe,
    /* the 3D view's camera: {x, y, z, fov (degrees, vertical)}, or null in the 2D map */
    camera() {
        const c = state.view && state.view.kind === '3d' ? state.view.camera : null;
        return c ? { x: c.position.x, y: c.position.y, z: c.position.z, fov: c.fov } : null;
    },
    /* the 2D map's room labels as drawn, in client pixels: [{text, left, top, right, bottom}], or null in 3D */
    mapLabels() {
        return state.view && state.view.labelsDrawn ? state.view.labelsDrawn() : null;
    },
    /* where a world point is on the screen (3D view), for tests that click */
    screenOf(x, y, z) {
        return state.view && state.view.screenOf ? state.view.screenOf(x, y, z) : null;
    },
    describeError,
};

const simulate = Math.min(SIM_MAX, Math.max(0, parseInt(new URLSearchParams(location.search).get('simulate') || '0', 10) || 0));
if (simulate) {
    state.sim = {
        motion: new Motion({ delayMs: 100, maxExtrapolateMs: 200 }), /* the simulation's own tick clock */
        owns: (id) => id.startsWith(SIM_PREFIX),
        joined: startSimulation,
    };
    /* loaded after a room was joined: that room gets its crowd now */
    if (state.panels && state.client.room) startSimulation();
}
requestAnimationFrame(frame);

function frame(now) {
    requestAnimationFrame(frame);
    fps.frames++;
    if (now - fps.since >= 1000) {
        fps.value = (fps.frames * 1000) / (now - fps.since);
        fps.frames = 0;
        fps.since = now;
    }
    if (crowd) stepSimulation(now);
}

/* A room joined: a new crowd of simulated people in it. */
function startSimulation() {
    const client = state.client;
    const model = state.model || fallbackScene(client.room);
    const b = model.bounds;
    const cx = (b.minX + b.maxX) / 2;
    const cz = (b.minZ + b.maxZ) / 2;
    const rx = Math.max(1, (b.maxX - b.minX) / 2 - 1);
    const rz = Math.max(1, (b.maxZ - b.minZ) / 2 - 1);
    state.sim.motion.reset();
    const people = [];
    for (let i = 0; i < simulate; i++) {
        const id = `${SIM_PREFIX}${i}`;
        const a = (i / simulate) * Math.PI * 2;
        const r = 0.25 + 0.7 * ((i * 7919) % 101) / 101;
        const p = [cx + Math.cos(a) * rx * r, model.floorY, cz + Math.sin(a) * rz * r];
        people.push({ id, a, r, speed: 0.15 + ((i * 31) % 17) / 100 });
        client._onText(JSON.stringify({
            type: 'presence', room: client.room.id, event: 'join',
            user: { id, name: `${SIM_NAMES[i % SIM_NAMES.length]} ${i}`, role: 'attendee', status: 'active',
                hand: i % 23 === 0, p, q: [0, 0, 0, 1] },
        }));
    }
    crowd = { people, cx, cz, rx, rz, tick: 0, next: 0, floorY: model.floorY, entries: people.map((p) => ({ id: p.id, p: [0, 0, 0], q: [0, 0, 0, 1] })) };
}

function stepSimulation(now) {
    const s = crowd;
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
