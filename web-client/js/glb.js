/*
 * glb.js - a small reader for binary glTF 2.0 (.glb) models: meshes of
 * triangles with positions, normals (and texture coordinates, unused),
 * index buffers, PBR factor materials and a node tree. That is what the
 * venue's assets are; textures, skins, animations and extensions are not
 * read (a model using them still shows its geometry).
 *
 * Why not three/addons' GLTFLoader: addons import the bare specifier
 * 'three', which needs an inline import map, and venued's
 * Content-Security-Policy (script-src 'self') blocks inline scripts. This
 * reader depends on three.module.js alone, loaded by URL.
 */

import * as THREE from '/vendor/three/three.module.js';

const COMPONENT = {
    5120: Int8Array, 5121: Uint8Array, 5122: Int16Array,
    5123: Uint16Array, 5125: Uint32Array, 5126: Float32Array,
};
const SIZE = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT4: 16 };

function parse(buf) {
    const dv = new DataView(buf);
    if (dv.getUint32(0, true) !== 0x46546c67) throw new Error('not a .glb file');
    if (dv.getUint32(4, true) !== 2) throw new Error('glTF version is not 2');
    let json = null;
    let bin = null;
    for (let o = 12; o + 8 <= buf.byteLength;) {
        const len = dv.getUint32(o, true);
        const type = dv.getUint32(o + 4, true);
        if (type === 0x4e4f534a) json = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, o + 8, len)));
        else if (type === 0x004e4942) bin = buf.slice(o + 8, o + 8 + len);
        o += 8 + len + ((4 - (len % 4)) % 4);
    }
    if (!json) throw new Error('no JSON chunk');
    return { json, bin };
}

function accessor(gltf, bin, i) {
    const a = gltf.accessors[i];
    const view = gltf.bufferViews[a.bufferView];
    const T = COMPONENT[a.componentType];
    const n = SIZE[a.type];
    if (!T || !n) throw new Error(`accessor ${i}: unsupported type`);
    const start = (view.byteOffset || 0) + (a.byteOffset || 0);
    const stride = view.byteStride || 0;
    const elem = T.BYTES_PER_ELEMENT * n;
    if (!stride || stride === elem) return new THREE.BufferAttribute(new T(bin.slice(start, start + a.count * elem)), n, !!a.normalized);
    /* interleaved: copy out what we need */
    const out = new T(a.count * n);
    const src = new DataView(bin);
    const get = {
        5120: 'getInt8', 5121: 'getUint8', 5122: 'getInt16', 5123: 'getUint16', 5125: 'getUint32', 5126: 'getFloat32',
    }[a.componentType];
    for (let k = 0; k < a.count; k++) {
        for (let c = 0; c < n; c++) out[k * n + c] = src[get](start + k * stride + c * T.BYTES_PER_ELEMENT, true);
    }
    return new THREE.BufferAttribute(out, n, !!a.normalized);
}

function material(m) {
    const pbr = (m && m.pbrMetallicRoughness) || {};
    const f = pbr.baseColorFactor || [1, 1, 1, 1];
    const mat = new THREE.MeshLambertMaterial({
        color: new THREE.Color().setRGB(f[0], f[1], f[2], THREE.LinearSRGBColorSpace),
        transparent: f[3] < 1 || (m && m.alphaMode === 'BLEND'),
        opacity: f[3],
        side: m && m.doubleSided ? THREE.DoubleSide : THREE.FrontSide,
    });
    const e = m && m.emissiveFactor;
    if (e && (e[0] || e[1] || e[2])) mat.emissive.setRGB(e[0], e[1], e[2], THREE.LinearSRGBColorSpace);
    return mat;
}

function build(json, bin) {
    const mats = (json.materials || []).map(material);
    const fallback = new THREE.MeshLambertMaterial({ color: '#cccccc' });
    const meshes = (json.meshes || []).map((mesh) => {
        const group = new THREE.Group();
        for (const prim of mesh.primitives || []) {
            if ((prim.mode ?? 4) !== 4 || prim.attributes.POSITION === undefined) continue;
            const geo = new THREE.BufferGeometry();
            geo.setAttribute('position', accessor(json, bin, prim.attributes.POSITION));
            if (prim.attributes.NORMAL !== undefined) geo.setAttribute('normal', accessor(json, bin, prim.attributes.NORMAL));
            else geo.computeVertexNormals();
            if (prim.indices !== undefined) geo.setIndex(accessor(json, bin, prim.indices));
            group.add(new THREE.Mesh(geo, prim.material !== undefined ? mats[prim.material] || fallback : fallback));
        }
        return group;
    });
    const nodeObj = (i, depth) => {
        const n = json.nodes[i];
        const o = new THREE.Group();
        if (depth > 32 || !n) return o;
        if (n.matrix) {
            o.matrix.fromArray(n.matrix);
            o.matrix.decompose(o.position, o.quaternion, o.scale);
        } else {
            if (n.translation) o.position.fromArray(n.translation);
            if (n.rotation) o.quaternion.fromArray(n.rotation);
            if (n.scale) o.scale.fromArray(n.scale);
        }
        if (n.mesh !== undefined && meshes[n.mesh]) o.add(meshes[n.mesh].clone());
        for (const c of n.children || []) o.add(nodeObj(c, depth + 1));
        return o;
    };
    const root = new THREE.Group();
    const scene = (json.scenes || [])[json.scene || 0];
    const roots = scene ? scene.nodes || [] : (json.nodes || []).map((_, i) => i);
    for (const i of roots) root.add(nodeObj(i, 0));
    root.updateMatrixWorld(true);
    return root;
}

/* Load a .glb URL into a THREE.Group (geometry and materials are shared by clones). */
export async function loadGlb(url) {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const { json, bin } = parse(await res.arrayBuffer());
    if (!bin && (json.buffers || []).length) throw new Error(`${url}: external buffers are not supported`);
    return build(json, bin);
}
