/*
 * janus.mjs - a real Janus for the tests, configured by venued's own
 * server/voice/janus-config.sh in a temporary folder, on ports of its own
 * (never the packaged service's 8188/7188), and a small client of its
 * WebSocket API.
 *
 *   const j = await startJanus();      // null when the janus binary is missing
 *   const api = await j.connect();     // the API ("janus-protocol")
 *   await api.request({ janus: 'create' }, { secret: true });
 *   await j.stop(); await j.restart();
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const ROOT = process.env.VENUE_ROOT || new URL('../..', import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function janusBinary() {
    const r = spawnSync('sh', ['-c', 'command -v janus'], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
}

/* Ports of this test run: spread by pid so that parallel tests differ. */
/* Below Linux's ephemeral range (32768 and up), where freePort() and every
 * client connection of the other tests take theirs. */
function ports() {
    const base = 21000 + (process.pid % 400) * 20;
    return { ws: base, admin: base + 1, rtp: `${base + 2}-${base + 19}` };
}

function readEnv(file) {
    const env = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line);
        if (m) env[m[1]] = m[2];
    }
    return env;
}

export async function startJanus({ extra = [] } = {}) {
    const bin = janusBinary();
    if (!bin) return null;
    const dir = mkdtempSync(join(tmpdir(), 'venue-janus-'));
    const p = ports();
    const cfg = spawnSync(join(ROOT, 'server/voice/janus-config.sh'),
        [dir, '--ws-port', String(p.ws), '--admin-port', String(p.admin), '--rtp-ports', p.rtp, ...extra],
        { encoding: 'utf8' });
    if (cfg.status !== 0) throw new Error(`janus-config.sh: ${cfg.stderr}`);
    const env = readEnv(join(dir, 'secrets.env'));
    const j = {
        dir, env, ports: p, proc: null,
        url: env.JANUS_WS_URL, adminUrl: env.JANUS_ADMIN_URL,
        async start() {
            this.proc = spawn(bin, ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-L', join(dir, 'janus.log'), '-N', '-o'],
                { stdio: 'ignore' });
            for (let i = 0; i < 100; i++) { /* up to 10 s */
                if (await canConnect(this.url, 'janus-protocol')) return;
                if (this.proc.exitCode !== null) break;
                await sleep(100);
            }
            throw new Error(`janus did not start: ${existsSync(join(dir, 'janus.log')) ? readFileSync(join(dir, 'janus.log'), 'utf8').slice(-800) : ''}`);
        },
        async stop(signal = 'SIGTERM') {
            if (!this.proc || this.proc.exitCode !== null) return;
            const done = new Promise((r) => this.proc.once('exit', r));
            this.proc.kill(signal);
            await Promise.race([done, sleep(5000)]);
            if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
        },
        async restart() { await this.stop(); await this.start(); },
        async cleanup() { await this.stop(); rmSync(dir, { recursive: true, force: true }); },
        connect(admin = false) { return JanusClient.open(admin ? this.adminUrl : this.url, admin ? 'janus-admin-protocol' : 'janus-protocol', env); },
    };
    await j.start();
    return j;
}

async function canConnect(url, proto) {
    return new Promise((resolve) => {
        const ws = new WebSocket(url, proto);
        const t = setTimeout(() => { ws.terminate(); resolve(false); }, 500);
        ws.on('open', () => { clearTimeout(t); ws.close(); resolve(true); });
        ws.on('error', () => { clearTimeout(t); resolve(false); });
    });
}

/* One WebSocket to a Janus API: request() matches replies by transaction
 * (an "ack" is skipped; the plugin's answer or an error settles it). */
export class JanusClient {
    static async open(url, proto, env) {
        const ws = new WebSocket(url, proto);
        await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
        return new JanusClient(ws, env);
    }

    constructor(ws, env) {
        this.ws = ws;
        this.env = env;
        this.n = 0;
        this.waiting = new Map();
        ws.on('message', (data) => {
            let m;
            try { m = JSON.parse(String(data)); } catch { return; }
            const w = this.waiting.get(m.transaction);
            if (!w || m.janus === 'ack') return;
            this.waiting.delete(m.transaction);
            w(m);
        });
    }

    /* body plus a transaction; secret: the API secret, admin: the admin secret. */
    request(body, { secret = false, admin = false, timeout = 5000 } = {}) {
        const transaction = `t${++this.n}`;
        const msg = { ...body, transaction };
        if (secret) msg.apisecret = this.env.JANUS_API_SECRET;
        if (admin) msg.admin_secret = this.env.JANUS_ADMIN_SECRET;
        return new Promise((resolve, reject) => {
            const t = setTimeout(() => { this.waiting.delete(transaction); reject(new Error(`janus: no answer to ${body.janus}`)); }, timeout);
            this.waiting.set(transaction, (m) => { clearTimeout(t); resolve(m); });
            this.ws.send(JSON.stringify(msg));
        });
    }

    close() { this.ws.close(); }
}
