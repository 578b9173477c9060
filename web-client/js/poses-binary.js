/*
 * poses-binary.js - the binary poses frames of PROTOCOL.md ("Binary
 * poses"): decoding the server's frames and encoding my own pose.
 *
 * Positions are 16 bits an axis against a room's bounds ({min, max} from
 * joined), orientations "smallest three" in 32 bits, avatars named by their
 * per-room index. Little-endian. No state: venue-client.js keeps the
 * bounds and the index map.
 */

export const FRAME_KIND = 1;
export const POSE_KIND = 2;
export const HEAD_BYTES = 8;
/* flags: a tiered frame, whose head has a near count after the count */
export const TIERED = 1;
export const TIERED_HEAD_BYTES = 10;
export const ENTRY_BYTES = 12;
export const POSE_BYTES = 12;
/* an entry's ix with this bit: someone on the stage of the hall an overflow room shows */
export const STAGE_BIT = 0x8000;

const Q16 = 65535;
const Q10 = 1023;
const EDGE = Math.SQRT1_2;

/* Checked bounds {min:[3], max:[3]} with max > min on every axis, or null. */
export function normBounds(b) {
    if (!b || !Array.isArray(b.min) || !Array.isArray(b.max) || b.min.length !== 3 || b.max.length !== 3) return null;
    const min = b.min.map(Number);
    const max = b.max.map(Number);
    for (let i = 0; i < 3; i++) if (!Number.isFinite(min[i]) || !Number.isFinite(max[i]) || !(max[i] > min[i])) return null;
    return { min, max };
}

function quantise(v, lo, hi, steps) {
    const k = ((v - lo) / (hi - lo)) * steps;
    if (!(k > 0)) return 0;
    return k >= steps ? steps : Math.round(k);
}

function packRotation(q) {
    const n = Math.hypot(q[0], q[1], q[2], q[3]);
    const c = n > 1e-6 && Number.isFinite(n) ? q.map((x) => x / n) : [0, 0, 0, 1];
    let big = 3;
    for (let i = 0; i < 4; i++) if (Math.abs(c[i]) > Math.abs(c[big])) big = i;
    const sign = c[big] < 0 ? -1 : 1;
    let bits = big * 2 ** 30;
    let shift = 20;
    for (let i = 0; i < 4; i++) {
        if (i === big) continue;
        bits += quantise(sign * c[i], -EDGE, EDGE, Q10) * 2 ** shift;
        shift -= 10;
    }
    return bits;
}

function unpackRotation(bits) {
    const big = Math.floor(bits / 2 ** 30);
    const q = [0, 0, 0, 0];
    let sum = 0;
    let shift = 20;
    for (let i = 0; i < 4; i++) {
        if (i === big) continue;
        const k = Math.floor(bits / 2 ** shift) & 0x3ff;
        q[i] = -EDGE + (k * 2 * EDGE) / Q10;
        sum += q[i] * q[i];
        shift -= 10;
    }
    q[big] = Math.sqrt(Math.max(0, 1 - sum));
    const n = Math.hypot(q[0], q[1], q[2], q[3]);
    return q.map((x) => x / n);
}

/*
 * A server poses frame (ArrayBuffer or typed array): {tick, near,
 * entries: [{ix, stage, p, q}]}, positions against bounds, a stage
 * person's against stageBounds (skipped when there are none); near is the
 * nearest tier's count in a tiered frame, else null. null when it is not a
 * well-formed poses frame.
 */
export function decodePoses(data, bounds, stageBounds = null) {
    const u8 = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (u8.length < HEAD_BYTES || u8[0] !== FRAME_KIND || (u8[1] & ~TIERED) !== 0 || !bounds) return null;
    const head = u8[1] === TIERED ? TIERED_HEAD_BYTES : HEAD_BYTES;
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    const count = dv.getUint16(6, true);
    if (u8.length !== head + count * ENTRY_BYTES) return null;
    const near = head === TIERED_HEAD_BYTES ? dv.getUint16(8, true) : null;
    if (near !== null && near > count) return null;
    const entries = [];
    for (let k = 0, o = head; k < count; k++, o += ENTRY_BYTES) {
        const raw = dv.getUint16(o, true);
        const stage = (raw & STAGE_BIT) !== 0;
        const b = stage ? stageBounds : bounds;
        if (!b) continue;
        const p = [0, 1, 2].map((i) => b.min[i] + (dv.getUint16(o + 2 + 2 * i, true) * (b.max[i] - b.min[i])) / Q16);
        entries.push({ ix: raw & ~STAGE_BIT, stage, p, q: unpackRotation(dv.getUint32(o + 8, true)) });
    }
    return { tick: dv.getUint32(2, true), near, entries };
}

/* My pose as a binary message against my room's bounds: an ArrayBuffer. */
export function encodePose(p, q, bounds) {
    const buf = new ArrayBuffer(POSE_BYTES);
    const dv = new DataView(buf);
    dv.setUint8(0, POSE_KIND);
    dv.setUint8(1, 0);
    for (let i = 0; i < 3; i++) dv.setUint16(2 + 2 * i, quantise(+p[i], bounds.min[i], bounds.max[i], Q16), true);
    dv.setUint32(8, packRotation(q.map(Number)), true);
    return buf;
}
