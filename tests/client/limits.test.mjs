/*
 * The web client's copy of the protocol's limits is the server's: every
 * constant of web-client/js/limits.js, the client's subprotocol and the
 * venue page's maxlength attributes equal the #defines in protocol/proto.h,
 * so that neither side can change alone.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as limits from '../../web-client/js/limits.js';
import { SUBPROTOCOL } from '../../web-client/js/venue-client.js';

const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/* #define PROTO_<name> <value>: numbers as numbers (a float's f dropped), plain string literals unquoted */
function protoDefines() {
    const out = {};
    for (const [, name, value] of read('protocol/proto.h').matchAll(/^#define PROTO_(\w+)\s+("(?:[^"\\]|\\.)*"|\S+)/gm)) {
        if (!value.startsWith('"')) out[name] = Number(value.replace(/f$/, ''));
        else if (!value.includes('\\')) out[name] = value.slice(1, -1);
    }
    return out;
}

const proto = protoDefines();

test('each limit in limits.js is the #define of the same name in proto.h', () => {
    const names = Object.keys(limits);
    assert.ok(names.length > 0, 'limits.js exports its limits');
    for (const name of names) {
        assert.ok(name in proto, `proto.h has no PROTO_${name}`);
        assert.equal(limits[name], proto[name], `limits.js ${name} is PROTO_${name}`);
    }
});

test('the client asks for the subprotocol the server speaks', () => {
    assert.equal(SUBPROTOCOL, proto.SUBPROTOCOL);
});

test('the venue page\'s fields take what the protocol takes, no more', () => {
    const html = read('web-client/index.html');
    const maxlength = (id) => {
        const tag = html.match(new RegExp(`<input[^>]*\\bid="${id}"[^>]*>`));
        assert.ok(tag, `index.html has #${id}`);
        const m = tag[0].match(/\bmaxlength="(\d+)"/);
        assert.ok(m, `#${id} has a maxlength`);
        return Number(m[1]);
    };
    assert.equal(maxlength('join-name'), proto.NAME_MAX);
    assert.equal(maxlength('join-token'), proto.TOKEN_MAX);
    assert.equal(maxlength('chat-input'), proto.TEXT_MAX);
});
