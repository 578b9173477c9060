#!/usr/bin/env node
// compare.mjs - the same avatar workload against venued and Colyseus, one
// after the other, and the ratios (issue 13).
//
//   node tests/bench/compare.mjs --sizes 200,400 --runs 3 --plot compare.svg
//   node tests/bench/compare.mjs --help
//
// For each size N and run: tests/bench/venue-loadgen against a venued it
// starts (server pinned to CPU 0, generator to CPU 1), then
// tests/bench/colyseus/run.sh (the same pinning) with the same clients,
// rate, probes, duration and warm-up. Both append their JSON line to --out;
// this prints one row per run with the two servers side by side, and with
// --plot draws p99 and server CPU against N for both (gnuplot, Debian
// gnuplot-nox, with tests/bench/compare.gp). A run either tool marks
// invalid is printed and plotted all the same, marked "invalid": losses
// are results too.
//
// Needs: a Release build with the generator (cmake -S . -B build-bench
// -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON, then cmake --build
// build-bench --target venued venue-loadgen) and npm ci in
// tests/bench/colyseus. Only 127.0.0.1; every child has a deadline.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { flagUsage, parseFlags } from './flags.mjs';

const HERE = import.meta.dirname;
const ROOT = path.resolve(HERE, '../..');

const OPTIONS = {
  sizes: ['200,400', 'avatars in the room, comma-separated, each one a run of both servers'],
  runs: [1, 'runs of each size'],
  rate: [20, 'poses per second each avatar sends (everyone moves)'],
  probes: [10, 'clients that decode every frame, in both tools'],
  duration: [20, 'measured seconds of each run'],
  warmup: [5, 'seconds of moving before the measurement'],
  poses: ['binary', "venued's poses frames: binary or json (PROTOCOL.md)"],
  out: [path.join(ROOT, 'tests/bench/results', `${new Date().toISOString().slice(0, 10)}-compare.jsonl`), 'JSON lines of every run, appended'],
  plot: ['', 'draw p99 and server CPU against N into this SVG (needs gnuplot)'],
  loadgen: [path.join(ROOT, 'build-bench/tests/venue-loadgen'), 'the C load generator'],
  venued: [path.join(ROOT, 'build-bench/server/venued'), 'the venued it starts'],
};

function parseArgs(argv) {
  let o;
  try {
    o = parseFlags(argv, OPTIONS, flagUsage('usage: node tests/bench/compare.mjs [--flag value]...', OPTIONS, 10));
  } catch (err) {
    fail(err.message);
  }
  for (const k of ['runs', 'rate', 'probes', 'duration', 'warmup']) if (!(o[k] > 0)) fail(`--${k}: not a positive number: ${o[k]}`);
  o.out = path.resolve(o.out); /* the tools run in folders of their own */
  if (o.plot) o.plot = path.resolve(o.plot);
  o.sizeList = String(o.sizes).split(',').map(Number);
  if (!o.sizeList.every((n) => Number.isInteger(n) && n >= 1 && n <= 20000)) fail(`--sizes: whole numbers from 1 to 20000, not "${o.sizes}"`);
  if (!Number.isInteger(o.runs) || o.runs > 10) fail('--runs: 1 to 10');
  if (o.poses !== 'binary' && o.poses !== 'json') fail(`--poses: binary or json, not "${o.poses}"`);
  if (o.duration > 600 || o.warmup > 120) fail('--duration at most 600, --warmup at most 120');
  for (const f of ['loadgen', 'venued']) if (!fs.existsSync(o[f])) fail(`--${f}: no ${o[f]} (build it: see --help's header in this file)`);
  if (!fs.existsSync(path.join(HERE, 'colyseus/node_modules'))) fail('tests/bench/colyseus has no node_modules: run npm ci there first');
  return o;
}

function fail(why) {
  console.error(`compare.mjs: ${why}`);
  process.exit(2);
}

/* Run a tool that appends one JSON line to o.out; return that line. */
function runTool(o, what, cmd, args, cwd) {
  const before = fs.existsSync(o.out) ? fs.readFileSync(o.out, 'utf8').split('\n').filter(Boolean).length : 0;
  const limitMs = (o.duration + o.warmup + 180) * 1000;
  console.error(`compare.mjs: ${what}`);
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'], timeout: limitMs, killSignal: 'SIGKILL' });
  const lines = fs.existsSync(o.out) ? fs.readFileSync(o.out, 'utf8').split('\n').filter(Boolean) : [];
  if (lines.length <= before) {
    console.error(`compare.mjs: ${what}: no result (${r.error ? r.error.message : `exit ${r.status}`})`);
    return null;
  }
  return JSON.parse(lines[lines.length - 1]);
}

/* The two tools' lines, to one shape. */
const fromVenued = (j) => j && {
  p99: j.latency_ms?.p99, fresh: j.freshness?.share, cpu: j.server?.cpu_pct, usPerEntry: j.server?.us_per_entry,
  bytesPerClient: j.clients?.bytes_per_s?.mean, valid: j.valid, why: j.invalid_reason || '',
};
const fromColyseus = (j) => j && {
  p99: j.latency?.p99, fresh: j.freshness?.share, cpu: j.server?.cpuPct, usPerEntry: j.server?.cpuUsPerEntry,
  bytesPerClient: j.clients?.bytesPerSec?.mean, valid: j.valid, why: (j.invalidReasons || []).join('; '),
};

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '-');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : '-');
const side = (s) => (s ? `${f1(s.p99)} ms, ${pct(s.fresh)}, ${f1(s.cpu)}%${s.valid ? '' : ` (invalid: ${s.why || 'see its line'})`}` : 'no result');

function main() {
  const o = parseArgs(process.argv.slice(2));
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const rows = [];
  for (const n of o.sizeList) {
    for (let run = 1; run <= o.runs; run++) {
      const args = ['--clients', n, '--rate', o.rate, '--probes', o.probes, '--duration', o.duration, '--warmup', o.warmup].map(String);
      const label = `compare ${n}, run ${run}`;
      const v = fromVenued(runTool(o, `venued (${o.poses} poses), ${label}`, o.loadgen,
        [...args, '--poses', o.poses, '--settle', '1', '--server-cpu', '0', '--gen-cpu', '1', '--bin', o.venued, '--json', o.out,
          '--label', `${label}, ${o.poses} poses`], ROOT));
      const c = fromColyseus(runTool(o, `Colyseus, ${label}`, path.join(HERE, 'colyseus/run.sh'),
        [...args, '--json', o.out, '--label', label], path.join(HERE, 'colyseus')));
      rows.push({ n, run, v, c });
    }
  }
  console.log(`| N | run | venued (${o.poses}): p99, fresh, server CPU | Colyseus: p99, fresh, server CPU | CPU venued / Colyseus | p99 venued / Colyseus |`);
  console.log('|---|---|---|---|---|---|');
  for (const { n, run, v, c } of rows) {
    console.log(`| ${n} | ${run} | ${side(v)} | ${side(c)} | ${ratio(v?.cpu, c?.cpu)} | ${ratio(v?.p99, c?.p99)} |`);
  }
  if (o.plot) plot(o, rows);
}

/* One row per run: N, then p99 and CPU of each (NaN where a tool gave nothing). */
function plot(o, rows) {
  const dat = o.plot.replace(/\.svg$/, '') + '.dat';
  const num = (x) => (Number.isFinite(x) ? x : 'NaN');
  fs.writeFileSync(dat, ['# N venued_p99 colyseus_p99 venued_cpu colyseus_cpu',
    ...rows.map(({ n, v, c }) => [n, num(v?.p99), num(c?.p99), num(v?.cpu), num(c?.cpu)].join(' '))].join('\n') + '\n');
  const r = spawnSync('gnuplot', ['-e', `data='${dat}'; out='${o.plot}'`, path.join(HERE, 'compare.gp')], { stdio: 'inherit' });
  if (r.error) console.error(`compare.mjs: no gnuplot (Debian gnuplot-nox); the data is in ${dat}`);
  else console.error(`compare.mjs: plot in ${o.plot}, data in ${dat}`);
}

main();
