/*
 * slides.js (the page's part) - the slides on stage as a person sees and
 * presents them. The slide panel over the view shows the current page of
 * my room's live session (an overflow room: its hall's), with alt text
 * ("Slide 3 of 12: <session title>") for screen readers, so the 2D map and
 * a screen reader get what the 3D screens show (the same canvas:
 * ../slides.js). A joiner sees the current page at once, from the
 * client's `slides`.
 *
 * The live session's speakers and moderators (and admins) present:
 * Previous and Next, Page Up / Page Down anywhere but in a text field
 * (what presenter remotes send), and the Left and Right arrows while the
 * keyboard is in the slide panel; elsewhere the arrows walk and turn
 * (controls.js). They also upload a deck (a PDF) to the session; the
 * server says why when it refuses one.
 */

import { showSlide, clearSlide, slideCanvas } from '../slides.js';
import { $, say } from '../dom.js';
import { state, stageSession } from './state.js';
import { getPref, setPref } from './prefs.js';

let asked = null; /* the page asked for and not heard back yet: quick presses count on from it */

/* On entering the venue: the panel's controls, and whatever is on stage already. */
export function startSlides() {
    const c = slideCanvas();
    c.id = 'slide-canvas';
    c.className = 'slide-canvas';
    c.setAttribute('role', 'img');
    $('slide-frame').append(c);
    $('slide-prev').addEventListener('click', () => turn(-1));
    $('slide-next').addEventListener('click', () => turn(1));
    $('slide-upload').addEventListener('click', () => $('slide-file').click());
    $('slide-file').addEventListener('change', upload);
    $('slide-fold').addEventListener('click', () => fold($('slide-fold').getAttribute('aria-expanded') === 'true'));
    $('slide-panel').addEventListener('keydown', onPanelKey);
    window.addEventListener('keydown', onPageKey);
    fold(getPref('slidesFolded', 'false') === 'true');
    refreshSlides();
}

/* A page turn or a new deck (or none any more), for my room's stage. */
export function onSlides(d) {
    if (!state.panels) return;
    const before = $('slide-canvas').dataset.page;
    asked = null;
    refreshSlides();
    if (!d.cleared && before && +before !== d.page) state.panels.announce(`Slide ${d.page} of ${d.pages}.`);
}

/* Who may present, or what is on stage, may have changed: the panel again. */
export function refreshSlides() {
    if (!state.panels) return;
    const client = state.client;
    const sl = client.slides && client.slides.pages > 0 ? client.slides : null;
    const present = mayPresent();
    $('slide-panel').hidden = !sl && !present;
    $('slide-controls').hidden = !present;
    $('slide-none').hidden = !!sl;
    $('slide-frame').hidden = !sl;
    $('slide-page').textContent = sl ? `${sl.page} / ${sl.pages}` : '';
    const c = $('slide-canvas');
    if (!sl) {
        delete c.dataset.page;
        c.removeAttribute('aria-label');
        clearSlide();
        return;
    }
    const session = client.programme.find((s) => s.id === sl.session);
    c.dataset.page = String(sl.page);
    c.setAttribute('aria-label', `Slide ${sl.page} of ${sl.pages}${session ? `: ${session.title}` : ''}`);
    /* at either end the button stays focusable (aria-disabled), so the arrow keys keep working from it */
    $('slide-prev').setAttribute('aria-disabled', String(sl.page <= 1));
    $('slide-next').setAttribute('aria-disabled', String(sl.page >= sl.pages));
    showSlide(sl).catch((e) => say($('slide-status'), `These slides cannot be shown here: ${e.message || e}.`, 'bad'));
}

/* I present my stage's live session: one of its speakers or moderators, or an admin. */
function mayPresent() {
    const client = state.client;
    const live = stageSession();
    return !!(live && client.me && (client.isSpeaker(live) || client.isModerator(live) || client.me.role === 'admin'));
}

function turn(delta) {
    const client = state.client;
    const sl = client.slides;
    if (!sl || !sl.pages || !mayPresent()) return;
    const from = asked ?? sl.page;
    const to = Math.min(sl.pages, Math.max(1, from + delta));
    if (to === from) return;
    asked = to;
    client.turnSlide(to).catch(() => {
        asked = null; /* refused: the error's toast (join.js) says why */
    });
}

function typing(t) {
    return !!t && (t.isContentEditable || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
}

function plainKey(ev) {
    return !ev.ctrlKey && !ev.metaKey && !ev.altKey && !typing(ev.target) && mayPresent();
}

/* Page Up / Page Down turn the slides from anywhere in the page (a presenter remote). */
function onPageKey(ev) {
    if ((ev.key !== 'PageUp' && ev.key !== 'PageDown') || !plainKey(ev)) return;
    ev.preventDefault();
    turn(ev.key === 'PageDown' ? 1 : -1);
}

/* The arrows turn them while the keyboard is in the slide panel. */
function onPanelKey(ev) {
    if ((ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') || !plainKey(ev)) return;
    ev.preventDefault();
    turn(ev.key === 'ArrowRight' ? 1 : -1);
}

function fold(folded) {
    const b = $('slide-fold');
    $('slide-body').hidden = folded;
    b.setAttribute('aria-expanded', String(!folded));
    b.textContent = folded ? 'Show' : 'Hide';
    b.setAttribute('aria-label', folded ? 'Show the slides' : 'Hide the slides');
    setPref('slidesFolded', folded);
}

/* The chosen PDF to the live session (POST /api/sessions/{id}/slides, with my token). */
async function upload() {
    const input = $('slide-file');
    const file = input.files && input.files[0];
    input.value = ''; /* the same file may be chosen again */
    const line = $('slide-status');
    const live = stageSession();
    if (!file) return;
    if (!live) {
        say(line, 'No session is live here, so there is nothing to upload slides to.', 'bad');
        return;
    }
    say(line, `Uploading ${file.name}…`, 'busy');
    try {
        const res = await fetch(`/api/sessions/${encodeURIComponent(live.id)}/slides`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${state.client.token}`, 'Content-Type': 'application/pdf' },
            body: file,
        });
        const body = await res.json().catch(() => null);
        if (!res.ok) {
            const why = body && body.error && body.error.message ? body.error.message : `HTTP ${res.status}`;
            say(line, `The slides were not accepted: ${why}`, 'bad');
            return;
        }
        const n = body.pages;
        say(line, `Uploaded ${file.name}: ${n} ${n === 1 ? 'page' : 'pages'}. Everyone here sees it now.`, 'ok');
    } catch (e) {
        say(line, `The upload did not get through (${e.message}). Check the connection and try again.`, 'bad');
    }
}
