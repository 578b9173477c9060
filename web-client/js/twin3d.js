/*
 * twin3d.js - a showcase's live city data in three.js (scenes/FORMAT.md,
 * "Live data in a showcase"): a card of its `label` values (value, unit,
 * age), a card with a column per `bar`, a line chart per `sparkline`, a dot
 * on a small map per `marker`, and for a `ramp` the colour of the
 * showcase's display (its hologram and ring).
 *
 * room3d.js builds one TwinWidgets per showcase with bindings, in the
 * showcase's own frame (front +Z); update(reading) redraws from a reading
 * of livedata.js, only the cards whose text changed. A stale value is drawn
 * grey and says "stale": never as current. drawn() tells what is painted
 * now, for the tests' hooks.
 */

import * as THREE from '/vendor/three/three.module.js';
import { valueWithUnit } from './livedata.js';

const PX_PER_M = 400; /* canvas resolution of the cards */
const CARD_H = 1.5;
const CARD_W = { label: 1.6, bar: 0.9, sparkline: 1.6, marker: 1.3 };
const GAP = 0.15;
const CENTRE_GAP = 0.9; /* half the room left free for the hologram */
const CARD_Y = 1.25; /* card centres above the showcase's base */
const BG = '#132030';
const INK = '#ffffff';
const DIM = '#b7c3d0';
const STALE = '#8d96a0';
const ACCENT = '#5fd4c4';
const FONT = 'system-ui, "DejaVu Sans", "Noto Sans", sans-serif';

function canvasCard(w, h) {
    const c = document.createElement('canvas');
    c.width = Math.round(w * PX_PER_M);
    c.height = Math.round(h * PX_PER_M);
    const texture = new THREE.CanvasTexture(c);
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.anisotropy = 4;
    const mesh = new THREE.Mesh(new THREE.PlaneGeometry(w, h), new THREE.MeshBasicMaterial({ map: texture }));
    return { canvas: c, g: c.getContext('2d'), texture, mesh };
}

/* Text that fits maxW: the font shrinks until it does. */
function fitText(g, text, x, y, maxW, size, weight, colour, align = 'left') {
    let s = size;
    g.font = `${weight} ${s}px ${FONT}`;
    while (s > 12 && g.measureText(text).width > maxW) {
        s -= 2;
        g.font = `${weight} ${s}px ${FONT}`;
    }
    g.fillStyle = colour;
    g.textAlign = align;
    g.fillText(text, x, y, maxW);
}

function background(g, c) {
    g.fillStyle = BG;
    g.beginPath();
    g.roundRect(0, 0, c.width, c.height, 24);
    g.fill();
    g.fillStyle = ACCENT;
    g.fillRect(0, 0, c.width, 10);
}

/* "updated 12 s ago", or "stale · 5 min ago". */
function ageLine(it) {
    if (!it.has) return 'waiting for data';
    return it.stale ? `stale · ${it.age}` : `updated ${it.age}`;
}

/* One card: a canvas face, painted again only when its key changes. */
class Card {
    constructor(kind, items) {
        this.kind = kind;
        this.items = items; /* indexes into the reading's items */
        this.w = CARD_W[kind];
        this.face = canvasCard(this.w, CARD_H);
        this.group = new THREE.Group();
        this.group.add(this.face.mesh);
        this.key = '';
        this.drawn = [];
    }

    update(reading) {
        const items = this.items.map((i) => reading.items[i]);
        const key = JSON.stringify(items.map((it) => [it.text, it.unit, it.age, it.stale, it.series && it.series.length,
            it.series && it.series.length && it.series[it.series.length - 1].t]));
        if (key !== this.key) {
            this.key = key;
            this.paint(items);
            this.face.texture.needsUpdate = true;
            this.drawn = items.map((it) => ({ show: it.binding.show, label: it.label, text: valueWithUnit(it), age: it.age, stale: it.stale }));
        }
        this.place(items);
    }

    paint(items) {
        const { g, canvas: c } = this.face;
        g.clearRect(0, 0, c.width, c.height);
        background(g, c);
        g.textBaseline = 'alphabetic';
        const pad = 28;
        const maxW = c.width - 2 * pad;
        if (this.kind === 'label') {
            const rowH = (c.height - 30) / items.length;
            items.forEach((it, r) => {
                const y = 30 + r * rowH;
                const big = Math.min(96, rowH * 0.42);
                const small = Math.min(40, rowH * 0.17);
                fitText(g, it.label, pad, y + small * 1.5, maxW, small, 600, DIM);
                fitText(g, valueWithUnit(it), pad, y + small * 1.5 + big * 1.05, maxW, big, 800, it.stale || !it.has ? STALE : INK);
                fitText(g, ageLine(it), pad, y + small * 2.9 + big * 1.05, maxW, small, it.stale ? 800 : 500, it.stale ? '#ffb4a8' : DIM);
            });
            return;
        }
        const it = items[0];
        fitText(g, it.label, c.width / 2, 70, maxW, 44, 600, DIM, 'center');
        fitText(g, valueWithUnit(it), c.width / 2, 150, maxW, 72, 800, it.stale || !it.has ? STALE : INK, 'center');
        fitText(g, ageLine(it), c.width / 2, c.height - 26, maxW, 30, it.stale ? 800 : 500, it.stale ? '#ffb4a8' : DIM, 'center');
        if (this.kind === 'bar') this.paintTrack(g, c, it);
        else if (this.kind === 'sparkline') this.paintLine(g, c, it);
        else this.paintMap(g, c, it);
    }

    /* The chart area under the value. */
    area(c) {
        return { x: 34, y: 190, w: c.width - 68, h: c.height - 190 - 70 };
    }

    paintTrack(g, c, it) {
        const a = this.area(c);
        const r = it.binding.range;
        g.fillStyle = 'rgba(255,255,255,0.08)';
        g.fillRect(c.width / 2 - 60, a.y, 120, a.h);
        g.font = `500 26px ${FONT}`;
        g.fillStyle = DIM;
        g.textAlign = 'left';
        g.fillText(String(r[1]), c.width / 2 + 70, a.y + 22);
        g.fillText(String(r[0]), c.width / 2 + 70, a.y + a.h);
    }

    paintLine(g, c, it) {
        const a = this.area(c);
        g.strokeStyle = 'rgba(255,255,255,0.15)';
        g.lineWidth = 2;
        g.strokeRect(a.x, a.y, a.w, a.h);
        const s = it.series || [];
        if (s.length < 1) return;
        let lo = it.binding.range ? it.binding.range[0] : Math.min(...s.map((p) => p.v));
        let hi = it.binding.range ? it.binding.range[1] : Math.max(...s.map((p) => p.v));
        if (hi - lo < 1e-9) {
            lo -= 1;
            hi += 1;
        }
        const yOf = (v) => a.y + a.h - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo) * a.h;
        const xOf = (i) => a.x + (s.length === 1 ? a.w : (i / (s.length - 1)) * a.w);
        g.strokeStyle = it.stale ? STALE : ACCENT;
        g.lineWidth = 8;
        g.lineJoin = 'round';
        g.beginPath();
        s.forEach((p, i) => (i ? g.lineTo(xOf(i), yOf(p.v)) : g.moveTo(xOf(i), yOf(p.v))));
        g.stroke();
        g.fillStyle = it.stale ? STALE : INK;
        g.beginPath();
        g.arc(xOf(s.length - 1), yOf(s[s.length - 1].v), 12, 0, Math.PI * 2);
        g.fill();
    }

    paintMap(g, c, it) {
        const a = this.area(c);
        g.fillStyle = '#dfe7df';
        g.fillRect(a.x, a.y, a.w, a.h);
        g.strokeStyle = '#b5c2b5';
        g.lineWidth = 2;
        for (let i = 1; i < 4; i++) {
            g.beginPath();
            g.moveTo(a.x + (a.w * i) / 4, a.y);
            g.lineTo(a.x + (a.w * i) / 4, a.y + a.h);
            g.moveTo(a.x, a.y + (a.h * i) / 4);
            g.lineTo(a.x + a.w, a.y + (a.h * i) / 4);
            g.stroke();
        }
        g.font = `700 30px ${FONT}`;
        g.fillStyle = '#3a4a3a';
        g.textAlign = 'right';
        g.fillText('N ↑', a.x + a.w - 10, a.y + 36);
    }

    /* The 3D parts that follow the value: a bar's column, a marker's dot. */
    place(items) {
        const it = items[0];
        const c = this.face.canvas;
        const a = this.area(c);
        const toM = (px) => px / PX_PER_M;
        if (this.kind === 'bar') {
            if (!this.column) {
                this.column = new THREE.Mesh(new THREE.BoxGeometry(0.22, 1, 0.12).translate(0, 0.5, 0),
                    new THREE.MeshLambertMaterial({ color: ACCENT, emissive: '#0e4a44' }));
                this.group.add(this.column);
            }
            const trackH = toM(a.h);
            this.column.visible = it.fill !== null;
            this.column.scale.y = Math.max(0.004, (it.fill ?? 0) * trackH);
            this.column.position.set(0, CARD_H / 2 - toM(a.y + a.h), 0.07);
            this.column.material.color.set(it.stale ? STALE : ACCENT);
            this.column.material.emissive.set(it.stale ? '#000000' : '#0e4a44');
        } else if (this.kind === 'marker') {
            if (!this.dot) {
                this.dot = new THREE.Mesh(new THREE.SphereGeometry(0.07, 16, 10),
                    new THREE.MeshLambertMaterial({ color: '#d64541', emissive: '#5a0f0a' }));
                this.group.add(this.dot);
            }
            const m = it.binding.map;
            const p = it.point;
            const inside = p && m && p[0] >= m.west && p[0] <= m.east && p[1] >= m.south && p[1] <= m.north;
            this.dot.visible = !!inside;
            if (inside) {
                const fx = (p[0] - m.west) / (m.east - m.west);
                const fy = (p[1] - m.south) / (m.north - m.south);
                this.dot.position.set(toM(a.x + fx * a.w) - this.w / 2, CARD_H / 2 - toM(a.y + (1 - fy) * a.h), 0.05);
                this.dot.material.color.set(it.stale ? STALE : '#d64541');
            }
        }
    }
}

export class TwinWidgets {
    /*
     * holder: the showcase's group (its pose). place: the scene model's
     * showcase. display: the materials a ramp colours, their colours now
     * the ones to go back to without data.
     */
    constructor(holder, place, display) {
        this.id = place.id;
        this.display = display.map((m) => ({ m, colour: m.color.clone(), emissive: m.emissive ? m.emissive.clone() : null }));
        this.ramp = place.twins.findIndex((b) => b.show === 'ramp');
        const labels = [];
        const cards = [];
        place.twins.forEach((b, i) => {
            if (b.show === 'label') labels.push(i);
            else if (b.show !== 'ramp') cards.push(new Card(b.show, [i]));
        });
        if (labels.length) cards.unshift(new Card('label', labels));
        this.cards = cards;
        /* left and right of the hologram in turn, behind the showcase */
        const back = -((place.size ? place.size[2] : 1.6) / 2 + 0.8);
        const edge = [-CENTRE_GAP, CENTRE_GAP];
        cards.forEach((card, i) => {
            const side = i % 2;
            const x = side ? edge[1] + card.w / 2 : edge[0] - card.w / 2;
            edge[side] += side ? card.w + GAP : -(card.w + GAP);
            card.group.position.set(x, CARD_Y, back);
            holder.add(card.group);
        });
        this.rampDrawn = null;
    }

    update(reading) {
        for (const card of this.cards) card.update(reading);
        if (this.ramp < 0) return;
        const it = reading.items[this.ramp];
        /* the value's colour; grey once stale; the showcase's own without a value */
        const colour = it.colour ? (it.stale ? STALE : it.colour) : null;
        for (const d of this.display) {
            if (colour) d.m.color.set(colour);
            else d.m.color.copy(d.colour);
            if (d.emissive) {
                if (colour) d.m.emissive.set(colour).multiplyScalar(it.stale ? 0 : 0.45);
                else d.m.emissive.copy(d.emissive);
            }
        }
        this.rampDrawn = { show: 'ramp', label: it.label, text: valueWithUnit(it), age: it.age, stale: it.stale, colour };
    }

    /* What is painted now: [{showcase, show, label, text, age, stale, colour?}]. */
    drawn() {
        const out = [];
        for (const card of this.cards) for (const d of card.drawn) out.push({ showcase: this.id, ...d });
        if (this.rampDrawn) out.push({ showcase: this.id, ...this.rampDrawn });
        return out;
    }
}
