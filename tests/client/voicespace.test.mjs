/*
 * web-client/js/voicespace.js in Node: the listener's frame from my pose's
 * quaternion, and where a voice comes from. The frame must agree with the
 * way the page walks and draws (app/moving.js, view3d.js: at yaw 0 people
 * face -Z, and yaw turns left), or a voice on my left would be heard on
 * my right.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rotate, listenerFrame, headOf, HEAD_HEIGHT } from '../../web-client/js/voicespace.js';
import { quatOfYaw, yawOf } from '../../web-client/js/venue-client.js';

const near = (a, b, what) => {
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-9, `${what}: ${JSON.stringify(a)} is not ${JSON.stringify(b)}`);
};

/* Where the listener hears a voice at world point s: +x right, -z ahead (WebAudio's own frame). */
function heardAt(frame, s) {
    const d = [s[0] - frame.position[0], s[1] - frame.position[1], s[2] - frame.position[2]];
    const f = frame.forward;
    const u = frame.up;
    const r = [f[1] * u[2] - f[2] * u[1], f[2] * u[0] - f[0] * u[2], f[0] * u[1] - f[1] * u[0]]; /* forward × up */
    const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    return { right: dot(d, r), ahead: dot(d, f), above: dot(d, u) };
}

test('rotate: the identity leaves a vector, a quarter turn about +Y takes -Z to -X', () => {
    near(rotate([0, 0, 0, 1], [1, 2, 3]), [1, 2, 3], 'identity');
    near(rotate(quatOfYaw(Math.PI / 2), [0, 0, -1]), [-1, 0, 0], 'a left turn');
    near(rotate(quatOfYaw(Math.PI), [0, 0, -1]), [0, 0, 1], 'a half turn');
    /* -q is the same orientation */
    const q = quatOfYaw(0.7);
    near(rotate(q.map((x) => -x), [0.3, 0.2, -1]), rotate(q, [0.3, 0.2, -1]), 'q and -q');
    /* a tilt about +X: forward goes up */
    const s = Math.SQRT1_2;
    near(rotate([s, 0, 0, s], [0, 0, -1]), [0, 1, 0], 'pitch up');
});

test('the listener faces the way the avatar walks, at head height', () => {
    for (const yaw of [0, 0.5, Math.PI / 2, -2, Math.PI]) {
        const q = quatOfYaw(yaw);
        const f = listenerFrame([3, 0.2, -4], q);
        /* app/moving.js: forward is (-sin yaw, 0, -cos yaw) */
        near(f.forward, [-Math.sin(yaw), 0, -Math.cos(yaw)], `forward at yaw ${yaw}`);
        near(f.up, [0, 1, 0], `up at yaw ${yaw}`);
        near(f.position, [3, 0.2 + HEAD_HEIGHT, -4], 'position');
        assert.ok(Math.abs(yawOf(q) - Math.atan2(-f.forward[0], -f.forward[2])) < 1e-9, 'the same yaw as the page draws');
    }
});

test('a voice on my left is heard on the left, one ahead ahead, whichever way I face', () => {
    for (const yaw of [0, 1, -2.5]) {
        const me = [1, 0, 1];
        const frame = listenerFrame(me, quatOfYaw(yaw));
        const fwd = [-Math.sin(yaw), 0, -Math.cos(yaw)];
        const right = [Math.cos(yaw), 0, -Math.sin(yaw)]; /* app/moving.js: strafing right */
        const left = headOf(me[0] - right[0] * 3, me[1], me[2] - right[2] * 3);
        const ahead = headOf(me[0] + fwd[0] * 5, me[1], me[2] + fwd[2] * 5);
        const l = heardAt(frame, left);
        assert.ok(l.right < -2.99 && Math.abs(l.ahead) < 1e-9, `left at yaw ${yaw}: ${JSON.stringify(l)}`);
        const a = heardAt(frame, ahead);
        assert.ok(a.ahead > 4.99 && Math.abs(a.right) < 1e-9 && Math.abs(a.above) < 1e-9, `ahead at yaw ${yaw}: ${JSON.stringify(a)}`);
    }
});

test('a voice comes from the head of its avatar, as far as the avatar is', () => {
    near(headOf(2, 0.5, -7), [2, 0.5 + HEAD_HEIGHT, -7], 'head');
    const out = [9, 9, 9];
    assert.equal(headOf(0, 0, 0, out), out, 'written into out');
    /* speaker and listener on the same floor: the distance is the avatars' */
    const f = listenerFrame([0, 0, 0], [0, 0, 0, 1]);
    const s = headOf(3, 0, 4);
    assert.equal(Math.hypot(s[0] - f.position[0], s[1] - f.position[1], s[2] - f.position[2]), 5);
});
