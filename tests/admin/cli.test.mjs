// `venued user add|import|revoke|list` against a data dir, and what a
// running server makes of the result.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { withServer } from '../integration/harness.mjs';
import { cli, addUser, api, tempDir, HEX32, USER_ID } from './lib.mjs';

test('user add prints one JSON object with id, a 32-hex token and a join link', () => {
  const t = tempDir();
  try {
    const r = cli(t.dir, ['add', '--name', 'Ada Lovelace', '--role', 'speaker', '--org', 'Analytical, Ltd',
      '--public-url', 'https://venue.example.org/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.length, 1, `exactly one line of JSON: ${r.stdout}`);
    const u = r.json[0];
    assert.deepEqual(Object.keys(u).sort(), ['id', 'link', 'name', 'org', 'role', 'token']);
    assert.match(u.id, USER_ID);
    assert.match(u.token, HEX32);
    assert.equal(u.name, 'Ada Lovelace');
    assert.equal(u.org, 'Analytical, Ltd');
    assert.equal(u.role, 'speaker');
    assert.equal(u.link, `https://venue.example.org/?token=${u.token}`);
    assert.ok(!r.stderr.includes(u.token), 'the token is not in a message');

    // Without --public-url: the environment's, else localhost and the port.
    const d = cli(t.dir, ['add', '--name', 'Bo', '--role', 'guest']);
    assert.match(d.json[0].link, /^http:\/\/localhost:8080\/\?token=[0-9a-f]{32}$/);
    const e = cli(t.dir, ['add', '--name', 'Cy', '--role', 'guest'], { env: { VENUE_PUBLIC_URL: 'https://x.example' } });
    assert.ok(e.json[0].link.startsWith('https://x.example/?token='));
    // Two users, two different ids and tokens.
    assert.notEqual(d.json[0].id, e.json[0].id);
    assert.notEqual(d.json[0].token, e.json[0].token);
  } finally {
    t.remove();
  }
});

test('user add: usage errors exit 2 with a usage line; bad values name the option', () => {
  const t = tempDir();
  try {
    const cases = [
      [['add', '--role', 'admin'], /--name is required/],
      [['add', '--name', 'X'], /--role is required/],
      [['add', '--name', 'X', '--role', 'boss'], /--role: "boss" is not one of guest, attendee, speaker, moderator, admin/],
      [['add', '--name', '', '--role', 'guest'], /--name: must not be empty/],
      [['add', '--name', 'a\u0007b', '--role', 'guest'], /--name: contains a control character/],
      [['add', '--name', 'x'.repeat(65), '--role', 'guest'], /--name: must be 1\.\.64 characters/],
      [['add', '--name', 'X', '--role', 'guest', '--expires-days', '0'], /--expires-days/],
      [['add', '--name', 'X', '--role', 'guest', '--bogus', '1'], /unknown option "--bogus"/],
      [['add', '--name'], /--name needs a value/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [[], /which command/],
      [['import'], /import: which FILE/],
      [['revoke'], /revoke: which user ID/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args.length ? t.dir : null, args);
      assert.equal(r.code, 2, `${JSON.stringify(args)} exits 2: ${r.stderr}`);
      assert.match(r.stderr, re, JSON.stringify(args));
      assert.match(r.stderr, /usage: venued user add/, `usage line for ${JSON.stringify(args)}`);
      assert.equal(r.stdout, '');
    }
    const h = cli(null, ['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /venued user import FILE\.csv/);
    // Nothing was registered by any of it.
    assert.deepEqual(cli(t.dir, ['list']).json, []);
  } finally {
    t.remove();
  }
});

const GOOD_CSV = '\uFEFFname,organisation,role\r\n' +
  '"Smith, Jane","ACME ""Best"" Ltd",speaker\r\n' +
  '\r\n' +
  'Bob,,Attendee\r\n' +
  '"Zoë Ölund",City of Ghent,moderator\r\n';

function parseCsv(text) {
  // Enough of RFC 4180 to read back what venued writes.
  const rows = [];
  let row = [], field = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') q = false;
      else field += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\r') { /* CRLF */ }
    else if (c === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('user import: a name or organisation a spreadsheet would run as a formula is text in the tokens CSV', () => {
  const t = tempDir();
  try {
    const list = path.join(t.dir, 'people.csv');
    fs.writeFileSync(list, 'name,organisation,role\n"=IMPORTXML(""http://x"",""//a"")",@SUM(A1),attendee\n+Ann,-Org,guest\n');
    const r = cli(path.join(t.dir, 'data'), ['import', list]);
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(path.join(t.dir, 'people.tokens.csv'), 'utf8');
    const rows = parseCsv(text).slice(1);
    assert.deepEqual(rows.map((x) => [x[1], x[2]]), [
      ['\'=IMPORTXML("http://x","//a")', '\'@SUM(A1)'],
      ['\'+Ann', '\'-Org'],
    ]);
    assert.doesNotMatch(text, /(^|,)[=+\-@]/m, 'no cell starts as a formula');
    // the names themselves are stored as given
    assert.deepEqual(cli(path.join(t.dir, 'data'), ['list']).json.map((u) => u.name).sort(), ['+Ann', '=IMPORTXML("http://x","//a")']);
  } finally {
    t.remove();
  }
});

test('user import: quotes, commas, BOM and CRLF; a 0600 tokens CSV; then the list', () => {
  const t = tempDir();
  try {
    const list = path.join(t.dir, 'people.csv');
    fs.writeFileSync(list, GOOD_CSV);
    const r = cli(path.join(t.dir, 'data'), ['import', list, '--public-url', 'https://v.example.org']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /registered 3 users from .*people\.csv/);
    const out = path.join(t.dir, 'people.tokens.csv');
    assert.match(r.stderr, /people\.tokens\.csv/);
    assert.equal(fs.statSync(out).mode & 0o777, 0o600, 'tokens file is 0600');

    const rows = parseCsv(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(rows[0], ['id', 'name', 'organisation', 'role', 'token', 'link']);
    assert.equal(rows.length, 4);
    assert.deepEqual(rows.slice(1).map((x) => [x[1], x[2], x[3]]), [
      ['Smith, Jane', 'ACME "Best" Ltd', 'speaker'],
      ['Bob', '', 'attendee'],
      ['Zoë Ölund', 'City of Ghent', 'moderator'],
    ]);
    for (const x of rows.slice(1)) {
      assert.match(x[0], USER_ID);
      assert.match(x[4], HEX32);
      assert.equal(x[5], `https://v.example.org/?token=${x[4]}`);
      assert.ok(!r.stderr.includes(x[4]), 'no token in a message');
    }

    // The list: JSON lines, newest first, no tokens, searchable.
    const l = cli(path.join(t.dir, 'data'), ['list']);
    assert.equal(l.code, 0);
    assert.equal(l.json.length, 3);
    for (const u of l.json) {
      assert.deepEqual(Object.keys(u).sort(), ['created_ms', 'id', 'last_seen_ms', 'name', 'org', 'revoked', 'role']);
      assert.equal(u.revoked, false);
    }
    assert.ok(!l.stdout.match(/[0-9a-f]{32}/), 'no token in the list');
    const s = cli(path.join(t.dir, 'data'), ['list', '--search', 'acme']);
    assert.deepEqual(s.json.map((u) => u.name), ['Smith, Jane']);

    // A second import never overwrites the tokens file.
    const again = cli(path.join(t.dir, 'data'), ['import', list]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /people\.tokens\.csv: File exists \(choose another with --out\)/);
    assert.match(again.stderr, /Nothing was registered/);
    assert.equal(cli(path.join(t.dir, 'data'), ['list']).json.length, 3);
    // --out chooses another file.
    const other = path.join(t.dir, 'second.csv');
    const o = cli(path.join(t.dir, 'data'), ['import', list, '--out', other]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(parseCsv(fs.readFileSync(other, 'utf8')).length, 4);
    assert.equal(cli(path.join(t.dir, 'data'), ['list']).json.length, 6);
  } finally {
    t.remove();
  }
});

test('user import: one bad row refuses the whole file, naming the line and the field', () => {
  const t = tempDir();
  try {
    const data = path.join(t.dir, 'data');
    const write = (name, text) => {
      const p = path.join(t.dir, name);
      fs.writeFileSync(p, text);
      return p;
    };
    const cases = [
      ['role.csv', 'name,organisation,role\nAnn,Org,guest\nBen,Org,attendee\nCid,Org,boss\n',
        /role\.csv:4: role: "boss" is not one of guest, attendee, speaker, moderator, admin/],
      ['name.csv', 'Ann,Org,guest\n,Org,guest\n', /name\.csv:2: name: must not be empty/],
      ['ctrl.csv', 'Ann,Org,guest\n"Ben\u001b[31m",Org,guest\n', /ctrl\.csv:2: name: contains a control character \(U\+001B\)/],
      ['fields.csv', 'Ann,Org,guest\nBen,guest\n', /fields\.csv:2: expected 3 fields/],
      ['quote.csv', 'Ann,Org,guest\n"Ben,Org,guest\n', /quote\.csv:2: a quoted field is never closed/],
      ['long.csv', `Ann,${'o'.repeat(129)},guest\n`, /long\.csv:1: organisation: must be at most 128 characters/],
      ['header.csv', 'name,company,role\nAnn,Org,guest\n', /header\.csv:1: header: column 2 is unknown: "company"/],
      ['empty.csv', '', /empty\.csv: no rows/],
    ];
    for (const [name, text, re] of cases) {
      const r = cli(data, ['import', write(name, text)]);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, re, name);
      assert.match(r.stderr, /Nothing was registered/, name);
      assert.ok(!fs.existsSync(path.join(t.dir, name.replace('.csv', '.tokens.csv'))), `${name}: no tokens file`);
    }
    // Invalid UTF-8, as bytes.
    const bin = path.join(t.dir, 'utf8.csv');
    fs.writeFileSync(bin, Buffer.concat([Buffer.from('Ann,'), Buffer.from([0xff, 0xfe]), Buffer.from(',guest\n')]));
    const u = cli(data, ['import', bin]);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /utf8\.csv:1: organisation: not valid UTF-8/);
    assert.deepEqual(cli(data, ['list']).json, [], 'nothing registered at all');
  } finally {
    t.remove();
  }
});

test('user add and import: bidi overrides are left out of names, not shown reversed', () => {
  const t = tempDir();
  try {
    const data = path.join(t.dir, 'data');
    const a = cli(data, ['add', '--name', '\u03A9\u202Eevil', '--org', 'Org\u2066x\u2069', '--role', 'attendee']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.json[0].name, '\u03A9evil');
    const csv = path.join(t.dir, 'bidi.csv');
    fs.writeFileSync(csv, 'Ann\u202Egnp.exe,Org,guest\n');
    const r = cli(data, ['import', csv]);
    assert.equal(r.code, 0, r.stderr);
    const names = cli(data, ['list']).json.map((u) => [u.name, u.org]).sort();
    assert.deepEqual(names, [['Anngnp.exe', 'Org'], ['\u03A9evil', 'Orgx']]);
    // Only overrides, nothing else: as empty as an empty name.
    const e = cli(data, ['add', '--name', '\u202E\u202C', '--role', 'guest']);
    assert.equal(e.code, 2);
    assert.match(e.stderr, /--name: must not be empty/);
  } finally {
    t.remove();
  }
});

test('user import: files over 10 MiB or over 100000 rows are refused', () => {
  const t = tempDir();
  try {
    const data = path.join(t.dir, 'data');
    const big = path.join(t.dir, 'big.csv');
    fs.writeFileSync(big, Buffer.alloc(10 * 1024 * 1024 + 1, 'a'));
    const r = cli(data, ['import', big]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /big\.csv: 10485761 bytes is over the limit of 10485760/);
    const many = path.join(t.dir, 'many.csv');
    fs.writeFileSync(many, 'n,o,guest\n'.repeat(100001));
    const m = cli(data, ['import', many]);
    assert.equal(m.code, 1);
    assert.match(m.stderr, /many\.csv: more than 100000 rows/);
    const dir = cli(data, ['import', t.dir]);
    assert.equal(dir.code, 1);
    assert.match(dir.stderr, /not a regular file/);
    const missing = cli(data, ['import', path.join(t.dir, 'nope.csv')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.csv: No such file/);
  } finally {
    t.remove();
  }
});

test('user revoke: the token stops working on a running server; unknown ids fail', async () => {
  await withServer({}, async (srv) => {
    const admin = addUser(srv.dataDir, 'Organiser', 'admin');
    const other = addUser(srv.dataDir, 'Second', 'admin');
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: other.token })).status, 200);

    const r = cli(srv.dataDir, ['revoke', other.id]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json, [{ id: other.id, revoked: true }]);
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: other.token })).status, 401);
    assert.equal((await api(srv, 'GET', '/api/admin/users', { token: admin.token })).status, 200);

    const listed = cli(srv.dataDir, ['list']).json.find((u) => u.id === other.id);
    assert.equal(listed.revoked, true);

    const missing = cli(srv.dataDir, ['revoke', 'u-0000000000000000']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no user "u-0000000000000000"/);
    // Tokens never reach the server's log.
    assert.ok(!srv.log.includes(admin.token) && !srv.log.includes(other.token));
  });
});

test('user expiry: --expires-days sets it; the CLI honours VENUE_DATA', async () => {
  const t = tempDir();
  try {
    const r = cli(null, ['add', '--name', 'Temp', '--role', 'admin', '--expires-days', '1'], { env: { VENUE_DATA: t.dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(path.join(t.dir, 'venue.db')), 'database made in VENUE_DATA');
    await withServer({ dataDir: t.dir }, async (srv) => {
      assert.equal((await api(srv, 'GET', '/api/admin/users', { token: r.json[0].token })).status, 200);
    });
  } finally {
    t.remove();
  }
});
