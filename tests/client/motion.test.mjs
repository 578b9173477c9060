/*
 * web-client/js/motion.js in Node: remote avatars drawn ~100 ms behind,
 * interpolated between 20 Hz ticks, holding still when they stop, and
 * extrapolated for at most ~200 ms when frames are late.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Motion, inkColourOf, luminanceOfHsl } from '../../web-client/js/motion.js';

const Q = [0, 0, 0, 1];
const out = new Float32Array(3);

/* avatar "a" walks +x at 2 m/s; frame k arrives at 1000 + k*50 ms local time */
function walk(m, frames, { from = 0, jitter = () => 0 } = {}) {
    for (let k = from; k < from + frames; k++) {
        m.onPoses(100 + k, 20, [{ id: 'a', p: [k * 0.1, 0, 0], q: Q }], 1000 + k * 50 + jitter(k));
    }
}

test('interpolates between ticks, about 100 ms behind', () => {
    const m = new Motion();
    walk(m, 10);
    /* last frame (k=9, x=0.9) arrived at 1450; at 1475 we draw 125 ms after tick 0's arrival, minus 100 */
    m.sample('a', 1475, out);
    assert.ok(Math.abs(out[0] - 0.75) < 1e-6, `x ${out[0]}`);
    m.sample('a', 1462.5, out);
    assert.ok(Math.abs(out[0] - 0.725) < 1e-6, 'between two samples, linearly');
});

test('smooth under jitter: arrival times do not shake the path', () => {
    const m = new Motion();
    walk(m, 40, { jitter: (k) => (k % 3) * 15 }); /* up to 30 ms late */
    let prev = null;
    for (let t = 2400; t < 2950; t += 16) {
        m.sample('a', t, out);
        if (prev !== null) {
            const v = (out[0] - prev) / 0.016;
            assert.ok(v > 1.5 && v < 2.5, `speed ${v.toFixed(2)} m/s at ${t}`);
        }
        prev = out[0];
    }
});

test('an avatar that stops holds still instead of sliding on', () => {
    const m = new Motion();
    walk(m, 10);
    /* ticks go on (someone else moves), "a" is absent: it stood still */
    for (let k = 10; k < 20; k++) m.onPoses(100 + k, 20, [{ id: 'b', p: [5, 0, 5], q: Q }], 1000 + k * 50);
    m.sample('a', 2000, out);
    assert.ok(Math.abs(out[0] - 0.9) < 1e-6, `held at 0.9, got ${out[0]}`);
    /* it sets off again: no glide from the old sample across the pause */
    m.onPoses(120, 20, [{ id: 'a', p: [1.0, 0, 0], q: Q }], 2000);
    m.sample('a', 2000 + 25 - 0, out);
    assert.ok(out[0] >= 0.9 - 1e-6 && out[0] <= 0.95 + 1e-6, `starts from where it stood, got ${out[0]}`);
});

test('late frames: extrapolation is capped at ~200 ms, then eases back to where it stopped', () => {
    const m = new Motion();
    walk(m, 10);
    /* no frame at all after 1450 (x=0.9 at tick 109) */
    m.sample('a', 1450 + 100 + 150, out);
    assert.ok(Math.abs(out[0] - (0.9 + 2 * 0.15)) < 1e-3, `150 ms ahead: ${out[0]}`);
    m.sample('a', 1450 + 100 + 200, out);
    assert.ok(Math.abs(out[0] - (0.9 + 2 * 0.2)) < 1e-3, `capped at 200 ms: ${out[0]}`);
    m.sample('a', 1450 + 100 + 300, out);
    assert.ok(Math.abs(out[0] - (0.9 + 2 * 0.1)) < 1e-3, `on its way back: ${out[0]}`);
    /* still nothing: nobody moved, it stands where it was last seen */
    m.sample('a', 1450 + 100 + 1000, out);
    assert.ok(Math.abs(out[0] - 0.9) < 1e-3, `back at 0.9: ${out[0]}`);
});

test('a jump of several metres is a teleport, not a walk', () => {
    const m = new Motion();
    walk(m, 5);
    m.onPoses(105, 20, [{ id: 'a', p: [20, 0, 0], q: Q }], 1250);
    m.sample('a', 1300, out);
    assert.equal(out[0], 20);
});

test('a far avatar of a tiered frame, sent once a second, glides a second behind instead of jumping', () => {
    const m = new Motion();
    /* "a" walks +x at 2 m/s; it is past the nearest tier: every 20 ticks */
    for (let k = 0; k < 4; k++) m.onPoses(100 + 20 * k, 20, [{ id: 'a', p: [2 * k, 0, 0], q: Q, far: true }], 1000 + 1000 * k);
    let prev = null;
    for (let t = 3110; t < 3990; t += 16) { /* the first glide, from a first sample, is longer */
        m.sample('a', t, out);
        if (prev !== null) {
            const v = (out[0] - prev) / 0.016;
            assert.ok(v > 1.8 && v < 2.2, `speed ${v.toFixed(2)} m/s at ${t}`);
        }
        prev = out[0];
    }
    /* it comes near: the near sample is drawn as it is, the glide given up */
    m.onPoses(161, 20, [{ id: 'a', p: [6.05, 0, 0], q: Q }], 4050);
    m.sample('a', 4100, out);
    assert.ok(Math.abs(out[0] - 6.05) < 1e-6, `near again: ${out[0]}`);
});

test('a name\'s colour in the chat is readable on the panels (WCAG AA) whatever the user id', () => {
    const paper2 = 0.86; /* --paper-2, #f5efe6 */
    let worst = Infinity;
    for (let i = 0; i < 3000; i++) {
        const id = `u-${(i * 2654435761 >>> 0).toString(16).padStart(16, '0')}`;
        const m = /^hsl\((\d+) 65% (\d+)%\)$/.exec(inkColourOf(id));
        assert.ok(m, inkColourOf(id));
        const l = luminanceOfHsl(Number(m[1]) / 360, 0.65, Number(m[2]) / 100);
        worst = Math.min(worst, (paper2 + 0.05) / (l + 0.05));
    }
    assert.ok(worst >= 4.5, `worst contrast ${worst.toFixed(2)}:1`);
});
