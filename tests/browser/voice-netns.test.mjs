/*
 * voice-netns.test.mjs - voice works with the real `./venue run`, in a
 * network namespace that has nothing but lo and one TUN address (the
 * harness: tests/voice/netns.mjs). No STUN server, nothing installed, no
 * route out.
 *
 * Two Chromium pages on venued's origin use janus.js directly against the
 * Janus that `./venue run` started: page A publishes Chromium's fake
 * microphone into a VideoRoom made for this test (with the room key from
 * data/janus/secrets.env, a Janus token added through the admin API);
 * page B subscribes and measures the energy it hears with an AnalyserNode.
 * A speaks, A mutes (silence), A speaks again. ICE must pair on the TUN
 * address. venued's own `voice` message is for later tests.
 *
 * Skipped, saying why, where a namespace cannot be made (no unshare, no
 * /dev/net/tun, not root) or janus or Chromium is missing.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TUN_ADDR, netnsAvailable, enterNetns, startVenue, launchChromium, stopAll } from '../voice/netns.mjs';

function which(cmd) {
    return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const skip = netnsAvailable()
    || (!which('janus') && 'the janus binary is not installed (Debian package janus; ./venue run installs it)')
    || (!existsSync(chromiumPath) && `no Chromium at ${chromiumPath} (Debian package chromium; ./venue test installs it)`)
    || false;
if (skip) console.log(`voice in a network namespace: skipped, ${skip}`);
else await enterNetns(import.meta.url); /* from here on, inside the namespace */

/*
 * Where the pages get janus.js and webrtc-adapter: from venued itself,
 * /vendor/janus/, where ./venue copies them next to the client; else (a
 * tree from before that) from node_modules, served by the browser on
 * venued's origin (/__netns/).
 */
async function janusLib(url) {
    const served = async (f) => (await fetch(`${url}/vendor/janus/${f}`, { method: 'HEAD' })).ok;
    if (await served('janus.es.js') && await served('adapter.js')) return { lib: '/vendor/janus', files: null };
    const janus = join(ROOT, 'node_modules/janus-gateway/dist/janus.es.js');
    const adapter = join(ROOT, 'node_modules/webrtc-adapter/out/adapter.js');
    if (!existsSync(janus) || !existsSync(adapter)) {
        throw new Error('janus.js is missing: venued serves no /vendor/janus/ and node_modules has no janus-gateway and '
            + 'webrtc-adapter (run ./venue run once where the npm registry is reachable)');
    }
    return { lib: '/__netns', files: { 'janus.es.js': readFileSync(janus), 'adapter.js': readFileSync(adapter) } };
}

/*
 * The test page. venued's Content-Security-Policy is script-src 'self', as
 * for the real client: no inline script, every script a file of venued's
 * origin (here served by the browser itself, see page() below).
 */
const page = (lib) => `<!doctype html><meta charset="utf-8"><title>voice in a namespace</title>
<audio id="out" muted autoplay></audio>
<script src="/__netns/guard.js"></script>
<script src="${lib}/adapter.js"></script>
<script type="module" src="/__netns/voice.js?lib=${encodeURIComponent(lib)}"></script>`;

const GUARD = `  /* No STUN, ever: every PeerConnection's configuration is checked. */
  window.iceConfigs = [];
  const RealPC = window.RTCPeerConnection;
  window.RTCPeerConnection = function (cfg, ...rest) {
    window.iceConfigs.push(JSON.stringify((cfg && cfg.iceServers) || []));
    return new RealPC(cfg, ...rest);
  };
  window.RTCPeerConnection.prototype = RealPC.prototype;
`;

/* window.voice.{publish, subscribe, energy, pair, mute, unmute}, on janus.js. */
const VOICE_JS = `const { default: Janus } = await import(new URL(import.meta.url).searchParams.get('lib') + '/janus.es.js');
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
let handle = null, analyser = null;
const events = []; /* what happened, for a failure's message */
const note = (what) => events.push(Math.round(performance.now()) + ' ' + what);

function session(server, token) {
  return new Promise((resolve, reject) => {
    Janus.init({ debug: false, callback: () => {
      const j = new Janus({ server, token, iceServers: [], success: () => resolve(j),
        error: (e) => reject(new Error('janus session: ' + e)) });
    } });
  });
}

function attach(j, callbacks) {
  return new Promise((resolve, reject) => {
    j.attach({ plugin: 'janus.plugin.videoroom', ...callbacks,
      success: resolve, error: (e) => reject(new Error('attach: ' + e)) });
  });
}

async function publish({ server, token, room, id }) {
  const j = await session(server, token);
  let up, failed;
  const done = new Promise((res, rej) => { up = res; failed = rej; });
  const h = await attach(j, {
    onmessage: (msg, jsep) => {
      if (msg.error) failed(new Error('publisher: ' + msg.error));
      if (msg.videoroom === 'joined') {
        h.createOffer({ tracks: [{ type: 'audio', capture: true, recv: false }],
          success: (offer) => h.send({ message: { request: 'publish', audio: true, video: false }, jsep: offer }),
          error: (e) => failed(new Error('createOffer: ' + (e.message || e))) });
      }
      if (jsep) h.handleRemoteJsep({ jsep });
    },
    iceState: (state) => note('publisher ICE ' + state),
    webrtcState: (on, why) => on ? up({ id }) : failed(new Error('publisher PeerConnection down: ' + why)),
  });
  handle = h;
  h.send({ message: { request: 'join', ptype: 'publisher', room, id, display: 'A', token } });
  return Promise.race([done, wait(20000).then(() => { throw new Error('publisher: no webrtcup in 20 s: ' + events.join(', ')); })]);
}

async function subscribe({ server, token, room, feed }) {
  const j = await session(server, token);
  let got, failed, heard = false, up = false;
  const done = new Promise((res, rej) => { got = res; failed = rej; });
  const both = () => { if (heard && up) got(true); };
  const h = await attach(j, {
    onmessage: (msg, jsep) => {
      if (msg.error) failed(new Error('subscriber: ' + msg.error));
      if (jsep) {
        h.createAnswer({ jsep, tracks: [],
          success: (answer) => h.send({ message: { request: 'start', room }, jsep: answer }),
          error: (e) => failed(new Error('createAnswer: ' + (e.message || e))) });
      }
    },
    onremotetrack: (track, mid, on) => {
      note('subscriber track ' + track.kind + ' ' + on);
      if (!on || track.kind !== 'audio' || analyser) return;
      const stream = new MediaStream([track]);
      const el = document.getElementById('out');
      el.muted = true; /* Chromium feeds WebAudio only a stream that also plays */
      el.srcObject = stream;
      el.play().catch(() => {});
      const ctx = new AudioContext();
      ctx.resume();
      analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      heard = true;
      both();
    },
    iceState: (state) => note('subscriber ICE ' + state),
    webrtcState: (on, why) => {
      note('subscriber webrtcState ' + on);
      if (!on) failed(new Error('subscriber PeerConnection down: ' + why));
      up = true;
      both();
    },
  });
  handle = h;
  h.send({ message: { request: 'join', ptype: 'subscriber', room, streams: [{ feed }], token } });
  return Promise.race([done, wait(20000).then(() => { throw new Error('subscriber: no audio track and webrtcup in 20 s: ' + events.join(', ')); })]);
}

/* RMS of the signal in 2048-sample windows every 50 ms, for ms: the peak and the mean. */
async function energy(ms) {
  const buf = new Float32Array(analyser.fftSize);
  const rms = [];
  for (const end = performance.now() + ms; performance.now() < end;) {
    analyser.getFloatTimeDomainData(buf);
    let s = 0;
    for (const x of buf) s += x * x;
    rms.push(Math.sqrt(s / buf.length));
    await wait(50);
  }
  return { peak: Math.max(...rms), mean: rms.reduce((a, b) => a + b, 0) / rms.length, windows: rms.length };
}

/* The ICE pair in use: the addresses of both ends. */
async function pair() {
  const stats = await handle.webrtcStuff.pc.getStats();
  let sel = null;
  stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) sel = stats.get(s.selectedCandidatePairId); });
  if (!sel) return null;
  const c = (id) => { const x = stats.get(id); return x && { address: x.address || x.ip, port: x.port, type: x.candidateType }; };
  return { local: c(sel.localCandidateId), remote: c(sel.remoteCandidateId) };
}

window.voice = { publish, subscribe, energy, pair, mute: () => handle.muteAudio(), unmute: () => handle.unmuteAudio() };
window.voiceReady = true;
`;

let dataDir = null;
after(async () => {
    await stopAll();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('two Chromium pages talk through the Janus of ./venue run, inside a namespace with only lo and a TUN address', { skip, timeout: 280000 }, async (t) => {
    const { JanusClient } = await import('../voice/janus.mjs');
    dataDir = mkdtempSync(join(tmpdir(), 'venue-netns-'));
    const started = Date.now();
    const v = await startVenue({ port: 8080, data: dataDir });
    t.diagnostic(`./venue run: voice up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.doesNotMatch(v.log(), /venue: installing/, 'nothing installed: everything was there');
    const env = v.janus;
    const { lib, files } = await janusLib(v.url);
    t.diagnostic(`janus.js from ${lib}/`);
    assert.match(env.JANUS_WS_URL, /^ws:\/\/127\.0\.0\.1:\d+$/);

    /* A token for the pages, and a VideoRoom of this test's own that only it joins. */
    const token = `netns-${process.pid}-${Date.now()}`;
    const room = 7700000 + (process.pid % 100000);
    const admin = await JanusClient.open(env.JANUS_ADMIN_URL, 'janus-admin-protocol', env);
    const api = await JanusClient.open(env.JANUS_WS_URL, 'janus-protocol', env);
    let keepalive = null;
    try {
        const added = await admin.request({ janus: 'add_token', token, plugins: ['janus.plugin.videoroom'] }, { admin: true });
        assert.equal(added.janus, 'success', JSON.stringify(added));
        const s = await api.request({ janus: 'create' }, { secret: true });
        assert.equal(s.janus, 'success', JSON.stringify(s));
        const session_id = s.data.id;
        keepalive = setInterval(() => api.request({ janus: 'keepalive', session_id }, { secret: true }).catch(() => {}), 20000);
        const h = await api.request({ janus: 'attach', session_id, plugin: 'janus.plugin.videoroom' }, { secret: true });
        assert.equal(h.janus, 'success', JSON.stringify(h));
        const made = await api.request({ janus: 'message', session_id, handle_id: h.data.id, body: {
            request: 'create', room, permanent: false, admin_key: env.JANUS_ROOM_KEY, allowed: [token],
            publishers: 4, audiocodec: 'opus', description: 'voice-netns test',
        } }, { secret: true });
        assert.equal(made.plugindata?.data?.videoroom, 'created', JSON.stringify(made));

        const browser = await launchChromium();
        const open = async (name) => {
            // The pages run janus.js straight against Janus's own port, which
            // venued's CSP (connect-src 'self') rightly refuses a page of its
            // origin; what is tested here is the media in the namespace.
            const context = await browser.newContext({ bypassCSP: true });
            const p = await context.newPage();
            p.errors = [];
            p.on('pageerror', (e) => p.errors.push(`${name}: ${e.message}`));
            p.on('console', (m) => {
                if (m.type() === 'error') p.errors.push(`${name} console: ${m.text()}`);
            });
            /* The test's own scripts on venued's origin, served by the browser itself. */
            await p.route(`${v.url}/__netns/**`, (route) => {
                const file = new URL(route.request().url()).pathname.slice('/__netns/'.length);
                const body = { 'guard.js': GUARD, 'voice.js': VOICE_JS, ...files }[file];
                if (body === undefined) return route.fulfill({ status: 404, body: 'not here' });
                return route.fulfill({ contentType: 'text/javascript', body });
            });
            /* A document that venued itself served, then the test page in it:
             * Chromium's Local Network Access checks let a page loaded from
             * 127.0.0.1 open Janus' ws://127.0.0.1, and block one that the
             * browser made up (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS). */
            await p.goto(`${v.url}/healthz`);
            await p.setContent(page(lib));
            await p.waitForFunction(() => window.voiceReady === true, null, { timeout: 15000 }).catch((e) => {
                throw new Error(`${name}: the test page did not load janus.js (${e.message}): ${p.errors.join('; ')}`);
            });
            return p;
        };
        const a = await open('A');
        const b = await open('B');
        const server = env.JANUS_WS_URL;
        const feed = 424242;
        await a.evaluate((o) => window.voice.publish(o), { server, token, room, id: feed });
        await b.evaluate((o) => window.voice.subscribe(o), { server, token, room, feed });

        /* ICE paired on the TUN address: the namespace's only non-loopback one. */
        const pairA = await a.evaluate(() => window.voice.pair());
        const pairB = await b.evaluate(() => window.voice.pair());
        t.diagnostic(`ICE pairs: A ${JSON.stringify(pairA)}; B ${JSON.stringify(pairB)}`);
        assert.equal(pairA?.remote?.address, TUN_ADDR, 'the publisher reaches Janus on the TUN address');
        assert.equal(pairB?.remote?.address, TUN_ADDR, 'the subscriber reaches Janus on the TUN address');

        /* Let the jitter buffer and the analyser fill, then listen. */
        await b.waitForTimeout(1000);
        const speaking = await b.evaluate(() => window.voice.energy(3000));
        await a.evaluate(() => window.voice.mute());
        await b.waitForTimeout(1000);
        const silent = await b.evaluate(() => window.voice.energy(3000));
        await a.evaluate(() => window.voice.unmute());
        await b.waitForTimeout(1000);
        const again = await b.evaluate(() => window.voice.energy(3000));
        const f = (e) => `peak ${e.peak.toFixed(4)} mean ${e.mean.toFixed(4)} (${e.windows} windows)`;
        t.diagnostic(`energy at B (RMS): speaking ${f(speaking)}; A muted ${f(silent)}; A unmuted ${f(again)}`);
        assert.ok(speaking.peak > 0.05, `B hears A's fake microphone: ${f(speaking)}`);
        assert.ok(silent.peak < 0.01, `B hears silence while A is muted: ${f(silent)}`);
        assert.ok(again.peak > 0.05, `B hears A again after unmute: ${f(again)}`);

        for (const p of [a, b]) {
            const configs = await p.evaluate(() => window.iceConfigs);
            assert.ok(configs.length > 0 && configs.every((c) => c === '[]'), `no ICE server in any PeerConnection: ${configs}`);
            assert.deepEqual(p.errors, [], 'no page errors');
        }
        const health = await (await fetch(`${v.url}/healthz`)).json();
        assert.equal(health.voice, 'up', 'venued still has voice');
    } catch (e) {
        /* What venued and Janus said, for whoever reads the failure. */
        const janusLog = join(dataDir, 'janus', 'janus.log');
        process.stderr.write(`--- ./venue run (last 3000 bytes):\n${v.log().slice(-3000)}\n`);
        if (existsSync(janusLog)) process.stderr.write(`--- janus.log (last 3000 bytes):\n${readFileSync(janusLog, 'utf8').slice(-3000)}\n`);
        throw e;
    } finally {
        clearInterval(keepalive);
        admin.close();
        api.close();
    }
});
