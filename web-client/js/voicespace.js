/*
 * voicespace.js - where voices are heard from: the geometry that places a
 * listener (me) and each voice (the others) for WebAudio's PannerNode and
 * AudioListener, from the avatar poses the page already has.
 *
 * Pure functions, no DOM and no WebAudio: voice.js writes what they give
 * into the audio graph, and the Node tests check them. Both worlds share
 * one frame: the protocol's (right-handed, +Y up, metres) is WebAudio's
 * too, and an avatar at rest faces -Z (the way people look in view3d.js
 * and walk in app/moving.js), which is WebAudio's default forward.
 */

/* Ears and mouths above the floor, metres: voices come from heads, not feet. */
export const HEAD_HEIGHT = 1.5;

/*
 * The vector v = [x, y, z] turned by the unit quaternion q = [x, y, z, w]
 * (q v q*), written into out.
 */
export function rotate(q, v, out = [0, 0, 0]) {
    const [qx, qy, qz, qw] = q;
    const [vx, vy, vz] = v;
    /* t = 2 (q.xyz × v); v' = v + w t + q.xyz × t */
    const tx = 2 * (qy * vz - qz * vy);
    const ty = 2 * (qz * vx - qx * vz);
    const tz = 2 * (qx * vy - qy * vx);
    out[0] = vx + qw * tx + (qy * tz - qz * ty);
    out[1] = vy + qw * ty + (qz * tx - qx * tz);
    out[2] = vz + qw * tz + (qx * ty - qy * tx);
    return out;
}

const FORWARD = [0, 0, -1];
const UP = [0, 1, 0];

/*
 * The listener of my pose (p, q): {position, forward, up}, position at
 * head height, forward and up turned from rest (-Z, +Y) by q.
 */
export function listenerFrame(p, q) {
    return {
        position: headOf(p[0], p[1], p[2]),
        forward: rotate(q, FORWARD),
        up: rotate(q, UP),
    };
}

/* Where a voice comes from: the head of the avatar standing at (x, y, z). */
export function headOf(x, y, z, out = [0, 0, 0]) {
    out[0] = x;
    out[1] = y + HEAD_HEIGHT;
    out[2] = z;
    return out;
}
