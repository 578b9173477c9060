/*
 * slides.js - the slide deck on stage: the current page of a speaker's PDF,
 * rendered in the browser by pdf.js (npm pdfjs-dist, served by venued from
 * /vendor/pdfjs/ and loaded only once a deck is shown), onto one canvas
 * that the slide panel (app/slides.js) shows in the page and every screen
 * of the 3D room (room3d.js) uses as its texture.
 *
 * One deck at a time, the one of my room's live session (an overflow
 * room: its hall's): showSlide() says which page of which deck, clearSlide()
 * that there is none. Renders are serialised and a newer request wins: a
 * speaker turning quickly never leaves an older page on the screens. The
 * server only keeps the file and the page number; a deck that cannot be
 * read is reported to the caller, and the screens keep what they showed.
 *
 * No three.js in here, so that the 2D map and the panel need none of it.
 */

const PDFJS = '/vendor/pdfjs/pdf.min.mjs';
const PDFJS_WORKER = '/vendor/pdfjs/pdf.worker.min.mjs';
const MAX_PX = 1600; /* the longer side of a rendered page: sharp on a screen, light to upload as a texture */

let pdfjs = null; /* Promise of the pdf.js module, on first use */
const canvas = document.createElement('canvas'); /* the page shown: panel and screens */
const work = document.createElement('canvas'); /* pdf.js renders here, then it is copied whole: no half-drawn frame */
canvas.width = 16;
canvas.height = 9;

let deck = null; /* {url, doc: Promise<PDFDocumentProxy>} of the deck loaded */
let wanted = null; /* {url, page} asked for last, or null */
let drawn = null; /* {url, page} on the canvas now, or null */
let running = null; /* Promise of the render under way */
const screens = new Set(); /* {changed, detach}: the 3D screens that show the canvas */

function loadPdfjs() {
    if (!pdfjs) {
        pdfjs = import(PDFJS).then((m) => {
            m.GlobalWorkerOptions.workerSrc = PDFJS_WORKER;
            return m;
        });
        pdfjs.catch(() => {
            pdfjs = null; /* let a later deck try again */
        });
    }
    return pdfjs;
}

function openDeck(url) {
    if (deck && deck.url === url) return deck.doc;
    if (deck) deck.doc.then((d) => d.destroy()).catch(() => {});
    const doc = loadPdfjs().then((m) => m.getDocument({ url, enableXfa: false }).promise);
    deck = { url, doc };
    doc.catch(() => {
        if (deck && deck.doc === doc) deck = null; /* the same url may be tried again */
    });
    return doc;
}

/* The screens upload the canvas again (or go back to their own picture). */
function tell() {
    for (const s of screens) s.changed();
}

/* Draw the page asked for last, until what is drawn is what is wanted (or nothing is). */
async function renderLoop() {
    for (;;) {
        const w = wanted;
        if (!w) {
            if (drawn) {
                drawn = null;
                tell();
            }
            return;
        }
        if (drawn && drawn.url === w.url && drawn.page === w.page) return;
        try {
            await render(w);
        } catch (e) {
            if (wanted === w) throw e;
            /* it failed but was no longer wanted anyway (a new deck, or none): go on with what is */
        }
    }
}

async function render(w) {
    const doc = await openDeck(w.url);
    const page = await doc.getPage(Math.min(Math.max(1, w.page), doc.numPages));
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: MAX_PX / Math.max(base.width, base.height) });
    work.width = Math.round(viewport.width);
    work.height = Math.round(viewport.height);
    await page.render({ canvas: work, viewport }).promise;
    if (wanted !== w) return; /* turned again meanwhile: the loop draws the newer page instead */
    canvas.width = work.width;
    canvas.height = work.height;
    canvas.getContext('2d').drawImage(work, 0, 0);
    drawn = { url: w.url, page: w.page };
    tell();
}

/*
 * Show a page of the deck at url ({url, page}, as the `slides` message
 * says). Resolves once what was asked for last is on the canvas; rejects
 * when that deck or page cannot be read (the canvas keeps what it had).
 */
export function showSlide({ url, page }) {
    wanted = { url, page };
    if (!running) {
        running = renderLoop().finally(() => {
            running = null;
        });
    }
    return running;
}

/* No deck any more: the screens go back to what they showed before. */
export function clearSlide() {
    wanted = null;
    if (deck) deck.doc.then((d) => d.destroy()).catch(() => {});
    deck = null;
    if (!running && drawn) {
        drawn = null;
        tell();
    }
}

/* The canvas with the page on it (the panel puts it in the page). */
export function slideCanvas() {
    return canvas;
}

/* {url, page, screens} drawn now (screens: how many 3D screens show it), or null. */
export function slideDrawn() {
    return drawn ? { ...drawn, screens: screens.size } : null;
}

/*
 * A 3D screen that shows the slide: changed() whenever the canvas has a
 * new page or none (showing() then says which), until detach(). room3d.js
 * calls it for each screen place it builds.
 */
export function slideScreen(changed) {
    const s = { canvas, changed, showing: () => !!drawn, detach: () => screens.delete(s) };
    screens.add(s);
    return s;
}
