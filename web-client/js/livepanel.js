/*
 * livepanel.js - the side panel's "Live data" tab: the accessible twin of
 * the room's showcases. Per showcase its name and each attribute it shows
 * as text: label, value and unit, "stale" when it is, how long ago it was
 * measured, and its source (the entity).
 *
 * Owns the tab's list (#live-list, a polite live region) and whether the
 * tab is shown at all: only in a room whose scene binds live data. The list
 * changes at most every few seconds and only where something changed, so
 * that it does not chatter; the ages are kept current but not read out
 * (they sit in their own aria-live="off"). Scene and server text goes in
 * through textContent, with dir="auto".
 */

import { $, el } from './dom.js';
import { distinctItems, valueWithUnit } from './livedata.js';

const REFRESH_MS = 3000;

function text(node, t) {
    if (node.textContent !== t) node.textContent = t;
}

export class LivePanel {
    /* panels: the Panels (to leave the tab when it goes away). */
    constructor(panels) {
        this.panels = panels;
        this.shape = ''; /* which showcases and attributes the list has */
        this.rows = new Map(); /* showcase \0 entity \0 attr -> row elements */
        this.readings = [];
        this.last = 0;
        this.timer = null;
    }

    /* The showcases' readings now (livedata.js): shown now, or a few seconds after the last time. */
    show(readings) {
        this.readings = readings;
        const tab = $('tab-live');
        const none = readings.length === 0;
        if (tab.hidden !== none) {
            if (none && this.panels.currentTab() === 'tab-live') this.panels.showTab('tab-chat');
            tab.hidden = none;
        }
        const wait = this.last + REFRESH_MS - Date.now();
        if (wait <= 0) this._render();
        else if (!this.timer) {
            this.timer = setTimeout(() => {
                this.timer = null;
                this._render();
            }, wait);
        }
    }

    _render() {
        this.last = Date.now();
        const booths = this.readings.map((r) => ({ r, items: distinctItems(r) }));
        const shape = JSON.stringify(booths.map(({ r, items }) => [r.id, r.label, items.map((it) => [it.binding.entity, it.binding.attr, it.label])]));
        if (shape !== this.shape) this._build(booths, shape);
        for (const { r, items } of booths) {
            for (const it of items) this._fill(this.rows.get(`${r.id}\u0000${it.binding.entity}\u0000${it.binding.attr}`), it);
        }
    }

    _build(booths, shape) {
        this.shape = shape;
        this.rows.clear();
        const sections = booths.map(({ r, items }) => {
            const sec = el('section', 'live-booth');
            const h = el('h2', 'subhead', r.label);
            h.dir = 'auto';
            h.id = `live-${r.id}`;
            sec.setAttribute('aria-labelledby', h.id);
            const ul = el('ul', 'live-items');
            for (const it of items) {
                const li = el('li', 'live-item');
                const label = el('span', 'live-label', it.label);
                label.dir = 'auto';
                const value = el('span', 'live-value');
                value.dir = 'auto';
                const stale = el('span', 'live-stale', 'stale');
                const meta = el('span', 'live-meta');
                meta.setAttribute('aria-live', 'off');
                li.append(label, value, stale, meta);
                ul.append(li);
                this.rows.set(`${r.id}\u0000${it.binding.entity}\u0000${it.binding.attr}`, { li, value, stale, meta });
            }
            sec.append(h, ul);
            return sec;
        });
        $('live-list').replaceChildren(...sections);
    }

    _fill(row, it) {
        text(row.value, valueWithUnit(it));
        row.stale.hidden = !it.stale;
        row.li.classList.toggle('stale', it.stale);
        row.li.classList.toggle('waiting', !it.has);
        const source = `source: ${it.binding.entity}`;
        text(row.meta, it.has ? `updated ${it.age} · ${source}` : source);
    }
}
