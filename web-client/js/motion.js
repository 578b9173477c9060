/*
 * motion.js - where remote avatars are drawn: smooth motion from 20 Hz ticks.
 *
 * Owns one small ring buffer of timed samples per remote avatar and the
 * mapping from the server's tick clock to the local clock. Views ask for a
 * pose at "now"; we answer for a moment ~100 ms in the past so that there is
 * almost always a later sample to interpolate towards, and extrapolate for
 * at most ~200 ms when packets are late. The server sends only avatars that
 * moved, so an avatar missing from a tick is standing still: it holds its
 * pose instead of sliding on; when no frame comes at all (nobody in the
 * room moved), the extrapolation eases back to the last pose. A far
 * avatar in a tiered room (PROTOCOL.md, "Interest tiers") comes a few
 * times a second or less: each of its samples is a target reached one gap
 * later, so it glides from sample to sample, a gap behind.
 *
 * No DOM, and nothing allocated per frame: sample() writes into the caller's
 * arrays. Also: the stable colour of a user id.
 */

import { yawOf } from './venue-client.js';

const CAP = 32; /* samples per avatar: 1.6 s at 20 Hz */
const SNAP_DIST = 4; /* metres in one step: a teleport, not a walk */
const FAR_SNAP_DIST = 20; /* the same for a far avatar, a second or so apart */
const FAR_GAP_MAX_MS = 2000; /* a far avatar's glide is never longer */

class Track {
    constructor() {
        this.t = new Float64Array(CAP); /* sample time, ms on the server clock */
        this.p = new Float32Array(CAP * 3);
        this.yaw = new Float32Array(CAP);
        this.tick = new Float64Array(CAP); /* server tick, -1 if none */
        this.head = 0; /* index of the oldest sample */
        this.n = 0;
    }

    last() {
        return (this.head + this.n - 1) % CAP;
    }

    push(t, tick, x, y, z, yaw) {
        let i;
        if (this.n < CAP) {
            i = (this.head + this.n) % CAP;
            this.n++;
        } else {
            i = this.head;
            this.head = (this.head + 1) % CAP;
        }
        this.t[i] = t;
        this.tick[i] = tick;
        this.p[i * 3] = x;
        this.p[i * 3 + 1] = y;
        this.p[i * 3 + 2] = z;
        this.yaw[i] = yaw;
    }

    clear() {
        this.head = 0;
        this.n = 0;
    }
}

function angleLerp(a, b, k) {
    let d = b - a;
    while (d > Math.PI) d -= 2 * Math.PI;
    while (d < -Math.PI) d += 2 * Math.PI;
    return a + d * k;
}

export class Motion {
    constructor({ delayMs = 100, maxExtrapolateMs = 200 } = {}) {
        this.delayMs = delayMs;
        this.maxExtrapolateMs = maxExtrapolateMs;
        this.tracks = new Map(); /* id -> Track */
        this.spare = []; /* tracks of people who left, reused */
        this.offset = null; /* local ms - server ms, lower envelope */
        this.lastFrameLocal = 0;
        this.lastTick = -1;
        this.tickMs = 50;
    }

    reset() {
        for (const tr of this.tracks.values()) {
            tr.clear();
            this.spare.push(tr);
        }
        this.tracks.clear();
        this.offset = null;
        this.lastTick = -1;
    }

    _track(id) {
        let tr = this.tracks.get(id);
        if (!tr) {
            tr = this.spare.pop() || new Track();
            tr.clear();
            this.tracks.set(id, tr);
        }
        return tr;
    }

    remove(id) {
        const tr = this.tracks.get(id);
        if (tr) {
            this.tracks.delete(id);
            this.spare.push(tr);
        }
    }

    /* The server's time "now" as the render clock sees it. */
    _serverNow(localMs) {
        if (this.offset === null) return localMs;
        return localMs - this.offset;
    }

    /* Place an avatar without smoothing: roster entries, arrivals. */
    place(id, p, q, localMs) {
        const tr = this._track(id);
        tr.clear();
        tr.push(this._serverNow(localMs) - this.delayMs, -1, p[0], p[1], p[2], yawOf(q));
    }

    /*
     * One poses frame. users: [{id, p, q, far}] of those who moved, far
     * true for an entry past a tiered frame's nearest tier. tick may be
     * null (then arrival time stands in for it).
     */
    onPoses(tick, tickHz, users, localMs) {
        this.tickMs = 1000 / (tickHz > 0 ? tickHz : 20);
        let t;
        if (tick === null) {
            t = this._serverNow(localMs);
            if (this.offset === null) this.offset = 0;
        } else {
            if (tick < this.lastTick) {
                /* the server restarted: its clock starts over */
                this.offset = null;
                for (const tr of this.tracks.values()) tr.clear();
            }
            t = tick * this.tickMs;
            const sampleOffset = localMs - t;
            if (this.offset === null) {
                this.offset = sampleOffset;
            } else {
                /* Follow the earliest arrivals, relaxing 20 ms a second so
                 * that a lasting rise in latency is caught up with. */
                const dt = Math.max(0, localMs - this.lastFrameLocal);
                this.offset = Math.min(this.offset + dt * 0.02, sampleOffset);
            }
            this.lastTick = tick;
        }
        this.lastFrameLocal = localMs;
        for (let k = 0; k < users.length; k++) {
            const e = users[k];
            const p = e.p;
            const q = e.q;
            if (!p || !q) continue;
            const tr = this._track(String(e.id));
            const yaw = yawOf(q);
            if (tr.n > 0) {
                const l = tr.last();
                const dx = p[0] - tr.p[l * 3];
                const dz = p[2] - tr.p[l * 3 + 2];
                const snap = e.far ? FAR_SNAP_DIST : SNAP_DIST;
                /* A far one is reached a gap (its ticks since the last) from now. */
                const gap = e.far && tick !== null && tr.tick[l] >= 0 ? Math.min((tick - tr.tick[l]) * this.tickMs, FAR_GAP_MAX_MS) : 0;
                if (dx * dx + dz * dz > snap * snap || tr.t[l] >= t + gap) {
                    tr.clear(); /* a teleport, or near again during a far glide */
                } else if (e.far) {
                    tr.push(t + gap, tick === null ? -1 : tick, p[0], p[1], p[2], yaw);
                    continue;
                } else if (tick !== null && tr.tick[l] >= 0 && tr.tick[l] < tick - 1) {
                    /* It stood still since its last sample and set off at
                     * the previous tick: hold until then, do not glide. */
                    tr.push(t - this.tickMs, tick - 1, tr.p[l * 3], tr.p[l * 3 + 1], tr.p[l * 3 + 2], tr.yaw[l]);
                } else if (tr.tick[l] < 0 && tr.t[l] < t - this.tickMs) {
                    tr.push(t - this.tickMs, tick === null ? -1 : tick - 1, tr.p[l * 3], tr.p[l * 3 + 1], tr.p[l * 3 + 2], tr.yaw[l]);
                }
            }
            tr.push(t, tick === null ? -1 : tick, p[0], p[1], p[2], yaw);
        }
    }

    /*
     * Where avatar id is to be drawn at local time localMs. Writes x, y, z
     * into outP[0..2] and returns the yaw, or NaN if the avatar is unknown.
     */
    sample(id, localMs, outP) {
        const tr = this.tracks.get(id);
        if (!tr || tr.n === 0) return NaN;
        const T = this._serverNow(localMs) - this.delayMs;
        const P = tr.p;
        let i = tr.head;
        if (tr.n === 1 || T <= tr.t[i]) {
            outP[0] = P[i * 3];
            outP[1] = P[i * 3 + 1];
            outP[2] = P[i * 3 + 2];
            return tr.yaw[i];
        }
        for (let k = 0; k < tr.n - 1; k++) {
            const j = (i + 1) % CAP;
            if (T < tr.t[j]) {
                const span = tr.t[j] - tr.t[i];
                const a = span > 0 ? (T - tr.t[i]) / span : 1;
                outP[0] = P[i * 3] + (P[j * 3] - P[i * 3]) * a;
                outP[1] = P[i * 3 + 1] + (P[j * 3 + 1] - P[i * 3 + 1]) * a;
                outP[2] = P[i * 3 + 2] + (P[j * 3 + 2] - P[i * 3 + 2]) * a;
                return angleLerp(tr.yaw[i], tr.yaw[j], a);
            }
            i = j;
        }
        /* T is past the newest sample (i). */
        const l = i;
        outP[0] = P[l * 3];
        outP[1] = P[l * 3 + 1];
        outP[2] = P[l * 3 + 2];
        const standing = tr.tick[l] < 0 || tr.tick[l] < this.lastTick;
        if (standing) return tr.yaw[l];
        /* Late frame: carry on along the last step, for a short while. If
         * still nothing has come after that, nobody in the room moved (the
         * server sends no frame then): it stopped where it was last seen,
         * so ease back there rather than stay ahead of it for good. */
        const pv = (l - 1 + CAP) % CAP;
        const dtS = tr.t[l] - tr.t[pv];
        if (dtS <= 0 || dtS > 3 * this.tickMs) return tr.yaw[l];
        const over = T - tr.t[l];
        const cap = this.maxExtrapolateMs;
        const ahead = (over <= cap ? over : Math.max(0, 2 * cap - over)) / dtS;
        outP[0] += (P[l * 3] - P[pv * 3]) * ahead;
        outP[1] += (P[l * 3 + 1] - P[pv * 3 + 1]) * ahead;
        outP[2] += (P[l * 3 + 2] - P[pv * 3 + 2]) * ahead;
        return tr.yaw[l];
    }
}

/* A friendly, stable colour for a user id: hue from a string hash. */
export function hueOf(id) {
    let h = 2166136261;
    const s = String(id);
    for (let i = 0; i < s.length; i++) {
        h ^= s.charCodeAt(i);
        h = Math.imul(h, 16777619);
    }
    return ((h >>> 0) % 360) / 360;
}

/* CSS colour for a user id, for the roster and the 2D map. */
export function cssColourOf(id, lightness = 55) {
    return `hsl(${Math.round(hueOf(id) * 360)} 65% ${lightness}%)`;
}

/* WCAG relative luminance of hsl(h, s, l), each 0..1. */
export function luminanceOfHsl(h, s, l) {
    const a = s * Math.min(l, 1 - l);
    const channel = (n) => {
        const k = (n + h * 12) % 12;
        const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(0) + 0.7152 * channel(8) + 0.0722 * channel(4);
}

/* The darkest luminance text may have on the page's panels (--paper-2,
 * #f5efe6, luminance 0.86) for WCAG AA's 4.5:1: a name's colour is
 * darkened until it is under this, whatever the hue (yellows and greens
 * at a fixed lightness are not). */
const TEXT_LUMINANCE_MAX = (0.86 + 0.05) / 4.6 - 0.05; /* 4.6: a margin for rounding */

/* The user's colour for text: its hue, as light as AA contrast allows up to lightness. */
export function inkColourOf(id, lightness = 32) {
    const h = hueOf(id);
    let l = lightness;
    while (l > 5 && luminanceOfHsl(h, 0.65, l / 100) > TEXT_LUMINANCE_MAX) l -= 1;
    return `hsl(${Math.round(h * 360)} 65% ${l}%)`;
}
