/*
 * livedata.js - the live city data of a room's showcases as people read it
 * (scenes/FORMAT.md, "Live data in a showcase"), with no DOM and no
 * three.js: for each binding what it shows now (the value as text, its
 * unit symbol, its age, whether it is stale, a ramp's colour, a bar's fill,
 * the recent values of a sparkline, a marker's point), and the recent
 * values kept per attribute for the sparklines.
 *
 * The venue page (app/twins.js) and the projector view (show.js) make
 * their readings here; twin3d.js, map2d.js and livepanel.js draw them.
 * Twins come in the shape VenueClient.twins has: a Map from entity id to
 * {etype, attrs: {name: {value, unit, observedAt, receivedAt}}}.
 */

export const SERIES_KEEP = 60; /* recent values kept per attribute */

/* UN/CEFACT codes brokers send, as people write them. */
const UNIT_SYMBOLS = { GQ: 'µg/m³', CEL: '°C', KWT: 'kW', KWH: 'kWh', KMH: 'km/h', P1: '%' };

const fine = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

/* The unit shown after a value: the binding's, else the value's code as a symbol. */
export function unitSymbol(binding, attr) {
    if (binding.unit !== null) return binding.unit;
    const code = attr ? attr.unit : '';
    return UNIT_SYMBOLS[code] ?? code;
}

/* One decimal below 100, none above (and none for a whole number). */
export function formatNumber(v) {
    return (Math.abs(v) < 100 ? fine : whole).format(v);
}

/* [lon, lat] of a GeoJSON point, or null. */
export function pointOf(value) {
    const c = value && value.type === 'Point' && Array.isArray(value.coordinates) ? value.coordinates : null;
    return c && c.length >= 2 && c.every((x) => typeof x === 'number' && Number.isFinite(x)) ? [c[0], c[1]] : null;
}

export function formatValue(v) {
    if (typeof v === 'number' && Number.isFinite(v)) return formatNumber(v);
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (typeof v === 'string') return v;
    const p = pointOf(v);
    if (p) {
        const lat = `${Math.abs(p[1]).toFixed(4)}° ${p[1] < 0 ? 'S' : 'N'}`;
        const lon = `${Math.abs(p[0]).toFixed(4)}° ${p[0] < 0 ? 'W' : 'E'}`;
        return `${lat}, ${lon}`;
    }
    if (v === null || v === undefined) return 'no value';
    const s = JSON.stringify(v);
    return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/* "12 s ago", "3 min ago", "2 h ago", "4 days ago". */
export function ageText(ms) {
    const s = Math.floor(ms / 1000);
    if (s < 5) return 'just now';
    if (s < 60) return `${s} s ago`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ago`;
    const h = Math.floor(m / 60);
    if (h < 48) return `${h} h ago`;
    return `${Math.floor(h / 24)} days ago`;
}

/* When a value was measured: observedAt, or when it arrived if the broker did not say. */
export function whenOf(attr) {
    return attr.observedAt ?? attr.receivedAt;
}

/* Where v lies in range, 0 to 1 (outside: the nearer end). */
export function fraction(range, v) {
    const f = (v - range[0]) / (range[1] - range[0]);
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

function rgbOf(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/* The colour of f (0..1) along colors, evenly spaced and blended: "#rrggbb". */
export function rampColour(colors, f) {
    const x = f * (colors.length - 1);
    const i = Math.min(colors.length - 2, Math.floor(x));
    const a = rgbOf(colors[i]);
    const b = rgbOf(colors[i + 1]);
    const t = x - i;
    return `#${a.map((c, k) => Math.round(c + (b[k] - c) * t).toString(16).padStart(2, '0')).join('')}`;
}

/* Recent numeric values per attribute, oldest first, at most SERIES_KEEP each. */
export class Series {
    constructor() {
        this.lists = new Map(); /* entity \0 attr -> [{t, v}] */
    }

    clear() {
        this.lists.clear();
    }

    get(entity, attr) {
        return this.lists.get(`${entity}\u0000${attr}`) || [];
    }

    /* Add values [{t, v}] (any order); one per time, the newest SERIES_KEEP kept. */
    add(entity, attr, values) {
        const key = `${entity}\u0000${attr}`;
        const list = this.lists.get(key) || [];
        for (const x of values) {
            if (typeof x.v !== 'number' || !Number.isFinite(x.v) || !Number.isFinite(x.t)) continue;
            const i = list.findIndex((y) => y.t === x.t);
            if (i >= 0) list[i] = x;
            else list.push(x);
        }
        list.sort((a, b) => a.t - b.t);
        if (list.length > SERIES_KEEP) list.splice(0, list.length - SERIES_KEEP);
        this.lists.set(key, list);
    }
}

/* What one binding shows now. */
function readBinding(b, twins, series, now) {
    const twin = twins.get(b.entity);
    const a = twin && twin.attrs[b.attr];
    const item = {
        binding: b, label: b.label, unit: unitSymbol(b, a), has: !!a, text: 'no data yet', age: '', ageMs: 0,
        stale: false, colour: null, fill: null, series: null, point: null,
    };
    if (!a) return item;
    item.ageMs = Math.max(0, now - whenOf(a));
    item.age = ageText(item.ageMs);
    item.stale = item.ageMs > b.staleAfterS * 1000;
    item.text = formatValue(a.value);
    const n = typeof a.value === 'number' && Number.isFinite(a.value) ? a.value : null;
    if (b.show === 'ramp' && n !== null) item.colour = rampColour(b.colors, fraction(b.range, n));
    if (b.show === 'bar' && n !== null) item.fill = fraction(b.range, n);
    if (b.show === 'sparkline') item.series = series.get(b.entity, b.attr);
    if (b.show === 'marker') item.point = pointOf(a.value);
    return item;
}

/* A value with its unit, as it reads: "41.3 µg/m³". */
export function valueWithUnit(item) {
    return item.has && item.unit ? `${item.text} ${item.unit}` : item.text;
}

/*
 * The readings of every showcase with bindings in a scene model:
 * [{id, topic, label, p, items: [one per binding]}].
 */
export function readShowcases(model, twins, series, now) {
    const out = [];
    for (const pl of model ? model.places : []) {
        if (pl.type !== 'showcase' || !pl.twins.length) continue;
        out.push({
            id: pl.id, topic: pl.topic, label: pl.label || pl.topic, p: pl.p,
            items: pl.twins.map((b) => readBinding(b, twins, series, now)),
        });
    }
    return out;
}

/* A showcase's items, one per attribute: an attribute shown twice (a ramp and a sparkline) is read once. */
export function distinctItems(reading) {
    const seen = new Set();
    return reading.items.filter((it) => {
        const k = `${it.binding.entity}\u0000${it.binding.attr}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
    });
}

/* The distinct entities a scene's showcases bind. */
export function boundEntities(model) {
    const s = new Set();
    for (const pl of model ? model.places : []) for (const b of pl.twins || []) s.add(b.entity);
    return [...s];
}

/* Merge GET /api/twins/{id}'s history into series. */
export function seedSeries(series, doc) {
    for (const [attr, list] of Object.entries((doc && doc.history) || {})) {
        if (Array.isArray(list)) series.add(doc.id, attr, list.map((h) => ({ t: h.observedAt ?? h.receivedAt, v: h.value })));
    }
}
