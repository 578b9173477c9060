// Guest churn against the real server (issue 14): one client looping guest
// hellos as fast as it can is rate-limited, the server's memory stays
// bounded and the users table keeps no row per churned guest; fifty
// connections guessing resume tokens are closed before they can scan,
// while a healthy client's chat round trip stays short.
//
// The attackers come from their own loopback addresses (127.0.0.2, .3):
// the limits are per address, and the healthy client (127.0.0.1) must not
// share theirs. Every loop is bounded in count and in time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import { withServer, SUBPROTOCOL, sleep } from './harness.mjs';

// ASan keeps freed memory in quarantine (256 MB by default), which would
// measure the sanitizer, not venued: a small one for this server.
process.env.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1:quarantine_size_mb=4';

const CHURN_MS = 3000;
const CHURN_MAX = 20000; // hellos at most, whatever the speed
const PARALLEL = 8;      // connections the churner keeps going at once

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function sql(db, query) {
  return execFileSync('sqlite3', [db, query], { encoding: 'utf8' }).trim();
}

/*
 * One connection from localAddress: sends hello(s) made by next() (one
 * after each answer that leaves the connection open), and resolves when
 * the server closes it or give-up time comes, with what it heard.
 */
function attempt(url, localAddress, next, until) {
  return new Promise((resolve) => {
    const seen = { welcome: 0, not_found: 0, rate_limited: 0, other: 0, close: null };
    const ws = new WebSocket(url, SUBPROTOCOL, { localAddress });
    const timer = setTimeout(() => ws.terminate(), Math.max(0, until - Date.now()) + 2000);
    const send = () => {
      if (Date.now() < until && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(next()));
      else ws.terminate();
    };
    ws.on('open', send);
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (m.type === 'welcome') {
        seen.welcome++;
        ws.terminate(); // churn: a new connection for the next hello
      } else if (m.type === 'error') {
        if (m.code === 'not_found') {
          seen.not_found++;
          send();
        } else if (m.code === 'rate_limited') {
          seen.rate_limited++;
        } else {
          seen.other++;
        }
      }
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(timer);
      seen.close = code;
      resolve(seen);
    });
  });
}

/* Keep `parallel` attempts going from localAddress until `ms` or `max`
 * attempts; the sum of what they heard. */
async function attack(url, localAddress, next, { ms, max, parallel }) {
  const until = Date.now() + ms;
  const total = { attempts: 0, welcome: 0, not_found: 0, rate_limited: 0, other: 0, closed1008: 0 };
  const lane = async () => {
    while (Date.now() < until && total.attempts < max) {
      total.attempts++;
      const r = await attempt(url, localAddress, next, until);
      for (const k of ['welcome', 'not_found', 'rate_limited', 'other']) total[k] += r[k];
      if (r.close === 1008) total.closed1008++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return total;
}

test('a guest-hello loop is rate-limited; memory and the users table stay bounded', async () => {
  await withServer({}, async (srv) => {
    const healthy = await srv.connect();
    await healthy.enter('lobby', 'Healthy');
    const rss0 = rssKiB(srv.child.pid);
    const t0 = Date.now();
    const churn = await attack(srv.wsUrl, '127.0.0.2', () => ({ type: 'hello', name: 'Churn' }),
      { ms: CHURN_MS, max: CHURN_MAX, parallel: PARALLEL });
    const secs = (Date.now() - t0) / 1000;
    const rss1 = rssKiB(srv.child.pid);
    console.log(`churn: ${churn.attempts} connections in ${secs.toFixed(1)} s: ${churn.welcome} welcomed, ` +
      `${churn.rate_limited} rate_limited (${churn.closed1008} closed 1008); RSS ${rss0} -> ${rss1} KiB`);
    // 60 at once, then 20 a second (a little slack for the clock).
    assert.ok(churn.welcome <= 60 + 20 * secs + 10, `${churn.welcome} guests welcomed in ${secs} s`);
    assert.ok(churn.rate_limited > 0 && churn.closed1008 > 0, 'the churner is told rate_limited and closed');
    assert.ok(rss1 - rss0 < 32 * 1024, `RSS grew by ${rss1 - rss0} KiB`);
    const m = await srv.metrics();
    assert.match(m.text, /venue_closed_total\{reason="address_limit"\} [1-9]/);
    assert.ok(healthy.open, 'the healthy client stays');

    // Nobody of the churn entered a room: no users row for any of them.
    await sleep(1200); // a flush of poses and rows (--flush-ms 1000)
    const db = srv.dbFiles().find((f) => f.endsWith('venue.db'));
    assert.equal(sql(db, "SELECT count(*) FROM users WHERE registered = 0 AND name = 'Churn'"), '0');
    assert.equal(sql(db, "SELECT count(*) FROM users WHERE registered = 0 AND name = 'Healthy'"), '1',
      'a guest who entered a room has its row');
  });
});

test('fifty resume-token guessers are closed; a healthy chat stays fast', async () => {
  // --chat-rate 50: the healthy client samples its round trip often.
  await withServer({ flags: { 'chat-rate': 50 } }, async (srv) => {
    const healthy = await srv.connect();
    await healthy.enter('lobby', 'Healthy');
    const rtts = [];
    let stop = false;
    const chatter = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const text = `ping ${i}`;
        const t = performance.now();
        healthy.send({ type: 'chat', text });
        await healthy.next('chat', { timeout: 3000, filter: (m) => m.text === text });
        rtts.push(performance.now() - t);
        await sleep(40);
      }
    })();
    const t0 = Date.now();
    const guess = () => ({ type: 'hello', name: 'G', resume: crypto.randomBytes(16).toString('hex') });
    const g = await attack(srv.wsUrl, '127.0.0.3', guess, { ms: CHURN_MS, max: 20000, parallel: 50 });
    const secs = (Date.now() - t0) / 1000;
    stop = true;
    await chatter;
    rtts.sort((a, b) => a - b);
    const p99 = rtts[Math.min(rtts.length - 1, Math.floor(rtts.length * 0.99))];
    console.log(`guessers: ${g.attempts} connections in ${secs.toFixed(1)} s: ${g.not_found} unknown tokens answered, ` +
      `${g.closed1008} closed 1008; healthy chat: ${rtts.length} round trips, p99 ${p99.toFixed(1)} ms`);
    // Ten at once, then two a second for the whole address.
    assert.ok(g.not_found <= 10 + 2 * secs + 4, `${g.not_found} guesses answered in ${secs} s`);
    assert.ok(g.closed1008 >= 50, `${g.closed1008} guessing connections closed`);
    assert.equal(g.welcome, 0);
    assert.ok(rtts.length >= 20, `${rtts.length} chat round trips`);
    assert.ok(p99 < 200, `chat round trip p99 ${p99.toFixed(1)} ms`);
    assert.ok(healthy.open);
  });
});
