/*
 * crowd.mjs - a full plenary, for the crowd tests (crowd.test.mjs,
 * crowd-fps.test.mjs). 40 real `ws` clients walk in the plenary (real
 * server, real frames), and the page's documented stress hook
 * (?simulate=460) adds 460 more walking avatars fed through the client's
 * own message path (see PROTOCOL.md, "JavaScript client module").
 */

import WebSocket from 'ws';
import { startVenued, launchBrowser, newPerson, join, until, stopAll, sleep } from './harness.mjs';

export const REAL = 40;
export const SIMULATED = 460;
const SETTLE_MS = 7000; /* shaders, models, adaptive quality */

let walkers = [];
let walkTimer = null;

/* venued with REAL people walking in circles in the plenary at 10 poses/s. Returns {venued, chrome}. */
export async function startCrowd() {
    const venued = await startVenued();
    const chrome = await launchBrowser();
    walkers = [];
    for (let i = 0; i < REAL; i++) {
        const ws = new WebSocket(`ws://127.0.0.1:${venued.port}/ws`, 'venue.v1');
        const w = { ws, ready: false, a: (i / REAL) * Math.PI * 2, r: 4 + (i % 8) };
        ws.on('message', (data) => {
            const m = JSON.parse(String(data));
            if (m.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room: 'plenary' }));
            if (m.type === 'joined') w.ready = true;
        });
        ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', name: `Walker ${i}` })));
        ws.on('error', () => {});
        walkers.push(w);
    }
    await until(() => walkers.every((w) => w.ready), 15000, 'walkers in the plenary');
    const t0 = Date.now();
    walkTimer = setInterval(() => {
        const t = (Date.now() - t0) / 1000;
        for (const w of walkers) {
            if (w.ws.readyState !== 1) continue;
            const a = w.a + t * 0.25;
            const yaw = a + Math.PI;
            w.ws.send(JSON.stringify({
                type: 'pose',
                p: [+(Math.cos(a) * w.r).toFixed(3), 0, +(2 + Math.sin(a) * w.r * 0.6).toFixed(3)],
                q: [0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2)],
            }));
        }
    }, 100);
    return { venued, chrome };
}

export async function stopCrowd() {
    clearInterval(walkTimer);
    for (const w of walkers) w.ws.terminate();
    await stopAll();
}

/* A page in the plenary with the SIMULATED people added, once it draws everyone and has settled. Returns {page, count}. */
export async function watchCrowd({ venued, chrome }) {
    const page = await newPerson(chrome.browser);
    await join(page, venued.url, 'Crowd watcher', { query: `?room=plenary&simulate=${SIMULATED}` });
    await until(() => page.evaluate((n) => window.__venue.count() >= n, REAL + SIMULATED), 15000, 'everyone in the room');
    const count = await page.evaluate(() => window.__venue.count());
    await sleep(SETTLE_MS);
    return { page, count };
}
