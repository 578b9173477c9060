/*
 * welcome.js - the three-step welcome on a first visit: moving around,
 * talking and raising a hand, finding people and help. Next, Back and
 * Skip; skipping or finishing it (Escape too) is remembered in
 * localStorage (prefs.js "welcomed"), so it does not come back, not even
 * after a reload. A modal <dialog> (dom.js openDialog).
 */

import { $, openDialog } from '../dom.js';
import { getPref, setPref } from './prefs.js';

const STEPS = 3;
let step = 1;

/* On entering the venue: the welcome, unless this browser has seen it. */
export function startWelcome() {
    if (getPref('welcomed', '') === '1') return;
    $('welcome-next').addEventListener('click', () => (step < STEPS ? show(step + 1) : finish()));
    $('welcome-back').addEventListener('click', () => show(step - 1));
    $('welcome-skip').addEventListener('click', finish);
    show(1);
    openDialog($('welcome'), $('welcome-next'), remember);
}

/*
 * Remembered as the choice is made: the dialog's close event comes a task
 * later, and a reload in between would bring the welcome back. Escape
 * closes the dialog itself, so the close event remembers too.
 */
function remember() {
    setPref('welcomed', '1');
}

function finish() {
    remember();
    $('welcome').close();
}

function show(n) {
    step = Math.max(1, Math.min(STEPS, n));
    for (const s of document.querySelectorAll('#welcome .welcome-step')) s.hidden = Number(s.dataset.step) !== step;
    $('welcome-step').textContent = `step ${step} of ${STEPS}`;
    $('welcome-back').hidden = step === 1;
    $('welcome-next').textContent = step === STEPS ? 'Start' : 'Next';
    /* the keyboard stays on Next (Back went away on step 1); the step is read with it */
    if ($('welcome').open) $('welcome-next').focus();
}
