/*
 * board3d.js - the programme on the venue's boards (the `board` places of
 * a scene, like the lobby's): what is live now, what is next and what comes
 * later, with times and rooms, drawn onto a canvas that the 3D room
 * (room3d.js) uses as the board's texture. app/programme.js says what to
 * show (setProgrammeBoard) whenever the programme or a session's state
 * changes; every board built since is redrawn then, until its texture is
 * disposed with its room.
 *
 * No three.js in here, so that the page can set the board's content
 * without loading it (the 2D map needs none of this).
 */

const WIDTH = 1024; /* canvas pixels across a board, whatever its size in metres */
const PAD = 44;
const FONT = 'system-ui, "DejaVu Sans", "Noto Sans", sans-serif';
const COLOURS = { bg: '#1b2a44', ink: '#f6f1e7', muted: '#b9c2d6', live: '#ffb86b', rule: '#3a4a6b' };
const ROWS_PER_GROUP = 3; /* live and next: at most this many each, the rest of the board for later */

/*
 * {zone, groups: [{heading, empty, rows: [{time, title, room, live}]}]},
 * the strings already as people read them (times in the viewer's zone).
 */
let content = null;
const boards = new Set(); /* {canvas, changed, lines, detach} */

export function setProgrammeBoard(c) {
    content = c;
    for (const b of boards) draw(b);
}

/*
 * A board of w x h metres: its canvas, drawn now and again on each
 * setProgrammeBoard until detach(); changed() after each redraw (the
 * texture must be uploaded again).
 */
export function programmeBoard(w, h, changed) {
    const canvas = document.createElement('canvas');
    canvas.width = WIDTH;
    canvas.height = Math.max(256, Math.round((WIDTH * h) / w));
    const b = { canvas, changed, lines: [], detach: () => boards.delete(b) };
    boards.add(b);
    draw(b);
    return b;
}

/* What each board in the scene shows now, line by line (the test hooks read it). */
export function boardsDrawn() {
    return [...boards].map((b) => b.lines.slice());
}

/* text cut to fit maxW, with an ellipsis */
function fit(g, text, maxW) {
    if (g.measureText(text).width <= maxW) return text;
    let s = text;
    while (s.length > 1 && g.measureText(`${s}…`).width > maxW) s = s.slice(0, -1);
    return `${s.trimEnd()}…`;
}

function draw(b) {
    const g = b.canvas.getContext('2d');
    const W = b.canvas.width;
    const H = b.canvas.height;
    const lines = [];
    g.fillStyle = COLOURS.bg;
    g.fillRect(0, 0, W, H);
    g.textBaseline = 'alphabetic';
    g.textAlign = 'start';
    const text = (s, x, y, size, colour, weight = 600, maxW = W - x - PAD) => {
        g.font = `${weight} ${size}px ${FONT}`;
        g.fillStyle = colour;
        const t = fit(g, s, maxW);
        g.fillText(t, x, y);
        return g.measureText(t).width;
    };
    let y = PAD + 38;
    text('Programme', PAD, y, 46, COLOURS.ink, 800);
    lines.push('Programme');
    if (content && content.zone) {
        g.font = `500 22px ${FONT}`;
        const zone = `Times: ${content.zone}`;
        text(zone, W - PAD - g.measureText(zone).width, y, 22, COLOURS.muted, 500);
    }
    y += 22;
    g.fillStyle = COLOURS.rule;
    g.fillRect(PAD, y, W - 2 * PAD, 3);
    const rowH = 40;
    const groups = content && content.groups.some((x) => x.rows.length) ? content.groups : [];
    if (!groups.length) {
        const none = content ? 'No sessions are planned.' : 'The programme appears here once the venue sends it.';
        text(none, PAD, y + 64, 30, COLOURS.muted, 500);
        lines.push(none);
    }
    for (const [i, grp] of groups.entries()) {
        if (!grp.rows.length && !grp.empty) continue;
        if (y + 52 + rowH > H - 12) break;
        y += 52;
        const live = i === 0;
        text(grp.heading, PAD, y, 30, live ? COLOURS.live : COLOURS.ink, 800);
        lines.push(grp.heading);
        const room = Math.floor((H - 12 - y) / rowH);
        const cap = i < groups.length - 1 ? Math.min(ROWS_PER_GROUP, room) : room;
        const rows = grp.rows.length > cap ? grp.rows.slice(0, Math.max(0, cap - 1)) : grp.rows;
        if (!grp.rows.length) {
            y += rowH;
            text(grp.empty, PAD + 16, y, 26, COLOURS.muted, 500);
            lines.push(grp.empty);
        }
        for (const r of rows) {
            y += rowH;
            const tw = text(r.time, PAD + 16, y, 26, COLOURS.muted, 600);
            g.font = `500 24px ${FONT}`;
            const roomW = Math.min(260, g.measureText(r.room).width);
            text(r.room, W - PAD - roomW, y, 24, COLOURS.muted, 500, roomW);
            text(r.title, PAD + 16 + Math.max(tw, 200) + 20, y, 28, r.live ? COLOURS.live : COLOURS.ink, 700,
                W - PAD - roomW - 24 - (PAD + 36 + Math.max(tw, 200)));
            lines.push(`${r.time} ${r.title} · ${r.room}`);
        }
        if (rows.length < grp.rows.length) {
            y += rowH;
            const more = `and ${grp.rows.length - rows.length} more`;
            text(more, PAD + 16, y, 24, COLOURS.muted, 500);
            lines.push(more);
        }
    }
    b.lines = lines;
    b.changed();
}
