/*
 * voice-rooms.test.mjs - voice end to end: the real `./venue run` (venued and the
 * Janus it starts), the real page (web-client/js/voice.js, app/voice.js)
 * and real Janus, in headless Chromium with its fake microphone (a beep of
 * about 100 ms every 500 ms), inside a network namespace of the test's
 * own (tests/voice/netns.mjs: lo and one TUN address, nothing outside).
 *
 * In breakout-2, Ann (A) speaks and Ben (B) listens; Mia, a moderator,
 * acts through the client module in Node (a `mod` message):
 *   1. A turns the microphone on with the real button; B, who never asked
 *      for a microphone (getUserMedia counted by an init script), hears A.
 *      Then who is talking: A's steady tone rings A's avatar at B.
 *   2. Spatial: A 2 m to B's left, then right, then 10 m ahead (left >
 *      right, right > left, both alike ahead, near louder than far);
 *      beyond 15 m B is not subscribed to A.
 *   3. Mia mutes A: silent at B within 1 s of mod_ok, A's page says so;
 *      unmute, A turns the microphone on again, and is heard.
 *   7. Janus killed (SIGKILL): the pages say voice is unavailable; Janus
 *      comes back (`./venue run` starts it again a second later; a script
 *      that does not gets it started here, as the script starts it) and B
 *      hears A again without a reload, A's microphone on again by itself.
 *   6. Mia kicks A: silent at B within 1 s, and A's voice goes from B's.
 * In the plenary (the hall) and its overflow room:
 *   4. B, an attendee, forces a publish (the page's own voice module told
 *      it may); Sol, a speaker in the hall, subscribes to B's feed anyway
 *      and hears nothing: venued muted B in Janus.
 *   5. Sol speaks; B in the hall and Oli in the overflow room hear Sol the
 *      same in both ears (not spatialised); Sol does not hear Sol.
 * axe-core checks A's page with voice up and the microphone on. The
 * numbers measured are the last test's diagnostic ("voice numbers").
 *
 * Energy is the RMS of each voice after its panner, per ear, as the page's
 * __venue.voice() gives it, polled every 50 ms over a window: its peak (a
 * beep was heard) and its mean (for comparisons), never one sample.
 *
 * Skipped, saying why, where a namespace cannot be made (no unshare, no
 * /dev/net/tun, not root) or janus or Chromium is missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { ROOT, netnsAvailable, enterNetns, startVenue, launchChromium, stopAll } from '../voice/netns.mjs';

function which(cmd) {
    return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const skip = netnsAvailable()
    || (!which('janus') && 'the janus binary is not installed (Debian package janus; ./venue run installs it)')
    || (!existsSync(chromiumPath) && `no Chromium at ${chromiumPath} (Debian package chromium; ./venue test installs it)`)
    || false;
if (skip) console.log(`voice in the page: skipped, ${skip}`);
else await enterNetns(import.meta.url); /* from here on, inside the namespace */

/* After the namespace: harness.mjs loads playwright-core, which the outer run need not. */
const { newPerson, join: joinVenue, consoleErrors, until, sleep } = skip ? {} : await import('./harness.mjs');
const { VenueClient } = skip ? {} : await import(pathToFileURL(join(ROOT, 'web-client', 'js', 'venue-client.js')).href);

const PORT = 8080; /* the namespace's own: nothing else listens in it */
const ROOM = 'breakout-2';
const HEARD = 0.05; /* peak RMS of a beep heard (the fake microphone peaks near 0.15) */
const SILENT = 0.01; /* peak RMS below this over a window: silence */
const WINDOW_MS = 2000;
const PREROLL_MS = 2500; /* recorded before a mute or kick: five beeps */
const AXE = skip ? '' : readFileSync(join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/*
 * Before the page's own scripts run: getUserMedia counted, and, while the
 * test sets window.__tone, answered with a steady 440 Hz tone instead of
 * the fake microphone's beep (Janus calls someone talking only after 0.8 s
 * of sound above -25 dBov: the beep, 100 ms in 500, never is).
 */
const GUM_COUNTER = () => {
    window.__gum = 0;
    const md = navigator.mediaDevices;
    if (md && md.getUserMedia) {
        const real = md.getUserMedia.bind(md);
        let toneCtx = null;
        md.getUserMedia = (...args) => {
            window.__gum++;
            if (!window.__tone) return real(...args);
            if (toneCtx) toneCtx.close();
            toneCtx = new AudioContext();
            const osc = toneCtx.createOscillator();
            const gain = toneCtx.createGain();
            const out = toneCtx.createMediaStreamDestination();
            osc.frequency.value = 440;
            gain.gain.value = 0.5;
            osc.connect(gain).connect(out);
            osc.start();
            return Promise.resolve(out.stream);
        };
    }
};

let v; /* the ./venue run */
let dataDir;
let chrome;
let janusAgain = null; /* the Janus this test started again (scenario 7) */
const U = {}; /* registered people, as `venued user add` printed them */
const pages = {};
let mia; /* the moderator: the client module in Node */
const found = {}; /* the numbers, for the summary at the end */

before(async () => {
    if (skip) return;
    dataDir = mkdtempSync(join(tmpdir(), 'venue-voice-'));
    const started = Date.now();
    v = await startVenue({ port: PORT, data: dataDir, extra: ['--no-demo-programme'] });
    found.startS = (Date.now() - started) / 1000;
    /* registered while it runs, with the venued that ./venue run built (it checks tokens in its
     * database at each hello) */
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE')));
    for (const [key, name, role] of [['ann', 'Ann Talker', 'attendee'], ['ben', 'Ben Listener', 'attendee'],
        ['mia', 'Mia Moderator', 'moderator'], ['sol', 'Sol Speaker', 'speaker'], ['oli', 'Oli Overflow', 'attendee']]) {
        const r = spawnSync(join(ROOT, 'build', 'server', 'venued'), ['user', 'add', '--data', dataDir, '--name', name, '--role', role],
            { env, encoding: 'utf8', timeout: 30000 });
        assert.equal(r.status, 0, `venued user add ${name}: ${r.stderr}`);
        U[key] = JSON.parse(r.stdout.trim().split('\n')[0]);
    }
    chrome = await launchChromium();
});

after(async () => {
    if (skip) return;
    try {
        mia?.close();
        if (janusAgain && janusAgain.exitCode === null) janusAgain.kill('SIGKILL');
        await stopAll();
    } finally {
        if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
});

/* What venued and Janus said, for whoever reads a failure. */
function logs() {
    const janusLog = join(dataDir, 'janus', 'janus.log');
    let out = `--- ./venue run (last 3000 bytes):\n${v ? v.log().slice(-3000) : '(not started)'}\n`;
    if (existsSync(janusLog)) out += `--- janus.log (last 2000 bytes):\n${readFileSync(janusLog, 'utf8').slice(-2000)}\n`;
    return out;
}

/* A failing scenario prints the logs, then fails. */
async function scenario(fn) {
    try {
        await fn();
    } catch (e) {
        process.stderr.write(logs());
        throw e;
    }
}

/* A registered person's page, joined (2D map: less work for the two cores). */
async function enter(u, room) {
    const page = await newPerson(chrome, { viewport: { width: 800, height: 600 } });
    await page.context().addInitScript(GUM_COUNTER);
    page.on('dialog', (d) => d.accept());
    await joinVenue(page, v.url, 'typed name', { query: `?token=${u.token}&room=${room}`, view: '2d' });
    await until(() => page.evaluate(() => window.__venue.voice().state === 'up'), 20000, `${u.name}: voice up`);
    return page;
}

const probe = (page) => page.evaluate(() => window.__venue.voice());
const gumCalls = (page) => page.evaluate(() => window.__gum);

/*
 * What page hears of user over ms (longer if the page was too busy for 30
 * samples, up to 3 ms): the RMS per ear polled every 50 ms. {n, seen
 * (samples with the voice subscribed), peak (the louder ear's highest),
 * peakL, peakR, meanL, meanR, mean ((meanL + meanR) / 2), ratio (left over
 * right, the median over the loud samples), loud (how many)}.
 */
function hear(page, user, ms = WINDOW_MS) {
    return page.evaluate(async ({ user, ms }) => {
        const l = [];
        const r = [];
        let n = 0;
        const start = performance.now();
        for (;;) {
            const t = performance.now() - start;
            if (t >= 3 * ms || (t >= ms && n >= Math.min(30, ms / 50))) break;
            n++;
            const p = window.__venue.voice().peers.find((x) => x.user === user);
            if (p) {
                l.push(p.left);
                r.push(p.right);
            }
            await new Promise((res) => setTimeout(res, 50));
        }
        const max = (a) => (a.length ? Math.max(...a) : 0);
        const mean = (a) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : 0);
        /* Left over right in each sample where a beep sounds (over a tenth
         * of the peak), the median of them: the two ears are read one after
         * the other, and on a loaded machine the audio thread can move on in
         * between, at a beep's edge; the median leaves those samples out. */
        const peak = Math.max(max(l), max(r));
        const ratios = l.map((x, i) => [x, r[i]]).filter(([x, y]) => Math.max(x, y) > peak / 10 && y > 0)
            .map(([x, y]) => x / y).sort((x, y) => x - y);
        const ratio = ratios.length ? ratios[Math.floor(ratios.length / 2)] : NaN;
        return { n, seen: l.length, peak, peakL: max(l), peakR: max(r), meanL: mean(l), meanR: mean(r),
            mean: (mean(l) + mean(r)) / 2, ratio, loud: ratios.length };
    }, { user, ms });
}

const fmt = (e) => `peak ${e.peak.toFixed(4)} (L ${e.peakL.toFixed(4)} R ${e.peakR.toFixed(4)}), `
    + `mean L ${e.meanL.toFixed(4)} R ${e.meanR.toFixed(4)}, left/right ${e.ratio.toFixed(3)} in ${e.loud} loud samples, `
    + `subscribed in ${e.seen}/${e.n} samples`;

/* Wait until page hears user (a window with a beep in it), within ms. */
async function untilHeard(page, user, ms, what) {
    const deadline = Date.now() + ms;
    let e;
    do {
        e = await hear(page, user, 1000);
        if (e.peak > HEARD) return e;
    } while (Date.now() < deadline);
    throw new Error(`${what}: not heard within ${ms / 1000} s (last: ${fmt(e)}); ${JSON.stringify(await probe(page))}`);
}

/* A recording in the page of user's level, every 50 ms: [[Date.now(), max(l, r) or -1 when not subscribed]]. */
const record = (page, user) => page.evaluate((user) => {
    window.__rec = [];
    window.__recTimer = setInterval(() => {
        const p = window.__venue.voice().peers.find((x) => x.user === user);
        window.__rec.push([Date.now(), p ? Math.max(p.left, p.right) : -1]);
    }, 50);
}, user);
const stopRecording = (page) => page.evaluate(() => {
    clearInterval(window.__recTimer);
    return window.__rec;
});

/*
 * A recording around t0 (ms, this machine's clock): how loud before it and
 * how long before it the last beep was heard, when the sound stopped after
 * it (the last sample at or above SILENT, 0: none after t0), how long it
 * stayed silent after that, and when the voice was unsubscribed.
 */
function silenceAfter(rec, t0) {
    const before = rec.filter(([t]) => t < t0 && t >= t0 - PREROLL_MS);
    const afterT0 = rec.filter(([t]) => t >= t0);
    const loud = afterT0.filter(([, x]) => x >= SILENT);
    const lastSound = loud.length ? loud[loud.length - 1][0] : t0;
    const gone = afterT0.find(([, x]) => x < 0);
    const beeps = before.filter(([, x]) => x > HEARD);
    return {
        loudBefore: Math.max(0, ...before.map(([, x]) => x)),
        lastBeepBeforeMs: beeps.length ? t0 - beeps[beeps.length - 1][0] : null,
        lastSoundMs: lastSound - t0,
        silentForMs: rec.length ? rec[rec.length - 1][0] - lastSound : 0,
        unsubscribedMs: gone ? gone[0] - t0 : null,
        samples: afterT0.length,
    };
}

/* Walk page (the page's own click-to-move) to (x, z), and wait until it stands there, still. */
async function walk(page, x, z) {
    await page.evaluate(([x, z]) => window.__venue.walkTo(x, z), [x, z]);
    let last = null;
    await until(async () => {
        const p = await page.evaluate(() => window.__venue.client.me.p.join());
        const [px, , pz] = p.split(',').map(Number);
        const still = p === last;
        last = p;
        return still && Math.hypot(px - x, pz - z) < 0.3;
    }, 15000, `walking to (${x}, ${z})`);
}

/* Turn page's own avatar to yaw (radians about +Y; 0 faces -Z) where it stands, say so to the
 * server, and return the yaw the page's client now has. */
const face = (page, yaw) => page.evaluate(async (yaw) => {
    const { quatOfYaw, yawOf } = await import('/js/venue-client.js');
    const st = window.__venue._state;
    st.me.yaw = yaw;
    window.__venue.client.sendPose([st.me.x, st.me.y, st.me.z], quatOfYaw(yaw));
    await new Promise((r) => setTimeout(r, 300)); /* a few frames: nothing turned it back */
    return yawOf(window.__venue.client.me.q);
}, yaw);

/* Wait until page draws avatar id at (x, z). */
const drawnAt = (page, id, x, z) => until(async () => {
    const a = await page.evaluate((i) => window.__venue.avatar(i), id);
    return a && Math.hypot(a.x - x, a.z - z) < 0.3;
}, 10000, `${id} drawn at (${x}, ${z})`);

/* axe-core on the page, WCAG 2.1 A and AA: the violations as readable lines. */
async function axe(page) {
    if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE);
    return page.evaluate(async () => (await window.axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })).violations.map((x) => `${x.id}: ${x.help} (${x.nodes.map((n) => n.target.join(' ')).join(', ')})`));
}

const micButton = (page) => page.getByRole('button', { name: /microphone/ });

/* The Janus processes of this venue (in this namespace's own /proc). */
function janusPids() {
    const cfg = join(dataDir, 'janus', 'janus.jcfg');
    const pids = [];
    for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        let argv;
        try {
            argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        } catch {
            continue;
        }
        if (/(^|\/)janus$/.test(argv[0]) && argv.includes(cfg)) pids.push(+d);
    }
    return pids;
}

const health = async () => (await (await fetch(`${v.url}/healthz`, { signal: AbortSignal.timeout(2000) })).json());

/* ---- in a breakout: spatial ------------------------------------------------------------ */

test('1. in a breakout, A turns the microphone on; B, who asked for no microphone, hears A', { skip, timeout: 90000 }, () => scenario(async () => {
    const t = Date.now();
    [pages.a, pages.b] = await Promise.all([enter(U.ann, ROOM), enter(U.ben, ROOM)]);
    found.pagesMs = Date.now() - t;
    mia = new VenueClient({ url: `ws://127.0.0.1:${PORT}/ws`, name: 'x', token: U.mia.token, WebSocket });
    await mia.connect({ room: ROOM });
    await until(() => mia.room && mia.room.id === ROOM, 5000, 'the moderator in the breakout');
    const { a, b } = pages;
    const mic = micButton(a);
    assert.equal(await mic.getAttribute('aria-label'), 'Turn microphone on');
    assert.equal(await gumCalls(a), 0, 'A asked for no microphone before the button');
    const clicked = Date.now();
    await mic.click();
    await until(async () => (await probe(a)).publishing, 20000, 'A publishing');
    found.publishMs = Date.now() - clicked;
    assert.equal(await micButton(a).getAttribute('aria-pressed'), 'true');
    assert.equal(await micButton(a).getAttribute('aria-label'), 'Turn microphone off');
    assert.equal(await gumCalls(a), 1, 'A asked once, on the click');
    const e = await untilHeard(b, U.ann.id, 20000, 'B hears A');
    found.heardMs = Date.now() - clicked;
    const s = await hear(b, U.ann.id);
    found.s1 = { peak: +s.peak.toFixed(4), meanL: +s.meanL.toFixed(4), meanR: +s.meanR.toFixed(4), samples: s.n };
    assert.ok(s.peak > HEARD, `B hears A: ${fmt(s)} (first: ${fmt(e)})`);
    /* B: listening needed no permission, and nothing goes out */
    const pb = await probe(b);
    assert.equal(pb.publishing, false, 'B is not publishing');
    assert.equal(pb.mic, false, 'B\'s microphone is off');
    assert.equal(await gumCalls(b), 0, 'B\'s page never called getUserMedia');
}));

test('who is talking: A speaking steadily is drawn talking at B, and not once A stops', { skip, timeout: 60000 }, () => scenario(async () => {
    const { a, b } = pages;
    const talking = () => b.evaluate((id) => !!window.__venue.avatar(id)?.talking, U.ann.id);
    found.talkingWithBeep = await talking(); /* the beep is too short to count as talking */
    await micButton(a).click(); /* off */
    await a.evaluate(() => { window.__tone = true; });
    await micButton(a).click(); /* on, with the tone */
    await until(async () => (await probe(a)).publishing, 20000, 'A publishing the tone');
    const t0 = Date.now();
    await until(talking, 15000, 'B draws A talking');
    found.talkingMs = Date.now() - t0;
    await micButton(a).click(); /* off */
    const t1 = Date.now();
    await until(async () => !(await talking()), 10000, 'B draws A talking no more');
    found.stoppedTalkingMs = Date.now() - t1;
    await a.evaluate(() => { window.__tone = false; });
    await micButton(a).click(); /* on: the fake microphone again */
    await until(async () => (await probe(a)).publishing, 20000, 'A publishing');
}));

test('axe-core finds nothing on a page with voice up and the microphone on', { skip, timeout: 60000 }, () => scenario(async () => {
    const a = pages.a;
    assert.ok((await probe(a)).publishing, 'A is publishing');
    assert.equal(await a.isVisible('#voice-tools'), true);
    assert.deepEqual(await axe(a), []);
}));

test('2. B hears A on the correct side, louder near than far, and not at all beyond 15 m', { skip, timeout: 120000 }, () => scenario(async () => {
    const { a, b } = pages;
    /* B at (-4.5, 0) facing +X (yaw -90°): its right is +Z, its left -Z */
    const bx = -4.5;
    const bz = 0;
    await walk(b, bx, bz);
    const yaw = await face(b, -Math.PI / 2);
    assert.ok(Math.abs(yaw + Math.PI / 2) < 0.01, `B faces +X (yaw ${yaw})`);
    await drawnAt(a, U.ben.id, bx, bz);
    const at = async (x, z, what) => {
        await walk(a, x, z);
        await drawnAt(b, U.ann.id, x, z);
        await sleep(300); /* the panner moved with the avatar; let the analyser fill */
        const e = await hear(b, U.ann.id);
        found[what] = { peak: +e.peak.toFixed(4), meanL: +e.meanL.toFixed(4), meanR: +e.meanR.toFixed(4) };
        return e;
    };
    const left = await at(bx, bz - 2, 'left2m');
    const right = await at(bx, bz + 2, 'right2m');
    const far = await at(bx + 10, bz, 'ahead10m');
    /* each sample compares both ears at the same instant: the ratio of the
     * means is the level difference; near against far: the beeps' peaks,
     * which a mean over a beep train blurs with how many beeps fell in */
    found.ratios = { left: +(left.meanL / left.meanR).toFixed(2), right: +(right.meanR / right.meanL).toFixed(2), ahead: +(far.meanL / far.meanR).toFixed(2) };
    assert.ok(left.peak > HEARD && left.meanL > 1.2 * left.meanR, `A 2 m to the left: left ear louder: ${fmt(left)}`);
    assert.ok(right.peak > HEARD && right.meanR > 1.2 * right.meanL, `A 2 m to the right: right ear louder: ${fmt(right)}`);
    assert.ok(far.meanL / far.meanR > 0.85 && far.meanL / far.meanR < 1.15, `A straight ahead: both ears alike: ${fmt(far)}`);
    const near = (left.peak + right.peak) / 2;
    assert.ok(far.seen > 0 && far.peak > SILENT, `A 10 m away is still heard: ${fmt(far)}`);
    assert.ok(near > 1.5 * far.peak, `near (2 m, peak ${near.toFixed(4)}) louder than far (10 m): ${fmt(far)}`);
    /* opposite corners: 17.8 m apart, beyond the 15 m range */
    await Promise.all([walk(a, 7.2, 5.2), walk(b, -7.2, -5.2)]);
    const t0 = Date.now();
    await until(async () => !(await probe(b)).peers.some((p) => p.user === U.ann.id), 8000, 'B unsubscribed from A beyond 15 m');
    found.unsubscribedFarMs = Date.now() - t0;
    assert.equal(await b.evaluate((id) => (window.__venue.client.voicePeers?.peers || []).some((p) => p.user === id), U.ann.id), false,
        'venued lists A to B no more');
    const gone = await hear(b, U.ann.id, 1000);
    assert.equal(gone.seen, 0, 'nothing of A at B');
    /* and back: A 2 m to B's left again */
    await Promise.all([walk(a, bx, bz - 2), walk(b, bx, bz)]);
    assert.ok(Math.abs((await face(b, -Math.PI / 2)) + Math.PI / 2) < 0.01, 'B faces +X again');
    await untilHeard(b, U.ann.id, 10000, 'B hears A again, near');
}));

test('3. a moderator mutes A: silent at B within 1 s, A\'s page says so; unmute gives A\'s voice back', { skip, timeout: 90000 }, () => scenario(async () => {
    const { a, b } = pages;
    await untilHeard(b, U.ann.id, 10000, 'A heard before the mute');
    await record(b, U.ann.id);
    await sleep(PREROLL_MS);
    await mia.mod('mute', { target: U.ann.id, reason: 'a test of the mute' });
    const t0 = Date.now(); /* mod_ok */
    await sleep(3000);
    const rec = await stopRecording(b);
    const s = silenceAfter(rec, t0);
    found.mute = s;
    assert.ok(s.loudBefore > HEARD, `A was heard right before the mute: ${JSON.stringify(s)}`);
    assert.ok(s.lastSoundMs < 1000, `silent at B within 1 s of mod_ok: ${JSON.stringify(s)}`);
    assert.ok(s.silentForMs >= 2000, `and silent after that: ${JSON.stringify(s)}`);
    /* A's page: the button is off limits, and says why */
    await until(() => micButton(a).isDisabled(), 5000, 'A\'s microphone button disabled');
    assert.equal(await a.textContent('#mic-why'), 'A moderator muted your microphone.');
    assert.equal(await a.getAttribute('#mic', 'aria-describedby'), 'mic-why');
    assert.equal((await probe(a)).publishing, false, 'A\'s page stopped publishing');
    /* unmute: the button comes back; A turns the microphone on again (it stays off until then) */
    await mia.mod('unmute', { target: U.ann.id });
    const t1 = Date.now();
    await until(async () => !(await micButton(a).isDisabled()), 5000, 'A\'s microphone button enabled again');
    assert.equal(await a.isVisible('#mic-why'), false);
    const idle = await probe(a);
    found.afterUnmute = { mic: idle.mic, publishing: idle.publishing };
    if (!idle.mic) await micButton(a).click();
    const e = await untilHeard(b, U.ann.id, 15000, 'B hears A after the unmute');
    found.unmuteHeardMs = Date.now() - t1;
    assert.ok(e.peak > HEARD, fmt(e));
}));

test('7. Janus killed and started again: the pages say voice is unavailable, then B hears A again without a reload', { skip, timeout: 120000 }, () => scenario(async () => {
    const { a, b } = pages;
    await untilHeard(b, U.ann.id, 10000, 'A heard before Janus goes');
    for (const p of [a, b]) {
        await p.evaluate(() => {
            window.__sameDocument = true;
            /* every state of the voice notice, as it changes */
            const box = document.getElementById('voice-notice');
            window.__notices = [];
            new MutationObserver(() => window.__notices.push([Date.now(), box.hidden, box.textContent]))
                .observe(box, { attributes: true, childList: true, subtree: true, characterData: true });
        });
    }
    const pids = janusPids();
    assert.equal(pids.length, 1, `one Janus runs for ${dataDir}: ${pids}`);
    process.kill(pids[0], 'SIGKILL');
    const killed = Date.now();
    /* venued knows at once (its connections to Janus close) */
    let sawDown = null;
    for (const end = Date.now() + 5000; Date.now() < end && !sawDown;) {
        const h = await health().catch(() => null);
        if (h && h.voice !== 'up') sawDown = h;
        else await sleep(100);
    }
    found.healthDownMs = sawDown ? Date.now() - killed : null;
    assert.ok(sawDown, '/healthz says voice is not up after the kill');
    /* ./venue run's supervise() starts a Janus that died again after a second;
     * a script without that gets it started here, as the script does */
    let again = [];
    for (const end = Date.now() + 6000; Date.now() < end && !again.length;) {
        again = janusPids().filter((p) => p !== pids[0]);
        if (!again.length) await sleep(100);
    }
    found.restartedBy = again.length ? './venue run' : 'the test';
    if (!again.length) {
        const dir = join(dataDir, 'janus');
        janusAgain = spawn('janus', ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-L', join(dir, 'janus.log'), '-N', '-o'],
            { cwd: ROOT, stdio: 'ignore' });
    }
    const restarted = Date.now();
    found.janusRestartMs = restarted - killed;
    await until(async () => (await health().catch(() => ({}))).voice === 'up', 20000, 'venued has voice again');
    found.venuedUpMs = Date.now() - killed;
    /* the pages said so plainly meanwhile, and the rest of the venue went on */
    for (const [who, p] of [['A', a], ['B', b]]) {
        const seen = await until(() => p.evaluate(() => window.__notices.find(([, hidden, text]) => !hidden && /^Voice is unavailable/.test(text))), 10000, `${who}: the notice`)
            .catch(() => null);
        assert.ok(seen, `${who}'s page showed "Voice is unavailable": ${JSON.stringify(await p.evaluate(() => window.__notices))}`);
        found[`notice${who}`] = { ms: seen[0] - killed, text: seen[2] };
        assert.equal(await p.evaluate(() => window.__venue.client.state), 'open', `${who}: the venue connection stayed up`);
    }
    const e = await untilHeard(b, U.ann.id, 20000, 'B hears A again after the restart, without a reload or a click');
    found.heardAgainMs = Date.now() - killed;
    assert.ok(e.peak > HEARD, fmt(e));
    for (const p of [a, b]) assert.equal(await p.evaluate(() => window.__sameDocument), true, 'no reload');
    await until(async () => !(await a.isVisible('#voice-notice')) && !(await b.isVisible('#voice-notice')), 5000, 'the notices gone');
    assert.equal((await probe(a)).mic, true, 'A\'s microphone is on again, without a click');
}));

test('6. a moderator kicks A: B hears A no more within about 1 s, and A\'s peer goes away', { skip, timeout: 60000 }, () => scenario(async () => {
    const { a, b } = pages;
    if (!(await probe(a)).mic) await micButton(a).click(); /* if scenario 7 left it off */
    await untilHeard(b, U.ann.id, 15000, 'A heard before the kick');
    await record(b, U.ann.id);
    await sleep(PREROLL_MS);
    await mia.mod('kick', { target: U.ann.id, reason: 'a test of the kick' });
    const t0 = Date.now();
    const gone = await until(async () => !(await probe(b)).peers.some((p) => p.user === U.ann.id), 5000, 'A\'s peer gone at B')
        .then(() => true, () => false);
    const goneMs = Date.now() - t0;
    if (!gone) {
        found.kickState = await b.evaluate(() => ({ heard: window.__venue.voice().peers, listed: window.__venue.client.voicePeers }));
    }
    await sleep(Math.max(0, 2500 - goneMs));
    const rec = await stopRecording(b);
    const s = silenceAfter(rec, t0);
    found.kick = { ...s, peerGoneMs: goneMs };
    assert.ok(s.loudBefore > HEARD, `A was heard right before the kick: ${JSON.stringify(s)}`);
    assert.ok(s.lastSoundMs < 1000, `silent at B within 1 s of mod_ok: ${JSON.stringify(s)}`);
    assert.ok(gone && goneMs < 3000, `A's peer gone within 3 s (${goneMs} ms): ${JSON.stringify(found.kickState)}`);
    assert.equal(await a.evaluate(() => window.__venue.client.state), 'closed', 'A is out of the venue');
    found.pageErrorsA = consoleErrors(a);
    await a.context().close();
    delete pages.a;
}));

/* ---- the plenary: the stage ------------------------------------------------------------- */

test('4. in the plenary an attendee who forces a publish is not heard: venued mutes them in Janus', { skip, timeout: 90000 }, () => scenario(async () => {
    const b = pages.b;
    pages.s = await enter(U.sol, 'plenary');
    const s = pages.s;
    await b.evaluate(() => window.__venue.client.join('plenary'));
    await until(() => b.evaluate(() => {
        const x = window.__venue.client.voice;
        return x && x.state === 'up' && x.mode === 'stage' && window.__venue.voice().state === 'up';
    }), 20000, 'B in the plenary, voice up');
    const vb = await b.evaluate(() => window.__venue.client.voice);
    assert.equal(vb.publish, false, 'venued says B may not publish in the hall');
    assert.equal(await micButton(b).isDisabled(), true, 'B\'s button is off limits');
    assert.equal(await b.textContent('#mic-why'), 'Only the people on stage speak here.');
    /* bypass the UI: tell the page's own voice module it may, and turn the microphone on */
    await b.evaluate(async () => {
        const m = await import('/js/app/voice.js');
        const real = window.__venue.client.voice;
        m.onVoice({ voice: { ...real, publish: true }, previous: real });
    });
    await micButton(b).click();
    await until(async () => (await probe(b)).publishing, 20000, 'B publishing (forced)');
    assert.equal(await gumCalls(b), 1, 'B\'s microphone in use now');
    /* Sol, in the hall, subscribes to B's feed although venued does not list it */
    const listed = await s.evaluate((id) => (window.__venue.client.voicePeers?.peers || []).some((p) => p.user === id), U.ben.id);
    assert.equal(listed, false, 'venued does not list B to the hall');
    await s.evaluate(async ({ room, feed, user }) => {
        const m = await import('/js/app/voice.js');
        m.onVoicePeers({ room, peers: [{ id: feed, user }] });
    }, { room: vb.listen, feed: vb.id, user: U.ben.id });
    await until(async () => (await probe(s)).peers.some((p) => p.user === U.ben.id), 15000, 'Sol subscribed to B\'s feed');
    await sleep(500);
    const e = await hear(s, U.ben.id, 3000);
    found.forced = { peak: e.peak, seen: e.seen, n: e.n, bPublishing: (await probe(b)).publishing };
    assert.ok(e.seen > 0, `Sol's subscription to B plays: ${fmt(e)}`);
    assert.ok((await probe(b)).publishing, 'B was publishing all along');
    assert.ok(e.peak < SILENT, `Sol hears nothing from B: ${fmt(e)}`);
    /* B stops; the page back to what venued says */
    await micButton(b).click();
    await b.evaluate(async () => {
        const m = await import('/js/app/voice.js');
        m.onVoice({ voice: window.__venue.client.voice, previous: null });
    });
    await until(async () => !(await probe(b)).publishing, 10000, 'B stopped');
    await s.evaluate(async () => {
        const m = await import('/js/app/voice.js');
        const p = window.__venue.client.voicePeers;
        if (p) m.onVoicePeers(p);
    });
}));

test('5. a speaker in the plenary is heard in the hall and in the overflow room, the same in both ears', { skip, timeout: 90000 }, () => scenario(async () => {
    const { b, s } = pages;
    pages.o = await enter(U.oli, 'plenary-overflow');
    const o = pages.o;
    const vo = await o.evaluate(() => window.__venue.client.voice);
    assert.equal(vo.room, 0, 'the overflow room publishes nothing');
    assert.equal(vo.mode, 'stage');
    const vs = await s.evaluate(() => window.__venue.client.voice);
    assert.equal(vs.publish, true, 'a speaker may publish in the hall');
    assert.equal(vo.listen, vs.room, 'the overflow listens to the hall');
    await micButton(s).click();
    await until(async () => (await probe(s)).publishing, 20000, 'Sol publishing');
    for (const [who, p] of [['hall', b], ['overflow', o]]) {
        await untilHeard(p, U.sol.id, 15000, `the ${who} hears Sol`);
        const e = await hear(p, U.sol.id);
        found[`stage_${who}`] = { peak: +e.peak.toFixed(4), meanL: +e.meanL.toFixed(4), meanR: +e.meanR.toFixed(4),
            ratio: +e.ratio.toFixed(3), loud: e.loud };
        assert.ok(e.peak > HEARD, `the ${who} hears Sol: ${fmt(e)}`);
        assert.ok(e.ratio > 0.95 && e.ratio < 1.05,
            `not spatialised in the ${who}: left/right ${e.ratio.toFixed(3)} (median of ${e.loud}): ${fmt(e)}`);
    }
    /* a speaker does not hear (and download) their own voice: an echo, which
     * their echo canceller would then take out of what they send */
    const self = (await probe(s)).peers.filter((p) => p.user === U.sol.id);
    found.speakerHearsSelf = self.length > 0;
    assert.equal(self.length, 0, `Sol's page is not subscribed to Sol's own feed: ${JSON.stringify(self)}`);
    const listed = await s.evaluate((id) => (window.__venue.client.voicePeers?.peers || []).filter((p) => p.user === id), U.sol.id);
    found.venuedListsSpeakerToSelf = listed.length > 0;
    assert.deepEqual(listed, [], 'venued\'s voice_peers for Sol do not list Sol\'s own feed');
}));

test('the voice pages log no page errors', { skip }, (t) => {
    const all = {};
    for (const [k, p] of Object.entries(pages)) all[k] = p.errors;
    found.consoleErrors = all;
    for (const [k, p] of Object.entries(pages)) {
        assert.deepEqual(p.errors.filter((x) => x.startsWith('pageerror')), [], `${k}: no uncaught errors`);
    }
});

test('what was measured', { skip }, (t) => {
    t.diagnostic(`voice numbers: ${JSON.stringify(found)}`);
});
