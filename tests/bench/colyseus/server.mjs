#!/usr/bin/env node
// server.mjs - the idiomatic Colyseus avatar room, for comparing venued
// with Colyseus under the same workload (issue 13).
//
// One room type, "avatars": its state is a MapSchema of Avatar schemas
// keyed by sessionId, each with float32 position (x, y, z) and rotation
// quaternion (qx, qy, qz, qw). A client's "pose" message sets its own
// avatar's fields; joining adds an entry, leaving removes it. Colyseus
// encodes the changes once per patch (every 50 ms) and sends the same
// bytes to every client. Nothing here is tuned: it is the room the
// Colyseus documentation teaches.
//
//   node server.mjs --port 2567 --max-secs 120
//   node server.mjs --help
//
// It listens on 127.0.0.1 only and exits by itself after --max-secs.

import { Server, Room } from '@colyseus/core';
import { WebSocketTransport } from '@colyseus/ws-transport';
import { Schema, MapSchema, defineTypes, Encoder } from '@colyseus/schema';
import { flagUsage, parseFlags } from '../flags.mjs';

const HOST = '127.0.0.1'; // never anything else

const OPTIONS = {
  port: [2567, 'TCP port on 127.0.0.1'],
  'max-secs': [600, 'exit after this many seconds, whatever happens (1..3600)'],
  'patch-ms': [50, 'patch period in milliseconds (Colyseus default 50)'],
};

function parseArgs(argv) {
  const o = parseFlags(argv, OPTIONS, flagUsage('usage: node server.mjs [--flag value]...', OPTIONS, 10));
  if (!(Number.isInteger(o.port) && o.port >= 1 && o.port <= 65535)) throw new Error('--port: a whole number 1..65535');
  if (!(o['max-secs'] >= 1 && o['max-secs'] <= 3600)) throw new Error('--max-secs: 1..3600 seconds');
  if (!(Number.isInteger(o['patch-ms']) && o['patch-ms'] >= 5 && o['patch-ms'] <= 1000)) throw new Error('--patch-ms: a whole number 5..1000');
  return o;
}

/* Plain JS has no decorators: defineTypes is the documented way. Fields are
 * assigned in the constructor, not declared as class fields, because a
 * class field would shadow the accessors defineTypes puts on the prototype
 * and the change would never be tracked. */
class Avatar extends Schema {
  constructor() {
    super();
    this.x = 0; this.y = 0; this.z = 0;
    this.qx = 0; this.qy = 0; this.qz = 0; this.qw = 1;
  }
}
defineTypes(Avatar, {
  x: 'float32', y: 'float32', z: 'float32',
  qx: 'float32', qy: 'float32', qz: 'float32', qw: 'float32',
});

class AvatarState extends Schema {
  constructor() {
    super();
    this.avatars = new MapSchema();
  }
}
defineTypes(AvatarState, { avatars: { map: Avatar } });

/* A pose is [x, y, z, qx, qy, qz, qw]: seven finite numbers. Anything else
 * is ignored, as a room would ignore a malformed message. */
function validPose(m) {
  if (!Array.isArray(m) || m.length !== 7) return false;
  for (const v of m) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  return true;
}

let patchMs = 50;

/* A full state of 1,000 avatars is about 40 KB; the default 8 KB buffer
 * would be regrown (with a warning and a re-encode) on every join's full
 * state. Colyseus's own warning suggests this knob. */
Encoder.BUFFER_SIZE = 1024 * 1024;

class AvatarRoom extends Room {
  onCreate() {
    this.setState(new AvatarState());
    this.setPatchRate(patchMs);
    this.autoDispose = false; // the benchmark's room outlives a moment with nobody in it
    this.onMessage('pose', (client, m) => {
      if (!validPose(m)) { this.badPoses++; return; }
      const a = this.state.avatars.get(client.sessionId);
      if (!a) return;
      a.x = m[0]; a.y = m[1]; a.z = m[2];
      a.qx = m[3]; a.qy = m[4]; a.qz = m[5]; a.qw = m[6];
    });
    this.badPoses = 0;
  }

  onJoin(client) {
    const a = new Avatar();
    // spawn somewhere in a 40 m square, as a venue spawns people apart
    a.x = Math.random() * 40 - 20;
    a.z = Math.random() * 40 - 20;
    this.state.avatars.set(client.sessionId, a);
  }

  onLeave(client) {
    this.state.avatars.delete(client.sessionId);
  }
}

async function main(o) {
  patchMs = o['patch-ms'];
  const gameServer = new Server({ transport: new WebSocketTransport({ perMessageDeflate: false }), greet: false });
  gameServer.define('avatars', AvatarRoom);
  await gameServer.listen(o.port, HOST);
  // one line on stdout, for whoever started us: we are ready
  console.log(JSON.stringify({ ready: true, port: o.port, pid: process.pid, patchMs }));
  // SIGTERM and SIGINT: Colyseus's own graceful shutdown handles them
  setTimeout(() => {
    console.error(`server.mjs: stopping (--max-secs ${o['max-secs']} reached)`);
    setTimeout(() => process.exit(0), 3000).unref(); // do not wait on disposal forever
    gameServer.gracefullyShutdown(false).finally(() => process.exit(0));
  }, o['max-secs'] * 1000).unref();
  // keep the process alive until a stop: the timer above is unref'd
  setInterval(() => {}, 1 << 30);
}

let opts;
try { opts = parseArgs(process.argv.slice(2)); } catch (err) { console.error(String(err.message)); process.exit(2); }
main(opts).catch((err) => { console.error(`server.mjs: ${err.stack ?? err}`); process.exit(1); });
