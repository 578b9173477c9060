/*
 * map2d.js - the room as a top-down map on a 2D canvas: for low-end
 * devices, for anyone who prefers it, and wherever WebGL is missing.
 *
 * Owns its canvas. The room (floor, furniture footprints, places, portals)
 * is painted once into an offscreen canvas whenever the scene, the size or
 * the zoom changes; each frame copies it and draws avatars as coloured
 * discs with a facing wedge (a green ring round those speaking), and names
 * for the nearest few dozen. The
 * showcases' live data is drawn over the room each frame: a ramp's colour
 * around the showcase, and its values as text beside it. North (-Z) is up.
 * Wheel or +/- zooms; when zoomed in the map follows me.
 */

import { valueWithUnit } from './livedata.js';

const LABELS_MAX = 24;
const PAD_PX = 18;
const AVATAR_R = 0.32; /* metres */
const TWIN_LINES = 5; /* values written beside a showcase */
/* where a room label may go when its place is taken: offsets in its own widths and heights, nearest first */
const LABEL_TRIES = [[0, 0], [0, 1], [0, -1], [0, 2], [0, -2], [0.6, 0], [-0.6, 0], [0.6, 1], [-0.6, 1], [0.6, -1], [-0.6, -1],
    [0, 3], [0, -3], [1.1, 0], [-1.1, 0], [0, 4], [0, -4]];
const STALE_INK = '#6b7178';

function isRtl(s) {
    const m = /[\p{L}]/u.exec(s);
    return !!m && /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/.test(m[0]);
}

function hsl(h, s, l) {
    return `hsl(${Math.round(h * 360)} ${s}% ${l}%)`;
}

export class Map2D {
    constructor(container, opts = {}) {
        this.container = container;
        this.reducedMotion = !!opts.reducedMotion;
        this.canvas = document.createElement('canvas');
        this.canvas.setAttribute('aria-hidden', 'true');
        this.canvas.className = 'map2d';
        container.prepend(this.canvas);
        this.ctx = this.canvas.getContext('2d');
        this.model = null;
        this.zoom = 1;
        this.bg = null; /* offscreen room layer */
        this.bgKey = '';
        this.scale = 10; /* CSS px per metre at the current zoom */
        this.ox = 0; /* CSS px of world x = 0 */
        this.oz = 0;
        this.pick = new Int32Array(0);
        this.dist = new Float32Array(0);
        this.labelled = [];
        this.picked = 0;
        this.colours = new Map(); /* avatar -> [fill, ring] cached strings */
        this.twinReadings = []; /* the showcases' live data (livedata.js) */
        this.twinLines = []; /* what _twins drew last: [{showcase, show, label, text, age, stale, colour}] */
        this.onWheel = (ev) => {
            ev.preventDefault();
            this.setZoom(this.zoom * (ev.deltaY > 0 ? 0.85 : 1.18));
        };
        this.onKey = (ev) => {
            if (ev.target !== container) return;
            if (ev.key === '+' || ev.key === '=') this.setZoom(this.zoom * 1.25);
            else if (ev.key === '-' || ev.key === '_') this.setZoom(this.zoom / 1.25);
        };
        container.addEventListener('wheel', this.onWheel, { passive: false });
        container.addEventListener('keydown', this.onKey);
        this.resizeObs = new ResizeObserver(() => this.resize());
        this.resizeObs.observe(container);
        this.resize();
    }

    get kind() {
        return '2d';
    }

    setReducedMotion(on) {
        this.reducedMotion = on;
    }

    setZoom(z) {
        this.zoom = Math.min(8, Math.max(1, z));
    }

    resize() {
        this.w = Math.max(1, this.container.clientWidth);
        this.h = Math.max(1, this.container.clientHeight);
        this.dpr = Math.min(window.devicePixelRatio || 1, 2);
        this.canvas.width = Math.round(this.w * this.dpr);
        this.canvas.height = Math.round(this.h * this.dpr);
        this.bgKey = '';
    }

    setScene(model) {
        this.model = model;
        this.zoom = 1;
        this.bgKey = '';
    }

    setTwins(readings) {
        this.twinReadings = readings;
    }

    twinsDrawn() {
        return this.twinLines;
    }

    /* Each showcase's ramp colour around it, and its values as text below it (screen pixels). */
    _twins() {
        const g = this.ctx;
        const d = this.dpr;
        const lines = [];
        for (const r of this.twinReadings) {
            const pl = this.model.places.find((p) => p.id === r.id);
            if (!pl) continue;
            const ramp = r.items.find((it) => it.binding.show === 'ramp' && it.colour);
            if (ramp) {
                g.setTransform(d * this.scale, 0, 0, d * this.scale, d * this.ox, d * this.oz);
                this._rect(g, pl, pl.size ? pl.size[0] : 2, pl.size ? pl.size[2] : 1);
                const colour = ramp.stale ? STALE_INK : ramp.colour;
                g.strokeStyle = colour;
                g.lineWidth = 0.4;
                g.stroke();
                lines.push({ showcase: r.id, show: 'ramp', label: ramp.label, text: valueWithUnit(ramp), age: ramp.age, stale: ramp.stale, colour });
            }
            const shown = r.items.filter((it) => it.binding.show === 'label' || it.binding.show === 'bar' || it.binding.show === 'ramp').slice(0, TWIN_LINES);
            const x = this.ox + pl.p[0] * this.scale;
            let y = this.oz + (pl.p[2] + (pl.size ? pl.size[2] / 2 : 0.5)) * this.scale + 12;
            g.setTransform(d, 0, 0, d, 0, 0);
            g.font = '600 12px system-ui, "DejaVu Sans", sans-serif';
            g.textAlign = 'center';
            g.textBaseline = 'middle';
            for (const it of shown) {
                const text = `${it.label} ${valueWithUnit(it)}${it.stale ? ' (stale)' : ''}`;
                g.direction = isRtl(text) ? 'rtl' : 'ltr';
                const w = Math.min(220, g.measureText(text).width) + 12;
                g.fillStyle = 'rgba(16, 35, 31, 0.9)';
                g.beginPath();
                g.roundRect(x - w / 2, y - 9, w, 18, 9);
                g.fill();
                g.fillStyle = it.stale || !it.has ? '#c3c8cc' : '#ffffff';
                g.fillText(text, x, y, 220);
                if (it.binding.show !== 'ramp') lines.push({ showcase: r.id, show: it.binding.show, label: it.label, text: valueWithUnit(it), age: it.age, stale: it.stale });
                y += 20;
            }
        }
        this.twinLines = lines;
    }

    /* Fit the room into the canvas, then zoom around me. */
    _layout(me) {
        const b = this.model.bounds;
        const bw = Math.max(1, b.maxX - b.minX);
        const bh = Math.max(1, b.maxZ - b.minZ);
        const fit = Math.min((this.w - 2 * PAD_PX) / bw, (this.h - 2 * PAD_PX - 24) / bh);
        this.scale = Math.max(2, fit) * this.zoom;
        const cx = this.zoom > 1 && me ? me.x : (b.minX + b.maxX) / 2;
        const cz = this.zoom > 1 && me ? me.z : (b.minZ + b.maxZ) / 2;
        this.ox = this.w / 2 - cx * this.scale;
        this.oz = this.h / 2 + 8 - cz * this.scale;
    }

    floorPointAt(clientX, clientY) {
        if (!this.model) return null;
        const r = this.canvas.getBoundingClientRect();
        return [(clientX - r.left - this.ox) / this.scale, (clientY - r.top - this.oz) / this.scale];
    }

    /* The room layer, in world coordinates, at the current scale. */
    _paintRoom() {
        const m = this.model;
        const b = m.bounds;
        const s = this.scale * this.dpr;
        const margin = 2;
        const W = Math.min(8192, Math.ceil((b.maxX - b.minX + 2 * margin) * s));
        const H = Math.min(8192, Math.ceil((b.maxZ - b.minZ + 2 * margin) * s));
        const c = this.bg || document.createElement('canvas');
        c.width = W;
        c.height = H;
        this.bg = c;
        this.bgX = b.minX - margin;
        this.bgZ = b.minZ - margin;
        const g = c.getContext('2d');
        g.setTransform(s, 0, 0, s, -this.bgX * s, -this.bgZ * s);
        g.clearRect(this.bgX, this.bgZ, W / s, H / s);
        g.lineJoin = 'round';

        /* walkable floor: warm wood tone with a soft edge */
        for (const w of m.walk) {
            g.beginPath();
            w.pts.forEach(([x, z], i) => (i ? g.lineTo(x, z) : g.moveTo(x, z)));
            g.closePath();
            g.fillStyle = w.y > m.floorY + 0.05 ? '#e9c9a0' : '#f3e7d3';
            g.fill();
            g.lineWidth = 0.12;
            g.strokeStyle = '#b9a489';
            g.stroke();
        }

        /* furniture and walls from the nodes, lowest first */
        const shapes = m.nodes
            .filter((n) => n.type !== 'gltf' && n.opacity > 0.05)
            .map((n) => ({ n, top: this._top(n), bottom: this._bottom(n) }))
            /* not the floor itself, and nothing overhead (beams, lamps, banners) */
            .filter((x) => x.top > m.floorY + 0.03 && x.bottom < m.floorY + 2.1)
            .sort((a, b2) => a.top - b2.top);
        for (const { n, top } of shapes) {
            const tall = top - m.floorY > 1.8;
            g.fillStyle = tall ? '#6b6f7d' : n.color;
            g.globalAlpha = Math.min(1, n.opacity);
            this._footprint(g, n);
            g.fill();
            g.globalAlpha = 1;
            if (!tall) {
                g.lineWidth = 0.04;
                g.strokeStyle = 'rgba(27, 34, 51, 0.35)';
                g.stroke();
            }
        }

        /* places; their labels and the portals' are drawn last, laid out together */
        this.roomLabels = [];
        for (const pl of m.places) this._place(g, pl);

        /* portals: a glowing doorway with its destination */
        for (const p of m.portals) {
            const x = p.min[0], z = p.min[2];
            const w = p.max[0] - p.min[0], d = p.max[2] - p.min[2];
            g.fillStyle = 'rgba(64, 196, 255, 0.35)';
            g.strokeStyle = '#0b6fa8';
            g.lineWidth = 0.1;
            g.beginPath();
            g.roundRect(x, z, w, d, 0.3);
            g.fill();
            g.stroke();
            this._label(`→ ${p.label}`, x + w / 2, z + d / 2, 0.55, '#0b4f78', 'rgba(255,255,255,0.92)', 0);
        }
        this._placeLabels(g);
    }

    /*
     * Lay the room's labels out and draw them: most important first (doors,
     * then signs, the stage, screens and boards, showcases), each at its
     * place if it is free, else at the nearest free spot around it, always
     * inside what the map shows at its widest; one with no free spot near
     * its place is left out rather than drawn over another. In world
     * units, once per painting of the room.
     */
    _placeLabels(g) {
        const b = this.model.bounds;
        const s = this.scale / this.zoom; /* px per metre at zoom 1: all of the room in view */
        const cx = (b.minX + b.maxX) / 2;
        const cz = (b.minZ + b.maxZ) / 2;
        const inset = 4 / s;
        const minX = Math.max(this.bgX, cx - this.w / 2 / s) + inset;
        const maxX = Math.min(this.bgX + this.bg.width / this.dpr / this.scale, cx + this.w / 2 / s) - inset;
        const minZ = Math.max(this.bgZ, cz - (this.h / 2 + 8) / s) + inset;
        const maxZ = Math.min(this.bgZ + this.bg.height / this.dpr / this.scale, cz + (this.h / 2 - 8) / s) - inset;
        const placed = [];
        const free = (x, z, w, h) => placed.every((o) => x + w / 2 <= o.x - o.w / 2 || x - w / 2 >= o.x + o.w / 2 ||
            z + h / 2 <= o.z - o.h / 2 || z - h / 2 >= o.z + o.h / 2);
        const wanted = this.roomLabels.sort((a, c) => a.rank - c.rank);
        this.roomLabels = [];
        for (const l of wanted) {
            g.font = `600 ${l.size}px system-ui, "DejaVu Sans", sans-serif`;
            const w = Math.min(g.measureText(l.text).width + l.size, maxX - minX);
            const h = l.size * 1.5;
            const spot = LABEL_TRIES.map(([dx, dz]) => [
                Math.min(maxX - w / 2, Math.max(minX + w / 2, l.x + dx * w)),
                Math.min(maxZ - h / 2, Math.max(minZ + h / 2, l.z + dz * h)),
            ]).find(([x, z]) => free(x, z, w, h));
            if (!spot) continue;
            const box = { text: l.text, x: spot[0], z: spot[1], w, h };
            placed.push(box);
            this.roomLabels.push(box);
            this._drawLabel(g, l.text, box.x, box.z, l.size, w, l.ink, l.pill);
        }
    }

    /* The room's labels as drawn, in client pixels: [{text, left, top, right, bottom}]. */
    labelsDrawn() {
        const r = this.canvas.getBoundingClientRect();
        const s = this.scale;
        return (this.roomLabels || []).map((l) => ({
            text: l.text,
            left: r.left + this.ox + (l.x - l.w / 2) * s,
            right: r.left + this.ox + (l.x + l.w / 2) * s,
            top: r.top + this.oz + (l.z - l.h / 2) * s,
            bottom: r.top + this.oz + (l.z + l.h / 2) * s,
        }));
    }

    /* Half a node's height in world units, scale included. */
    _halfHeight(n) {
        const m = n.matrix;
        let h;
        if (n.type === 'box') h = (n.size ? n.size[1] : 1) / 2;
        else if (n.type === 'cylinder') h = n.height / 2;
        else if (n.type === 'sphere') h = n.radius;
        else h = 0;
        return h * Math.hypot(m[4], m[5], m[6]);
    }

    _bottom(n) {
        return n.matrix[13] - this._halfHeight(n);
    }

    _top(n) {
        return n.matrix[13] + this._halfHeight(n);
    }

    /* The footprint of a node on the floor: a rotated rectangle or a circle. */
    _footprint(g, n) {
        const m = n.matrix;
        g.beginPath();
        if (n.type === 'cylinder' || n.type === 'sphere') {
            const r = Math.max(n.radius, n.type === 'cylinder' ? n.radiusTop : 0) * Math.hypot(m[0], m[1], m[2]);
            g.arc(m[12], m[14], r, 0, Math.PI * 2);
            return;
        }
        const sx = n.size ? n.size[0] / 2 : 0.5;
        const sz = n.type === 'plane' ? (n.size ? n.size[1] / 2 : 0.5) : (n.size ? n.size[2] / 2 : 0.5);
        const corners = [[-sx, -sz], [sx, -sz], [sx, sz], [-sx, sz]];
        corners.forEach(([a, c], i) => {
            const x = m[0] * a + m[8] * c + m[12];
            const z = m[2] * a + m[10] * c + m[14];
            if (i) g.lineTo(x, z);
            else g.moveTo(x, z);
        });
        g.closePath();
    }

    _rect(g, pl, w, d) {
        const c = Math.cos(pl.yaw), s = Math.sin(pl.yaw);
        g.beginPath();
        [[-w / 2, -d / 2], [w / 2, -d / 2], [w / 2, d / 2], [-w / 2, d / 2]].forEach(([a, b], i) => {
            const x = pl.p[0] + c * a + s * b;
            const z = pl.p[2] - s * a + c * b;
            if (i) g.lineTo(x, z);
            else g.moveTo(x, z);
        });
        g.closePath();
    }

    _place(g, pl) {
        switch (pl.type) {
            case 'stage': {
                const v = pl.volume;
                if (v) {
                    g.fillStyle = '#d9a066';
                    g.strokeStyle = '#8a5a2b';
                    g.lineWidth = 0.08;
                    g.fillRect(v.min[0], v.min[2], v.max[0] - v.min[0], v.max[2] - v.min[2]);
                    g.strokeRect(v.min[0], v.min[2], v.max[0] - v.min[0], v.max[2] - v.min[2]);
                    this._label(pl.label || 'Stage', (v.min[0] + v.max[0]) / 2, (v.min[2] + v.max[2]) / 2, 0.6, '#4a2c0c', null, 2);
                }
                break;
            }
            case 'screen':
            case 'board': {
                const w = pl.size ? pl.size[0] : 3;
                this._rect(g, pl, w, 0.18);
                g.fillStyle = pl.type === 'screen' ? '#24324f' : (pl.color || '#5a6b8a');
                g.fill();
                if (pl.label) this._label(pl.label, pl.p[0], pl.p[2] + 0.6, 0.45, '#1b2233', 'rgba(255,255,255,0.85)', 3);
                break;
            }
            case 'seat':
                this._rect(g, pl, 0.48, 0.48);
                g.fillStyle = pl.color || '#7a8fb3';
                g.fill();
                break;
            case 'desk':
            case 'showcase': {
                const w = pl.size ? pl.size[0] : 2;
                const d = pl.size ? pl.size[2] : 1;
                this._rect(g, pl, w, d);
                g.fillStyle = pl.type === 'desk' ? '#b88a5a' : '#5fb3a1';
                g.fill();
                g.strokeStyle = 'rgba(27,34,51,0.5)';
                g.lineWidth = 0.05;
                g.stroke();
                if (pl.label) this._label(pl.label, pl.p[0], pl.p[2], 0.42, '#10231f', 'rgba(255,255,255,0.9)', 4);
                break;
            }
            case 'sign': {
                const w = pl.size ? pl.size[0] : 2;
                this._rect(g, pl, w, 0.14);
                g.fillStyle = pl.color || '#1d2a44';
                g.fill();
                if (pl.label) this._label(pl.label, pl.p[0], pl.p[2] + 0.5, 0.42, '#1b2233', 'rgba(255,255,255,0.85)', 1);
                break;
            }
            default:
                break;
        }
    }

    /* A world-space label (size in metres) with an optional pill behind, to be laid out (_placeLabels); rank: lower first. */
    _label(text, x, z, size, ink, pill, rank) {
        this.roomLabels.push({ text, x, z, size, ink, pill, rank });
    }

    _drawLabel(g, text, x, z, size, w, ink, pill) {
        g.save();
        g.font = `600 ${size}px system-ui, "DejaVu Sans", sans-serif`;
        g.textAlign = 'center';
        g.textBaseline = 'middle';
        g.direction = isRtl(text) ? 'rtl' : 'ltr';
        if (pill) {
            g.fillStyle = pill;
            g.beginPath();
            g.roundRect(x - w / 2, z - size * 0.75, w, size * 1.5, size * 0.75);
            g.fill();
        }
        g.fillStyle = ink;
        g.fillText(text, x, z, w - size);
        g.restore();
    }

    _colours(av) {
        let c = this.colours.get(av);
        const key = av.away ? 1 : 0;
        if (!c || c.key !== key) {
            c = {
                key,
                fill: av.away ? hsl(av.hue, 12, 70) : hsl(av.hue, 62, 52),
                ring: av.away ? hsl(av.hue, 10, 45) : hsl(av.hue, 60, 30),
            };
            this.colours.set(av, c);
        }
        return c;
    }

    render(avatars, me, now, dtS, listChanged) {
        if (!this.model) return;
        this._layout(me);
        const key = `${this.w}x${this.h}@${this.dpr}:${this.scale.toFixed(3)}`;
        if (key !== this.bgKey) {
            this._paintRoom();
            this.bgKey = key;
        }
        const g = this.ctx;
        const d = this.dpr;
        g.setTransform(1, 0, 0, 1, 0, 0);
        g.fillStyle = '#dfe7ef';
        g.fillRect(0, 0, this.canvas.width, this.canvas.height);
        g.drawImage(this.bg, Math.round((this.ox + this.bgX * this.scale) * d), Math.round((this.oz + this.bgZ * this.scale) * d));

        if (this.twinReadings.length) this._twins();
        const s = this.scale;
        g.setTransform(d * s, 0, 0, d * s, d * this.ox, d * this.oz);
        const n = avatars.length;
        const r = Math.max(AVATAR_R, 3.5 / s); /* never smaller than 3.5 px */
        for (let i = 0; i < n; i++) {
            const av = avatars[i];
            const c = this._colours(av);
            g.beginPath();
            g.arc(av.x, av.z, r, 0, Math.PI * 2);
            g.fillStyle = c.fill;
            g.fill();
            g.lineWidth = av.me ? r * 0.45 : r * 0.2;
            g.strokeStyle = av.me ? '#1d2a44' : c.ring;
            g.stroke();
            /* the way they face: a small wedge ahead */
            const fx = -Math.sin(av.yaw), fz = -Math.cos(av.yaw);
            g.beginPath();
            g.moveTo(av.x + fx * r * 1.9, av.z + fz * r * 1.9);
            g.lineTo(av.x + fz * r * 0.7 + fx * r * 0.9, av.z - fx * r * 0.7 + fz * r * 0.9);
            g.lineTo(av.x - fz * r * 0.7 + fx * r * 0.9, av.z + fx * r * 0.7 + fz * r * 0.9);
            g.closePath();
            g.fillStyle = av.me ? '#1d2a44' : c.ring;
            g.fill();
            if (av.talking) {
                /* speaking (voice): a green ring round the disc */
                g.beginPath();
                g.arc(av.x, av.z, r * 1.55, 0, Math.PI * 2);
                g.lineWidth = r * 0.38;
                g.strokeStyle = '#16a34a';
                g.stroke();
            }
            if (av.hand) {
                g.beginPath();
                g.arc(av.x + r * 0.9, av.z - r * 0.9, r * 0.55, 0, Math.PI * 2);
                g.fillStyle = '#ffc94d';
                g.fill();
                g.lineWidth = r * 0.15;
                g.strokeStyle = '#6b4a00';
                g.stroke();
            }
        }
        this._labels(avatars, me, now, listChanged, r);
    }

    /* Names for the nearest people, in screen pixels so they stay legible. */
    _labels(avatars, me, now, listChanged, r) {
        const n = avatars.length;
        if (listChanged || now - this.picked > 250) {
            this.picked = now;
            if (this.pick.length < n) {
                this.pick = new Int32Array(n * 2 + 16);
                this.dist = new Float32Array(n * 2 + 16);
            }
            const cx = me ? me.x : 0, cz = me ? me.z : 0;
            for (let i = 0; i < n; i++) {
                const av = avatars[i];
                this.dist[i] = av === me ? -1 : (av.x - cx) ** 2 + (av.z - cz) ** 2;
                this.pick[i] = i;
            }
            const dist = this.dist;
            this.pick.subarray(0, n).sort((a, b) => dist[a] - dist[b]);
            this.labelled.length = 0;
            for (let k = 0; k < Math.min(n, LABELS_MAX); k++) this.labelled.push(avatars[this.pick[k]]);
        }
        const g = this.ctx;
        const d = this.dpr;
        g.setTransform(d, 0, 0, d, 0, 0);
        g.font = '600 12px system-ui, "DejaVu Sans", sans-serif';
        g.textAlign = 'center';
        g.textBaseline = 'middle';
        const boxes = this.boxes || (this.boxes = new Float32Array(LABELS_MAX * 4));
        let nb = 0;
        for (const av of this.labelled) {
            const x = this.ox + av.x * this.scale;
            const y = this.oz + av.z * this.scale - r * this.scale - 11;
            if (x < -50 || x > this.w + 50 || y < -20 || y > this.h + 20) continue;
            const reaction = av.reaction && av.reaction.until > now ? ` ${av.reaction.emoji}` : '';
            const text = `${av.me ? `${av.name} (you)` : av.name}${reaction}`;
            g.direction = isRtl(text) ? 'rtl' : 'ltr';
            const w = Math.min(160, g.measureText(text).width) + 12;
            /* nearest first: a label that would cover a nearer one is left out */
            let hit = false;
            for (let i = 0; i < nb && !hit; i++) {
                const o = i * 4;
                hit = x - w / 2 < boxes[o + 2] && x + w / 2 > boxes[o] && y - 9 < boxes[o + 3] && y + 9 > boxes[o + 1];
            }
            if (hit) continue;
            boxes[nb * 4] = x - w / 2;
            boxes[nb * 4 + 1] = y - 9;
            boxes[nb * 4 + 2] = x + w / 2;
            boxes[nb * 4 + 3] = y + 9;
            nb++;
            g.fillStyle = av.me ? 'rgba(29, 42, 68, 0.95)' : 'rgba(255, 253, 249, 0.94)';
            g.beginPath();
            g.roundRect(x - w / 2, y - 9, w, 18, 9);
            g.fill();
            g.fillStyle = av.me ? '#f6f1e7' : '#1b2233';
            g.fillText(text, x, y, 160);
        }
    }

    dispose() {
        this.resizeObs.disconnect();
        this.container.removeEventListener('wheel', this.onWheel);
        this.container.removeEventListener('keydown', this.onKey);
        this.canvas.remove();
    }
}
