/*
 * captions.js - live captions, the way human CART captioning works at
 * accessible events: the live session's captioner types what is said, and
 * everyone in the room and its overflow reads it as subtitles over the
 * view (the last two lines, fading out when nothing new comes). The
 * subtitles are a polite live region too, so screen readers say each new
 * line. Their size (small, medium, large) and position (bottom, top) are
 * the person's settings, kept in the prefs. The server never stores them.
 *
 * A captioner (my id among the live session's captioners) gets a line to
 * type them in: Enter sends it.
 */

import { $, el, popover } from '../dom.js';
import { state, stageSession } from './state.js';
import { getChoice, setPref } from './prefs.js';

const LINES = 2; /* subtitles shown at once */
const SHOWN_MS = 8000; /* a line stays this long, then fades */
const FADE_MS = 700; /* as long as the fade in style.css */
const SIZES = ['s', 'm', 'l'];
const POSITIONS = ['bottom', 'top'];

/* On entering the venue: the settings as last chosen, and the captioner's line if I am one. */
export function startCaptions() {
    const settings = $('caption-settings');
    applySettings(getChoice('captionSize', SIZES, 'm'), getChoice('captionPos', POSITIONS, 'bottom'));
    popover($('caption-settings-toggle'), settings, () => settings.querySelector('input:checked'));
    settings.addEventListener('change', () => {
        const size = settings.querySelector('input[name="caption-size"]:checked').value;
        const pos = settings.querySelector('input[name="caption-pos"]:checked').value;
        setPref('captionSize', size);
        setPref('captionPos', pos);
        applySettings(size, pos);
    });
    $('caption-form').addEventListener('submit', sendCaption);
    refreshCaptions();
}

function applySettings(size, pos) {
    const box = $('captions');
    box.dataset.size = size;
    box.dataset.pos = pos;
    for (const r of document.querySelectorAll('#caption-settings input[type="radio"]')) {
        r.checked = r.value === (r.name === 'caption-size' ? size : pos);
    }
}

/* A caption line for my room's stage (or, cleared, none any more: I left the room). */
export function onCaption(c) {
    if (!state.panels) return;
    const box = $('captions');
    if (c.cleared) {
        box.replaceChildren();
        return;
    }
    const line = el('p', 'caption-line', c.text);
    line.dir = 'auto';
    box.append(line);
    while (box.childElementCount > LINES) box.firstElementChild.remove();
    setTimeout(() => {
        line.classList.add('fading');
        setTimeout(() => line.remove(), FADE_MS);
    }, SHOWN_MS);
}

/* The captioner's line: only while I caption my stage's live session. */
export function refreshCaptions() {
    if (!state.panels) return;
    const client = state.client;
    const live = stageSession();
    const on = !!(live && client.isCaptioner(live));
    const form = $('caption-form');
    if (form.hidden === !on) return;
    form.hidden = !on;
    document.querySelector('main.stage').classList.toggle('captioning', on);
    if (on) state.panels.announce(`You caption “${live.title}”: type in the Caption line at the bottom of the view, Enter sends each line.`);
}

/*
 * Send the line and clear it at once, so that the captioner types on;
 * if the server refuses it (too fast), the line comes back to be sent
 * again, and the error's toast (join.js) says why.
 */
function sendCaption(ev) {
    ev.preventDefault();
    const input = $('caption-input');
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    state.client.caption(text).catch(() => {
        if (!input.value) input.value = text;
    });
}
