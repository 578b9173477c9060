/*
 * geom.js - the one geometry helper the views need from outside three.js
 * core: merging indexed geometries that share their attributes (position,
 * normal, uv). Kept here rather than imported from three/addons so that
 * the 3D view needs nothing but three.module.js to start.
 */

import * as THREE from '/vendor/three/three.module.js';

export function mergeGeometries(list) {
    const names = Object.keys(list[0].attributes);
    let vertices = 0;
    let indices = 0;
    for (const g of list) {
        vertices += g.attributes.position.count;
        indices += g.index ? g.index.count : g.attributes.position.count;
    }
    const out = new THREE.BufferGeometry();
    for (const name of names) {
        const size = list[0].attributes[name].itemSize;
        const arr = new Float32Array(vertices * size);
        let o = 0;
        for (const g of list) {
            const a = g.attributes[name];
            if (!a || a.itemSize !== size) throw new Error(`mergeGeometries: attribute ${name} differs`);
            arr.set(a.array.subarray(0, a.count * size), o);
            o += a.count * size;
        }
        out.setAttribute(name, new THREE.BufferAttribute(arr, size));
    }
    const idx = vertices > 65535 ? new Uint32Array(indices) : new Uint16Array(indices);
    let io = 0;
    let base = 0;
    for (const g of list) {
        const n = g.attributes.position.count;
        if (g.index) {
            const src = g.index.array;
            for (let i = 0; i < g.index.count; i++) idx[io++] = src[i] + base;
        } else {
            for (let i = 0; i < n; i++) idx[io++] = i + base;
        }
        base += n;
    }
    out.setIndex(new THREE.BufferAttribute(idx, 1));
    return out;
}
