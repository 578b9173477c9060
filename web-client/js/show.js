/*
 * show.js - the projector view, /show?room=expo (&booth=<showcase id or
 * topic>): a room's showcases and their live city data, big enough to be
 * read from the back of a hall, with nothing to click. The room is seen
 * from a fixed camera in front of one showcase (view3d.js, following
 * nobody), and its values are listed large beside it; without a booth the
 * view tours the showcases in turn, one every 15 s. A QR code of the join
 * link (qrcode-generator) lets the audience walk in from their phones.
 *
 * The projector is nobody in the room: it polls GET /api/twins every 2 s
 * rather than holding a session, so it takes no place, has no avatar and
 * simply carries on across a restart of the server. The sparklines are
 * seeded once per entity from GET /api/twins/{id}.
 */

import qrcode from '/vendor/qrcode-generator/qrcode.mjs';
import { $, el } from './dom.js';
import { normaliseScene, compose, apply } from './scene.js';
import { Series, readShowcases, distinctItems, boundEntities, seedSeries } from './livedata.js';

const POLL_MS = 2000;
const TOUR_MS = 15000;
const MOVE_MS = 2500; /* the camera's glide from one showcase to the next */
const TEXT_MS = 1000; /* the ages move on */
const CAMERA_FROM = [0, 2.7, 6.8]; /* in the showcase's frame (front +Z): up, and back into the aisle */
const CAMERA_AT = [0, 1.5, -2];

const params = new URLSearchParams(location.search);
const roomId = params.get('room') || 'expo';
const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

const twins = new Map(); /* as VenueClient.twins: entity -> {etype, attrs} */
const series = new Series();
const seeded = new Set();
let model = null;
let booths = []; /* the showcases with bindings */
let current = 0;
let view = null;
let cam = null; /* {from, to, fromAt, toAt, since}: the glide under way */
let shownKey = '';
let missing = ''; /* the booth asked for, when the room has none of that name */

function joinUrl() {
    return `${location.origin}/?room=${encodeURIComponent(roomId)}`;
}

/* The QR code of text on a canvas: dark modules on white with a quiet zone of 4. */
function drawQr(canvas, text) {
    const qr = qrcode(0, 'M');
    qr.addData(text);
    qr.make();
    const n = qr.getModuleCount();
    const cell = Math.max(4, Math.floor(600 / (n + 8)));
    canvas.width = canvas.height = (n + 8) * cell;
    const g = canvas.getContext('2d');
    g.fillStyle = '#ffffff';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#000000';
    for (let r = 0; r < n; r++) {
        for (let c = 0; c < n; c++) if (qr.isDark(r, c)) g.fillRect((c + 4) * cell, (r + 4) * cell, cell, cell);
    }
}

function note(text) {
    const p = $('show-note');
    p.textContent = text;
    p.hidden = !text;
}

/* Where the camera stands to look at a showcase: [from, at]. */
function cameraFor(pl) {
    const m = compose(pl.p, pl.q, [1, 1, 1]);
    const floor = model.floorY - pl.p[1];
    return [apply(m, [CAMERA_FROM[0], floor + CAMERA_FROM[1], CAMERA_FROM[2]]), apply(m, [CAMERA_AT[0], floor + CAMERA_AT[1], CAMERA_AT[2]])];
}

function showBooth(i) {
    current = i;
    const pl = booths[i];
    $('show-title').textContent = pl.label || pl.topic;
    const step = booths.length > 1 && !params.get('booth') ? `Showcase ${i + 1} of ${booths.length}` : '';
    $('show-step').textContent = missing ? `No showcase "${missing}" here. ${step}` : step;
    shownKey = '';
    renderValues();
    if (!view) return;
    const [to, toAt] = cameraFor(pl);
    const now = performance.now();
    cam = cam && !reducedMotion ? { from: cam.pos, fromAt: cam.at, to, toAt, since: now, pos: cam.pos, at: cam.at }
        : { from: to, fromAt: toAt, to, toAt, since: now - MOVE_MS, pos: to, at: toAt };
}

/* The values of the showcase shown now, large; the list is rebuilt only when its items change. */
function renderValues() {
    if (!booths.length) return;
    const reading = readShowcases(model, twins, series, Date.now()).find((r) => r.id === booths[current].id);
    const items = distinctItems(reading).filter((it) => it.binding.show !== 'marker');
    const list = $('show-values');
    const key = `${reading.id}\u0000${items.map((it) => it.label).join('\u0000')}`;
    if (key !== shownKey) {
        shownKey = key;
        list.replaceChildren(...items.map(() => {
            const li = el('li', 'show-item');
            const label = el('span', 'show-label');
            const age = el('span', 'show-age');
            const value = el('span', 'show-value');
            label.dir = value.dir = 'auto';
            li.append(label, age, value);
            return li;
        }));
    }
    items.forEach((it, i) => {
        const li = list.children[i];
        const [label, age, value] = li.children;
        label.textContent = it.label;
        const unit = it.has && it.unit ? it.unit : '';
        if (value.dataset.shows !== `${it.text}\u0000${unit}`) {
            value.dataset.shows = `${it.text}\u0000${unit}`;
            value.replaceChildren(document.createTextNode(unit ? `${it.text} ` : it.text), ...(unit ? [el('small', 'show-unit', unit)] : []));
        }
        age.textContent = !it.has ? 'waiting for data' : it.stale ? `stale · ${it.age}` : `updated ${it.age}`;
        li.classList.toggle('stale', it.stale);
        li.classList.toggle('waiting', !it.has);
        const ramp = reading.items.find((x) => x.binding.show === 'ramp' && x.binding.entity === it.binding.entity && x.binding.attr === it.binding.attr);
        li.style.borderInlineStartColor = ramp && ramp.colour && !ramp.stale ? ramp.colour : '';
    });
}

async function poll() {
    try {
        const res = await fetch('/api/twins', { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = await res.json();
        const bound = new Set(boundEntities(model));
        for (const e of body.entities || []) {
            if (!bound.has(e.id)) continue;
            twins.set(e.id, { etype: e.type, attrs: e.attrs });
            for (const [attr, a] of Object.entries(e.attrs)) series.add(e.id, attr, [{ t: a.observedAt ?? a.receivedAt, v: a.value }]);
            if (!seeded.has(e.id)) {
                seeded.add(e.id);
                seed(e.id);
            }
        }
        note('');
    } catch (e) {
        console.warn('live data could not be fetched:', e);
        note('The venue cannot be reached right now: the values shown may be old.');
    }
    redraw();
}

async function seed(entity) {
    try {
        const res = await fetch(`/api/twins/${encodeURIComponent(entity)}`, { cache: 'no-store' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        seedSeries(series, await res.json());
        redraw();
    } catch (e) {
        console.warn(`the history of ${entity} could not be loaded:`, e);
    }
}

function redraw() {
    if (view) view.setTwins(readShowcases(model, twins, series, Date.now()));
    renderValues();
}

let lastFrame = 0;

function frame(now) {
    requestAnimationFrame(frame);
    const dtS = Math.min(0.1, lastFrame ? (now - lastFrame) / 1000 : 0);
    lastFrame = now;
    if (cam) {
        const k = Math.min(1, (now - cam.since) / MOVE_MS);
        const e = k * k * (3 - 2 * k);
        cam.pos = cam.from.map((v, i) => v + (cam.to[i] - v) * e);
        cam.at = cam.fromAt.map((v, i) => v + (cam.toAt[i] - v) * e);
        view.lookFrom(cam.pos, cam.at);
    }
    view.render([], null, now, dtS, false);
}

async function startView() {
    try {
        const v3d = await import('./view3d.js');
        if (!v3d.webglAvailable()) throw new Error('no WebGL');
        view = new v3d.View3D($('show-view'), $('show-tags'), { reducedMotion });
        view.setScene(model);
        requestAnimationFrame(frame);
    } catch (e) {
        console.warn('the projector view shows the values only:', e);
        view = null;
        document.querySelector('.show').classList.add('no-3d');
    }
}

async function main() {
    const url = joinUrl();
    drawQr($('show-qr'), url);
    $('show-link').textContent = url.replace(/^https?:\/\//, '');
    $('show-qr').setAttribute('aria-label', `QR code of the join link ${url}`);
    try {
        const res = await fetch(`/api/scenes/${encodeURIComponent(roomId)}`);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        model = normaliseScene(await res.json());
    } catch (e) {
        console.warn(`the scene of ${roomId} could not be loaded:`, e);
        note(`There is no room "${roomId}" to show.`);
        return;
    }
    $('show-room').textContent = model.name;
    document.title = `${model.name} · live data`;
    booths = model.places.filter((p) => p.type === 'showcase' && p.twins.length);
    if (!booths.length) {
        note(`${model.name} has no showcase with live data.`);
        return;
    }
    await startView();
    const wanted = params.get('booth');
    const fixed = wanted ? booths.findIndex((p) => p.id === wanted || p.topic === wanted) : -1;
    if (wanted && fixed < 0) {
        missing = wanted;
        params.delete('booth');
    }
    showBooth(Math.max(0, fixed));
    if (fixed < 0) setInterval(() => showBooth((current + 1) % booths.length), TOUR_MS);
    await poll();
    setInterval(poll, POLL_MS);
    setInterval(renderValues, TEXT_MS);
}

main();
