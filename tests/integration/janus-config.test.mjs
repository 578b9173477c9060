/*
 * The Janus that venued configures (server/voice/janus-config.sh): a real
 * Janus started from it answers only requests that carry the API secret
 * (or a token venued added), loads only the plugins venued uses, lets
 * nobody but the holder of the room key create rooms, listens on
 * 127.0.0.1 only, and keeps its secrets out of others' reach. The secrets
 * survive rewriting the configuration.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { startJanus, janusBinary } from '../voice/janus.mjs';

const ROOT = process.env.VENUE_ROOT || new URL('../..', import.meta.url).pathname;
let janus;

before(async () => {
    if (janusBinary()) janus = await startJanus();
});

after(async () => {
    if (janus) await janus.cleanup();
});

const skip = !janusBinary() && 'the janus binary is not installed (Debian package janus; ./venue test installs it)';

test('requests without the API secret are refused; with it a session is made', { skip }, async () => {
    const api = await janus.connect();
    try {
        const bare = await api.request({ janus: 'create' });
        assert.equal(bare.janus, 'error');
        assert.equal(bare.error.code, 403, JSON.stringify(bare));
        const wrong = await api.request({ janus: 'create', apisecret: 'guess' });
        assert.equal(wrong.janus, 'error');
        const ok = await api.request({ janus: 'create' }, { secret: true });
        assert.equal(ok.janus, 'success', JSON.stringify(ok));
        assert.ok(Number.isInteger(ok.data.id));
    } finally {
        api.close();
    }
});

test('only VideoRoom is loaded, and only the room key creates rooms', { skip }, async () => {
    const api = await janus.connect();
    try {
        const s = (await api.request({ janus: 'create' }, { secret: true })).data.id;
        const echo = await api.request({ janus: 'attach', session_id: s, plugin: 'janus.plugin.echotest' }, { secret: true });
        assert.equal(echo.janus, 'error', 'echotest is not loaded');
        const ab = await api.request({ janus: 'attach', session_id: s, plugin: 'janus.plugin.audiobridge' }, { secret: true });
        assert.equal(ab.janus, 'error', 'audiobridge is not loaded');
        for (const plugin of ['janus.plugin.videoroom']) {
            const h = await api.request({ janus: 'attach', session_id: s, plugin }, { secret: true });
            assert.equal(h.janus, 'success', `${plugin}: ${JSON.stringify(h)}`);
            const handle = h.data.id;
            const create = (extra) => api.request({
                janus: 'message', session_id: s, handle_id: handle,
                body: { request: 'create', room: 4242, permanent: false, ...extra },
            }, { secret: true });
            const refused = await create({});
            assert.equal(refused.plugindata.data.error_code !== undefined, true, `${plugin} without the key: ${JSON.stringify(refused)}`);
            const made = await create({ admin_key: janus.env.JANUS_ROOM_KEY });
            assert.equal(made.plugindata.data.room, 4242, `${plugin} with the key: ${JSON.stringify(made)}`);
        }
    } finally {
        api.close();
    }
});

test('the admin API takes the admin secret only; tokens it adds let a browser in without the API secret', { skip }, async () => {
    const admin = await janus.connect(true);
    const api = await janus.connect();
    try {
        const refused = await admin.request({ janus: 'add_token', token: 'tok-1', admin_secret: 'guess' });
        assert.equal(refused.janus, 'error');
        const added = await admin.request({ janus: 'add_token', token: 'tok-1', plugins: ['janus.plugin.videoroom'] }, { admin: true });
        assert.equal(added.janus, 'success', JSON.stringify(added));
        const withToken = await api.request({ janus: 'create', token: 'tok-1' });
        assert.equal(withToken.janus, 'success', JSON.stringify(withToken));
        const badToken = await api.request({ janus: 'create', token: 'tok-2' });
        assert.equal(badToken.janus, 'error');
    } finally {
        admin.close();
        api.close();
    }
});

test('it listens on 127.0.0.1 only, and its secrets and configuration are the owner\'s alone', { skip }, () => {
    /* /proc/net/tcp: local address in hex, 0100007F is 127.0.0.1, state 0A is LISTEN */
    const listening = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
        .map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === '0A').map((f) => f[1]);
    for (const port of [janus.ports.ws, janus.ports.admin]) {
        const hex = port.toString(16).toUpperCase().padStart(4, '0');
        const mine = listening.filter((a) => a.endsWith(`:${hex}`));
        assert.ok(mine.length > 0, `something listens on ${port}`);
        assert.deepEqual(mine, [`0100007F:${hex}`], `port ${port} only on 127.0.0.1`);
    }
    for (const f of ['secrets.env', 'janus.jcfg', 'janus.transport.websockets.jcfg']) {
        assert.equal(statSync(join(janus.dir, f)).mode & 0o077, 0, `${f} is the owner's alone`);
    }
    const before = readFileSync(join(janus.dir, 'secrets.env'), 'utf8');
    const again = spawnSync(join(ROOT, 'server/voice/janus-config.sh'),
        [janus.dir, '--ws-port', String(janus.ports.ws), '--admin-port', String(janus.ports.admin)], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(join(janus.dir, 'secrets.env'), 'utf8'), before, 'the secrets are kept');
    const bad = spawnSync(join(ROOT, 'server/voice/janus-config.sh'), [janus.dir, '--ws-port', 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--ws-port: not a positive number: x/);
    const loops = spawnSync(join(ROOT, 'server/voice/janus-config.sh'), [janus.dir, '--event-loops', '0'], { encoding: 'utf8' });
    assert.equal(loops.status, 2);
    assert.match(loops.stderr, /--event-loops: not a positive number: 0/);
    /* media threads shared by every handle, one per CPU, not a thread per handle */
    const general = readFileSync(join(janus.dir, 'janus.jcfg'), 'utf8');
    assert.match(general, new RegExp(`\\bevent_loops = ${availableParallelism()}\\b`));
});
