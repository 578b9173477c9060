/*
 * views.js - which view of the room is shown: the 3D view (view3d.js,
 * loaded only when wanted, with three.js) or the 2D map (map2d.js), the
 * fall back to the map where WebGL is missing or fails, and reduced motion.
 */

import { Map2D } from '../map2d.js';
import { $ } from '../dom.js';
import { state } from './state.js';
import { setPref } from './prefs.js';

let webgl = null; /* null: not checked yet */
let view3d = null; /* the view3d.js module, once loaded */

/* On entering the venue: the toolbar's buttons, and the view chosen on the join screen. */
export function startViews() {
    $('view-toggle').addEventListener('click', () => setView(state.viewKind === '3d' ? '2d' : '3d', true));
    $('motion-toggle').addEventListener('click', () => setReducedMotion(!state.reducedMotion));
    setReducedMotion(state.reducedMotion);
    setView(state.viewKind, false);
}

async function setView(kind, byUser) {
    const notice = $('notice');
    if (kind === '3d' && webgl === null) {
        view3d = await import('../view3d.js').catch((e) => {
            console.warn('3D view unavailable:', e);
            return null;
        });
        webgl = !!(view3d && view3d.webglAvailable());
    }
    if (kind === '3d' && !webgl) {
        kind = '2d';
        notice.textContent = 'This device cannot show the 3D view (no WebGL), so the 2D map is shown instead. Everything else works the same.';
        notice.hidden = false;
    } else if (byUser) {
        notice.hidden = true;
    }
    if (state.view && state.view.kind === kind) return;
    if (state.view) state.view.dispose();
    state.view = null;
    try {
        if (kind === '3d') {
            state.view = new view3d.View3D($('view'), $('tags'), { reducedMotion: state.reducedMotion });
        } else {
            state.view = new Map2D($('view'), { reducedMotion: state.reducedMotion });
        }
    } catch (e) {
        console.warn('view failed, using the 2D map:', e);
        webgl = false;
        kind = '2d';
        state.view = new Map2D($('view'), { reducedMotion: state.reducedMotion });
        notice.textContent = 'The 3D view could not start on this device, so the 2D map is shown instead.';
        notice.hidden = false;
    }
    state.viewKind = kind;
    $('view').dataset.view = kind;
    setPref('view', kind);
    const b = $('view-toggle');
    b.setAttribute('aria-pressed', String(kind === '2d'));
    b.querySelector('.label').textContent = kind === '2d' ? '3D view' : '2D map';
    const icon = b.querySelector('.icon');
    icon.classList.toggle('icon-map', kind !== '2d');
    icon.classList.toggle('icon-cube', kind === '2d');
    b.setAttribute('aria-label', kind === '2d' ? 'Switch to the 3D view' : 'Switch to the 2D map');
    if (state.model) state.view.setScene(state.model);
    state.listChanged = true;
    if (byUser) state.panels.announce(kind === '2d' ? 'Showing the 2D map.' : 'Showing the 3D view.');
}

function setReducedMotion(on) {
    state.reducedMotion = on;
    setPref('reducedMotion', on);
    document.documentElement.classList.toggle('reduce-motion', on);
    $('motion-toggle').setAttribute('aria-pressed', String(on));
    if (state.view) state.view.setReducedMotion(on);
}
