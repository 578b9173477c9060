#!/usr/bin/env node
// make-assets.mjs - writes the demo venue's glTF 2.0 models (scenes/demo/assets/*.glb).
//
//   node scenes/tools/make-assets.mjs           write the models
//   node scenes/tools/make-assets.mjs --check   check the committed models: each is a valid,
//                                               small binary glTF and exactly what this script
//                                               writes now (exit 1 and a message if not)
//
// No dependencies: the models are plain geometry (boxes, cylinders, cones, spheres) with
// coloured PBR materials, encoded by hand as GLB: a 12-byte header, a JSON chunk and a BIN
// chunk holding positions, normals and indices. glTF conventions: metres, Y up, the front
// faces +Z, counter-clockwise triangles are the front. The models are made by the venued
// project and licensed with it (MIT).

import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ASSETS = join(dirname(fileURLToPath(import.meta.url)), '..', 'demo', 'assets');
const SIZE_LIMIT = 100 * 1024;

// ---- Small vector and quaternion helpers (quaternions are [x, y, z, w]) ----

const deg = (d) => (d * Math.PI) / 180;
const qAxis = (axis, a) => {
    const s = Math.sin(a / 2);
    return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(a / 2)];
};
const rotX = (d) => qAxis([1, 0, 0], deg(d));
const rotY = (d) => qAxis([0, 1, 0], deg(d));
const rotZ = (d) => qAxis([0, 0, 1], deg(d));
const ID = [0, 0, 0, 1];
function qMul(a, b) {
    return [
        a[3] * b[0] + a[0] * b[3] + a[1] * b[2] - a[2] * b[1],
        a[3] * b[1] - a[0] * b[2] + a[1] * b[3] + a[2] * b[0],
        a[3] * b[2] + a[0] * b[1] - a[1] * b[0] + a[2] * b[3],
        a[3] * b[3] - a[0] * b[0] - a[1] * b[1] - a[2] * b[2],
    ];
}
function qRot(q, v) {
    const [x, y, z, w] = q;
    const tx = 2 * (y * v[2] - z * v[1]);
    const ty = 2 * (z * v[0] - x * v[2]);
    const tz = 2 * (x * v[1] - y * v[0]);
    return [
        v[0] + w * tx + (y * tz - z * ty),
        v[1] + w * ty + (z * tx - x * tz),
        v[2] + w * tz + (x * ty - y * tx),
    ];
}
const norm = (v) => {
    const l = Math.hypot(v[0], v[1], v[2]);
    return [v[0] / l, v[1] / l, v[2] / l];
};

// ---- Primitive geometry: {pos: [[x,y,z]...], nrm: [[x,y,z]...], idx: [i...]} ----

function box(w, h, d) {
    const g = { pos: [], nrm: [], idx: [] };
    const x = w / 2, y = h / 2, z = d / 2;
    // each face: normal, then four corners counter-clockwise seen from outside
    const faces = [
        [[1, 0, 0], [[x, -y, z], [x, -y, -z], [x, y, -z], [x, y, z]]],
        [[-1, 0, 0], [[-x, -y, -z], [-x, -y, z], [-x, y, z], [-x, y, -z]]],
        [[0, 1, 0], [[-x, y, z], [x, y, z], [x, y, -z], [-x, y, -z]]],
        [[0, -1, 0], [[-x, -y, -z], [x, -y, -z], [x, -y, z], [-x, -y, z]]],
        [[0, 0, 1], [[-x, -y, z], [x, -y, z], [x, y, z], [-x, y, z]]],
        [[0, 0, -1], [[x, -y, -z], [-x, -y, -z], [-x, y, -z], [x, y, -z]]],
    ];
    for (const [n, quad] of faces) {
        const b = g.pos.length;
        for (const p of quad) {
            g.pos.push(p);
            g.nrm.push(n);
        }
        g.idx.push(b, b + 1, b + 2, b, b + 2, b + 3);
    }
    return g;
}

// Along Y, centred; rTop 0 makes a cone. Smooth sides, flat caps.
function cylinder(rBottom, rTop, h, seg = 12) {
    const g = { pos: [], nrm: [], idx: [] };
    const y0 = -h / 2, y1 = h / 2;
    const slope = (rBottom - rTop) / h;
    for (let i = 0; i < seg; i++) {
        const a = (2 * Math.PI * i) / seg;
        const c = Math.cos(a), s = Math.sin(a);
        const n = norm([c, slope, s]);
        g.pos.push([rBottom * c, y0, rBottom * s], [rTop * c, y1, rTop * s]);
        g.nrm.push(n, n);
    }
    for (let i = 0; i < seg; i++) {
        const j = (i + 1) % seg;
        const b0 = 2 * i, t0 = 2 * i + 1, b1 = 2 * j, t1 = 2 * j + 1;
        // seen from outside, angle grows clockwise (x = cos, z = sin): b0, t0, b1 is CCW
        g.idx.push(b0, t0, b1);
        if (rTop > 0) g.idx.push(b1, t0, t1);
    }
    const cap = (y, r, up) => {
        if (r <= 0) return;
        const c0 = g.pos.length;
        g.pos.push([0, y, 0]);
        g.nrm.push([0, up ? 1 : -1, 0]);
        for (let i = 0; i < seg; i++) {
            const a = (2 * Math.PI * i) / seg;
            g.pos.push([r * Math.cos(a), y, r * Math.sin(a)]);
            g.nrm.push([0, up ? 1 : -1, 0]);
        }
        for (let i = 0; i < seg; i++) {
            const a = c0 + 1 + i, b = c0 + 1 + ((i + 1) % seg);
            g.idx.push(...(up ? [c0, b, a] : [c0, a, b]));
        }
    };
    cap(y1, rTop, true);
    cap(y0, rBottom, false);
    return g;
}

function sphere(r, wseg = 12, hseg = 8) {
    const g = { pos: [], nrm: [], idx: [] };
    for (let j = 0; j <= hseg; j++) {
        const v = j / hseg, phi = v * Math.PI;
        for (let i = 0; i <= wseg; i++) {
            const th = (i / wseg) * 2 * Math.PI;
            const n = [-Math.cos(th) * Math.sin(phi), Math.cos(phi), Math.sin(th) * Math.sin(phi)];
            g.nrm.push(n);
            g.pos.push([n[0] * r, n[1] * r, n[2] * r]);
        }
    }
    const row = wseg + 1;
    for (let j = 0; j < hseg; j++) {
        for (let i = 0; i < wseg; i++) {
            const a = j * row + i, b = a + row, c = b + 1, d = a + 1;
            if (j !== 0) g.idx.push(a, b, d);
            if (j !== hseg - 1) g.idx.push(b, c, d);
        }
    }
    return g;
}

// ---- A model: parts grouped by material, one glTF primitive per material ----

function srgbToLinear(c) {
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}
function hexToLinear(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => +srgbToLinear(v / 255).toFixed(4));
}

class Model {
    constructor(name, materials) {
        this.name = name;
        this.materials = materials; // name -> {color, rough?, metal?, emissive?}
        this.parts = new Map();
    }
    add(mat, g, at = [0, 0, 0], rot = ID) {
        if (!this.materials[mat]) throw new Error(`${this.name}: no material ${mat}`);
        if (!this.parts.has(mat)) this.parts.set(mat, { pos: [], nrm: [], idx: [] });
        const p = this.parts.get(mat);
        const base = p.pos.length;
        for (const v of g.pos) {
            const r = qRot(rot, v);
            p.pos.push([r[0] + at[0], r[1] + at[1], r[2] + at[2]]);
        }
        for (const n of g.nrm) p.nrm.push(norm(qRot(rot, n)));
        for (const i of g.idx) p.idx.push(base + i);
        return this;
    }
    box(mat, size, at, rot) {
        return this.add(mat, box(...size), at, rot);
    }
    // a thin box from one point to another in the XY plane (arms, struts)
    strut(mat, from, to, t) {
        const dx = to[0] - from[0], dy = to[1] - from[1];
        const mid = [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2, from[2]];
        return this.add(mat, box(t, Math.hypot(dx, dy), t), mid, rotZ((Math.atan2(-dx, dy) * 180) / Math.PI));
    }
    // a box given by its bottom-centre, the way furniture stands on a floor
    block(mat, size, base, rot = ID) {
        const up = qRot(rot, [0, size[1] / 2, 0]);
        return this.add(mat, box(...size), [base[0] + up[0], base[1] + up[1], base[2] + up[2]], rot);
    }
}

// Float32 rounding of the stored numbers, so min/max match the data exactly.
const f32 = (x) => Math.fround(x);

function encodeGlb(model) {
    const json = {
        asset: {
            version: '2.0',
            generator: 'venued scenes/tools/make-assets.mjs',
            copyright: 'venued contributors, MIT licence',
        },
        scene: 0,
        scenes: [{ name: model.name, nodes: [0] }],
        nodes: [{ name: model.name, mesh: 0 }],
        meshes: [{ name: model.name, primitives: [] }],
        materials: [],
        accessors: [],
        bufferViews: [],
        buffers: [],
    };
    const chunks = [];
    let offset = 0;
    const addView = (bytes, target) => {
        const pad = (4 - (bytes.length % 4)) % 4;
        json.bufferViews.push({ buffer: 0, byteOffset: offset, byteLength: bytes.length, target });
        chunks.push(bytes, new Uint8Array(pad));
        offset += bytes.length + pad;
        return json.bufferViews.length - 1;
    };
    for (const [mat, p] of model.parts) {
        const m = model.materials[mat];
        const material = {
            name: mat,
            pbrMetallicRoughness: {
                baseColorFactor: [...hexToLinear(m.color), 1],
                metallicFactor: m.metal ?? 0,
                roughnessFactor: m.rough ?? 0.8,
            },
        };
        if (m.emissive) material.emissiveFactor = hexToLinear(m.emissive);
        json.materials.push(material);
        const n = p.pos.length;
        const pos = new Float32Array(n * 3), nrm = new Float32Array(n * 3);
        const min = [Infinity, Infinity, Infinity], max = [-Infinity, -Infinity, -Infinity];
        p.pos.forEach((v, i) => {
            for (let k = 0; k < 3; k++) {
                const x = f32(+v[k].toFixed(5));
                pos[i * 3 + k] = x;
                min[k] = Math.min(min[k], x);
                max[k] = Math.max(max[k], x);
            }
        });
        p.nrm.forEach((v, i) => nrm.set(v, i * 3));
        const wide = n > 65535;
        const idx = wide ? new Uint32Array(p.idx) : new Uint16Array(p.idx);
        const vp = addView(new Uint8Array(pos.buffer), 34962);
        const vn = addView(new Uint8Array(nrm.buffer), 34962);
        const vi = addView(new Uint8Array(idx.buffer), 34963);
        const acc = (bufferView, componentType, count, type, extra = {}) => {
            json.accessors.push({ bufferView, componentType, count, type, ...extra });
            return json.accessors.length - 1;
        };
        json.meshes[0].primitives.push({
            attributes: {
                POSITION: acc(vp, 5126, n, 'VEC3', { min, max }),
                NORMAL: acc(vn, 5126, n, 'VEC3'),
            },
            indices: acc(vi, wide ? 5125 : 5123, p.idx.length, 'SCALAR'),
            material: json.materials.length - 1,
            mode: 4,
        });
    }
    json.buffers.push({ byteLength: offset });
    let text = Buffer.from(JSON.stringify(json), 'utf8');
    const jpad = (4 - (text.length % 4)) % 4;
    text = Buffer.concat([text, Buffer.alloc(jpad, 0x20)]);
    const bin = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    const total = 12 + 8 + text.length + 8 + bin.length;
    const head = Buffer.alloc(12);
    head.writeUInt32LE(0x46546c67, 0); // "glTF"
    head.writeUInt32LE(2, 4);
    head.writeUInt32LE(total, 8);
    const ch = (len, type) => {
        const b = Buffer.alloc(8);
        b.writeUInt32LE(len, 0);
        b.writeUInt32LE(type, 4);
        return b;
    };
    return Buffer.concat([head, ch(text.length, 0x4e4f534a), text, ch(bin.length, 0x004e4942), bin]);
}

// ---- The models ----

function cityBlock() {
    const m = new Model('city-block', {
        plinth: { color: '#2f343b', rough: 0.6 },
        street: { color: '#4a4f57', rough: 0.9 },
        walk: { color: '#c9c4ba' },
        white: { color: '#ece8df' },
        sand: { color: '#d9c29c' },
        brick: { color: '#b0634a' },
        glass: { color: '#7ea7c6', rough: 0.25, metal: 0.35 },
        dark: { color: '#39424d', rough: 0.4 },
        roof: { color: '#8e969e' },
        park: { color: '#6aa55a' },
        leaf: { color: '#3f7f3a' },
        trunk: { color: '#6b4a2f' },
        water: { color: '#5aa0c8', rough: 0.15 },
        solar: { color: '#243a5a', rough: 0.3, metal: 0.4 },
    });
    // 2.4 m square model (a city block at about 1:100) on a 6 cm plinth
    m.block('plinth', [2.4, 0.06, 2.4], [0, 0, 0]);
    m.block('street', [2.3, 0.01, 2.3], [0, 0.06, 0]);
    const Y = 0.07;
    // four blocks with pavements, streets 0.22 wide between them
    const quads = [[-0.58, -0.58], [0.58, -0.58], [-0.58, 0.58], [0.58, 0.58]];
    for (const [x, z] of quads) m.block('walk', [0.94, 0.015, 0.94], [x, Y, z]);
    const G = Y + 0.015;
    // north-west: a glass tower with window bands and a stepped crown
    m.block('glass', [0.42, 1.05, 0.42], [-0.64, G, -0.64]);
    for (let i = 1; i <= 9; i++) m.block('dark', [0.43, 0.012, 0.43], [-0.64, G + i * 0.105, -0.64]);
    m.block('glass', [0.3, 0.16, 0.3], [-0.64, G + 1.05, -0.64]);
    m.block('roof', [0.04, 0.14, 0.04], [-0.64, G + 1.21, -0.64]);
    m.block('white', [0.34, 0.32, 0.3], [-0.33, G, -0.7]);
    m.block('roof', [0.36, 0.02, 0.32], [-0.33, G + 0.32, -0.7]);
    m.block('sand', [0.3, 0.22, 0.3], [-0.35, G, -0.35]);
    // north-east: a perimeter block of brick houses around a courtyard
    const houses = [
        [0.3, 0.4, 0.26, 0.36, -0.92, 'brick'], [0.2, 0.5, 0.26, 0.7, -0.92, 'sand'],
        [0.26, 0.34, 0.26, 0.94, -0.88, 'white'], [0.26, 0.44, 0.3, 0.94, -0.56, 'brick'],
        [0.26, 0.36, 0.3, 0.94, -0.24, 'sand'], [0.3, 0.46, 0.26, 0.62, -0.24, 'white'],
        [0.28, 0.38, 0.26, 0.3, -0.24, 'brick'], [0.24, 0.32, 0.3, 0.26, -0.56, 'sand'],
    ];
    for (const [w, h, d, x, z, mat] of houses) {
        m.block(mat, [w, h, d], [x, G, z]);
        m.block('roof', [w + 0.01, 0.015, d + 0.01], [x, G + h, z]);
    }
    m.block('park', [0.36, 0.01, 0.3], [0.6, G, -0.57]);
    m.add('leaf', sphere(0.07, 8, 6), [0.6, G + 0.1, -0.57]);
    // south-west: a park with a pond and trees
    m.block('park', [0.9, 0.012, 0.9], [-0.58, G, 0.58]);
    m.add('water', cylinder(0.2, 0.2, 0.008, 16), [-0.45, G + 0.016, 0.5]);
    const trees = [[-0.86, 0.3], [-0.8, 0.82], [-0.3, 0.86], [-0.25, 0.3], [-0.7, 0.58], [-0.5, 0.85]];
    for (const [x, z] of trees) {
        m.add('trunk', cylinder(0.012, 0.012, 0.08, 6), [x, G + 0.05, z]);
        m.add('leaf', sphere(0.065, 8, 6), [x, G + 0.14, z]);
    }
    // south-east: offices, one with a green roof and one with solar panels
    m.block('white', [0.5, 0.62, 0.34], [0.62, G, 0.38]);
    for (let i = 1; i <= 5; i++) m.block('dark', [0.51, 0.015, 0.35], [0.62, G + i * 0.11, 0.38]);
    m.block('park', [0.46, 0.02, 0.3], [0.62, G + 0.62, 0.38]);
    m.block('sand', [0.34, 0.4, 0.36], [0.4, G, 0.84]);
    m.block('brick', [0.4, 0.28, 0.36], [0.84, G, 0.84]);
    for (const x of [0.74, 0.84, 0.94]) m.block('solar', [0.08, 0.01, 0.26], [x, G + 0.3, 0.84], rotX(-20));
    return m;
}

function plantedTree() {
    const m = new Model('planter-tree', {
        pot: { color: '#4b5057', rough: 0.7 },
        soil: { color: '#3b2a1e' },
        trunk: { color: '#6b4a2f' },
        leaf: { color: '#4f8a3c' },
        leaf2: { color: '#679f4b' },
    });
    m.add('pot', cylinder(0.32, 0.4, 0.62, 16), [0, 0.31, 0]);
    m.add('soil', cylinder(0.37, 0.37, 0.02, 16), [0, 0.6, 0]);
    m.add('trunk', cylinder(0.06, 0.045, 1.3, 8), [0, 1.2, 0]);
    m.add('trunk', cylinder(0.03, 0.02, 0.5, 6), [0.12, 1.55, 0.05], rotZ(-35));
    m.add('leaf', sphere(0.62, 12, 8), [0, 2.05, 0]);
    m.add('leaf2', sphere(0.45, 10, 7), [0.35, 1.8, 0.2]);
    m.add('leaf2', sphere(0.4, 10, 7), [-0.32, 1.9, -0.2]);
    m.add('leaf', sphere(0.36, 10, 7), [0.05, 2.45, -0.15]);
    return m;
}

function lectern() {
    const m = new Model('lectern', {
        wood: { color: '#6e4a32', rough: 0.55 },
        dark: { color: '#23262b', rough: 0.5 },
        gold: { color: '#c9a227', rough: 0.35, metal: 0.7 },
        metal: { color: '#9aa0a6', rough: 0.3, metal: 0.8 },
        led: { color: '#222222', emissive: '#ff3b30' },
    });
    // the front (+Z) faces the audience; the speaker stands at -Z
    m.block('dark', [0.62, 0.04, 0.48], [0, 0, 0]);
    m.block('wood', [0.52, 0.98, 0.38], [0, 0.04, 0]);
    m.block('gold', [0.44, 0.05, 0.01], [0, 0.78, 0.195]);
    m.add('gold', cylinder(0.09, 0.09, 0.012, 20), [0, 0.55, 0.196], rotX(90));
    // the reading desk slopes down towards the speaker
    m.block('wood', [0.62, 0.05, 0.46], [0, 1.02, 0.02], rotX(-14));
    m.block('dark', [0.5, 0.008, 0.34], [0, 1.07, -0.01], rotX(-14));
    // a gooseneck microphone
    m.add('metal', cylinder(0.008, 0.008, 0.38, 6), [0.16, 1.22, 0.06], rotX(-25));
    m.add('dark', sphere(0.025, 8, 6), [0.16, 1.4, -0.02]);
    m.add('led', sphere(0.008, 6, 4), [0.16, 1.05, 0.1]);
    return m;
}

function windTurbine() {
    const m = new Model('wind-turbine', {
        base: { color: '#8c9399', rough: 0.9 },
        white: { color: '#f1f3f4', rough: 0.45 },
        tip: { color: '#d9473b', rough: 0.5 },
    });
    m.add('base', cylinder(0.32, 0.34, 0.06, 20), [0, 0.03, 0]);
    m.add('white', cylinder(0.085, 0.045, 2.3, 16), [0, 1.21, 0]);
    m.block('white', [0.13, 0.13, 0.4], [0, 2.33, -0.06]);
    const hub = [0, 2.4, 0.17];
    m.add('white', cylinder(0.06, 0, 0.14, 14), [hub[0], hub[1], hub[2] + 0.05], rotX(90));
    for (let k = 0; k < 3; k++) {
        const q = rotZ(15 + k * 120);
        const blade = (len, from, mat, w) => {
            const c = qRot(q, [0, from + len / 2, 0]);
            m.add(mat, box(w, len, 0.018), [hub[0] + c[0], hub[1] + c[1], hub[2] + c[2]], q);
        };
        blade(0.8, 0.05, 'white', 0.07);
        blade(0.12, 0.85, 'tip', 0.05);
    }
    return m;
}

function tram() {
    const m = new Model('tram', {
        bed: { color: '#6d7278', rough: 0.95 },
        sleeper: { color: '#5a4332' },
        rail: { color: '#b8bdc2', rough: 0.3, metal: 0.8 },
        body: { color: '#f2f2ee', rough: 0.4 },
        band: { color: '#1f8a8a', rough: 0.45 },
        glass: { color: '#26323d', rough: 0.15, metal: 0.3 },
        dark: { color: '#2b2e33' },
        light: { color: '#fff6d6', emissive: '#fff2c0' },
    });
    // a model tram (about 1:10) on a piece of track, running along X
    m.block('bed', [2.8, 0.04, 0.56], [0, 0, 0]);
    for (let i = 0; i < 12; i++) m.block('sleeper', [0.07, 0.025, 0.46], [-1.32 + i * 0.24, 0.04, 0]);
    for (const z of [-0.15, 0.15]) m.block('rail', [2.8, 0.03, 0.03], [0, 0.065, z]);
    // bogies and wheels
    for (const x of [-0.75, 0.75]) {
        m.block('dark', [0.42, 0.09, 0.3], [x, 0.1, 0]);
        for (const dx of [-0.13, 0.13])
            for (const z of [-0.16, 0.16]) m.add('dark', cylinder(0.055, 0.055, 0.03, 12), [x + dx, 0.15, z], rotX(90));
    }
    const B = 0.19;
    m.block('body', [2.3, 0.5, 0.4], [0, B, 0]);
    m.block('band', [2.31, 0.07, 0.41], [0, B + 0.04, 0]);
    m.block('glass', [2.0, 0.2, 0.405], [0, B + 0.22, 0]);
    for (const x of [-0.5, 0, 0.5]) m.block('body', [0.04, 0.2, 0.41], [x, B + 0.22, 0]);
    // doors: glass panels down to the band
    for (const x of [-0.75, 0.25]) for (const z of [-0.203, 0.203]) m.block('glass', [0.18, 0.3, 0.005], [x, B + 0.12, z]);
    // rounded-looking ends: a slanted windscreen and lights at each end
    for (const s of [-1, 1]) {
        m.block('glass', [0.03, 0.22, 0.36], [s * 1.16, B + 0.22, 0], rotZ(s * -12));
        for (const z of [-0.13, 0.13]) m.add('light', sphere(0.022, 8, 6), [s * 1.155, B + 0.1, z]);
    }
    m.block('band', [2.1, 0.05, 0.34], [0, B + 0.5, 0]);
    // pantograph
    m.block('dark', [0.2, 0.04, 0.16], [0.2, B + 0.55, 0]);
    m.strut('rail', [0.26, B + 0.57, 0], [0.08, B + 0.76, 0], 0.02);
    m.strut('rail', [0.08, B + 0.76, 0], [0.22, B + 0.93, 0], 0.02);
    m.block('rail', [0.04, 0.015, 0.3], [0.22, B + 0.93, 0]);
    return m;
}

function airSensor() {
    const m = new Model('air-sensor', {
        concrete: { color: '#a7a9a6', rough: 0.95 },
        pole: { color: '#7d858c', rough: 0.35, metal: 0.7 },
        white: { color: '#f4f5f2', rough: 0.5 },
        solar: { color: '#203654', rough: 0.3, metal: 0.4 },
        ok: { color: '#1d6b3a', emissive: '#38d96a' },
        label: { color: '#2a9d8f' },
    });
    // a street air-quality station: sensor screen, solar panel, antenna
    m.block('concrete', [0.5, 0.08, 0.5], [0, 0, 0]);
    m.add('pole', cylinder(0.04, 0.035, 2.2, 12), [0, 1.18, 0]);
    m.block('white', [0.3, 0.36, 0.24], [0, 1.3, 0.12]);
    m.block('label', [0.3, 0.06, 0.005], [0, 1.36, 0.243]);
    for (let i = 0; i < 5; i++) m.block('white', [0.26, 0.025, 0.22], [0, 1.05 + i * 0.045, 0.12]);
    m.add('ok', sphere(0.018, 8, 6), [0.1, 1.58, 0.245]);
    m.block('pole', [0.03, 0.03, 0.2], [0, 1.95, 0.1]);
    m.block('solar', [0.44, 0.025, 0.32], [0, 2.0, 0.2], rotX(30));
    m.add('pole', cylinder(0.006, 0.006, 0.35, 6), [0.05, 2.45, -0.03]);
    m.add('white', sphere(0.02, 8, 6), [0.05, 2.63, -0.03]);
    return m;
}

function theatreSeat() {
    const m = new Model('theatre-seat', {
        fabric: { color: '#9b2335', rough: 0.95 },
        frame: { color: '#2b2d31', rough: 0.5, metal: 0.3 },
        wood: { color: '#7a5236', rough: 0.6 },
    });
    // the seated person looks towards +Z; 0.56 m wide, fits 0.6 m spacing
    m.block('frame', [0.06, 0.4, 0.42], [-0.27, 0, -0.05]);
    m.block('frame', [0.06, 0.4, 0.42], [0.27, 0, -0.05]);
    m.block('wood', [0.07, 0.04, 0.42], [-0.27, 0.62, -0.02]);
    m.block('wood', [0.07, 0.04, 0.42], [0.27, 0.62, -0.02]);
    m.block('frame', [0.06, 0.24, 0.06], [-0.27, 0.4, -0.2]);
    m.block('frame', [0.06, 0.24, 0.06], [0.27, 0.4, -0.2]);
    m.block('fabric', [0.48, 0.1, 0.44], [0, 0.36, 0.02], rotX(-4));
    m.block('fabric', [0.48, 0.58, 0.09], [0, 0.42, -0.24], rotX(-10));
    m.block('frame', [0.48, 0.56, 0.02], [0, 0.43, -0.295], rotX(-10));
    return m;
}

function chair() {
    const m = new Model('chair', {
        shell: { color: '#e9e4da', rough: 0.6 },
        oak: { color: '#b88a5a', rough: 0.6 },
        leg: { color: '#2e3136', rough: 0.35, metal: 0.6 },
    });
    // a meeting chair; the seated person looks towards +Z
    for (const x of [-0.2, 0.2])
        for (const z of [-0.19, 0.19]) m.add('leg', cylinder(0.014, 0.012, 0.44, 8), [x, 0.22, z]);
    m.block('oak', [0.46, 0.03, 0.44], [0, 0.44, 0]);
    m.block('shell', [0.46, 0.04, 0.42], [0, 0.47, 0.01]);
    m.block('leg', [0.02, 0.36, 0.02], [-0.2, 0.47, -0.21], rotX(-8));
    m.block('leg', [0.02, 0.36, 0.02], [0.2, 0.47, -0.21], rotX(-8));
    m.block('shell', [0.46, 0.24, 0.04], [0, 0.64, -0.25], rotX(-8));
    return m;
}

const MODELS = {
    'city-block.glb': cityBlock,
    'planter-tree.glb': plantedTree,
    'lectern.glb': lectern,
    'wind-turbine.glb': windTurbine,
    'tram.glb': tram,
    'air-sensor.glb': airSensor,
    'theatre-seat.glb': theatreSeat,
    'chair.glb': chair,
};

// ---- Checking a GLB without trusting the writer ----

const COMPONENT_SIZE = { 5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4 };
const TYPE_COUNT = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16 };

function checkGlb(name, buf) {
    const fail = (msg) => {
        throw new Error(`${name}: ${msg}`);
    };
    if (buf.length > SIZE_LIMIT) fail(`${buf.length} bytes, over the ${SIZE_LIMIT}-byte limit`);
    if (buf.length < 28) fail('too short for a GLB');
    if (buf.readUInt32LE(0) !== 0x46546c67) fail('bad magic (not "glTF")');
    if (buf.readUInt32LE(4) !== 2) fail(`GLB version ${buf.readUInt32LE(4)}, expected 2`);
    if (buf.readUInt32LE(8) !== buf.length) fail(`header length ${buf.readUInt32LE(8)} != file size ${buf.length}`);
    const jlen = buf.readUInt32LE(12);
    if (buf.readUInt32LE(16) !== 0x4e4f534a) fail('first chunk is not JSON');
    if (jlen % 4) fail(`JSON chunk length ${jlen} is not a multiple of 4`);
    if (20 + jlen + 8 > buf.length) fail('JSON chunk runs past the end');
    const json = JSON.parse(buf.subarray(20, 20 + jlen).toString('utf8'));
    const boff = 20 + jlen;
    const blen = buf.readUInt32LE(boff);
    if (buf.readUInt32LE(boff + 4) !== 0x004e4942) fail('second chunk is not BIN');
    if (blen % 4) fail(`BIN chunk length ${blen} is not a multiple of 4`);
    if (boff + 8 + blen !== buf.length) fail('BIN chunk does not end the file');
    const bin = buf.subarray(boff + 8, boff + 8 + blen);
    if (json.asset?.version !== '2.0') fail('asset.version is not "2.0"');
    if (json.buffers?.length !== 1 || json.buffers[0].uri !== undefined) fail('expected one buffer, the BIN chunk');
    if (json.buffers[0].byteLength > blen) fail('buffer longer than the BIN chunk');
    for (const [i, v] of json.bufferViews.entries()) {
        if (v.byteOffset % 4) fail(`bufferViews[${i}] not 4-byte aligned`);
        if (v.byteOffset + v.byteLength > json.buffers[0].byteLength) fail(`bufferViews[${i}] past the buffer`);
    }
    const read = (ai) => {
        const a = json.accessors[ai];
        if (!a) fail(`no accessor ${ai}`);
        const v = json.bufferViews[a.bufferView];
        const size = COMPONENT_SIZE[a.componentType], k = TYPE_COUNT[a.type];
        if (!size || !k) fail(`accessors[${ai}]: bad type`);
        const off = (v.byteOffset ?? 0) + (a.byteOffset ?? 0);
        if (off % size) fail(`accessors[${ai}]: misaligned`);
        if ((a.byteOffset ?? 0) + a.count * size * k > v.byteLength) fail(`accessors[${ai}] past its bufferView`);
        const dv = new DataView(bin.buffer, bin.byteOffset + off, a.count * size * k);
        const get = { 5126: (o) => dv.getFloat32(o, true), 5123: (o) => dv.getUint16(o, true), 5125: (o) => dv.getUint32(o, true) }[a.componentType];
        if (!get) fail(`accessors[${ai}]: unexpected component type ${a.componentType}`);
        const out = [];
        for (let i = 0; i < a.count; i++) {
            const e = [];
            for (let j = 0; j < k; j++) e.push(get((i * k + j) * size));
            out.push(e);
        }
        return { a, out };
    };
    let triangles = 0;
    for (const mesh of json.meshes) {
        for (const [pi, prim] of mesh.primitives.entries()) {
            const where = `meshes.${mesh.name}.primitives[${pi}]`;
            if ((prim.mode ?? 4) !== 4) fail(`${where}: not triangles`);
            if (prim.material === undefined || !json.materials[prim.material]) fail(`${where}: no material`);
            const { a: pa, out: pos } = read(prim.attributes.POSITION);
            const { out: nrm } = read(prim.attributes.NORMAL);
            const { out: idx } = read(prim.indices);
            if (!pa.min || !pa.max) fail(`${where}: POSITION needs min and max`);
            for (let k = 0; k < 3; k++) {
                const lo = Math.min(...pos.map((p) => p[k])), hi = Math.max(...pos.map((p) => p[k]));
                if (lo !== pa.min[k] || hi !== pa.max[k]) fail(`${where}: POSITION min/max do not match the data`);
            }
            if (nrm.length !== pos.length) fail(`${where}: NORMAL count differs from POSITION`);
            for (const n of nrm) if (Math.abs(Math.hypot(...n) - 1) > 1e-3) fail(`${where}: a normal is not unit length`);
            if (idx.length % 3) fail(`${where}: index count not a multiple of 3`);
            for (const [i] of idx) if (i >= pos.length) fail(`${where}: index ${i} out of range`);
            // counter-clockwise is the front: a triangle's face normal must agree with its vertex normals
            for (let t = 0; t < idx.length; t += 3) {
                const [a, b, c] = [idx[t][0], idx[t + 1][0], idx[t + 2][0]].map((i) => pos[i]);
                const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]], v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
                const f = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
                const area = Math.hypot(...f);
                if (area < 1e-12) fail(`${where}: triangle ${t / 3} has no area`);
                const n = [0, 1, 2].map((k) => nrm[idx[t][0]][k] + nrm[idx[t + 1][0]][k] + nrm[idx[t + 2][0]][k]);
                if (f[0] * n[0] + f[1] * n[1] + f[2] * n[2] <= 0) fail(`${where}: triangle ${t / 3} faces inwards`);
            }
            triangles += idx.length / 3;
        }
    }
    return { bytes: buf.length, triangles, materials: json.materials.length };
}

// ---- Main ----

const check = process.argv.includes('--check');
let bad = 0, good = 0;
for (const [file, make] of Object.entries(MODELS)) {
    const want = encodeGlb(make());
    const path = join(ASSETS, file);
    try {
        if (check) {
            const have = readFileSync(path);
            const info = checkGlb(file, have);
            if (!have.equals(want)) throw new Error(`${file}: differs from what make-assets.mjs writes; run it and commit`);
            console.log(`ok ${file}: ${info.bytes} bytes, ${info.triangles} triangles, ${info.materials} materials`);
            good++;
        } else {
            checkGlb(file, want);
            writeFileSync(path, want);
            console.log(`wrote ${path} (${want.length} bytes)`);
        }
    } catch (e) {
        bad++;
        console.error(`FAIL ${e.message}`);
    }
}
if (check) {
    // any other model in the folder must be valid too
    for (const f of readdirSync(ASSETS)) {
        if (!f.endsWith('.glb') || MODELS[f]) continue;
        try {
            const info = checkGlb(f, readFileSync(join(ASSETS, f)));
            console.log(`ok ${f}: ${info.bytes} bytes (not made by this script)`);
            good++;
        } catch (e) {
            bad++;
            console.error(`FAIL ${e.message}`);
        }
    }
    console.log(`${good} passed, ${bad} failed`);
}
process.exit(bad ? 1 : 0);
