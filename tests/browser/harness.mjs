/*
 * harness.mjs - what the browser tests share: a real venued on a free port
 * with a temporary data folder, Debian's Chromium driven by playwright-core,
 * pages that have joined the venue, console-error capture, screenshots.
 *
 * Everything started here is stopped by stopAll() (call it in after()), and
 * by an exit hook as a last resort, so no venued or chromium outlives a run.
 * Environment: VENUED_BIN (the server binary), VENUE_ROOT (the repository).
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, existsSync, cpSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pjoin, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = process.env.VENUE_ROOT || pjoin(here, '..', '..');
export const BIN = process.env.VENUED_BIN || pjoin(ROOT, 'build', 'server', 'venued');
export const ARTIFACTS = pjoin(ROOT, 'tests', 'artifacts');

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'];

const live = new Set(); /* things to stop: {stop()} */

process.on('exit', () => {
    for (const x of live) x.kill?.();
});

export function sleep(ms) {
    return new Promise((r) => setTimeout(r, ms));
}

export function freePort() {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.unref();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

/* ./venue copies three.js, the QR generator, pdf.js and janus.js (with webrtc-adapter) next to the client; do the same if a run skipped it. */
export function ensureVendor() {
    const vendor = pjoin(ROOT, 'web-client', 'vendor');
    const files = [['three/build/three.module.js', 'three/three.module.js'], ['three/build/three.core.js', 'three/three.core.js'],
        ['qrcode-generator/dist/qrcode.mjs', 'qrcode-generator/qrcode.mjs'],
        ['pdfjs-dist/build/pdf.min.mjs', 'pdfjs/pdf.min.mjs'], ['pdfjs-dist/build/pdf.worker.min.mjs', 'pdfjs/pdf.worker.min.mjs'],
        ['janus-gateway/dist/janus.es.js', 'janus/janus.es.js'], ['webrtc-adapter/out/adapter.js', 'janus/adapter.js']];
    for (const [from, to] of files) {
        if (existsSync(pjoin(vendor, to))) continue;
        mkdirSync(dirname(pjoin(vendor, to)), { recursive: true });
        cpSync(pjoin(ROOT, 'node_modules', from), pjoin(vendor, to));
    }
}

/*
 * Register a participant with the server's own command line, `venued user
 * add`, on a data folder. Returns what it prints: {id, name, org, role,
 * token, link}.
 */
export function registerUser(dataDir, name, role, org = '') {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE_')));
    const args = ['user', 'add', '--data', dataDir, '--name', name, '--role', role];
    if (org) args.push('--org', org);
    const r = spawnSync(BIN, args, { env, encoding: 'utf8', timeout: 30000 });
    if (r.status !== 0) throw new Error(`venued user add ${name} failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n')[0]);
}

/*
 * Start venued. Returns {port, url, dataDir, users, restart(), stop(), log()}.
 * opts.users: [[key, name, role], ...] registered with `venued user add`
 * before the server starts; users[key] is then what the command printed
 * (token included). restart() stops it gracefully (SIGTERM: sessions are
 * saved) and starts it again on the same port and data folder.
 */
export async function startVenued(extraArgs = [], opts = {}) {
    ensureVendor();
    const port = await freePort();
    const dataDir = mkdtempSync(pjoin(tmpdir(), 'venue-browser-'));
    const users = {};
    for (const [key, name, role, org] of opts.users || []) users[key] = registerUser(dataDir, name, role, org);
    let proc = null;
    let log = '';
    const v = {
        port,
        url: `http://127.0.0.1:${port}`,
        dataDir,
        users,
        log: () => log,
        kill() {
            if (proc && proc.exitCode === null) proc.kill('SIGKILL');
        },
        async start() {
            proc = spawn(BIN, ['--port', String(port), '--data', dataDir, '--web', pjoin(ROOT, 'web-client'),
                '--scenes', pjoin(ROOT, 'scenes', 'demo'), ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
            proc.stdout.on('data', (d) => { log += d; });
            proc.stderr.on('data', (d) => { log += d; });
            const deadline = Date.now() + 20000;
            for (;;) {
                if (proc.exitCode !== null) throw new Error(`venued exited (${proc.exitCode}):\n${log}`);
                try {
                    const r = await fetch(`${v.url}/healthz`, { signal: AbortSignal.timeout(1000) });
                    if (r.ok) return;
                } catch {
                    /* not listening yet */
                }
                if (Date.now() > deadline) throw new Error(`venued did not answer /healthz:\n${log}`);
                await sleep(100);
            }
        },
        async stop() {
            if (!proc || proc.exitCode !== null) return;
            const exited = new Promise((r) => proc.once('exit', r));
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
            await exited;
            clearTimeout(t);
        },
        async restart() {
            await v.stop();
            await v.start();
        },
        async dispose() {
            await v.stop();
            live.delete(v);
            rmSync(dataDir, { recursive: true, force: true });
        },
    };
    live.add(v);
    await v.start();
    return v;
}

/* Debian's Chromium; playwright gives each launch a fresh temporary --user-data-dir. */
export async function launchBrowser() {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: CHROMIUM_FLAGS,
        timeout: 30000,
    });
    const b = {
        browser,
        kill() {
            try {
                browser.process?.()?.kill('SIGKILL');
            } catch {
                /* gone */
            }
        },
        async dispose() {
            live.delete(b);
            await browser.close().catch(() => {});
        },
    };
    live.add(b);
    return b;
}

/*
 * A new person: a fresh browser context and page, with console errors and
 * page errors collected in page.errors. opts: {viewport, noWebGL, init,
 * welcome}. The first visit's welcome (web-client/js/app/welcome.js) is
 * marked as seen unless opts.welcome, so that it does not sit over the
 * page of a test about something else.
 */
export async function newPerson(browser, opts = {}) {
    const context = await browser.newContext({
        viewport: opts.viewport || { width: 1280, height: 800 },
        reducedMotion: opts.reducedMotion || 'no-preference',
        hasTouch: !!opts.hasTouch,
        isMobile: !!opts.isMobile,
    });
    /* the page loads its test hooks (window.__venue) only when asked: web-client/js/app.js */
    await context.addInitScript(() => {
        window.__venueHooks = true;
    });
    if (!opts.welcome) {
        await context.addInitScript(() => {
            if (location.pathname !== '/' && location.pathname !== '/index.html') return; /* the venue page only: /admin keeps nothing */
            try {
                localStorage.setItem('venue.welcomed', '1');
            } catch {
                /* no storage (private mode and the like): the welcome shows */
            }
        });
    }
    if (opts.noWebGL) {
        await context.addInitScript(() => {
            const orig = HTMLCanvasElement.prototype.getContext;
            HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
                if (/webgl/i.test(kind)) return null;
                return orig.call(this, kind, ...rest);
            };
        });
    }
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.errors = [];
    page.on('console', (m) => {
        if (m.type() === 'error') page.errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
    page.context_ = context;
    return page;
}

/* Open the venue, fill the join form and wait until the room is drawn. */
export async function join(page, baseUrl, name, { query = '', view = '3d' } = {}) {
    await page.goto(`${baseUrl}/${query}`);
    /* with a join link's token the page greets the registered name and hides the field */
    if (/[?&]token=/.test(query)) await page.fill('#join-name', name, { timeout: 1500 }).catch(() => {});
    else await page.fill('#join-name', name);
    if (view === '2d') await page.check('input[name="view"][value="2d"]');
    await page.click('#join-submit');
    await page.waitForFunction(() => window.__venue && window.__venue.ready, null, { timeout: 20000 });
    return page.evaluate(() => window.__venue.client.me.id);
}

/* The names listed in the roster (People tab), as text. */
export async function rosterNames(page) {
    return page.$$eval('#roster .pname', (els) => els.map((e) => e.textContent));
}

export async function shot(page, name) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = pjoin(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path });
    return path;
}

/*
 * axe-core in the page, WCAG 2.1 A and AA (evaluated: the page's CSP takes
 * no injected script tag): the violations as readable lines, [] when none.
 * include: a selector to check only that part.
 */
let axeSource = null;
export async function axe(page, include) {
    axeSource ??= readFileSync(pjoin(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
    return page.evaluate(async (sel) => (await window.axe.run(sel ? { include: [sel] } : document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })).violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`), include || null);
}

/* Console errors are failures, apart from WebGL driver chatter. */
export function consoleErrors(page) {
    return page.errors.filter((e) => !/GL Driver Message|GPU stall/.test(e));
}

/* Poll fn in Node until it returns truthy, or throw after ms. */
export async function until(fn, ms = 10000, what = 'condition') {
    const deadline = Date.now() + ms;
    let last;
    for (;;) {
        last = await fn();
        if (last) return last;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

export async function stopAll() {
    for (const x of [...live]) await x.dispose?.();
}
