/*
 * dom.js - the DOM helpers both pages (index.html, admin.html) share:
 * finding and making elements, status lines, the ARIA tabs pattern of
 * their tab lists, settings popovers, modal dialogs, whether a key is
 * typed into a field, and loading a classic script when it is first needed.
 */

export const $ = (id) => document.getElementById(id);

export function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
}

/* An <option> of a <select> or <datalist>. */
export function option(value, text) {
    const o = el('option', null, text);
    o.value = value;
    return o;
}

/* A button that does not submit the form it sits in. */
export function button(cls, text) {
    const b = el('button', cls, text);
    b.type = 'button';
    return b;
}

/*
 * Put a sentence in a status line (role="status") and show it; kind
 * (ok, bad, busy) styles it. The same sentence twice is made to differ,
 * or a screen reader would not say it again.
 */
const said = new WeakMap(); /* status line -> its last sentence */

export function say(line, text, kind) {
    if (text === said.get(line)) text += '\u00a0';
    said.set(line, text);
    line.textContent = text;
    line.dataset.kind = kind;
    line.hidden = false;
}

/* Select one tab of a tab list: its panel is shown, the others' hidden. */
export function selectTab(tabs, id) {
    for (const tab of tabs) {
        const on = tab.id === id;
        tab.setAttribute('aria-selected', String(on));
        tab.tabIndex = on ? 0 : -1;
        $(tab.getAttribute('aria-controls')).hidden = !on;
    }
}

/*
 * A tab shows itself when clicked; the arrow keys, Home and End move to
 * another tab and show that. tabs() lists the tabs as they are now, since
 * a tab may come and go; show(id) selects one.
 */
export function wireTab(tab, tabs, show) {
    tab.addEventListener('click', () => show(tab.id));
    tab.addEventListener('keydown', (ev) => {
        const list = tabs();
        const i = list.indexOf(tab);
        let j = -1;
        if (ev.key === 'ArrowRight') j = (i + 1) % list.length;
        else if (ev.key === 'ArrowLeft') j = (i - 1 + list.length) % list.length;
        else if (ev.key === 'Home') j = 0;
        else if (ev.key === 'End') j = list.length - 1;
        if (j >= 0) {
            ev.preventDefault();
            show(list[j].id);
            list[j].focus();
        }
    });
}

/*
 * A settings popover of the top bar: toggle (aria-expanded, aria-controls)
 * opens and closes box; Escape closes it and gives the focus back to the
 * toggle, and it closes when the keyboard or a click goes elsewhere.
 * first() is what gets the focus when it opens. Returns open(on).
 */
export function popover(toggle, box, first) {
    const open = (on) => {
        box.hidden = !on;
        toggle.setAttribute('aria-expanded', String(on));
        if (on) first().focus();
    };
    toggle.addEventListener('click', () => open(box.hidden));
    box.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Escape') return;
        open(false);
        toggle.focus();
    });
    box.addEventListener('submit', (ev) => ev.preventDefault());
    document.addEventListener('focusin', (ev) => {
        if (!box.hidden && !box.contains(ev.target) && ev.target !== toggle) open(false);
    });
    return open;
}

/* Whether target takes typed text (a key pressed there is the person's typing, not a shortcut). */
export function isTextField(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
    const notText = ['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image'];
    return target.tagName === 'INPUT' && !notText.includes(target.type);
}

/* The controls of box the keyboard can reach now, in order. */
function tabbables(box) {
    return [...box.querySelectorAll('button, [href], input, select, textarea, [tabindex]:not([tabindex="-1"])')]
        .filter((e) => !e.disabled && e.getClientRects().length > 0);
}

/* Tab from the last control goes to the first, Shift+Tab from the first to the last. */
const trapped = new WeakSet(); /* the dialogs that trap already */

function trapTab(dialog) {
    if (trapped.has(dialog)) return;
    trapped.add(dialog);
    dialog.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Tab') return;
        const list = tabbables(dialog);
        if (!list.length) return;
        const i = list.indexOf(document.activeElement);
        if (ev.shiftKey && i <= 0) {
            ev.preventDefault();
            list[list.length - 1].focus();
        } else if (!ev.shiftKey && i === list.length - 1) {
            ev.preventDefault();
            list[0].focus();
        }
    });
}

/*
 * Open a native <dialog> as a modal one: the page behind is inert, Tab
 * goes round its controls (never out to the browser) and Escape closes it.
 * The focus goes to first (or the dialog's first control), and back to
 * where it was when the dialog closes, however it closes. onClose() runs
 * once, after.
 */
export function openDialog(dialog, first, onClose) {
    if (dialog.open) return;
    trapTab(dialog);
    const back = document.activeElement;
    dialog.addEventListener('close', () => {
        if (back && back.isConnected && typeof back.focus === 'function') back.focus();
        if (onClose) onClose();
    }, { once: true });
    dialog.showModal();
    (first || tabbables(dialog)[0] || dialog).focus();
}

/*
 * Load a classic (non-module) script of our own origin once, e.g. a
 * library that sets a global; resolves when it has run. A script element,
 * not an inline script: the page allows scripts from 'self' only.
 */
const scripts = new Map(); /* src -> its promise */

export function loadScript(src) {
    let p = scripts.get(src);
    if (!p) {
        p = new Promise((resolve, reject) => {
            const s = document.createElement('script');
            s.src = src;
            s.addEventListener('load', () => resolve());
            s.addEventListener('error', () => {
                scripts.delete(src);
                s.remove();
                reject(new Error(`${src} did not load`));
            });
            document.head.append(s);
        });
        scripts.set(src, p);
    }
    return p;
}
