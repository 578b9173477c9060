// lib.mjs - shared pieces of the admin tests: run `venued user ...` on a
// data dir, and call the admin HTTP API with or without a bearer token.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VENUED_BIN } from '../integration/harness.mjs';

export const HEX32 = /^[0-9a-f]{32}$/;
export const USER_ID = /^u-[0-9a-f]{16}$/;

/* A fresh temporary folder, removed by the returned function. */
export function tempDir(prefix = 'venued-admin-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/*
 * Run `venued user ARGS...` with --data dataDir. Returns { code, stdout,
 * stderr, json } where json is stdout's JSON lines, parsed. The
 * environment is cleared of VENUE_* so that the test decides.
 */
export function cli(dataDir, args, { env = {}, cwd } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VENUE_')));
  clean.ASAN_OPTIONS ??= 'abort_on_error=0:detect_leaks=1';
  // --data right after the subcommand, so that the test's own arguments
  // stay last (a missing value stays missing).
  const full = ['user', ...args.slice(0, 1), ...(dataDir ? ['--data', dataDir] : []), ...args.slice(1)];
  const r = spawnSync(VENUED_BIN, full, {
    env: { ...clean, ...env },
    cwd,
    encoding: 'utf8',
    timeout: 30000,
  });
  if (r.error) throw r.error;
  const json = [];
  for (const line of r.stdout.split('\n')) {
    if (line.trim()) {
      try { json.push(JSON.parse(line)); } catch { json.push({ unparsed: line }); }
    }
  }
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, json };
}

/* Register a user with the CLI; returns its JSON object (with token). */
export function addUser(dataDir, name, role, extra = []) {
  const r = cli(dataDir, ['add', '--name', name, '--role', role, ...extra]);
  if (r.code !== 0) throw new Error(`venued user add failed (${r.code}): ${r.stderr}`);
  return r.json[0];
}

/*
 * Call the server: method, path, { token, body (object: JSON; string or
 * Buffer: as is), headers }. Returns { status, headers, text, json }.
 */
export async function api(srv, method, p, { token = null, body = undefined, headers = {} } = {}) {
  const h = { ...headers };
  if (token !== null) h.authorization = `Bearer ${token}`;
  let payload = body;
  if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
    payload = JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(srv.url + p, {
    method,
    headers: h,
    body: payload,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

/* Assert-free check that a reply is our JSON error shape. */
export function isError(r, status, code) {
  return r.status === status && r.json && r.json.error && r.json.error.code === code &&
    typeof r.json.error.message === 'string';
}
