/*
 * moving.js - my own avatar's movement: the controls' intent (controls.js)
 * or a click-to-move target turned into a walk on the room's floor, sent
 * to the server as my pose (the views' cameras follow state.me), the
 * server's corrections, and the hint while I walk through a doorway.
 * Something else may steer me (following someone, follow.js) until I move
 * by myself.
 */

import { quatOfYaw, yawOf } from '../venue-client.js';
import { Controls } from '../controls.js';
import { $ } from '../dom.js';
import { state, roomName } from './state.js';

const WALK_SPEED = 2.6; /* m/s; the server refuses more than --max-speed (10) */
const RUN_SPEED = 5;
const TURN_SPEED = 2.2; /* rad/s */

let controls = null;
let target = null; /* [x, z] of click-to-move */
let doorway = null; /* the portal I am standing in */
/* {pointFor(me) -> [x, z] | null, stop()} while something steers me; my own move stops it */
let guide = null;

const intent = { forward: 0, strafe: 0, turn: 0, run: false, dragYaw: 0, keyUsed: false };
const tmpP = [0, 0, 0];
const tmpQ = [0, 0, 0, 1];

export function startMoving() {
    controls = new Controls($('view'), $('touch'), onTap);
}

/* Removed from the venue: nothing moves me any more. */
export function stopMoving() {
    if (controls) controls.enabled = false;
    target = null;
}

/*
 * Let g steer me: every frame I walk towards g.pointFor(me) ([x, z], or
 * null to stand), until my own keys, drag or click move me (then g.stop()
 * is called) or steer(null).
 */
export function steer(g) {
    guide = g;
    target = null;
}

/* I moved by myself: whoever steered me lets go. */
function ownMove() {
    if (!guide) return;
    const g = guide;
    guide = null;
    target = null;
    g.stop();
}

/* Click-to-move: walk towards (x, z) on the floor. */
export function walkTo(x, z) {
    target = [x, z];
}

/*
 * In a new room I stand still, in no doorway. Returns whether my own walk
 * through a doorway brought me here.
 */
export function arrive() {
    const throughDoor = !!doorway;
    target = null;
    doorway = null;
    $('portal-hint').hidden = true;
    return throughDoor;
}

function onTap(clientX, clientY) {
    $('view').focus({ preventScroll: true });
    if (!state.view || !state.me) return;
    const pt = state.view.floorPointAt(clientX, clientY);
    if (!pt) return;
    ownMove();
    target = pt;
}

/* The server put me somewhere else (clamped, too fast): snap there. */
export function onPoseFix(d) {
    const me = state.me;
    if (!me) return;
    me.x = d.p[0];
    me.y = d.p[1];
    me.z = d.p[2];
    me.yaw = yawOf(d.q);
    target = null;
}

export function moveMe(dtS) {
    const me = state.me;
    const model = state.model;
    if (!me || !model) return;
    controls.read(intent);
    if (intent.keyUsed || intent.dragYaw) ownMove();
    if (intent.keyUsed) target = null;
    if (guide) target = guide.pointFor(me);
    let yaw = me.yaw + intent.turn * TURN_SPEED * dtS + intent.dragYaw;
    /* a far click-to-move target is jogged to */
    const far = target && Math.hypot(target[0] - me.x, target[1] - me.z) > 6;
    const speed = intent.run || far ? RUN_SPEED : WALK_SPEED;
    let fwd = intent.forward;
    let side = intent.strafe;
    if (target) {
        const dx = target[0] - me.x;
        const dz = target[1] - me.z;
        const dist = Math.hypot(dx, dz);
        if (dist < 0.15) {
            target = null;
        } else {
            const want = Math.atan2(-dx, -dz); /* yaw that faces the target */
            let d = want - yaw;
            while (d > Math.PI) d -= 2 * Math.PI;
            while (d < -Math.PI) d += 2 * Math.PI;
            const maxTurn = TURN_SPEED * 2 * dtS;
            yaw += Math.max(-maxTurn, Math.min(maxTurn, d));
            fwd = Math.abs(d) < 1.2 ? Math.min(1, dist / (speed * dtS + 1e-6)) : 0;
            side = 0;
        }
    }
    while (yaw > Math.PI) yaw -= 2 * Math.PI;
    while (yaw < -Math.PI) yaw += 2 * Math.PI;
    const len = Math.hypot(fwd, side);
    if (len > 1) {
        fwd /= len;
        side /= len;
    }
    let nx = me.x;
    let nz = me.z;
    if (fwd || side) {
        const step = speed * dtS;
        const sin = Math.sin(yaw);
        const cos = Math.cos(yaw);
        /* forward is -Z at yaw 0; right is +X */
        nx += (-sin * fwd + cos * side) * step;
        nz += (-cos * fwd - sin * side) * step;
        /* stay on the floor; slide along an edge rather than stop dead */
        if (!model.walkable(nx, nz)) {
            if (model.walkable(nx, me.z)) nz = me.z;
            else if (model.walkable(me.x, nz)) nx = me.x;
            else {
                nx = me.x;
                nz = me.z;
                target = null;
            }
        }
    }
    const moved = nx !== me.x || nz !== me.z || yaw !== me.yaw;
    me.x = nx;
    me.z = nz;
    me.y = model.floorAt(nx, nz, me.y);
    me.yaw = yaw;
    if (moved) {
        tmpP[0] = me.x;
        tmpP[1] = me.y;
        tmpP[2] = me.z;
        quatOfYaw(yaw, tmpQ);
        state.client.sendPose(tmpP, tmpQ);
    }
    const portal = model.portalAt(me.x, me.y, me.z);
    if (portal !== doorway) {
        doorway = portal;
        const hint = $('portal-hint');
        if (portal) {
            hint.textContent = `Going through to ${roomName(portal.room)}…`;
            hint.hidden = false;
        } else {
            hint.hidden = true;
        }
    }
}
