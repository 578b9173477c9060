/*
 * prefs.js - the choices that stick between visits (name, view, reduced
 * motion), in localStorage under "venue.".
 */

export function getPref(k, d) {
    try {
        const v = localStorage.getItem(`venue.${k}`);
        return v === null ? d : v;
    } catch {
        return d;
    }
}

export function setPref(k, v) {
    try {
        localStorage.setItem(`venue.${k}`, String(v));
    } catch {
        /* private mode: preferences just do not stick */
    }
}
