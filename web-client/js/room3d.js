/*
 * room3d.js - three.js objects for one room, built from the scene model
 * (scene.js, scenes/FORMAT.md): lights, the node tree, screens (they show
 * the slides on stage: slides.js), boards (they show the programme:
 * board3d.js), signs, seats, showcases with their live data (twin3d.js)
 * and the glowing portals.
 *
 * Owns what it builds; disposeTree() frees it. Static primitives are merged
 * per material so a room is a few dozen draw calls however many nodes it
 * has; seats are instanced; glTF assets (glb.js) are loaded once per URL
 * and shared between rooms (marked userData.shared so they are never
 * disposed).
 */

import * as THREE from '/vendor/three/three.module.js';
import { mergeGeometries } from './geom.js';
import { loadGlb } from './glb.js';
import { TwinWidgets } from './twin3d.js';
import { programmeBoard } from './board3d.js';
import { slideScreen } from './slides.js';

const gltfCache = new Map(); /* url -> Promise<THREE.Group> */
const texCache = new Map(); /* url -> Promise<THREE.Texture> */
function loadGltf(url) {
    if (!gltfCache.has(url)) {
        const p = loadGlb(url).then((scene) => {
            scene.traverse((o) => {
                o.userData.shared = true;
            });
            return scene;
        });
        p.catch((e) => console.warn(`venue: could not load ${url}:`, e && e.message));
        gltfCache.set(url, p);
    }
    return gltfCache.get(url);
}

function loadTexture(url) {
    if (!texCache.has(url)) {
        const p = new THREE.TextureLoader().loadAsync(url).then((t) => {
            t.colorSpace = THREE.SRGBColorSpace;
            t.anisotropy = 4;
            t.userData.shared = true;
            return t;
        });
        p.catch((e) => console.warn(`venue: could not load ${url}:`, e && e.message));
        texCache.set(url, p);
    }
    return texCache.get(url);
}

function isRtl(s) {
    const m = /[\p{L}]/u.exec(s);
    return !!m && /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFF]/.test(m[0]);
}

/*
 * Text on a canvas texture, for signs and labels. Wraps to at most three
 * lines. Returns {texture, aspect}.
 */
function textTexture(text, { bg = null, fg = '#1b2233', width = 1024, height = 256, pad = 40, weight = 700, radius = 0 } = {}) {
    const c = document.createElement('canvas');
    c.width = width;
    c.height = height;
    const g = c.getContext('2d');
    if (bg) {
        g.fillStyle = bg;
        g.beginPath();
        g.roundRect(0, 0, width, height, radius);
        g.fill();
    }
    g.fillStyle = fg;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.direction = isRtl(text) ? 'rtl' : 'ltr';
    let size = Math.floor(height * 0.5);
    const font = (s) => `${weight} ${s}px system-ui, "DejaVu Sans", "Noto Sans", sans-serif`;
    g.font = font(size);
    const maxW = width - 2 * pad;
    let lines = [text];
    while (size > 18 && g.measureText(text).width > maxW) {
        /* try wrapping before shrinking much */
        const words = text.split(/\s+/);
        if (words.length > 1 && size < height * 0.36) {
            lines = [];
            let cur = '';
            for (const w of words) {
                const t = cur ? `${cur} ${w}` : w;
                if (g.measureText(t).width > maxW && cur) {
                    lines.push(cur);
                    cur = w;
                } else cur = t;
            }
            lines.push(cur);
            if (lines.length <= 3 && lines.every((l) => g.measureText(l).width <= maxW)) break;
            lines = [text];
        }
        size -= 4;
        g.font = font(size);
    }
    const lh = size * 1.15;
    lines.forEach((l, i) => g.fillText(l, width / 2, height / 2 + (i - (lines.length - 1) / 2) * lh, maxW));
    const texture = new THREE.CanvasTexture(c);
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.anisotropy = 4;
    return { texture, aspect: width / height };
}

/* A label that always faces the camera. */
function labelSprite(text, heightM, opts) {
    const { texture, aspect } = textTexture(text, opts);
    const m = new THREE.SpriteMaterial({ map: texture, transparent: true, depthWrite: false });
    const s = new THREE.Sprite(m);
    s.scale.set(heightM * aspect, heightM, 1);
    return s;
}

function matrixOf(a) {
    return new THREE.Matrix4().fromArray(a);
}

function placeMatrix(pl, sx = 1, sy = 1, sz = 1) {
    return new THREE.Matrix4().compose(
        new THREE.Vector3(...pl.p),
        new THREE.Quaternion(...pl.q),
        new THREE.Vector3(sx, sy, sz),
    );
}

/* Unit geometries that primitives are scaled from. */
function unitGeometry(n) {
    switch (n.type) {
        case 'box':
            return new THREE.BoxGeometry(1, 1, 1);
        case 'sphere':
            return new THREE.SphereGeometry(1, 24, 16);
        case 'plane':
            return new THREE.PlaneGeometry(1, 1).rotateX(-Math.PI / 2);
        case 'cylinder': {
            const r = n.radius > 0 ? n.radius : 1;
            return new THREE.CylinderGeometry(n.radiusTop / r, 1, 1, 28);
        }
        default:
            return null;
    }
}

function sizeScale(n) {
    switch (n.type) {
        case 'box':
            return n.size ? [n.size[0], n.size[1], n.size[2]] : [1, 1, 1];
        case 'sphere':
            return [n.radius, n.radius, n.radius];
        case 'plane':
            return n.size ? [n.size[0], 1, n.size[1]] : [1, 1, 1];
        case 'cylinder':
            return [n.radius, n.height, n.radius];
        default:
            return [1, 1, 1];
    }
}

function lights(group, model) {
    const L = model.lighting || {};
    let any = false;
    if (L.ambient) {
        group.add(new THREE.AmbientLight(L.ambient.color || '#ffffff', L.ambient.intensity ?? 0.4));
        any = true;
    }
    if (L.hemisphere) {
        const h = L.hemisphere;
        group.add(new THREE.HemisphereLight(h.sky || '#ffffff', h.ground || '#888888', h.intensity ?? 1));
        any = true;
    }
    for (const d of Array.isArray(L.directional) ? L.directional : []) {
        const light = new THREE.DirectionalLight(d.color || '#ffffff', d.intensity ?? 1);
        const dir = new THREE.Vector3(...(d.direction || [0, -1, 0])).normalize();
        light.position.copy(dir).multiplyScalar(-30);
        light.target.position.set(0, 0, 0);
        group.add(light, light.target);
        any = true;
    }
    for (const p of Array.isArray(L.point) ? L.point : []) {
        const light = new THREE.PointLight(p.color || '#ffffff', p.intensity ?? 1, p.distance || 0, 2);
        light.position.set(...(p.position || [0, 3, 0]));
        light.userData.optional = true; /* dropped first on slow devices */
        group.add(light);
        any = true;
    }
    if (!any) {
        /* the soft default: warm sky, a sun from the side */
        group.add(new THREE.HemisphereLight('#fff6e8', '#8a7a6a', 1.8));
        const sun = new THREE.DirectionalLight('#ffe8c8', 1.4);
        sun.position.set(10, 25, 8);
        group.add(sun);
    }
}

/* Every primitive node, merged into one mesh per material. */
function primitives(group, model) {
    const buckets = new Map(); /* material key -> {material props, geometries[]} */
    const s = new THREE.Matrix4();
    for (const n of model.nodes) {
        if (n.type === 'gltf') continue;
        const geo = unitGeometry(n);
        if (!geo) continue;
        const [sx, sy, sz] = sizeScale(n);
        s.makeScale(sx, sy, sz);
        geo.applyMatrix4(matrixOf(n.matrix).multiply(s));
        const key = `${n.color}|${n.emissive}|${n.opacity}|${n.roughness}|${n.metalness}`;
        let b = buckets.get(key);
        if (!b) buckets.set(key, (b = { n, geos: [] }));
        b.geos.push(geo);
    }
    for (const { n, geos } of buckets.values()) {
        const merged = geos.length === 1 ? geos[0] : mergeGeometries(geos);
        if (geos.length > 1) for (const g of geos) g.dispose();
        if (!merged) continue;
        const mat = new THREE.MeshLambertMaterial({
            color: n.color,
            emissive: n.emissive || '#000000',
            emissiveIntensity: n.emissive ? 1 : 0,
            transparent: n.opacity < 1,
            opacity: n.opacity,
            depthWrite: n.opacity >= 1,
        });
        const mesh = new THREE.Mesh(merged, mat);
        mesh.matrixAutoUpdate = false;
        group.add(mesh);
    }
}

/*
 * Instances of one model: every mesh inside it becomes an InstancedMesh
 * with one instance per placement, so twenty planters are a handful of
 * draw calls. Falls back to stand-in() if the model cannot be loaded.
 */
function instanceModel(group, url, matrices, standIn) {
    loadGltf(url).then((scene) => {
        scene.updateMatrixWorld(true);
        const m = new THREE.Matrix4();
        scene.traverse((o) => {
            if (!o.isMesh) return;
            const mesh = new THREE.InstancedMesh(o.geometry, o.material, matrices.length);
            mesh.userData.sharedGeometry = true;
            matrices.forEach((pm, i) => mesh.setMatrixAt(i, m.multiplyMatrices(pm, o.matrixWorld)));
            mesh.computeBoundingSphere();
            group.add(mesh);
        });
    }).catch(() => standIn && standIn());
}

function gltfNodes(group, model) {
    const byUrl = new Map();
    for (const n of model.nodes) {
        if (n.type !== 'gltf' || !n.url) continue;
        if (!byUrl.has(n.url)) byUrl.set(n.url, []);
        byUrl.get(n.url).push(matrixOf(n.matrix));
    }
    for (const [url, mats] of byUrl) {
        instanceModel(group, url, mats, () => {
            /* a soft grey block where the model should be */
            const mesh = new THREE.InstancedMesh(new THREE.BoxGeometry(0.6, 1, 0.6).translate(0, 0.5, 0),
                new THREE.MeshLambertMaterial({ color: '#b8b2a8' }), mats.length);
            mats.forEach((m, i) => mesh.setMatrixAt(i, m));
            mesh.computeBoundingSphere();
            group.add(mesh);
        });
    }
}

/* A simple chair facing +Z: the seat, a back at -Z, four legs. */
function chairGeometry() {
    const parts = [];
    const seat = new THREE.BoxGeometry(0.46, 0.07, 0.44);
    seat.translate(0, 0.45, 0);
    parts.push(seat);
    const back = new THREE.BoxGeometry(0.46, 0.5, 0.06);
    back.translate(0, 0.72, -0.2);
    parts.push(back);
    for (const [x, z] of [[-0.19, -0.18], [0.19, -0.18], [-0.19, 0.18], [0.19, 0.18]]) {
        const leg = new THREE.BoxGeometry(0.04, 0.44, 0.04);
        leg.translate(x, 0.22, z);
        parts.push(leg);
    }
    const g = mergeGeometries(parts);
    for (const p of parts) p.dispose();
    return g;
}

function seats(group, model) {
    const blocks = new Map(); /* model url or '' + colour -> seats[] */
    for (const pl of model.places) {
        if (pl.type !== 'seat') continue;
        const key = `${pl.model || ''}|${pl.color || '#5b6f99'}`;
        if (!blocks.has(key)) blocks.set(key, []);
        blocks.get(key).push(pl);
    }
    for (const [key, list] of blocks) {
        const [url, colour] = key.split('|');
        const mats = list.map((pl) => placeMatrix(pl));
        const plain = () => {
            const mesh = new THREE.InstancedMesh(chairGeometry(), new THREE.MeshStandardMaterial({ color: colour, roughness: 0.7 }), list.length);
            mats.forEach((m, i) => mesh.setMatrixAt(i, m));
            mesh.computeBoundingSphere();
            group.add(mesh);
        };
        if (!url) {
            plain();
            continue;
        }
        instanceModel(group, url, mats, plain);
    }
}

/* A board shows the programme (board3d.js), drawn again when it changes, until its room is disposed. */
function boardTexture(w, h) {
    let texture = null;
    const board = programmeBoard(w, h, () => {
        if (texture) texture.needsUpdate = true;
    });
    texture = new THREE.CanvasTexture(board.canvas);
    texture.colorSpace = THREE.SRGBColorSpace;
    texture.anisotropy = 4;
    texture.addEventListener('dispose', board.detach);
    return texture;
}

/*
 * A screen shows the slide on stage (slides.js) while there is one, fitted
 * inside its frame (the dark frame around it), and otherwise its own
 * picture or label. Returns idle(texture): that picture (null: none could
 * be loaded). What it made is freed with the face's material.
 */
function slideOnScreen(pic, face, w, h) {
    let idle = null;
    let texture = null; /* the slide's, remade when the page's size changes (textures keep the size of their first upload) */
    const apply = () => {
        const c = screen.canvas;
        if (screen.showing()) {
            if (texture && (texture.image.width !== texture.userData.w || texture.image.height !== texture.userData.h)) {
                texture.dispose();
                texture = null;
            }
            if (!texture) {
                texture = new THREE.CanvasTexture(c);
                texture.colorSpace = THREE.SRGBColorSpace;
                texture.anisotropy = 4;
                texture.userData = { w: c.width, h: c.height };
            } else texture.needsUpdate = true;
            const a = c.width / c.height;
            if (a > w / h) pic.scale.set(1, w / a / h, 1);
            else pic.scale.set((h * a) / w, 1, 1);
            face.map = texture;
            face.color.set('#ffffff');
        } else {
            pic.scale.set(1, 1, 1);
            face.map = idle;
            face.color.set(idle ? '#ffffff' : '#1b2233');
        }
        face.needsUpdate = true;
    };
    const screen = slideScreen(apply);
    face.addEventListener('dispose', () => {
        screen.detach();
        if (texture) texture.dispose();
        if (idle && !idle.userData.shared) idle.dispose();
    });
    apply();
    return (t) => {
        idle = t;
        apply();
    };
}

function panels(group, model) {
    for (const pl of model.places) {
        if (pl.type === 'screen' || pl.type === 'board') {
            const [w, h] = pl.size || [3, 1.7];
            const holder = new THREE.Group();
            holder.matrixAutoUpdate = false;
            holder.matrix.copy(placeMatrix(pl));
            const frame = new THREE.Mesh(
                new THREE.BoxGeometry(w + 0.16, h + 0.16, 0.08),
                new THREE.MeshStandardMaterial({ color: pl.color || (pl.type === 'screen' ? '#20242e' : '#6b4f3a'), roughness: 0.6 }),
            );
            frame.position.z = -0.05;
            holder.add(frame);
            const face = new THREE.MeshBasicMaterial({ color: '#ffffff' });
            const pic = new THREE.Mesh(new THREE.PlaneGeometry(w, h), face);
            pic.position.z = 0.001;
            holder.add(pic);
            if (pl.type === 'board') {
                face.map = boardTexture(w, h);
            } else {
                const idle = slideOnScreen(pic, face, w, h);
                if (pl.image) loadTexture(pl.image).then(idle).catch(() => idle(null));
                else idle(textTexture(pl.label || '', { bg: '#1b2a44', fg: '#f6f1e7', width: 1024, height: Math.round(1024 * (h / w)) }).texture);
            }
            group.add(holder);
        } else if (pl.type === 'sign') {
            const [w, h] = pl.size || [2, 0.6];
            const { texture } = textTexture(pl.label, {
                bg: pl.color || '#1d2a44', fg: pl.textColor || '#ffffff',
                width: 1024, height: Math.max(64, Math.round(1024 * (h / w))),
            });
            const sign = new THREE.Mesh(new THREE.PlaneGeometry(w, h), new THREE.MeshBasicMaterial({ map: texture }));
            sign.matrixAutoUpdate = false;
            sign.matrix.copy(placeMatrix(pl));
            group.add(sign);
            const back = new THREE.Mesh(new THREE.PlaneGeometry(w, h), new THREE.MeshStandardMaterial({ color: pl.color || '#1d2a44' }));
            back.matrixAutoUpdate = false;
            back.matrix.copy(placeMatrix(pl)).multiply(new THREE.Matrix4().makeRotationY(Math.PI));
            group.add(back);
        }
    }
}

function topicName(t) {
    const s = t.replace(/-/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
}

/*
 * Showcases: a glowing ring and a slowly turning hologram, and their live
 * data (twin3d.js) around them, in the showcase's frame. Returns the
 * TwinWidgets of those with bindings.
 */
function showcases(group, model, animated) {
    const widgets = [];
    for (const pl of model.places) {
        if (pl.type !== 'showcase') continue;
        const size = pl.size || [1.6, 1.6, 1.6];
        const r = Math.max(0.4, Math.min(size[0], size[2]) / 2);
        const holder = new THREE.Group();
        holder.position.set(...pl.p);
        holder.quaternion.set(...pl.q);
        const ring = new THREE.Mesh(
            new THREE.RingGeometry(r * 0.82, r, 40).rotateX(-Math.PI / 2),
            new THREE.MeshBasicMaterial({ color: '#3fd0c0', transparent: true, opacity: 0.85, depthWrite: false }),
        );
        ring.position.y = 0.02;
        holder.add(ring);
        const holo = new THREE.Mesh(
            new THREE.IcosahedronGeometry(r * 0.45, 0),
            new THREE.MeshStandardMaterial({ color: '#7fe8dc', emissive: '#1f8f84', transparent: true, opacity: 0.75, flatShading: true }),
        );
        holo.position.y = Math.max(1.1, size[1] * 0.6);
        holder.add(holo);
        const label = labelSprite(pl.label || topicName(pl.topic), 0.34, { bg: 'rgba(16,35,31,0.88)', fg: '#e8fffb', width: 768, height: 160, radius: 80 });
        label.position.y = holo.position.y + r * 0.45 + 0.35;
        holder.add(label);
        if (pl.twins.length) widgets.push(new TwinWidgets(holder, pl, [ring.material, holo.material]));
        group.add(holder);
        animated.push((t) => {
            holo.rotation.y = t * 0.6;
            holo.position.y = Math.max(1.1, size[1] * 0.6) + Math.sin(t * 1.3) * 0.06;
        });
    }
    return widgets;
}

/* Portals: a glowing doorway the size of the trigger, its label above. */
function portals(group, model, animated, labels) {
    const glowMats = [];
    for (const p of model.portals) {
        const w = p.max[0] - p.min[0];
        const h = p.max[1] - p.min[1];
        const d = p.max[2] - p.min[2];
        const cx = (p.min[0] + p.max[0]) / 2;
        const cz = (p.min[2] + p.max[2]) / 2;
        const floor = model.floorAt(cx, cz, model.floorY);
        const top = Math.min(p.max[1], floor + 3);
        const hh = Math.max(1.8, top - floor);
        const alongX = w >= d; /* the doorway spans the wider side */
        const span = alongX ? w : d;
        const mat = new THREE.MeshBasicMaterial({
            color: '#5fd4ff', transparent: true, opacity: 0.45, side: THREE.DoubleSide,
            depthWrite: false, blending: THREE.AdditiveBlending,
        });
        glowMats.push(mat);
        const sheet = new THREE.Mesh(new THREE.PlaneGeometry(span * 0.92, hh * 0.96), mat);
        sheet.position.set(cx, floor + hh / 2, cz);
        if (!alongX) sheet.rotation.y = Math.PI / 2;
        group.add(sheet);
        const pad = new THREE.Mesh(
            new THREE.PlaneGeometry(w, d).rotateX(-Math.PI / 2),
            new THREE.MeshBasicMaterial({ color: '#5fd4ff', transparent: true, opacity: 0.35, depthWrite: false }),
        );
        pad.position.set(cx, floor + 0.02, cz);
        group.add(pad);
        /* the label hangs over the doorway on the room's side, where people see it */
        const depth = alongX ? d : w;
        let nx = alongX ? 0 : 1;
        let nz = alongX ? 1 : 0;
        const probe = depth / 2 + 0.8;
        if (!model.walkable(cx + nx * probe, cz + nz * probe)) {
            nx = -nx;
            nz = -nz;
        }
        const label = labelSprite(`→ ${p.label}`, 0.46, { bg: 'rgba(11, 79, 120, 0.94)', fg: '#ffffff', width: 1024, height: 170, radius: 85 });
        label.position.set(cx + nx * (depth / 2), floor + Math.min(hh, 2.6) + 0.1, cz + nz * (depth / 2));
        group.add(label);
        labels.push(label);
    }
    animated.push((t) => {
        const o = 0.36 + 0.14 * Math.sin(t * 2.2);
        for (const m of glowMats) m.opacity = o;
    });
}

/* The ground around the room, so that the edges do not float in a void. */
function ground(group, model) {
    const b = model.bounds;
    const size = Math.max(b.maxX - b.minX, b.maxZ - b.minZ) * 6 + 200;
    const c = new THREE.Color(model.sky).multiplyScalar(0.72);
    const g = new THREE.Mesh(new THREE.PlaneGeometry(size, size).rotateX(-Math.PI / 2), new THREE.MeshLambertMaterial({ color: c }));
    g.position.set((b.minX + b.maxX) / 2, model.floorY - 0.03, (b.minZ + b.maxZ) / 2);
    group.add(g);
    /* a soft rim to show where the walkable floor ends, drawn under the nodes */
    for (const w of model.walk) {
        const shape = new THREE.Shape(w.pts.map(([x, z]) => new THREE.Vector2(x, -z)));
        const geo = new THREE.ShapeGeometry(shape).rotateX(-Math.PI / 2);
        const mesh = new THREE.Mesh(geo, new THREE.MeshLambertMaterial({ color: '#e8dcc8' }));
        mesh.position.y = w.y - 0.015;
        group.add(mesh);
    }
}

export function buildRoom(model) {
    const group = new THREE.Group();
    group.name = `room:${model.id}`;
    const animated = [];
    lights(group, model);
    ground(group, model);
    primitives(group, model);
    gltfNodes(group, model);
    seats(group, model);
    panels(group, model);
    const twins = showcases(group, model, animated);
    const labels = []; /* portal labels: hidden when the camera is right at them */
    portals(group, model, animated, labels);
    const optional = [];
    group.traverse((o) => {
        if (o.userData.optional) optional.push(o);
    });
    /* stands in for the point lights when they are switched off */
    const fill = new THREE.AmbientLight('#ffe9cc', 0);
    group.add(fill);
    return {
        group,
        update(t, camera) {
            for (const f of animated) f(t);
            if (camera) {
                for (const l of labels) l.visible = l.position.distanceToSquared(camera.position) > 9;
            }
        },
        /* The showcases' live data: readings of livedata.js, by showcase id. */
        setTwins(readings) {
            for (const w of twins) {
                const r = readings.find((x) => x.id === w.id);
                if (r) w.update(r);
            }
        },
        /* What the showcases' live data shows now (twin3d.js, drawn()). */
        twinsDrawn() {
            return twins.flatMap((w) => w.drawn());
        },
        /* Cheaper lighting for slow devices: point lights off, a warm fill instead. */
        setLowLight(on) {
            for (const o of optional) o.visible = !on;
            fill.intensity = on && optional.length ? 0.55 : 0;
        },
    };
}

export function disposeTree(root) {
    root.traverse((o) => {
        if (o.userData.shared) return;
        if (o.geometry && !o.userData.sharedGeometry) o.geometry.dispose();
        const mats = Array.isArray(o.material) ? o.material : o.material ? [o.material] : [];
        for (const m of mats) {
            if (o.userData.sharedGeometry) continue; /* glTF materials are shared too */
            if (m.map && !m.map.userData.shared) m.map.dispose();
            m.dispose();
        }
        if (o.isInstancedMesh) o.dispose();
    });
}
