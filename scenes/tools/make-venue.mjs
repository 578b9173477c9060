#!/usr/bin/env node
// make-venue.mjs - writes the demo venue's room scenes (scenes/demo/*.json).
//
//   node scenes/tools/make-venue.mjs
//
// The layout lives here rather than in the JSON so that what must agree stays agreed: a
// doorway cut in a wall, its frame, the portal trigger in it, the sign over it and the spawn
// point in front of the door on the other side. The output is the format of scenes/FORMAT.md,
// pretty-printed for reading. Conventions: metres, Y up; objects face +Z, people look -Z.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEMO = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo');

// ---- Numbers, rotations, transforms ----

const r4 = (x) => {
    const v = Math.round(x * 10000) / 10000;
    return Object.is(v, -0) ? 0 : v;
};
const v = (...xs) => xs.map(r4);
const yawQ = (deg) => {
    const a = (deg * Math.PI) / 360;
    return v(0, Math.sin(a), 0, Math.cos(a));
};
// An object (front +Z) facing a compass direction, and a person (looking -Z) looking there.
const FACE = { '+z': 0, '+x': 90, '-z': 180, '-x': -90 };
const objRot = (dir) => yawQ(FACE[dir]);
const lookQ = (dir) => yawQ(FACE[dir] + 180);
const isIdentity = (q) => q[0] === 0 && q[1] === 0 && q[2] === 0 && q[3] === 1;

// A frame (translation + yaw) to place things given in a local frame into the room.
function frame(at, dir) {
    const a = (FACE[dir] * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
    return {
        p: (x, y, z) => v(at[0] + c * x + s * z, at[1] + y, at[2] - s * x + c * z),
        q: objRot(dir),
        dir,
    };
}

// ---- Node builders ----

function tr(node, at, rot, scale) {
    if (at && (at[0] || at[1] || at[2])) node.translation = v(...at);
    if (rot && !isIdentity(rot)) node.rotation = rot;
    if (scale) node.scale = v(...scale);
    return node;
}
const mat = (o = {}) => {
    const m = {};
    if (o.color) m.color = o.color;
    if (o.emissive) m.emissive = o.emissive;
    if (o.opacity !== undefined) m.opacity = o.opacity;
    if (o.roughness !== undefined) m.roughness = o.roughness;
    if (o.metalness !== undefined) m.metalness = o.metalness;
    return m;
};
// A box given by its bottom centre: furniture and walls stand on the floor.
const block = (size, base, color, o = {}) =>
    tr({ ...(o.id ? { id: o.id } : {}), type: 'box', size: v(...size), ...mat({ color, ...o }) },
        [base[0], base[1] + size[1] / 2, base[2]], o.rot);
const boxAt = (size, at, color, o = {}) =>
    tr({ ...(o.id ? { id: o.id } : {}), type: 'box', size: v(...size), ...mat({ color, ...o }) }, at, o.rot);
const plane = (size, at, color, o = {}) =>
    tr({ ...(o.id ? { id: o.id } : {}), type: 'plane', size: v(...size), ...mat({ color, ...o }) }, at, o.rot);
const cyl = (radius, height, base, color, o = {}) => {
    const n = { type: 'cylinder', radius: r4(radius), height: r4(height) };
    if (o.top !== undefined) n.radius_top = r4(o.top);
    return tr(Object.assign(n, mat({ color, ...o })), [base[0], base[1] + height / 2, base[2]], o.rot);
};
const ball = (radius, at, color, o = {}) => tr({ type: 'sphere', radius: r4(radius), ...mat({ color, ...o }) }, at);
const gltf = (url, at, rot, scale) => tr({ type: 'gltf', url }, at, rot, scale);
const group = (id, at, rot, children) => tr({ ...(id ? { id } : {}), type: 'group', children }, at, rot);

// ---- Rooms: floor, walls with doorways, portals, signs ----

/*
 * A rectangular room [x0, x1] x [z0, z1]. Doors are cut in walls ('n' z0, 's' z1, 'w' x0,
 * 'e' x1) at a position along the wall, with a frame in the door's colour, a portal trigger
 * reaching 1.2 m into the room and a sign over it. The walkable area is inset by INSET.
 */
const INSET = 0.4;
const THICK = 0.3;

function room(spec) {
    const { x0, x1, z0, z1, height } = spec;
    const r = { spec, nodes: [], places: [], portals: [], spawns: [], doors: [] };
    r.nodes.push(plane([x1 - x0, z1 - z0], [(x0 + x1) / 2, 0, (z0 + z1) / 2], spec.floor, { id: 'floor', roughness: spec.floorRough ?? 0.7 }));
    return r;
}

function door(r, wall, at, width, h, to) {
    r.doors.push({ wall, at, width, h, ...to });
}

// The room's walls as boxes, with the doorways left open and a lintel over each.
function buildWalls(r, o = {}) {
    const { x0, x1, z0, z1, height, wall } = r.spec;
    const t = THICK;
    const walls = {
        n: { from: x0 - t, to: x1 + t, fixed: z0 - t / 2, alongX: true },
        s: { from: x0 - t, to: x1 + t, fixed: z1 + t / 2, alongX: true },
        w: { from: z0, to: z1, fixed: x0 - t / 2, alongX: false },
        e: { from: z0, to: z1, fixed: x1 + t / 2, alongX: false },
    };
    const out = [];
    for (const [name, w] of Object.entries(walls)) {
        if (o.skip?.includes(name)) continue;
        const gaps = r.doors.filter((d) => d.wall === name).sort((a, b) => a.at - b.at);
        let from = w.from;
        const seg = (a, b, y0, y1) => {
            if (b - a < 1e-6) return;
            const mid = (a + b) / 2, len = b - a;
            const size = w.alongX ? [len, y1 - y0, t] : [t, y1 - y0, len];
            const base = w.alongX ? [mid, y0, w.fixed] : [w.fixed, y0, mid];
            out.push(block(size, base, wall, { roughness: 0.9 }));
        };
        for (const d of gaps) {
            seg(from, d.at - d.width / 2, 0, height);
            seg(d.at - d.width / 2, d.at + d.width / 2, d.h, height);
            from = d.at + d.width / 2;
        }
        seg(from, w.to, 0, height);
        // a skirting board along the inner face, in the trim colour
        if (r.spec.skirting) {
            const inner = name === 'n' ? z0 + 0.01 : name === 's' ? z1 - 0.01 : name === 'w' ? x0 + 0.01 : x1 - 0.01;
            let a = w.alongX ? x0 : z0;
            const end = w.alongX ? x1 : z1;
            for (const d of [...gaps, { at: Infinity, width: 0 }]) {
                const b = Math.min(end, d.at - d.width / 2 - 0.12);
                if (b - a > 0.05) {
                    const mid = (a + b) / 2;
                    out.push(w.alongX ? block([b - a, 0.12, 0.02], [mid, 0, inner], r.spec.skirting)
                        : block([0.02, 0.12, b - a], [inner, 0, mid], r.spec.skirting));
                }
                a = d.at + d.width / 2 + 0.12;
            }
        }
    }
    r.nodes.push(group('walls', null, null, out));
}

// Frames, portals, signs and arrival spawns for every door.
function buildDoors(r) {
    const { x0, x1, z0, z1 } = r.spec;
    const inward = { n: '+z', s: '-z', w: '+x', e: '-x' };
    for (const d of r.doors) {
        // a frame local to the door: x along the wall, +z into the room
        const wallAt = { n: [d.at, 0, z0], s: [d.at, 0, z1], w: [x0, 0, d.at], e: [x1, 0, d.at] }[d.wall];
        const f = frame(wallAt, inward[d.wall]);
        const trim = 0.16, depth = THICK + 0.12;
        r.nodes.push(group(`door-${d.room}`, wallAt, f.q, [
            block([trim, d.h, depth], [-d.width / 2 - trim / 2, 0, -THICK / 2], d.color),
            block([trim, d.h, depth], [d.width / 2 + trim / 2, 0, -THICK / 2], d.color),
            block([d.width + 2 * trim, trim, depth], [0, d.h, -THICK / 2], d.color),
            plane([d.width, 1.6], [0, 0.008, 0.8], d.color, { opacity: 0.55 }),
        ]));
        const a = f.p(-d.width / 2, -0.1, -THICK), b = f.p(d.width / 2, 2.6, 1.2);
        r.portals.push({
            id: `to-${d.room}`,
            label: d.label,
            trigger: { min: v(Math.min(a[0], b[0]), -0.1, Math.min(a[2], b[2])), max: v(Math.max(a[0], b[0]), 2.6, Math.max(a[2], b[2])) },
            room: d.room,
            spawn: d.spawn,
        });
        r.places.push({
            type: 'sign', id: `sign-${d.room}`, translation: f.p(0, d.h + 0.5, 0.08), rotation: f.q,
            size: v(Math.max(2.2, d.width + 0.4), 0.6), label: d.label, color: d.color, text_color: '#ffffff',
        });
        // people arriving from that room appear in front of this door, looking into the room
        r.spawns.push({ id: `from-${d.room}`, p: f.p(0, 0, 2.8), q: lookQ(inward[d.wall]) });
    }
}

function walkRect(r, notches = []) {
    const { x0, x1, z0, z1 } = r.spec;
    const a = x0 + INSET, b = x1 - INSET, c = z0 + INSET, d = z1 - INSET;
    if (!notches.length) return [{ min: v(a, c), max: v(b, d) }];
    // notches cut from the east wall: [zFrom, zTo, xFrom]
    const pts = [[a, c], [b, c]];
    for (const [zf, zt, xf] of notches) pts.push([b, zf], [xf, zf], [xf, zt], [b, zt]);
    pts.push([b, d], [a, d]);
    return [{ polygon: pts.map((p) => v(...p)) }];
}

function scene(head, r, walk, look) {
    return {
        format_version: 1,
        ...head,
        floor_y: 0,
        walk,
        spawns: r.spawns,
        portals: r.portals,
        places: r.places,
        nodes: r.nodes,
        ...look,
    };
}

// ---- Furniture ----

function sofa(at, dir, color) {
    const f = frame(at, dir);
    return group(null, at, f.q, [
        block([2.2, 0.22, 0.9], [0, 0.08, 0], '#3b3431'),
        block([2.0, 0.2, 0.78], [0, 0.3, 0.04], color, { roughness: 0.95 }),
        block([2.2, 0.5, 0.22], [0, 0.3, -0.34], color, { roughness: 0.95 }),
        block([0.2, 0.3, 0.9], [-1.0, 0.3, 0], color, { roughness: 0.95 }),
        block([0.2, 0.3, 0.9], [1.0, 0.3, 0], color, { roughness: 0.95 }),
    ]);
}

function planter(at, scale = 1) {
    return gltf('assets/planter-tree.glb', at, null, scale === 1 ? null : [scale, scale, scale]);
}

// ---- Lobby ----

const ROOMS = {
    plenary: { name: 'Plenary hall', color: '#2b3f73', label: 'Plenary hall' },
    'plenary-overflow': { name: 'Overflow hall', color: '#b0413e', label: 'Overflow hall · Plenary live' },
    'breakout-1': { name: 'Breakout 1: Local digital twins', color: '#2a9d8f', label: 'Breakout 1 · Local digital twins', theme: 'Local digital twins' },
    'breakout-2': { name: 'Breakout 2: Citizens and participation', color: '#7b5ea7', label: 'Breakout 2 · Citizens & participation', theme: 'Citizens and participation' },
    'breakout-3': { name: 'Breakout 3: Climate and energy', color: '#d9912a', label: 'Breakout 3 · Climate & energy', theme: 'Climate and energy' },
    expo: { name: 'Expo hall', color: '#3f9b53', label: 'Expo · Digital-twin booths' },
};

function lobby() {
    const r = room({ x0: -15, x1: 15, z0: -12, z1: 12, height: 6, floor: '#c39a6b', wall: '#efe5d5', skirting: '#8a6a4f' });
    const to = (id) => ({ room: id, spawn: 'from-lobby', color: ROOMS[id].color, label: ROOMS[id].label });
    door(r, 'n', 0, 4, 3.4, to('plenary'));
    door(r, 'w', -6, 2.2, 2.8, to('breakout-1'));
    door(r, 'w', 0, 2.2, 2.8, to('breakout-2'));
    door(r, 'w', 6, 2.2, 2.8, to('breakout-3'));
    door(r, 'e', -4, 4, 3.4, to('expo'));
    door(r, 'e', -9, 3, 3.2, to('plenary-overflow')); // by the plenary's corner
    buildWalls(r, { skip: ['s'] });
    buildDoors(r);

    // the south side is a glass front onto the city: mullions, glass, a canopy over the entrance
    const glass = [];
    for (let x = -15; x <= 15.01; x += 2.5) glass.push(block([0.14, 6, 0.2], [x, 0, 12.1], '#3a3f45', { metalness: 0.6, roughness: 0.35 }));
    glass.push(block([30.3, 0.18, 0.22], [0, 2.9, 12.1], '#3a3f45', { metalness: 0.6, roughness: 0.35 }));
    glass.push(block([30.3, 0.2, 0.22], [0, 5.8, 12.1], '#3a3f45', { metalness: 0.6, roughness: 0.35 }));
    glass.push(block([30, 6, 0.04], [0, 0, 12.15], '#a9cbe0', { opacity: 0.28, roughness: 0.1, metalness: 0.1 }));
    glass.push(block([5, 0.02, 2.4], [0, 0.004, 10.6], '#5b4636'));
    r.nodes.push(group('glass-front', null, null, glass));

    // timber roof beams over the atrium, open to the sky
    const beams = [];
    for (const z of [-9, -4.5, 0, 4.5, 9]) beams.push(block([30.6, 0.55, 0.32], [0, 5.8, z], '#9c6b43', { roughness: 0.6 }));
    beams.push(block([0.3, 0.4, 24], [-7.5, 6.35, 0], '#8a5c38'), block([0.3, 0.4, 24], [7.5, 6.35, 0], '#8a5c38'));
    r.nodes.push(group('roof-beams', null, null, beams));

    // the centre: a Citiverse globe on a plinth, a terracotta rug and a ring of benches
    const centre = [
        cyl(4.2, 0.012, [0, 0, 0], '#b5553a', { roughness: 1 }),
        cyl(3.2, 0.014, [0, 0, 0], '#d88a5c', { roughness: 1 }),
        cyl(0.55, 0.9, [0, 0, 0], '#f1ebe2', { roughness: 0.4 }),
        ball(0.85, [0, 1.75, 0], '#3b78c2', { roughness: 0.35, emissive: '#0d2a4d' }),
        tr(cyl(1.35, 0.05, [0, 0, 0], '#d4a537', { metalness: 0.8, roughness: 0.25 }), [0, 1.75, 0], [0.1305, 0, 0.0976, 0.9866]),
        ball(0.12, [1.25, 2.15, 0.3], '#f2c94c', { emissive: '#a37b12' }),
    ];
    for (let k = 0; k < 8; k++) {
        const a = (k * Math.PI) / 4 + Math.PI / 8;
        centre.push(block([1.7, 0.45, 0.55], [2.75 * Math.sin(a), 0, 2.75 * Math.cos(a)], '#8b5a3c', { rot: yawQ((a * 180) / Math.PI), roughness: 0.6 }));
    }
    r.nodes.push(group('globe', [0, 0, -1], null, centre));

    // the registration desk along the east wall, facing the visitors (-X)
    const desk = frame([12, 0, 6.5], '-x');
    r.nodes.push(group('registration-desk', [12, 0, 6.5], desk.q, [
        block([6, 1.05, 0.8], [0, 0, 0], '#7a4b31', { roughness: 0.55 }),
        block([5.6, 0.66, 0.04], [0, 0.22, 0.42], '#c8643b'),
        block([6.3, 0.06, 1.05], [0, 1.05, 0.08], '#f1ebe2', { roughness: 0.3 }),
        block([5.8, 0.04, 0.55], [0, 0.74, -0.62], '#d8cfc2'),
        ...[-1.8, 0, 1.8].flatMap((x) => [
            block([0.05, 0.3, 0.05], [x, 1.11, -0.25], '#2b2d31'),
            block([0.6, 0.36, 0.04], [x, 1.3, -0.25], '#1c1f24', { roughness: 0.3 }),
            block([0.55, 0.31, 0.005], [x, 1.325, -0.272], '#9fc3e0', { emissive: '#37597a' }),
        ]),
        planter([-3.6, 0, 0.3], 0.7),
        planter([3.6, 0, 0.3], 0.7),
    ]));
    r.places.push({ type: 'desk', id: 'registration', translation: v(12, 0, 6.5), rotation: desk.q, size: v(6, 1.1, 0.8), label: 'Registration' });
    r.places.push({ type: 'sign', id: 'sign-registration', translation: v(11.3, 3.1, 6.5), rotation: desk.q, size: v(4.8, 0.8), label: 'Registration · Welcome', color: '#c8643b', text_color: '#ffffff' });
    r.nodes.push(boxAt([0.04, 2.2, 0.04], [11.3, 4.6, 4.3], '#2b2d31'), boxAt([0.04, 2.2, 0.04], [11.3, 4.6, 8.7], '#2b2d31'));

    // the programme board and the plenary live screen on the north wall
    r.nodes.push(boxAt([6.4, 3.8, 0.1], [-8, 2.6, -11.95], '#3a2f28'));
    r.places.push({ type: 'board', id: 'programme', translation: v(-8, 2.6, -11.88), size: v(6, 3.375), image: 'assets/programme.svg', label: 'Programme' });
    r.nodes.push(boxAt([6.4, 3.8, 0.1], [8, 2.6, -11.95], '#1c1f24'));
    r.places.push({ type: 'screen', id: 'plenary-live', translation: v(8, 2.6, -11.88), size: v(6, 3.375), image: 'assets/slide-welcome.svg', label: 'Plenary live' });

    // a lounge by the glass front
    r.nodes.push(group('lounge', [-11, 0, 7.5], null, [
        plane([6, 4.4], [0, 0.006, 0], '#6f7d5a', { roughness: 1 }),
        sofa([0, 0, -1.5], '+z', '#3e6e73'),
        sofa([0, 0, 1.5], '-z', '#3e6e73'),
        cyl(0.55, 0.4, [0, 0, 0], '#d8cfc2', { roughness: 0.4 }),
        planter([2.4, 0, -1.6], 0.8),
    ]));
    for (const at of [[-14, 0, -11], [14, 0, -11], [-3.2, 0, -11.1], [3.2, 0, -11.1], [-14, 0, -3], [-14, 0, 3]])
        r.nodes.push(planter(at));

    // arrivals come in by the glass front, looking into the lobby (-Z)
    const arrivals = [];
    for (const z of [7, 9.5]) for (const x of [-7.5, -4.5, -1.5, 1.5, 4.5, 7.5]) arrivals.push({ id: `arrive-${arrivals.length + 1}`, p: v(x, 0, z), q: lookQ('-z') });
    r.spawns.unshift(...arrivals);

    return scene(
        {
            id: 'lobby',
            name: 'Lobby',
            description: 'Welcome to the Citiverse assembly: register at the desk, read the programme, and take a door to the plenary (or its overflow hall), the breakouts or the expo.',
            capacity: 300,
        },
        r,
        walkRect(r, [[3.1, 9.9, 10.8]]),
        {
            background: '#f0dcc0',
            fog: { color: '#f0dcc0', near: 45, far: 140 },
            lighting: {
                ambient: { color: '#fff1e0', intensity: 0.35 },
                hemisphere: { sky: '#fff3e0', ground: '#9c7a5b', intensity: 1.1 },
                directional: [{ color: '#ffe0b0', intensity: 1.8, direction: v(-0.45, -1, -0.35) }],
                point: [
                    { color: '#ffc27a', intensity: 30, position: v(0, 4.5, -1), distance: 16 },
                    { color: '#ffc27a', intensity: 20, position: v(10, 4, 6.5), distance: 10 },
                    { color: '#ffd9a8', intensity: 16, position: v(-11, 3.5, 7.5), distance: 9 },
                ],
            },
        },
    );
}

// ---- Plenary hall ----

/*
 * The plenary's stage, in plenary coordinates. The overflow hall builds the same stage moved by
 * OVERFLOW_SHIFT, with a stage place of the same size moved by the same offset: a client draws
 * the relayed plenary stage avatars there by adding (overflow stage translation - plenary stage
 * translation), which is OVERFLOW_SHIFT, to their plenary poses (scenes/FORMAT.md, overflow).
 */
const STAGE_H = 0.9; // stage height
const OVERFLOW_SHIFT = [0, 0, -3];

function stageNodes(o = {}) {
    const H = STAGE_H;
    // platform, gold edge light, a backdrop
    const stage = [
        block([18, H, 6], [0, 0, -12], '#2a2d33', { roughness: 0.6 }),
        block([18, 0.02, 6], [0, H, -12], '#6b4a34', { roughness: 0.45 }),
        block([18.04, 0.05, 0.03], [0, H - 0.1, -9], '#d4a537', { emissive: '#b8860b' }),
        block([18, 6.5, 0.12], [0, H, -14.9], '#243559'),
        block([18.2, 0.12, 0.2], [0, H + 6.5, -14.85], '#d4a537', { metalness: 0.7, roughness: 0.3 }),
    ];
    // steps at both front corners, where the stage can be climbed
    if (o.steps) {
        for (const s of [-1, 1]) {
            stage.push(block([1.6, 0.3, 0.8], [s * 7.8, 0, -8.6], '#2a2d33'), block([1.6, 0.6, 0.4], [s * 7.8, 0, -8.8], '#2a2d33'));
            stage.push(block([1.6, 0.02, 0.4], [s * 7.8, 0.3, -8.4], '#6b4a34'), block([1.6, 0.02, 0.4], [s * 7.8, 0.6, -8.8], '#6b4a34'));
        }
    }
    // a panel table for the moderators, and the lectern
    stage.push(block([3.4, 0.04, 0.9], [-5, H + 0.72, -11.6], '#f1ebe2'), block([3.3, 0.7, 0.05], [-5, H + 0.02, -11.2], '#1f2a44'));
    for (const x of [-6.2, -5, -3.8]) stage.push(gltf('assets/chair.glb', [x, H, -12.4]));
    stage.push(gltf('assets/lectern.glb', [5.2, H, -10.6]));
    stage.push(planter([-8.3, H, -14.2], 0.8), planter([8.3, H, -14.2], 0.8));
    return stage;
}

// The stage place: the speaker's spot at the lectern; who stands inside the volume is on stage.
function stagePlace(shift = [0, 0, 0]) {
    const [dx, dy, dz] = shift, H = STAGE_H;
    return {
        type: 'stage', id: 'stage', translation: v(5.2 + dx, H + dy, -11.2 + dz), size: v(18, H, 6), label: 'Stage',
        volume: { min: v(-9 + dx, H - 0.4 + dy, -15 + dz), max: v(9 + dx, H + 2.6 + dy, -9 + dz) },
    };
}

function plenary() {
    const r = room({ x0: -20, x1: 20, z0: -15, z1: 15, height: 9, floor: '#5a4232', wall: '#1f2a44', floorRough: 0.55 });
    door(r, 's', 0, 4, 3.4, { room: 'lobby', spawn: 'from-plenary', color: '#d4a537', label: 'Lobby' });
    buildWalls(r);
    buildDoors(r);
    const H = STAGE_H;

    r.nodes.push(group('stage', null, null, stageNodes({ steps: true })));
    r.places.push(stagePlace());
    r.places.push({ type: 'sign', id: 'sign-assembly', translation: v(0, H + 5.3, -14.8), size: v(11, 1.3), label: 'Citiverse Assembly 2026', color: '#243559', text_color: '#f2c94c' });

    // two big screens beside the stage
    for (const [s, id, img, label] of [[-1, 'screen-left', 'assets/slide-welcome.svg', 'Welcome'], [1, 'screen-right', 'assets/slide-twins.svg', 'Local digital twins']]) {
        r.nodes.push(boxAt([9.5, 5.6, 0.16], [s * 14.5, 4.9, -14.9], '#0d1117', { roughness: 0.4 }));
        r.places.push({ type: 'screen', id, translation: v(s * 14.5, 4.9, -14.8), size: v(9, 5.0625), image: img, label });
    }

    // acoustic timber panels on the side walls, with warm wall lights between them
    const panels = [];
    for (const s of [-1, 1]) {
        for (let z = -7.5; z <= 12.1; z += 3.25) {
            panels.push(boxAt([0.12, 5.2, 2.5], [s * 19.94, 3.9, z], '#7a5236', { roughness: 0.7 }));
            panels.push(boxAt([0.08, 0.5, 0.25], [s * 19.94, 7.2, z + 1.62], '#3a2a1c', { emissive: '#ffb35c' }));
        }
    }
    r.nodes.push(group('wall-panels', null, null, panels));

    // the audience: a carpet and 200 seats in eight curved rows facing the stage
    r.nodes.push(plane([21, 11.5], [0, 0.006, -1.6], '#2b3656', { roughness: 1 }));
    r.places.push({
        type: 'seat_rows', id: 'stalls', translation: v(0, 0, -4.5), rotation: objRot('-z'),
        rows: 8, columns: 25, spacing: v(0.7, 1.1), radius: 18, aisles: [6, 19],
        model: 'assets/theatre-seat.glb', color: '#9b2335', label: 'Stalls',
    });

    // at the back: the sound and video desk, a camera riser
    r.nodes.push(group('av-desk', [-10, 0, 12.2], null, [
        block([3.2, 0.95, 1.1], [0, 0, 0], '#2a2d33'),
        block([3.0, 0.12, 0.8], [0, 0.95, -0.05], '#3d4450', { rot: [-0.0872, 0, 0, 0.9962] }),
        block([0.9, 0.55, 0.05], [-0.8, 1.05, 0.35], '#1c1f24'),
        block([0.85, 0.5, 0.005], [-0.8, 1.08, 0.378], '#7fb0d6', { emissive: '#2a4d6e' }),
    ]));
    r.nodes.push(group('camera-riser', [10, 0, 9], null, [
        block([2.2, 0.4, 2.2], [0, 0, 0], '#2a2d33'),
        cyl(0.05, 1.3, [0, 0.4, 0], '#1c1f24'),
        block([0.3, 0.3, 0.6], [0, 1.7, 0], '#1c1f24'),
        cyl(0.1, 0.25, [0, 1.85, -0.3], '#0d1117', { rot: [-0.7071, 0, 0, 0.7071] }),
    ]));

    for (const z of [7, 10]) for (const x of [-13, -7, -2.5, 2.5, 7, 13]) {
        if (x === 13 && z === 10) continue;
        r.spawns.push({ id: `arrive-${r.spawns.length}`, p: v(x, 0, z), q: lookQ('-z') });
    }

    return scene(
        {
            id: 'plenary',
            name: 'Plenary hall',
            description: 'The assembly meets here: keynotes, city panels and the closing plenary. 200 seats; when the hall is full, the overflow hall shows its stage live.',
            capacity: 200,
            reserved_seats: 12,
            overflow: 'plenary-overflow',
            guests: { enter: true, chat: true },
        },
        r,
        [
            { polygon: [[-19.6, -14.6], [-9, -14.6], [-9, -9], [9, -9], [9, -14.6], [19.6, -14.6], [19.6, 14.6], [-19.6, 14.6]].map((p) => v(...p)) },
            { min: v(-9, -14.6), max: v(9, -9), y: H },
        ],
        {
            background: '#121722',
            fog: { color: '#121722', near: 45, far: 110 },
            lighting: {
                ambient: { color: '#c8d2ff', intensity: 0.25 },
                hemisphere: { sky: '#b8c4e0', ground: '#2a2030', intensity: 0.55 },
                directional: [{ color: '#fff0dc', intensity: 1.1, direction: v(0.15, -0.8, -0.6) }],
                point: [
                    { color: '#ffe2b8', intensity: 60, position: v(0, 7, -10), distance: 16 },
                    { color: '#ffe2b8', intensity: 40, position: v(-6, 6.5, -10.5), distance: 12 },
                    { color: '#ffe2b8', intensity: 40, position: v(6, 6.5, -10.5), distance: 12 },
                    { color: '#ffb35c', intensity: 25, position: v(0, 6, 4), distance: 20 },
                ],
            },
        },
    );
}

// ---- Overflow hall ----

/*
 * Where people go when the plenary is full. It receives the plenary's stage read-only: the server
 * sends its members who stands on the plenary stage, with their poses in plenary coordinates, and
 * the client draws them on this hall's copy of the stage (stageNodes and stagePlace moved by
 * OVERFLOW_SHIFT). The copy is not walkable, so nobody here stands among the relayed speakers.
 */
function plenaryOverflow() {
    const [dx, dy, dz] = OVERFLOW_SHIFT;
    const r = room({ x0: -20, x1: 20, z0: -18, z1: 14, height: 9, floor: '#5a4232', wall: '#1f2a44', floorRough: 0.55 });
    door(r, 's', 0, 4, 3.4, { room: 'lobby', spawn: 'from-plenary-overflow', color: '#d4a537', label: 'Lobby' });
    buildWalls(r);
    buildDoors(r);
    const H = STAGE_H + dy;
    const back = -15 + dz; // the backdrop's wall

    r.nodes.push(group('stage', OVERFLOW_SHIFT, null, stageNodes({ steps: false })));
    r.places.push(stagePlace(OVERFLOW_SHIFT));
    // footlights along the front edge instead of steps: the stage is to watch, not to climb
    const lights = [];
    for (let x = -8.25; x <= 8.26; x += 1.5) lights.push(block([0.5, 0.08, 0.12], [x + dx, 0, -8.94 + dz], '#2a2d33'), boxAt([0.4, 0.03, 0.02], [x + dx, 0.05, -8.87 + dz], '#ffe2b8', { emissive: '#ffc27a' }));
    r.nodes.push(group('footlights', null, null, lights));

    // over the stage, where the plenary has its assembly sign: what this hall shows, and an on-air lamp
    r.places.push({ type: 'sign', id: 'sign-live', translation: v(dx, H + 5.3, back + 0.2), size: v(13, 1.6), label: 'Live from the plenary hall', color: '#243559', text_color: '#f2c94c' });
    r.nodes.push(group('on-air', [dx, H + 3.95, back + 0.12], null, [
        boxAt([2.8, 0.8, 0.08], [0, 0, 0], '#1c1f24'),
        boxAt([2.6, 0.62, 0.03], [0, 0, 0.05], '#d7263d', { emissive: '#c81d33' }),
    ]));
    r.places.push({ type: 'sign', id: 'sign-on-air', translation: v(dx, H + 3.95, back + 0.2), size: v(2.5, 0.56), label: 'ON AIR', color: '#d7263d', text_color: '#ffffff' });

    // the plenary's two screens, beside the stage as there
    for (const [s, id, img, label] of [[-1, 'screen-left', 'assets/slide-welcome.svg', 'Plenary: welcome'], [1, 'screen-right', 'assets/slide-twins.svg', 'Plenary: local digital twins']]) {
        r.nodes.push(boxAt([9.5, 5.6, 0.16], [s * 14.5, 4.9, back + 0.1], '#0d1117', { roughness: 0.4 }));
        r.places.push({ type: 'screen', id, translation: v(s * 14.5, 4.9, back + 0.2), size: v(9, 5.0625), image: img, label });
    }

    // acoustic timber panels on the side walls, with warm wall lights between them (as in the plenary)
    const panels = [];
    for (const s of [-1, 1]) {
        for (let z = -10.5; z <= 11.1; z += 3.25) {
            panels.push(boxAt([0.12, 5.2, 2.5], [s * 19.94, 3.9, z], '#7a5236', { roughness: 0.7 }));
            panels.push(boxAt([0.08, 0.5, 0.25], [s * 19.94, 7.2, z + 1.62], '#3a2a1c', { emissive: '#ffb35c' }));
        }
    }
    r.nodes.push(group('wall-panels', null, null, panels));

    // the audience: a carpet and 300 seats in ten curved rows facing the stage
    r.nodes.push(plane([26, 14], [0, 0.006, -2.7], '#2b3656', { roughness: 1 }));
    r.places.push({
        type: 'seat_rows', id: 'stalls', translation: v(0, 0, -7), rotation: objRot('-z'),
        rows: 10, columns: 30, spacing: v(0.7, 1.1), radius: 18, aisles: [7, 23],
        model: 'assets/theatre-seat.glb', color: '#9b2335', label: 'Stalls',
    });

    // at the back: the relay desk that receives the plenary, with its monitors
    r.nodes.push(group('relay-desk', [-10, 0, 11.2], null, [
        block([3.2, 0.95, 1.1], [0, 0, 0], '#2a2d33'),
        block([3.0, 0.12, 0.8], [0, 0.95, -0.05], '#3d4450', { rot: [-0.0872, 0, 0, 0.9962] }),
        ...[-0.8, 0.3].flatMap((x) => [
            block([0.9, 0.55, 0.05], [x, 1.05, 0.35], '#1c1f24'),
            block([0.85, 0.5, 0.005], [x, 1.08, 0.378], '#7fb0d6', { emissive: '#2a4d6e' }),
        ]),
        block([0.3, 0.3, 0.3], [1.2, 0.95, 0.2], '#d7263d', { emissive: '#8a1020' }),
    ]));
    r.nodes.push(planter([-18.8, 0, 12.8]), planter([18.8, 0, 12.8]), planter([-3.4, 0, 13.1]), planter([3.4, 0, 13.1]));

    for (const z of [6.5, 9.5]) for (const x of [-13, -7, -2.5, 2.5, 7, 13]) {
        if (x === -13 && z === 9.5) continue; // the relay desk
        r.spawns.push({ id: `arrive-${r.spawns.length}`, p: v(x, 0, z), q: lookQ('-z') });
    }

    // the walkable floor: the hall without the stage
    const sx = 9 + dx, sz = -9 + dz, a = -20 + INSET, b = 20 - INSET, c = -18 + INSET, d = 14 - INSET;
    return scene(
        {
            id: 'plenary-overflow',
            name: 'Overflow hall',
            description: 'When the plenary hall is full, the assembly continues here: 300 seats facing a stage that shows the plenary stage live, with the speakers and panel as they stand in the plenary hall.',
            capacity: 300,
            guests: { enter: true, chat: true },
        },
        r,
        [{ polygon: [[a, c], [-sx, c], [-sx, sz], [sx, sz], [sx, c], [b, c], [b, d], [a, d]].map((p) => v(...p)) }],
        {
            background: '#121722',
            fog: { color: '#121722', near: 45, far: 110 },
            lighting: {
                ambient: { color: '#c8d2ff', intensity: 0.25 },
                hemisphere: { sky: '#b8c4e0', ground: '#2a2030', intensity: 0.55 },
                directional: [{ color: '#fff0dc', intensity: 1.1, direction: v(0.15, -0.8, -0.6) }],
                point: [
                    { color: '#ffe2b8', intensity: 60, position: v(dx, 7, -10 + dz), distance: 16 },
                    { color: '#ffe2b8', intensity: 40, position: v(-6 + dx, 6.5, -10.5 + dz), distance: 12 },
                    { color: '#ffe2b8', intensity: 40, position: v(6 + dx, 6.5, -10.5 + dz), distance: 12 },
                    { color: '#ffb35c', intensity: 25, position: v(0, 6, 2), distance: 20 },
                    { color: '#ffb35c', intensity: 15, position: v(0, 5, 10), distance: 14 },
                ],
            },
        },
    );
}

// ---- Breakout rooms ----

function breakout(n) {
    const id = `breakout-${n}`;
    const { color: accent, theme, name } = ROOMS[id];
    const r = room({ x0: -8, x1: 8, z0: -6, z1: 6, height: 4, floor: '#b9b2a6', wall: '#f2efe9', skirting: '#8d8a84' });
    door(r, 'e', 0, 2.2, 2.8, { room: 'lobby', spawn: `from-${id}`, color: accent, label: 'Lobby' });
    buildWalls(r);
    buildDoors(r);

    // the screen wall, painted in the room's colour
    r.nodes.push(boxAt([0.06, 4, 12], [-7.97, 2, 0], accent, { roughness: 0.9 }));
    r.nodes.push(boxAt([0.12, 2.7, 4.6], [-7.9, 2.05, 0], '#15181c', { roughness: 0.4 }));
    r.places.push({ type: 'screen', id: 'screen', translation: v(-7.82, 2.05, 0), rotation: objRot('+x'), size: v(4.2, 2.3625), image: `assets/slide-breakout-${n}.svg`, label: theme });

    // windows on the north wall
    const win = [block([12.4, 1.9, 0.05], [0.5, 1.0, -5.97], '#cfe6f2', { emissive: '#6f9fbf', opacity: 0.75, roughness: 0.1 })];
    for (let x = -5.7; x <= 6.71; x += 3.1) win.push(block([0.1, 1.9, 0.08], [x, 1.0, -5.95], '#5b6068'));
    win.push(block([12.4, 0.08, 0.2], [0.5, 0.96, -5.9], '#5b6068'), block([12.4, 0.08, 0.1], [0.5, 2.9, -5.95], '#5b6068'));
    r.nodes.push(group('windows', null, null, win));

    // a whiteboard and the room sign on the south wall
    r.nodes.push(boxAt([3.2, 1.3, 0.05], [2.4, 1.6, 5.96], '#ffffff', { roughness: 0.2 }), boxAt([3.3, 0.05, 0.12], [2.4, 0.93, 5.93], '#8d8a84'));
    r.places.push({ type: 'sign', id: 'room-sign', translation: v(-3.2, 2.5, 5.92), rotation: objRot('-z'), size: v(4.6, 0.8), label: name, color: accent, text_color: '#ffffff' });

    // the workshop table (a long table with rounded ends) on a rug
    const T = [-0.5, 0, 0];
    r.nodes.push(group('table', T, null, [
        plane([8.6, 4.6], [0, 0.006, 0], accent, { roughness: 1, opacity: 0.85 }),
        block([4.4, 0.04, 1.6], [0, 0.71, 0], '#f4f1ea', { roughness: 0.35 }),
        cyl(0.8, 0.04, [-2.2, 0.71, 0], '#f4f1ea', { roughness: 0.35 }),
        cyl(0.8, 0.04, [2.2, 0.71, 0], '#f4f1ea', { roughness: 0.35 }),
        block([0.14, 0.71, 0.9], [-1.6, 0, 0], '#2e3136', { metalness: 0.5, roughness: 0.4 }),
        block([0.14, 0.71, 0.9], [1.6, 0, 0], '#2e3136', { metalness: 0.5, roughness: 0.4 }),
        block([0.3, 0.03, 0.3], [0, 0.75, 0], '#1c1f24'),
    ]));
    let k = 0;
    const seat = (x, z, dir) => r.places.push({ type: 'seat', id: `table-${++k}`, translation: v(T[0] + x, 0, z), rotation: objRot(dir), model: 'assets/chair.glb' });
    for (const x of [-2.4, -1.2, 0, 1.2, 2.4]) seat(x, -1.2, '+z');
    for (const x of [-2.4, -1.2, 0, 1.2, 2.4]) seat(x, 1.2, '-z');
    seat(3.6, 0, '-x');
    for (const [sid, z, dir] of [['north', -4.5, '+z'], ['south', 4.5, '-z']])
        r.places.push({ type: 'seat_rows', id: sid, translation: v(0.2, 0, z), rotation: objRot(dir), rows: 1, columns: 7, spacing: v(0.9, 1), model: 'assets/chair.glb' });

    // a sideboard with coffee, and plants in the corners
    r.nodes.push(group('sideboard', [6.2, 0, -5.45], null, [
        block([2.2, 0.9, 0.55], [0, 0, 0], '#8b5a3c', { roughness: 0.6 }),
        cyl(0.12, 0.35, [-0.5, 0.9, 0], '#2e3136', { metalness: 0.6, roughness: 0.3 }),
        ...[0.1, 0.3, 0.5].map((x) => cyl(0.045, 0.1, [x, 0.9, 0.05], '#ffffff')),
    ]));
    r.nodes.push(planter([-7.2, 0, -5.2], 0.8), planter([-7.2, 0, 5.2], 0.8), planter([7.2, 0, 5.2], 0.8));

    for (const [x, z] of [[5.5, -1.7], [5.5, 1.7], [4, -3.2], [4, 3.2], [6.3, -3.5], [6.3, 3.5], [-6, -3], [-6, 3]])
        r.spawns.push({ id: `arrive-${r.spawns.length}`, p: v(x, 0, z), q: lookQ('-x') });

    return scene(
        {
            id,
            name,
            description: `A workshop room for 30 on ${theme.toLowerCase()}: a long table, a screen and a whiteboard.`,
            capacity: 30,
            reserved_seats: 2,
        },
        r,
        walkRect(r),
        {
            background: '#dde7ee',
            lighting: {
                ambient: { color: '#ffffff', intensity: 0.3 },
                hemisphere: { sky: '#f4f8ff', ground: '#9a948a', intensity: 1.1 },
                directional: [{ color: '#fff6e8', intensity: 1.4, direction: v(0.3, -0.8, 0.5) }],
                point: [{ color: '#fff1dc', intensity: 14, position: v(-0.5, 3.5, 0), distance: 10 }],
            },
        },
    );
}

// ---- Expo hall ----

const BOOTHS = [
    { id: 'city-block', label: 'City block twin', color: '#3d7dd8', at: [-6, 0, -8.5], face: '+z' },
    { id: 'air-quality', label: 'Air quality', color: '#1fa5b3', at: [7, 0, -8.5], face: '+z' },
    { id: 'mobility', label: 'Mobility', color: '#f08a24', at: [-6, 0, 8.5], face: '-z' },
    { id: 'energy', label: 'Energy', color: '#5cb85c', at: [7, 0, 8.5], face: '-z' },
];

// Live data at each booth's showcase: NGSI-LD entities of the simulated city feed, by URN,
// and how each attribute shows (scenes/FORMAT.md, "Live data in a showcase"). The feed
// publishes exactly these entities and attributes, every few seconds: stale after 2 minutes.
const URN = 'urn:ngsi-ld:';
const AIR_CENTRE = `${URN}AirQualityObserved:demo-centre`;
const AIR_HARBOUR = `${URN}AirQualityObserved:demo-harbour`;
const RING_NORTH = `${URN}TrafficFlowObserved:demo-ring-north`;
const BRIDGE = `${URN}TrafficFlowObserved:demo-bridge`;
const STATION = `${URN}OffStreetParking:demo-station`;
const TOWN_HALL = `${URN}ThreePhaseAcMeasurement:demo-town-hall`;
const UG = '\u00b5g/m\u00b3'; // µg/m³
const NO2 = 'NO\u2082'; // NO₂
const twin = (entity, attr, show, o = {}) => {
    const t = { entity, attr, show };
    if (o.label !== undefined) t.label = o.label;
    if (o.unit !== undefined) t.unit = o.unit;
    if (o.range) t.range = o.range;
    if (o.map) t.map = o.map;
    t.stale_after = 120;
    return t;
};
const TWINS = {
    'city-block': [
        twin(STATION, 'totalSpotNumber', 'label', { unit: 'spaces', label: 'Station car park' }),
        twin(AIR_CENTRE, 'airQualityIndex', 'label', { unit: '', label: 'Air quality index' }),
    ],
    'air-quality': [
        twin(AIR_CENTRE, 'no2', 'ramp', { range: [0, 200], unit: UG, label: NO2 }),
        twin(AIR_CENTRE, 'pm10', 'bar', { range: [0, 100], unit: UG, label: 'PM10' }),
        twin(AIR_CENTRE, 'pm25', 'label', { unit: UG, label: 'PM2.5' }),
        twin(AIR_CENTRE, 'temperature', 'label', { unit: '\u00b0C', label: 'Temperature' }),
        twin(AIR_CENTRE, 'no2', 'sparkline', { range: [0, 200] }),
        twin(AIR_HARBOUR, 'no2', 'label', { unit: UG, label: `${NO2} harbour` }),
    ],
    mobility: [
        twin(RING_NORTH, 'intensity', 'bar', { range: [0, 3000], unit: 'veh/h', label: 'Ring road north' }),
        twin(RING_NORTH, 'averageVehicleSpeed', 'label', { unit: 'km/h', label: 'Average speed' }),
        twin(BRIDGE, 'intensity', 'bar', { range: [0, 2000], unit: 'veh/h', label: 'Bridge' }),
        twin(STATION, 'availableSpotNumber', 'label', { unit: 'spaces', label: 'Free at the station' }),
        twin(STATION, 'location', 'marker', { map: { west: 4.8, south: 45.72, east: 4.9, north: 45.79 } }),
    ],
    energy: [
        twin(TOWN_HALL, 'totalActivePower', 'ramp', { range: [0, 500], unit: 'kW', label: 'Town hall power' }),
        twin(TOWN_HALL, 'totalActivePower', 'sparkline', { range: [0, 500] }),
        twin(TOWN_HALL, 'totalActiveEnergyImport', 'label', { unit: 'kWh', label: 'Energy today' }),
    ],
};

function booth(r, b) {
    const f = frame(b.at, b.face);
    const kids = [
        plane([8, 6], [0, 0.006, 0], b.color, { roughness: 1, opacity: 0.35 }),
        block([8, 3.6, 0.2], [0, 0, -2.9], b.color, { roughness: 0.8 }),
        block([8.2, 0.8, 0.32], [0, 3.5, -2.85], '#22272e'),
        block([0.12, 2.6, 2.6], [-3.94, 0, -1.7], '#f5f5f2'),
        block([0.12, 2.6, 2.6], [3.94, 0, -1.7], '#f5f5f2'),
        block([3.6, 2.1, 0.1], [0, 0.9, -2.75], '#15181c', { roughness: 0.4 }),
        // the showcase plinth with a light ring
        cyl(1.5, 0.5, [0, 0, 0], '#f5f5f2', { roughness: 0.35 }),
        cyl(1.53, 0.05, [0, 0.42, 0], b.color, { emissive: b.color }),
        // a counter and a high table with stools
        block([1.8, 1.0, 0.6], [-2.7, 0, 2.1], '#f5f5f2'),
        block([1.9, 0.05, 0.7], [-2.7, 1.0, 2.1], b.color),
        cyl(0.35, 0.04, [2.7, 1.05, 1.9], '#f5f5f2'),
        cyl(0.05, 1.05, [2.7, 0, 1.9], '#2e3136', { metalness: 0.6 }),
        cyl(0.2, 0.04, [2.2, 0.75, 2.4], '#2e3136'),
        cyl(0.03, 0.75, [2.2, 0, 2.4], '#2e3136', { metalness: 0.6 }),
        cyl(0.2, 0.04, [3.2, 0.75, 2.4], '#2e3136'),
        cyl(0.03, 0.75, [3.2, 0, 2.4], '#2e3136', { metalness: 0.6 }),
    ];
    const top = 0.5;
    if (b.id === 'city-block') kids.push(gltf('assets/city-block.glb', [0, top, 0]));
    if (b.id === 'air-quality') {
        kids.push(gltf('assets/air-sensor.glb', [-0.5, top, -0.2]));
        for (const [x, y, z, c] of [[0.6, 1.6, 0.2, '#4cc38a'], [0.9, 2.0, -0.4, '#f2c94c'], [0.3, 2.3, 0.5, '#4cc38a']])
            kids.push(ball(0.14, [x, y, z], c, { emissive: c, opacity: 0.8 }));
    }
    if (b.id === 'mobility') kids.push(gltf('assets/tram.glb', [0, top, 0], yawQ(-20)));
    if (b.id === 'energy') {
        kids.push(gltf('assets/wind-turbine.glb', [-0.6, top, -0.5]));
        kids.push(gltf('assets/wind-turbine.glb', [0.7, top, -0.7], null, [0.75, 0.75, 0.75]));
        for (const x of [-0.55, 0.15]) kids.push(block([0.6, 0.03, 0.7], [x, top + 0.3, 0.75], '#203654', { rot: [-0.2588, 0, 0, 0.9659], metalness: 0.4, roughness: 0.3 }));
        for (const x of [-0.55, 0.15]) kids.push(cyl(0.02, 0.3, [x, top, 0.75], '#7d858c'));
    }
    r.nodes.push(group(`booth-${b.id}`, b.at, f.q, kids));
    r.places.push({ type: 'showcase', id: `showcase-${b.id}`, translation: f.p(0, top, 0), rotation: f.q, size: v(2.8, 2.4, 2.8), topic: b.id, label: b.label, twins: TWINS[b.id] });
    r.places.push({ type: 'sign', id: `sign-${b.id}`, translation: f.p(0, 3.9, -2.68), rotation: f.q, size: v(7.6, 0.7), label: b.label, color: '#22272e', text_color: b.color });
    r.places.push({ type: 'screen', id: `screen-${b.id}`, translation: f.p(0, 1.95, -2.69), rotation: f.q, size: v(3.4, 1.9), label: `Live: ${b.label.toLowerCase()}` });
}

function expo() {
    const r = room({ x0: -18, x1: 18, z0: -14, z1: 14, height: 7, floor: '#c3c5c2', wall: '#e4e6e3', skirting: '#8d9096', floorRough: 0.35 });
    door(r, 'w', 0, 4, 3.4, { room: 'lobby', spawn: 'from-expo', color: '#3f9b53', label: 'Lobby' });
    buildWalls(r);
    buildDoors(r);
    for (const b of BOOTHS) booth(r, b);

    // the boulevard between the booths, and the exhibition's banner
    r.nodes.push(plane([31, 5.2], [1.5, 0.004, 0], '#a6aba8', { roughness: 0.5 }));
    r.nodes.push(plane([31, 0.12], [1.5, 0.006, -2.6], '#3f9b53', { emissive: '#1f5a2c' }), plane([31, 0.12], [1.5, 0.006, 2.6], '#3f9b53', { emissive: '#1f5a2c' }));
    r.places.push({ type: 'sign', id: 'expo-banner', translation: v(17.9, 5, 0), rotation: objRot('-x'), size: v(10, 1.5), label: 'Local Digital Twins Expo', color: '#3f9b53', text_color: '#ffffff' });

    // a round bench with a tree in the middle of the boulevard
    r.nodes.push(group('island', [0.5, 0, 0], null, [
        cyl(1.9, 0.45, [0, 0, 0], '#a47148', { roughness: 0.6 }),
        cyl(1.3, 0.47, [0, 0, 0], '#5b6068'),
        planter([0, 0.45, 0], 1.1),
    ]));

    // a café by the east wall
    r.nodes.push(group('cafe', [15.5, 0, 0], null, [
        block([0.9, 1.1, 6.4], [1.3, 0, 0], '#8b5a3c', { roughness: 0.6 }),
        block([1.1, 0.05, 6.6], [1.3, 1.1, 0], '#f1ebe2'),
        cyl(0.16, 0.45, [1.4, 1.15, -2], '#2e3136', { metalness: 0.7, roughness: 0.3 }),
        ...[-2.2, 0, 2.2].flatMap((z) => [
            cyl(0.4, 0.04, [-1.8, 1.05, z], '#f5f5f2'),
            cyl(0.05, 1.05, [-1.8, 0, z], '#2e3136', { metalness: 0.6 }),
        ]),
    ]));

    // the roof structure: a space frame of trusses
    const truss = [];
    for (const z of [-10, -5, 0, 5, 10]) truss.push(boxAt([36.6, 0.35, 0.35], [0, 6.7, z], '#5b6068', { metalness: 0.5, roughness: 0.5 }));
    for (const x of [-12, -4, 4, 12]) truss.push(boxAt([0.3, 0.3, 28.6], [x, 6.4, 0], '#5b6068', { metalness: 0.5, roughness: 0.5 }));
    r.nodes.push(group('roof-truss', null, null, truss));

    for (const [x, z] of [[-14, -4], [-14, 4], [-11.5, -2], [-11.5, 2], [-11, -4.2], [-11, 4.2], [-14.5, -9], [-14.5, 9], [-8, -1.5], [-8, 1.5]])
        r.spawns.push({ id: `arrive-${r.spawns.length}`, p: v(x, 0, z), q: lookQ('+x') });

    return scene(
        {
            id: 'expo',
            name: 'Expo hall',
            description: 'Booths of local digital twins: a city block model, air quality, mobility and energy, each with live data at its showcase.',
            capacity: 150,
        },
        r,
        walkRect(r, [[-3.6, 3.6, 16.2]]),
        {
            background: '#e6ecf0',
            fog: { color: '#e6ecf0', near: 50, far: 140 },
            lighting: {
                ambient: { color: '#ffffff', intensity: 0.3 },
                hemisphere: { sky: '#ffffff', ground: '#8a8f96', intensity: 1.0 },
                directional: [{ color: '#ffffff', intensity: 1.3, direction: v(0.3, -1, 0.2) }],
                point: BOOTHS.map((b) => ({ color: '#ffffff', intensity: 25, position: v(b.at[0], 5.5, b.at[2]), distance: 11 })),
            },
        },
    );
}

// ---- Writing: pretty JSON, short arrays and small objects on one line ----

function pretty(x, indent = '') {
    const flat = JSON.stringify(x);
    if (flat.length <= 96 && !(x && typeof x === 'object' && !Array.isArray(x) && ('children' in x || 'polygon' in x))) return flat;
    if (Array.isArray(x)) {
        if (x.every((e) => typeof e !== 'object')) return flat;
        const inner = indent + '  ';
        return `[\n${x.map((e) => inner + pretty(e, inner)).join(',\n')}\n${indent}]`;
    }
    if (x && typeof x === 'object') {
        const inner = indent + '  ';
        return `{\n${Object.entries(x).map(([k, e]) => `${inner}${JSON.stringify(k)}: ${pretty(e, inner)}`).join(',\n')}\n${indent}}`;
    }
    return flat;
}

const rooms = [lobby(), plenary(), plenaryOverflow(), breakout(1), breakout(2), breakout(3), expo()];
for (const s of rooms) {
    // a breakout's door leads to its own spawn in the lobby
    const path = join(DEMO, `${s.id}.json`);
    writeFileSync(path, pretty(s) + '\n');
    console.log(`wrote ${path}`);
}
