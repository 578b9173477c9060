/*
 * prefs.js - the choices that stick between visits (name, view, reduced
 * motion, how captions look: captionSize, captionPos; whether the slide
 * panel is folded: slidesFolded; the welcome was seen: welcomed), in
 * localStorage under "venue.".
 */

export function getPref(k, d) {
    try {
        const v = localStorage.getItem(`venue.${k}`);
        return v === null ? d : v;
    } catch {
        return d;
    }
}

/* A preference that is one of choices; d when unset or not one of them (an old or edited value). */
export function getChoice(k, choices, d) {
    const v = getPref(k, d);
    return choices.includes(v) ? v : d;
}

export function setPref(k, v) {
    try {
        localStorage.setItem(`venue.${k}`, String(v));
    } catch {
        /* private mode: preferences just do not stick */
    }
}
