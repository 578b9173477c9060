/*
 * scene.js - a room's scene description (scenes/FORMAT.md) read into the
 * model both views draw from, plus the geometry the client needs while
 * walking: is this point walkable, how high is the floor here, am I in a
 * portal. The server is the authority on all of it; we answer the same
 * questions locally so that walking feels solid and the server rarely has
 * to correct us.
 *
 * No DOM and no three.js here: the 2D map works even where WebGL does not.
 * Nodes are flattened into a list of shapes with world matrices (column-
 * major 4x4, as three.js stores them); seat_rows blocks are expanded into
 * seats exactly as the server does.
 */

const EDGE_EPS = 1e-3;

/* ---- tiny matrix helpers (column-major, like three.js) ----------------- */

export function compose(t, q, s) {
    const [x, y, z, w] = q;
    const x2 = x + x, y2 = y + y, z2 = z + z;
    const xx = x * x2, xy = x * y2, xz = x * z2;
    const yy = y * y2, yz = y * z2, zz = z * z2;
    const wx = w * x2, wy = w * y2, wz = w * z2;
    const [sx, sy, sz] = s;
    return [
        (1 - (yy + zz)) * sx, (xy + wz) * sx, (xz - wy) * sx, 0,
        (xy - wz) * sy, (1 - (xx + zz)) * sy, (yz + wx) * sy, 0,
        (xz + wy) * sz, (yz - wx) * sz, (1 - (xx + yy)) * sz, 0,
        t[0], t[1], t[2], 1,
    ];
}

export function multiply(a, b) {
    const o = new Array(16);
    for (let c = 0; c < 4; c++) {
        for (let r = 0; r < 4; r++) {
            o[c * 4 + r] = a[r] * b[c * 4] + a[4 + r] * b[c * 4 + 1] + a[8 + r] * b[c * 4 + 2] + a[12 + r] * b[c * 4 + 3];
        }
    }
    return o;
}

export function apply(m, v) {
    return [
        m[0] * v[0] + m[4] * v[1] + m[8] * v[2] + m[12],
        m[1] * v[0] + m[5] * v[1] + m[9] * v[2] + m[13],
        m[2] * v[0] + m[6] * v[1] + m[10] * v[2] + m[14],
    ];
}

function quatMul(a, b) {
    const [ax, ay, az, aw] = a;
    const [bx, by, bz, bw] = b;
    return [
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ];
}

function quatRotate(q, v) {
    const m = compose([0, 0, 0], q, [1, 1, 1]);
    return apply(m, v);
}

function yawOfQ(q) {
    const [x, y, z, w] = q;
    return Math.atan2(2 * (w * y + x * z), 1 - 2 * (y * y + x * x));
}

/* ---- reading ------------------------------------------------------------ */

function num(v, d) {
    return typeof v === 'number' && Number.isFinite(v) ? v : d;
}

function vecOr(v, n, d) {
    return Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number') ? v.slice() : d.slice();
}

function colour(v, d) {
    return typeof v === 'string' && /^#[0-9a-fA-F]{6}$/.test(v) ? v : d;
}

/*
 * Asset URLs are "assets/x.glb", relative to the scene file's folder, which
 * venued serves at /assets/. Anything else (schemes, "..") is not loaded.
 */
function assetUrl(v) {
    if (typeof v !== 'string' || !/^assets\/[A-Za-z0-9/_.-]+$/.test(v)) return null;
    if (v.split('/').some((seg) => seg === '' || seg === '.' || seg === '..')) return null;
    return `/${v}`;
}

function flattenNodes(list, parent, out, depth) {
    if (!Array.isArray(list) || depth > 32) return;
    for (const n of list) {
        if (!n || typeof n !== 'object') continue;
        const local = compose(vecOr(n.translation, 3, [0, 0, 0]), vecOr(n.rotation, 4, [0, 0, 0, 1]),
            vecOr(n.scale, 3, [1, 1, 1]));
        const m = multiply(parent, local);
        const type = String(n.type || 'group');
        if (type !== 'group') {
            out.push({
                type,
                id: typeof n.id === 'string' ? n.id : '',
                matrix: m,
                size: Array.isArray(n.size) ? n.size.map((x) => num(x, 1)) : null,
                radius: num(n.radius, 0.5),
                radiusTop: num(n.radius_top, num(n.radius, 0.5)),
                height: num(n.height, 1),
                color: colour(n.color, '#cccccc'),
                emissive: colour(n.emissive, null),
                opacity: num(n.opacity, 1),
                roughness: num(n.roughness, 0.8),
                metalness: num(n.metalness, 0),
                url: assetUrl(n.url),
            });
        }
        flattenNodes(n.children, m, out, depth + 1);
    }
}

/* Seat (r, k) of a seat_rows block: the same rule as scenes/scene.c. */
function seatPose(origin, bq, sx, sz, radius, aisles, columns, r, k) {
    let slot = k;
    for (const a of aisles) if (a <= k) slot++;
    const nslots = columns + aisles.length;
    const u = (slot - (nslots - 1) / 2) * sx;
    let local;
    let turn = [0, 0, 0, 1];
    if (radius > 0) {
        const rr = radius + r * sz;
        const th = u / rr;
        local = [rr * Math.sin(th), 0, radius - rr * Math.cos(th)];
        turn = [0, Math.sin(-th / 2), 0, Math.cos(-th / 2)];
    } else {
        local = [u, 0, -r * sz];
    }
    const w = quatRotate(bq, local);
    const q = quatMul(bq, turn);
    const l = Math.hypot(...q) || 1;
    return { p: [origin[0] + w[0], origin[1] + w[1], origin[2] + w[2]], q: q.map((x) => x / l) };
}

/*
 * A showcase's live-data bindings (FORMAT.md, "Live data in a showcase"):
 * {entity, attr, show, label, unit, range, colors, staleAfterS, map}. unit
 * is null when the scene gives none (the value's unitCode is shown then).
 */
const TWIN_SHOWS = ['label', 'ramp', 'bar', 'sparkline', 'marker'];
const RAMP_DEFAULT = ['#2e9e5b', '#f2c94c', '#d64541']; /* green to red */

function readTwins(list) {
    if (!Array.isArray(list)) return [];
    const out = [];
    for (const t of list) {
        if (!t || typeof t !== 'object' || typeof t.entity !== 'string' || typeof t.attr !== 'string') continue;
        if (!TWIN_SHOWS.includes(t.show)) continue;
        const range = Array.isArray(t.range) && t.range.length === 2 && t.range.every((x) => typeof x === 'number') &&
            t.range[0] < t.range[1] ? t.range.slice() : null;
        const colors = Array.isArray(t.colors) && t.colors.length >= 2 && t.colors.every((c) => colour(c, null))
            ? t.colors.slice() : RAMP_DEFAULT;
        const m = t.map && typeof t.map === 'object' ? t.map : null;
        out.push({
            entity: t.entity,
            attr: t.attr,
            show: t.show,
            label: typeof t.label === 'string' && t.label ? t.label : null,
            unit: typeof t.unit === 'string' ? t.unit : null,
            range,
            colors,
            staleAfterS: num(t.stale_after, 900),
            map: m ? { west: num(m.west, -180), south: num(m.south, -90), east: num(m.east, 180), north: num(m.north, 90) } : null,
        });
    }
    /* without a label: the one the same attribute has in another binding here, else its name */
    for (const b of out) {
        if (b.label === null) b.label = out.find((o) => o.label && o.entity === b.entity && o.attr === b.attr)?.label || b.attr;
    }
    return out;
}

function readPlaces(list) {
    const out = [];
    if (!Array.isArray(list)) return out;
    for (const e of list) {
        if (!e || typeof e !== 'object') continue;
        const base = {
            type: String(e.type || ''),
            id: String(e.id || ''),
            p: vecOr(e.translation, 3, [0, 0, 0]),
            q: vecOr(e.rotation, 4, [0, 0, 0, 1]),
            label: typeof e.label === 'string' ? e.label : '',
            size: Array.isArray(e.size) ? e.size.map((x) => num(x, 1)) : null,
            volume: e.volume && Array.isArray(e.volume.min) && Array.isArray(e.volume.max)
                ? { min: vecOr(e.volume.min, 3, [0, 0, 0]), max: vecOr(e.volume.max, 3, [0, 0, 0]) } : null,
            image: assetUrl(e.image),
            color: colour(e.color, null),
            textColor: colour(e.text_color, null),
            topic: typeof e.topic === 'string' ? e.topic : '',
            model: assetUrl(e.model),
            twins: e.type === 'showcase' ? readTwins(e.twins) : [],
        };
        if (base.type === 'seat_rows') {
            const rows = Math.min(1000, Math.max(0, e.rows | 0));
            const cols = Math.min(1000, Math.max(0, e.columns | 0));
            const sp = vecOr(e.spacing, 2, [0.6, 0.9]);
            const radius = num(e.radius, 0);
            const aisles = Array.isArray(e.aisles) ? e.aisles.filter((x) => Number.isInteger(x)) : [];
            for (let r = 0; r < rows; r++) {
                for (let k = 0; k < cols; k++) {
                    const s = seatPose(base.p, base.q, sp[0], sp[1], radius, aisles, cols, r, k);
                    out.push({ ...base, type: 'seat', id: `${base.id}-${r + 1}-${k + 1}`, p: s.p, q: s.q, label: '' });
                }
            }
        } else {
            out.push(base);
        }
    }
    for (const pl of out) pl.yaw = yawOfQ(pl.q);
    return out;
}

function readWalk(list, floorY) {
    const out = [];
    if (!Array.isArray(list)) return out;
    for (const e of list) {
        if (!e || typeof e !== 'object') continue;
        const y = num(e.y, floorY);
        let pts = null;
        if (Array.isArray(e.polygon)) {
            pts = e.polygon.filter((v) => Array.isArray(v) && v.length === 2).map((v) => [num(v[0], 0), num(v[1], 0)]);
        } else if (Array.isArray(e.min) && Array.isArray(e.max)) {
            const [x0, z0] = e.min;
            const [x1, z1] = e.max;
            pts = [[x0, z0], [x1, z0], [x1, z1], [x0, z1]];
        }
        if (pts && pts.length >= 3) out.push({ pts, y });
    }
    return out;
}

function polyHas(pts, x, z) {
    let inside = false;
    for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const ax = pts[j][0], az = pts[j][1];
        const bx = pts[i][0], bz = pts[i][1];
        /* on an edge counts as inside, as on the server */
        const dx = bx - ax, dz = bz - az;
        const len2 = dx * dx + dz * dz;
        let t = len2 > 0 ? ((x - ax) * dx + (z - az) * dz) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = ax + t * dx - x, ez = az + t * dz - z;
        if (ex * ex + ez * ez <= EDGE_EPS * EDGE_EPS) return true;
        if ((az > z) !== (bz > z)) {
            const cx = ax + ((z - az) * (bx - ax)) / (bz - az);
            if (x < cx) inside = !inside;
        }
    }
    return inside;
}

/* The model of one room. */
export function normaliseScene(doc) {
    if (!doc || typeof doc !== 'object') throw new Error('the scene is not a JSON object');
    const floorY = num(doc.floor_y, 0);
    const walk = readWalk(doc.walk, floorY);
    const nodes = [];
    flattenNodes(doc.nodes, compose([0, 0, 0], [0, 0, 0, 1], [1, 1, 1]), nodes, 0);
    const places = readPlaces(doc.places);
    const portals = (Array.isArray(doc.portals) ? doc.portals : [])
        .filter((p) => p && p.trigger && Array.isArray(p.trigger.min) && Array.isArray(p.trigger.max))
        .map((p) => ({
            id: String(p.id || ''),
            label: typeof p.label === 'string' ? p.label : String(p.room || ''),
            room: String(p.room || ''),
            spawn: String(p.spawn || ''),
            min: vecOr(p.trigger.min, 3, [0, 0, 0]),
            max: vecOr(p.trigger.max, 3, [0, 0, 0]),
        }));
    const spawns = (Array.isArray(doc.spawns) ? doc.spawns : []).map((s) => ({
        id: String(s.id || ''), p: vecOr(s.p, 3, [0, floorY, 0]), q: vecOr(s.q, 4, [0, 0, 0, 1]),
    }));
    const b = { minX: Infinity, maxX: -Infinity, minZ: Infinity, maxZ: -Infinity };
    const grow = (x, z) => {
        if (x < b.minX) b.minX = x;
        if (x > b.maxX) b.maxX = x;
        if (z < b.minZ) b.minZ = z;
        if (z > b.maxZ) b.maxZ = z;
    };
    for (const w of walk) for (const [x, z] of w.pts) grow(x, z);
    for (const p of portals) {
        grow(p.min[0], p.min[2]);
        grow(p.max[0], p.max[2]);
    }
    if (!Number.isFinite(b.minX)) Object.assign(b, { minX: -10, maxX: 10, minZ: -10, maxZ: 10 });
    const lighting = doc.lighting && typeof doc.lighting === 'object' ? doc.lighting : {};
    const fog = doc.fog && typeof doc.fog === 'object' && colour(doc.fog.color, null)
        ? { color: doc.fog.color, near: num(doc.fog.near, 30), far: num(doc.fog.far, 150) } : null;
    return {
        id: String(doc.id || ''),
        name: String(doc.name || doc.id || ''),
        description: typeof doc.description === 'string' ? doc.description : '',
        capacity: num(doc.capacity, 0),
        floorY,
        walk,
        nodes,
        places,
        portals,
        spawns,
        bounds: b,
        lighting,
        fog,
        sky: colour(doc.background, '#cfe0ee'),
        walkable(x, z) {
            for (const w of walk) if (polyHas(w.pts, x, z)) return true;
            return false;
        },
        /* The highest walkable polygon here (a raised stage), else the floor. */
        floorAt(x, z, fallback = floorY) {
            let y = null;
            for (const w of walk) if (polyHas(w.pts, x, z) && (y === null || w.y > y)) y = w.y;
            return y === null ? (walk.length ? fallback : floorY) : y;
        },
        portalAt(x, y, z) {
            for (const p of portals) {
                if (x >= p.min[0] && x <= p.max[0] && y >= p.min[1] && y <= p.max[1] && z >= p.min[2] && z <= p.max[2]) return p;
            }
            return null;
        },
    };
}

/* A plain floor, for a room whose scene could not be loaded. */
export function fallbackScene(room) {
    return normaliseScene({
        id: room ? room.id : 'room',
        name: room ? room.name : 'Room',
        walk: [{ min: [-10, -10], max: [10, 10] }],
        spawns: [{ id: 'centre', p: [0, 0, 0] }],
        nodes: [{ type: 'plane', size: [20, 20], color: '#e9e2d6' }],
    });
}
