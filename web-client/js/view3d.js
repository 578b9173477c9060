/*
 * view3d.js - the room in three.js: the scene description turned into
 * geometry, every avatar drawn with shared instanced meshes, and name tags
 * for the nearest few dozen people.
 *
 * Owns the WebGL renderer, the camera that follows my avatar (or is put
 * where the projector view wants it, lookFrom), the room's meshes with the
 * showcases' live data, and the tag elements. Avatars come in as a list of plain objects
 * that the app updates in place every frame ({id, name, hue, x, y, z, yaw,
 * hand, away, speaking (a chat bubble until then), talking (voice: a ring
 * round the head), me}); per frame we only write numbers into
 * preallocated instance buffers, so hundreds of people cost a few draw
 * calls and no garbage.
 */

import * as THREE from '/vendor/three/three.module.js';
import { mergeGeometries } from './geom.js';
import { buildRoom, disposeTree } from './room3d.js';

const TAGS_MAX = 32; /* name tags drawn at once: the nearest people */
const TAG_PICK_MS = 250; /* how often the nearest set is chosen again */
const TAG_RANGE = 16; /* metres: further away, no tag even if few people */
const NEAR_MAX = 48; /* the nearest people get the detailed figure and a shadow */
const CAM_FOV = 55; /* degrees, vertical, with room enough behind me */
const CAM_ROOM = 4; /* metres behind me the camera wants; with less it rises and widens */
const CAM_RISE_PER_M = 0.6; /* metres higher per metre missing */
const CAM_FOV_PER_M = 5; /* degrees wider per metre missing */
const HEAD_Y = 1.38; /* the figure's head centre above its feet */
const HEAD_IN_VIEW = 0.8; /* my head no lower than this share of the half view below its middle */

/* Does this browser give us WebGL at all? (Checked once, context freed.) */
export function webglAvailable() {
    try {
        const c = document.createElement('canvas');
        const gl = c.getContext('webgl2') || c.getContext('webgl');
        if (!gl) return false;
        gl.getExtension('WEBGL_lose_context')?.loseContext();
        return true;
    } catch {
        return false;
    }
}

/*
 * The friendly figure as ONE geometry: a rounded body, a round head, two
 * eyes, a raised hand, a speech bubble and a ring round the head while
 * they speak. Per vertex, aLook says how it is coloured (rgb, or a = 1:
 * the person's colour lifted towards white by r) and aPart which marker
 * it belongs to (0 always, 1 hand, 2 bubble, 3 speaking ring). The
 * shader hides markers an avatar does not show. One instanced draw call
 * for everyone: per-instance overhead, not triangles, is what costs most
 * in software rendering.
 */
function figureGeometry(detailed) {
    const white = new THREE.Color();
    const parts = [];
    const add = (geo, look, part) => {
        const n = geo.attributes.position.count;
        const lookArr = new Float32Array(n * 4);
        const partArr = new Float32Array(n);
        for (let i = 0; i < n; i++) {
            lookArr.set(look, i * 4);
            partArr[i] = part;
        }
        geo.setAttribute('aLook', new THREE.BufferAttribute(lookArr, 4));
        geo.setAttribute('aPart', new THREE.BufferAttribute(partArr, 1));
        if (!geo.attributes.uv) geo.setAttribute('uv', new THREE.BufferAttribute(new Float32Array(n * 2), 2));
        parts.push(geo);
    };
    const abs = (hex) => {
        white.set(hex); /* to linear, the working colour space */
        return [white.r, white.g, white.b, 0];
    };
    const HAND = abs('#ffc94d');
    const TALK = abs('#22c55e');
    /* speaking: a ring round the head, level, seen from any side and from above */
    const ring = new THREE.TorusGeometry(0.4, detailed ? 0.04 : 0.05, detailed ? 6 : 3, detailed ? 24 : 10);
    ring.rotateX(Math.PI / 2);
    ring.translate(0, HEAD_Y, 0);
    add(ring, TALK, 3);
    if (detailed) {
        const body = new THREE.CapsuleGeometry(0.3, 0.55, 2, 9);
        body.translate(0, 0.3 + 0.55 / 2, 0);
        add(body, [0, 0, 0, 1], 0);
        const head = new THREE.SphereGeometry(0.24, 11, 6);
        head.translate(0, HEAD_Y, 0);
        add(head, [0.6, 0, 0, 1], 0);
        /* eyes on the front (-Z, the way people look) */
        for (const x of [-0.085, 0.085]) {
            const eye = new THREE.OctahedronGeometry(0.05, 0);
            eye.translate(x, 1.42, -0.2);
            add(eye, abs('#1b2233'), 0);
        }
        const arm = new THREE.CylinderGeometry(0.055, 0.055, 0.55, 5, 1, true);
        arm.translate(0.36, 1.45, 0);
        add(arm, HAND, 1);
        const palm = new THREE.SphereGeometry(0.11, 7, 4);
        palm.translate(0.36, 1.8, 0);
        add(palm, HAND, 1);
        const bubble = new THREE.SphereGeometry(0.16, 8, 5);
        bubble.scale(1.4, 1, 0.5);
        bubble.translate(0, 2.0, 0);
        add(bubble, abs('#ffffff'), 2);
        const tail = new THREE.ConeGeometry(0.06, 0.14, 4, 1, true);
        tail.rotateZ(Math.PI);
        tail.translate(-0.06, 1.84, 0);
        add(tail, abs('#ffffff'), 2);
    } else {
        /* far away: the same silhouette in ~60 triangles */
        const body = new THREE.CylinderGeometry(0.26, 0.3, 1.05, 6, 1);
        body.translate(0, 0.6, 0);
        add(body, [0, 0, 0, 1], 0);
        const head = new THREE.IcosahedronGeometry(0.25, 0);
        head.translate(0, HEAD_Y, 0);
        add(head, [0.6, 0, 0, 1], 0);
        const hand = new THREE.BoxGeometry(0.14, 0.6, 0.14);
        hand.translate(0.36, 1.6, 0);
        add(hand, HAND, 1);
    }
    const g = mergeGeometries(parts);
    for (const x of parts) x.dispose();
    g.computeBoundingSphere();
    return g;
}

function figureMaterial() {
    const m = new THREE.MeshLambertMaterial({ color: '#ffffff' });
    m.onBeforeCompile = (shader) => {
        shader.vertexShader = shader.vertexShader
            .replace('#include <common>', `#include <common>
attribute vec4 aLook;
attribute float aPart;
attribute vec3 aMarks;`)
            .replace('#include <color_vertex>', `#include <color_vertex>
#ifdef USE_INSTANCING_COLOR
    vColor.rgb = aLook.a > 0.5 ? mix( instanceColor.rgb, vec3( 1.0 ), aLook.r ) : aLook.rgb;
#endif`)
            .replace('#include <begin_vertex>', `#include <begin_vertex>
    if ( ( aPart > 0.5 && aPart < 1.5 && aMarks.x < 0.5 ) || ( aPart > 1.5 && aPart < 2.5 && aMarks.y < 0.5 )
        || ( aPart > 2.5 && aMarks.z < 0.5 ) ) transformed = vec3( 0.0 );`);
    };
    m.customProgramCacheKey = () => 'venue-figure';
    return m;
}

function shadowGeometry() {
    const g = new THREE.CircleGeometry(0.42, 14);
    g.rotateX(-Math.PI / 2);
    g.translate(0, 0.015, 0);
    return g;
}

class Instances {
    /* One InstancedMesh that grows by doubling; never culled as a whole. */
    constructor(scene, geometry, material, withColour, cap, withMarks = false) {
        this.scene = scene;
        this.geometry = geometry;
        this.material = material;
        this.withColour = withColour;
        this.withMarks = withMarks;
        this.mesh = null;
        this.cap = 0;
        this.ensure(cap);
    }

    ensure(n) {
        if (n <= this.cap) return;
        let cap = Math.max(64, this.cap);
        while (cap < n) cap *= 2;
        if (this.mesh) {
            this.scene.remove(this.mesh);
            this.mesh.dispose();
        }
        const m = new THREE.InstancedMesh(this.geometry, this.material, cap);
        m.instanceMatrix.setUsage(THREE.DynamicDrawUsage);
        if (this.withColour) {
            m.instanceColor = new THREE.InstancedBufferAttribute(new Float32Array(cap * 3), 3);
            m.instanceColor.setUsage(THREE.DynamicDrawUsage);
        }
        if (this.withMarks) {
            /* per instance: hand raised, chat bubble, speaking ring (read by figureMaterial) */
            this.marks = new THREE.InstancedBufferAttribute(new Float32Array(cap * 3), 3);
            this.marks.setUsage(THREE.DynamicDrawUsage);
            this.geometry.setAttribute('aMarks', this.marks);
        }
        m.frustumCulled = false;
        m.count = 0;
        this.scene.add(m);
        this.mesh = m;
        this.cap = cap;
    }

    /* Write a Y rotation and a translation as instance i's matrix. */
    set(i, x, y, z, yaw) {
        const a = this.mesh.instanceMatrix.array;
        const c = Math.cos(yaw);
        const s = Math.sin(yaw);
        const o = i * 16;
        a[o] = c; a[o + 1] = 0; a[o + 2] = -s; a[o + 3] = 0;
        a[o + 4] = 0; a[o + 5] = 1; a[o + 6] = 0; a[o + 7] = 0;
        a[o + 8] = s; a[o + 9] = 0; a[o + 10] = c; a[o + 11] = 0;
        a[o + 12] = x; a[o + 13] = y; a[o + 14] = z; a[o + 15] = 1;
    }

    colour(i, r, g, b) {
        const a = this.mesh.instanceColor.array;
        a[i * 3] = r;
        a[i * 3 + 1] = g;
        a[i * 3 + 2] = b;
    }

    mark(i, hand, bubble, talking) {
        const a = this.marks.array;
        a[i * 3] = hand ? 1 : 0;
        a[i * 3 + 1] = bubble ? 1 : 0;
        a[i * 3 + 2] = talking ? 1 : 0;
    }

    commit(count, coloursChanged) {
        this.mesh.count = count;
        this.mesh.instanceMatrix.needsUpdate = true;
        if (this.marks) this.marks.needsUpdate = true;
        if (coloursChanged && this.mesh.instanceColor) this.mesh.instanceColor.needsUpdate = true;
    }

    dispose() {
        if (this.mesh) {
            this.scene.remove(this.mesh);
            this.mesh.dispose();
        }
        this.geometry.dispose();
        this.material.dispose();
    }
}

export class View3D {
    constructor(container, tagLayer, opts = {}) {
        this.container = container;
        this.tagLayer = tagLayer;
        this.reducedMotion = !!opts.reducedMotion;
        this.renderer = new THREE.WebGLRenderer({ antialias: false, powerPreference: 'low-power' });
        this.basePixelRatio = Math.min(window.devicePixelRatio || 1, 2);
        this.renderer.setPixelRatio(this.basePixelRatio);
        this.renderer.outputColorSpace = THREE.SRGBColorSpace;
        this.canvas = this.renderer.domElement;
        this.canvas.setAttribute('aria-hidden', 'true');
        container.prepend(this.canvas);

        this.scene = new THREE.Scene();
        this.scene.background = new THREE.Color('#cfe0ee');
        this.camera = new THREE.PerspectiveCamera(CAM_FOV, 1, 0.1, 400);
        this.camDist = 7;
        this.camPos = new THREE.Vector3(0, 5, 8);
        this.camLook = new THREE.Vector3();
        this.camFirst = true;

        /* level of detail: the nearest NEAR_MAX people detailed, the rest simple */
        const mat = figureMaterial();
        this.figure = new Instances(this.scene, figureGeometry(true), mat, true, NEAR_MAX, true);
        this.figureFar = new Instances(this.scene, figureGeometry(false), mat, true, 64, true);
        this.shadow = new Instances(this.scene, shadowGeometry(),
            new THREE.MeshBasicMaterial({ color: '#000000', transparent: true, opacity: 0.18, depthWrite: false }), false, NEAR_MAX);
        this.tmpColour = new THREE.Color();

        this.room = null; /* {group, update(t), setTwins(), ...} from room3d */
        this.model = null;
        this.twinReadings = null; /* the showcases' live data, kept for the next scene */
        this.raycaster = new THREE.Raycaster();
        this.ndc = new THREE.Vector2();
        this.plane = new THREE.Plane(new THREE.Vector3(0, 1, 0), 0);
        this.hit = new THREE.Vector3();
        this.tmpV = new THREE.Vector3();

        /* tag pool */
        this.tags = [];
        for (let i = 0; i < TAGS_MAX; i++) {
            const t = document.createElement('span');
            t.className = 'tag';
            const name = document.createElement('bdi');
            const hand = document.createElement('span');
            hand.className = 'icon icon-hand';
            const chat = document.createElement('span');
            chat.className = 'icon icon-chat';
            const away = document.createElement('span');
            away.className = 'tag-away';
            away.textContent = 'away';
            const react = document.createElement('span');
            react.className = 'tag-react';
            react.hidden = true;
            t.append(name, hand, chat, away, react);
            t.hidden = true;
            tagLayer.append(t);
            this.tags.push({ el: t, nameEl: name, handEl: hand, chatEl: chat, awayEl: away, reactEl: react, av: null, key: '', x: -1, y: -1 });
        }
        this.tagPicked = 0;
        /* Adaptive quality: 3 = as the scene asks, 2 = no point lights,
         * 1 = 3/4 of the pixels, 0 = half. Only ever steps down, after two
         * slow seconds, so software-rendered and low-end devices stay usable. */
        this.quality = 3;
        this.perf = { frames: 0, since: 0, slow: 0, settleUntil: 0 };
        this.order = new Int32Array(0);
        this.nearCount = 0;
        this.dist = new Float32Array(0);

        this.onWheel = (ev) => {
            ev.preventDefault();
            this.camDist = Math.min(22, Math.max(3, this.camDist * (ev.deltaY > 0 ? 1.1 : 0.9)));
        };
        container.addEventListener('wheel', this.onWheel, { passive: false });
        this.resizeObs = new ResizeObserver(() => this.resize());
        this.resizeObs.observe(container);
        this.resize();
    }

    get kind() {
        return '3d';
    }

    resize() {
        const w = Math.max(1, this.container.clientWidth);
        const h = Math.max(1, this.container.clientHeight);
        this.renderer.setSize(w, h, false);
        this.camera.aspect = w / h;
        this.camera.updateProjectionMatrix();
        this.w = w;
        this.h = h;
    }

    setReducedMotion(on) {
        this.reducedMotion = on;
    }

    /* Build the room from a scene model (scene.js); lights come with it. */
    setScene(model) {
        if (this.room) {
            this.scene.remove(this.room.group);
            disposeTree(this.room.group);
        }
        this.model = model;
        this.room = buildRoom(model);
        this.room.setLowLight(this.quality < 3);
        this.perf.settleUntil = performance.now() + 1500; /* shaders compile, models load */
        this.scene.add(this.room.group);
        this.scene.background = new THREE.Color(model.sky);
        this.scene.fog = model.fog ? new THREE.Fog(model.fog.color, model.fog.near, model.fog.far) : null;
        this.plane.constant = -model.floorY;
        this.camFirst = true;
        for (const t of this.tags) t.av = null;
        if (this.twinReadings) this.room.setTwins(this.twinReadings);
    }

    /* The showcases' live data now: readings of livedata.js. */
    setTwins(readings) {
        this.twinReadings = readings;
        if (this.room) this.room.setTwins(readings);
    }

    /* What the showcases' live data shows now: [{showcase, show, label, text, age, stale, colour}]. */
    twinsDrawn() {
        return this.room ? this.room.twinsDrawn() : [];
    }

    /* A camera of its own, for a view that follows nobody (the projector's): from, at are [x, y, z]. */
    lookFrom(from, at) {
        this.camPos.set(...from);
        this.camLook.set(...at);
        this.camera.position.copy(this.camPos);
        this.camera.lookAt(this.camLook);
    }

    _adapt(now) {
        const p = this.perf;
        p.frames++;
        if (!p.since) p.since = now;
        const span = now - p.since;
        if (span < 1000) return;
        const fps = (p.frames * 1000) / span;
        p.frames = 0;
        p.since = now;
        if (now < p.settleUntil || span > 2500) return; /* loading, or the tab was hidden */
        /* very slow: step down at once; a little slow: after two seconds */
        p.slow = fps < 12 ? 2 : fps < 24 ? p.slow + 1 : 0;
        if (p.slow >= 2 && this.quality > 0) {
            p.slow = 0;
            this.quality--;
            if (this.room) this.room.setLowLight(this.quality < 3);
            if (this.quality < 2) {
                this.renderer.setPixelRatio(this.basePixelRatio * (this.quality === 1 ? 0.75 : 0.5));
                this.resize();
            }
            p.settleUntil = now + 1000;
        }
    }

    /* Where on the floor is the screen point (clientX, clientY)? [x, z] or null. */
    floorPointAt(clientX, clientY) {
        const r = this.canvas.getBoundingClientRect();
        this.ndc.set(((clientX - r.left) / r.width) * 2 - 1, -((clientY - r.top) / r.height) * 2 + 1);
        this.raycaster.setFromCamera(this.ndc, this.camera);
        if (!this.raycaster.ray.intersectPlane(this.plane, this.hit)) return null;
        return [this.hit.x, this.hit.z];
    }

    /* Client coordinates of a world point, or null if behind the camera. */
    screenOf(x, y, z) {
        const v = new THREE.Vector3(x, y, z).project(this.camera);
        if (v.z > 1) return null;
        const r = this.canvas.getBoundingClientRect();
        return { x: r.left + ((v.x + 1) / 2) * r.width, y: r.top + ((1 - v.y) / 2) * r.height };
    }

    _colour(av) {
        const key = av.away ? -1 - av.hue : av.hue;
        if (av.colourKey === key) return false;
        av.colourKey = key;
        const c = this.tmpColour;
        c.setHSL(av.hue, av.away ? 0.12 : 0.62, av.away ? 0.62 : 0.55, THREE.SRGBColorSpace);
        av.r = c.r;
        av.g = c.g;
        av.b = c.b;
        return true;
    }

    /*
     * How far behind me the camera may go without leaving the room: walls
     * stand at the edge of the walkable area, so the camera stays over
     * walkable floor (and rises instead, _camera, when I back up against
     * a wall).
     */
    _roomForCamera(me, fx, fz, want) {
        const m = this.model;
        if (!m) return want;
        const margin = 0.4;
        let ok = 0;
        for (let s = 0.25; s <= want + 1e-6; s += 0.25) {
            if (!m.walkable(me.x - fx * (s + margin), me.z - fz * (s + margin))) break;
            ok = s;
        }
        return ok;
    }

    /*
     * Behind me and a little above, looking ahead into the room. With less
     * than CAM_ROOM metres behind me (arriving with my back to a door, or
     * backed against a wall) the camera would sit in my head: it rises
     * instead, widens its view and tilts down just enough to keep my head
     * in the lower part of the picture, small, and the room ahead in view.
     */
    _camera(me, dtS) {
        const f = this.tmpV.set(-Math.sin(me.yaw), 0, -Math.cos(me.yaw));
        const want = this.camDist;
        const d = Math.max(0.6, this._roomForCamera(me, f.x, f.z, want));
        const short = Math.max(0, CAM_ROOM - d); /* metres of room missing behind me */
        this.camClose = d < 2.5; /* then my own name tag would only get in the way */
        const fov = CAM_FOV + short * CAM_FOV_PER_M;
        const tx = me.x - f.x * d;
        const ty = me.y + 1.7 + d * 0.32 + short * CAM_RISE_PER_M;
        const tz = me.z - f.z * d;
        /* looking at a point ahead, or lower if that would leave my head at the bottom edge */
        const ahead = 3 + (want - d) * 0.3;
        const lookDown = Math.atan2(ty - me.y - 1.1, d + ahead);
        const headDown = Math.atan2(ty - me.y - HEAD_Y, d);
        const pitch = Math.max(lookDown, headDown - HEAD_IN_VIEW * THREE.MathUtils.degToRad(fov / 2));
        const lx = tx + f.x * Math.cos(pitch) * 10;
        const ly = ty - Math.sin(pitch) * 10;
        const lz = tz + f.z * Math.cos(pitch) * 10;
        if (this.camFirst || this.reducedMotion) {
            this.camPos.set(tx, ty, tz);
            this.camLook.set(lx, ly, lz);
            this.camera.fov = fov;
            this.camFirst = false;
        } else {
            const k = 1 - Math.exp(-dtS * 8);
            this.camPos.x += (tx - this.camPos.x) * k;
            this.camPos.y += (ty - this.camPos.y) * k;
            this.camPos.z += (tz - this.camPos.z) * k;
            this.camLook.x += (lx - this.camLook.x) * k;
            this.camLook.y += (ly - this.camLook.y) * k;
            this.camLook.z += (lz - this.camLook.z) * k;
            this.camera.fov += (fov - this.camera.fov) * k;
        }
        this.camera.updateProjectionMatrix();
        this.camera.position.copy(this.camPos);
        this.camera.lookAt(this.camLook);
    }

    /*
     * Draw one frame. avatars: array of avatar objects (see the header),
     * me: mine (also in the array). now: ms, dtS: seconds since last frame.
     * listChanged: the array or someone's name/marks changed since last call.
     */
    render(avatars, me, now, dtS, listChanged) {
        const n = avatars.length;
        this.figure.ensure(Math.min(n, NEAR_MAX));
        this.figureFar.ensure(n);
        if (me) this._camera(me, dtS);

        /* av.near is set when the nearest people are picked (_tags) */
        const near = this.figure;
        const far = this.figureFar;
        let a = 0;
        let b = 0;
        let k = 0;
        for (let i = 0; i < n; i++) {
            const av = avatars[i];
            this._colour(av);
            if (av.near && a < NEAR_MAX) {
                near.set(a, av.x, av.y, av.z, av.yaw);
                near.colour(a, av.r, av.g, av.b);
                near.mark(a, av.hand, av.speaking > now, av.talking);
                a++;
                this.shadow.set(k++, av.x, av.y, av.z, 0);
            } else {
                far.set(b, av.x, av.y, av.z, av.yaw);
                far.colour(b, av.r, av.g, av.b);
                far.mark(b, av.hand, false, av.talking);
                b++;
            }
        }
        near.commit(a, true);
        far.commit(b, true);
        this.shadow.commit(k, false);

        if (this.room) this.room.update(this.reducedMotion ? 0 : now / 1000, this.camera);
        this.renderer.render(this.scene, this.camera);
        this._adapt(now);
        this._tags(avatars, me, now, listChanged);
    }

    /* Choose the nearest people every TAG_PICK_MS; place their tags every frame. */
    _tags(avatars, me, now, listChanged) {
        const n = avatars.length;
        if (listChanged || now - this.tagPicked > TAG_PICK_MS) {
            this.tagPicked = now;
            if (this.order.length < n) {
                this.order = new Int32Array(Math.max(64, n * 2));
                this.dist = new Float32Array(Math.max(64, n * 2));
            }
            /* nearest to the camera: that is who looks big on screen */
            const cx = this.camPos.x;
            const cz = this.camPos.z;
            let m = 0;
            for (let i = 0; i < n; i++) {
                const av = avatars[i];
                const dx = av.x - cx;
                const dz = av.z - cz;
                const d = av === me ? -1 : dx * dx + dz * dz;
                /* a relayed stage speaker is who the room looks at: named at any distance */
                if (d > TAG_RANGE * TAG_RANGE && !av.relay) continue;
                this.dist[i] = d;
                this.order[m++] = i;
            }
            const dist = this.dist;
            const sub = this.order.subarray(0, m);
            sub.sort((a, b) => dist[a] - dist[b]);
            this.nearCount = m;
            for (let i = 0; i < n; i++) avatars[i].near = false;
            for (let i = 0; i < Math.min(m, NEAR_MAX); i++) avatars[sub[i]].near = true;
            const k = Math.min(m, TAGS_MAX);
            for (let t = 0; t < TAGS_MAX; t++) {
                const tag = this.tags[t];
                tag.av = t < k ? avatars[sub[t]] : null;
            }
        }
        const v = this.tmpV;
        const boxes = this.tagBoxes || (this.tagBoxes = new Float32Array(TAGS_MAX * 4));
        let nb = 0;
        for (let t = 0; t < TAGS_MAX; t++) {
            const tag = this.tags[t];
            const av = tag.av;
            if (!av || (av.me && this.camClose)) {
                if (!tag.el.hidden) tag.el.hidden = true;
                continue;
            }
            v.set(av.x, av.y + (av.hand ? 2.25 : 2.0), av.z).project(this.camera);
            if (v.z > 1 || v.z < -1 || v.x < -1.2 || v.x > 1.2 || v.y < -1.2 || v.y > 1.2) {
                if (!tag.el.hidden) tag.el.hidden = true;
                continue;
            }
            const reaction = av.reaction && av.reaction.until > now ? av.reaction.emoji : '';
            const key = `${av.name}\u0000${av.hand}\u0000${av.away}\u0000${av.speaking > now}\u0000${av.me}\u0000${reaction}`;
            if (key !== tag.key) {
                tag.key = key;
                tag.nameEl.textContent = av.me ? `${av.name} (you)` : av.name;
                tag.handEl.hidden = !av.hand;
                tag.chatEl.hidden = !(av.speaking > now);
                tag.awayEl.hidden = !av.away;
                tag.reactEl.textContent = reaction;
                tag.reactEl.hidden = !reaction;
                tag.el.classList.toggle('me', !!av.me);
                tag.el.dataset.id = av.id;
            }
            const x = Math.round(((v.x + 1) / 2) * this.w);
            const y = Math.round(((1 - v.y) / 2) * this.h);
            /* tags come nearest first: one that would cover a nearer one waits */
            const hw = Math.min(96, 14 + av.name.length * 3.6);
            let hit = false;
            for (let i = 0; i < nb && !hit; i++) {
                const o = i * 4;
                hit = x - hw < boxes[o + 2] && x + hw > boxes[o] && y - 22 < boxes[o + 3] && y > boxes[o + 1];
            }
            if (hit && !av.me) {
                if (!tag.el.hidden) tag.el.hidden = true;
                continue;
            }
            boxes[nb * 4] = x - hw;
            boxes[nb * 4 + 1] = y - 22;
            boxes[nb * 4 + 2] = x + hw;
            boxes[nb * 4 + 3] = y;
            nb++;
            if (tag.el.hidden) tag.el.hidden = false;
            if (x !== tag.x || y !== tag.y) {
                tag.x = x;
                tag.y = y;
                tag.el.style.transform = `translate(${x}px, ${y}px) translate(-50%, -100%)`;
            }
        }
    }

    dispose() {
        this.resizeObs.disconnect();
        this.container.removeEventListener('wheel', this.onWheel);
        if (this.room) disposeTree(this.room.group);
        this.figureFar.material = null; /* shared with figure: disposed once */
        for (const part of [this.figure, this.shadow]) part.dispose();
        this.figureFar.geometry.dispose();
        this.scene.remove(this.figureFar.mesh);
        this.figureFar.mesh.dispose();
        for (const t of this.tags) t.el.remove();
        this.renderer.dispose();
        this.renderer.forceContextLoss?.();
        this.canvas.remove();
    }
}
