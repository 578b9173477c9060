/*
 * netns.mjs - a network namespace of its own for the voice tests, and the
 * real `./venue run` and Chromium inside it.
 *
 * Janus (libnice) never offers a loopback ICE candidate, so voice needs an
 * address that is not 127.0.0.1. A test file makes a fresh namespace and
 * runs itself in it again: `lo` up, and a TUN device (tests/voice/tunhold)
 * holding 10.77.0.1/24. Nothing has a route out of it: all the traffic
 * stays on that namespace's lo and TUN, and the TUN's packets are dropped.
 *
 *   import { netnsAvailable, enterNetns, startVenue, launchChromium, stopAll } from '../voice/netns.mjs';
 *   const skip = netnsAvailable();          // null, or why no namespace can be made here
 *   const ns = skip ? null : await enterNetns(import.meta.url);
 *   test('...', { skip }, async () => { const v = await startVenue({ port: 8080, data }); ... });
 *   after(stopAll);
 *
 * enterNetns: outside the namespace it runs this same file again, inside a
 * new one (`unshare --net --pid --fork --kill-child --mount-proc`), passes
 * its output through unchanged (node --test reads the inner run's report
 * as this file's) and exits with its code: it never returns there. Inside,
 * it brings lo and the TUN device up and returns {addr, iface}. The new
 * PID namespace is the last safety net: when the inner run ends, however
 * it ends, the kernel kills everything started in it (Janus, venued,
 * Chromium, tunhold). The inner run also ends when the outer one's pipe
 * closes (the outer was killed).
 *
 * Environment: VENUE_ROOT (the repository), VENUE_TUNHOLD (the tunhold
 * binary, set by CMake; without it tunhold.c is compiled with cc into a
 * temporary folder), CHROMIUM (default /usr/bin/chromium).
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = process.env.VENUE_ROOT || join(here, '..', '..');
const MARK = 'VENUE_IN_NETNS';
export const TUN_IFACE = 'vtun0';
export const TUN_ADDR = '10.77.0.1';
const TUN_CIDR = `${TUN_ADDR}/24`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const live = new Set(); /* {kill(), stop()} of everything started here */
let tunHolder = null; /* in live too: killed on exit, not by stopAll */

process.on('exit', () => {
    for (const x of live) x.kill();
});

function which(cmd) {
    const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
}

export function inNetns() {
    return process.env[MARK] === '1';
}

/* The tunhold binary: CMake's, or tunhold.c compiled now. null: none. */
let tunholdPath;
function tunhold() {
    if (tunholdPath !== undefined) return tunholdPath;
    tunholdPath = null;
    if (process.env.VENUE_TUNHOLD && existsSync(process.env.VENUE_TUNHOLD)) {
        tunholdPath = process.env.VENUE_TUNHOLD;
    } else if (which('cc')) {
        const dir = mkdtempSync(join(tmpdir(), 'venue-tunhold-'));
        const out = join(dir, 'tunhold');
        const r = spawnSync('cc', ['-O1', '-o', out, join(here, 'tunhold.c')], { encoding: 'utf8', timeout: 60000 });
        if (r.status === 0) {
            tunholdPath = out;
            process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
        } else {
            rmSync(dir, { recursive: true, force: true });
        }
    }
    return tunholdPath;
}

/*
 * null when a namespace with lo and a TUN device can be made here; else why
 * not, as a sentence for the skip message. Probed for real, once: a
 * throwaway namespace gets a TUN device (tunhold with stdin at its end
 * exits as soon as it is ready), so nothing is ever made outside one.
 */
let availability;
export function netnsAvailable() {
    if (availability !== undefined) return availability;
    availability = probe();
    return availability;
}

function probe() {
    if (inNetns()) return null;
    if (process.platform !== 'linux') return 'not Linux: no network namespaces';
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        return 'not root: making a network namespace with a TUN device needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)';
    }
    for (const cmd of ['unshare', 'ip']) {
        if (!which(cmd)) return `\`${cmd}\` is missing (Debian packages util-linux, iproute2)`;
    }
    try {
        accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch (e) {
        return `/dev/net/tun is missing or not usable (${e.code}): no TUN device can be made`;
    }
    const bin = tunhold();
    if (!bin) return 'tests/voice/tunhold could not be built (no VENUE_TUNHOLD and no working cc)';
    const r = spawnSync('unshare', ['--net', '--pid', '--fork', '--kill-child', '--mount-proc', '--',
        bin, 'vprobe0', TUN_CIDR], { encoding: 'utf8', timeout: 10000, input: '' });
    if (r.status !== 0 || !/^ready$/m.test(r.stdout || '')) {
        const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-2).join(' ');
        return `cannot make a network namespace with a TUN device here: ${why}`;
    }
    return null;
}

/* Outside: run fileUrl again inside a fresh namespace, and exit with its
 * code. Inside: bring lo and the TUN device up. */
export async function enterNetns(fileUrl) {
    if (inNetns()) return setUp();
    const why = netnsAvailable();
    if (why) throw new Error(`no network namespace: ${why}`);
    const file = fileURLToPath(fileUrl);
    const child = spawn('unshare', ['--net', '--pid', '--fork', '--kill-child', '--mount-proc', '--',
        process.execPath, ...process.execArgv, file, ...process.argv.slice(2)], {
        env: { ...process.env, [MARK]: '1', VENUE_TUNHOLD: tunhold() },
        stdio: ['pipe', 'inherit', 'inherit'], /* stdin: the inner run's lifeline */
    });
    /* unshare ignores INT and TERM while it waits: close the inner run's
     * lifeline so that it stops (and the namespace with it), and kill
     * unshare if that takes long (--kill-child then kills the inner run). */
    const stop = () => {
        child.stdin.end();
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, stop);
    const code = await new Promise((resolve) => {
        child.on('error', (e) => {
            process.stderr.write(`netns: unshare: ${e.message}\n`);
            resolve(1);
        });
        child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1)));
    });
    process.exit(code);
    return null; /* not reached */
}

async function setUp() {
    /* The outer run is gone (its pipe closed): end, and the namespace with us. */
    process.stdin.on('end', () => {
        process.stderr.write('netns: the outer test run went away; stopping\n');
        process.exit(1);
    });
    process.stdin.on('error', () => process.exit(1));
    process.stdin.resume();
    process.stdin.unref();

    const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8', timeout: 10000 });
    if (lo.status !== 0) throw new Error(`netns: ip link set lo up: ${lo.stderr || lo.error?.message}`);
    const bin = process.env.VENUE_TUNHOLD || tunhold();
    if (!bin) throw new Error('netns: no tunhold binary');
    const proc = spawn(bin, [TUN_IFACE, TUN_CIDR], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    const holder = {
        kill() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        },
        async stop() {
            if (proc.exitCode !== null || proc.signalCode !== null) return;
            const gone = new Promise((r) => proc.once('exit', r));
            proc.stdin.end();
            await Promise.race([gone, sleep(2000)]);
            holder.kill();
        },
    };
    live.add(holder);
    tunHolder = holder;
    /* It lives as long as this process, and keeps nobody waiting for it. */
    proc.unref();
    for (const stream of [proc.stdin, proc.stdout, proc.stderr]) stream.unref?.();
    for (let i = 0; i < 100 && !/^ready$/m.test(out); i++) { /* up to 5 s */
        if (proc.exitCode !== null) break;
        await sleep(50);
    }
    if (!/^ready$/m.test(out)) {
        holder.kill();
        throw new Error(`netns: tunhold did not get ${TUN_IFACE} up: ${err.trim() || 'no answer in 5 s'}`);
    }
    const show = spawnSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }).stdout;
    if (!show.includes(`${TUN_ADDR}/24`)) throw new Error(`netns: ${TUN_ADDR} is not on ${TUN_IFACE}:\n${show}`);
    return { iface: TUN_IFACE, addr: TUN_ADDR };
}

export function readEnvFile(file) {
    const env = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line);
        if (m) env[m[1]] = m[2];
    }
    return env;
}

/* What node_modules lacks of package-lock.json, or null: venue's npm_needed. */
function npmStale() {
    let lock;
    try {
        lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    } catch (e) {
        return `package-lock.json: ${e.message}`;
    }
    for (const [path, want] of Object.entries(lock.packages || {})) {
        if (!path.startsWith('node_modules/') || want.link) continue;
        let have;
        try {
            have = JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8'));
        } catch {
            if (want.optional) continue;
            return `${path} is missing`;
        }
        if (want.version && have.version !== want.version) return `${path} is ${have.version}, not ${want.version}`;
    }
    return null;
}

/*
 * `./venue run --port P --data D --no-demo-feed [extra]` from the repository
 * root: the command people run, with nothing installed if all is there
 * (venue's npm_needed and missing_packages). It builds build/ when it is
 * stale. Resolves when /healthz says voice is up (within timeoutMs: the
 * first build can take minutes). Returns {url, port, data, janus (the
 * secrets.env values), log(), stop()}. The script runs in a process group
 * of its own: stop() sends it SIGTERM (venued shuts down, then the script
 * stops Janus), and kills the group if that takes over 10 s.
 */
export async function startVenue({ port = 8080, data, extra = [], timeoutMs = 240000 } = {}) {
    if (!data) throw new Error('startVenue: data folder required');
    /* In here, npm ci would reach for the registry (and it empties
     * node_modules first): say so instead. The venue script checks the same. */
    const stale = npmStale();
    if (stale) {
        throw new Error(`node_modules does not match package-lock.json (${stale}): `
            + 'run ./venue run (or npm ci) once where the npm registry is reachable');
    }
    /* The script's and venued's own VENUE_* settings come from the flags only. */
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE_')));
    const proc = spawn(join(ROOT, 'venue'), ['run', '--port', String(port), '--data', data, '--no-demo-feed', ...extra], {
        cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((r) => proc.once('exit', r));
    const gone = () => proc.exitCode !== null || proc.signalCode !== null;
    const group = (sig) => {
        try {
            process.kill(-proc.pid, sig);
        } catch {
            /* gone */
        }
    };
    const v = {
        port,
        data,
        url: `http://127.0.0.1:${port}`,
        log: () => log,
        janus: null,
        health: null,
        kill() {
            group('SIGKILL');
        },
        async stop() {
            live.delete(v);
            if (!gone()) {
                proc.kill('SIGTERM');
                await Promise.race([exited, sleep(10000)]);
            }
            group('SIGKILL'); /* whatever of the group is left (Janus, a build) */
        },
    };
    live.add(v);
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
        if (gone()) throw new Error(`./venue run exited (${proc.exitCode ?? proc.signalCode}) before voice was up:\n${log.slice(-4000)}`);
        try {
            const r = await fetch(`${v.url}/healthz`, { signal: AbortSignal.timeout(1000) });
            last = await r.text();
            const h = JSON.parse(last);
            if (h.voice === 'up') {
                v.health = h;
                break;
            }
        } catch {
            /* not listening yet (building, or starting) */
        }
        if (Date.now() > deadline) {
            throw new Error(`voice not up within ${Math.round(timeoutMs / 1000)} s (last /healthz: ${last}):\n${log.slice(-4000)}`);
        }
        await sleep(250);
    }
    v.janus = readEnvFile(join(data, 'janus', 'secrets.env'));
    return v;
}

/* Chromium with a fake microphone that needs no permission prompt, and
 * audio that plays without a gesture. */
export const CHROMIUM_VOICE_FLAGS = ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launchChromium({ args = [] } = {}) {
    const { chromium } = await import('playwright-core');
    /* A browser server, not chromium.launch(): its process is ours to kill
     * (a Browser has no process()), and the page side connects to it. */
    const server = await chromium.launchServer({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        args: [...CHROMIUM_VOICE_FLAGS, ...args],
        timeout: 30000,
    });
    const browser = await chromium.connect(server.wsEndpoint(), { timeout: 30000 });
    const b = {
        browser,
        kill() {
            server.process().kill('SIGKILL');
        },
        async stop() {
            live.delete(b);
            await Promise.race([browser.close().catch(() => {}), sleep(10000)]);
            await Promise.race([server.close().catch(() => {}), sleep(10000)]);
            b.kill();
        },
    };
    live.add(b);
    return browser;
}

/* Stop the venues and browsers started here. The TUN device stays up until
 * this process ends (tunhold's stdin closes with it). */
export async function stopAll() {
    for (const x of [...live]) {
        if (x === tunHolder) continue;
        await x.stop();
        live.delete(x);
    }
}
