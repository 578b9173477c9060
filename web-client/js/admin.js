/*
 * admin.js - the organiser's page at /admin: registrations (search, add,
 * CSV import, revoke), who is in which room now, the programme (import a
 * file, add, edit or remove a session, each session's questions) and the
 * audit log.
 *
 * Owns the page's DOM and the admin token. The token is asked for once and
 * kept in sessionStorage only (this tab, forgotten when it closes); every
 * call sends it as "Authorization: Bearer". A 401 asks for it again, a 403
 * says the token is not an admin's. Tokens of newly registered people are
 * shown once and never stored. Text from the server goes in through
 * textContent only. The API is server/admin/admin_api.c (shapes in its tests).
 */

import { $, el, button, option, selectTab, wireTab } from './dom.js';

const TOKEN_KEY = 'venue.adminToken';

let token = null;
let users = []; /* the last registrations list, for names in the audit log */
let rooms = []; /* /api/venue, for room names */

function when(ms) {
    if (!ms) return 'never';
    const d = new Date(ms);
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function roomName(id) {
    const r = rooms.find((x) => x.id === id);
    return r ? r.name : id;
}

function personName(id) {
    const u = users.find((x) => x.id === id);
    return u ? u.name : null;
}

/* ---- the token ------------------------------------------------------------ */

function storedToken() {
    try {
        return sessionStorage.getItem(TOKEN_KEY);
    } catch {
        return null;
    }
}

function keepToken(t) {
    try {
        if (t) sessionStorage.setItem(TOKEN_KEY, t);
        else sessionStorage.removeItem(TOKEN_KEY);
    } catch {
        /* storage off: the token lives as long as the page */
    }
}

/* Ask for the token (again), saying why. */
function askToken(why = '') {
    token = null;
    keepToken(null);
    $('admin-app').hidden = true;
    $('forget-token').hidden = true;
    $('token-screen').hidden = false;
    $('token-error').textContent = why;
    const input = $('token-input');
    input.value = '';
    input.setAttribute('aria-invalid', why ? 'true' : 'false');
    input.focus();
}

class AuthError extends Error {}

/*
 * Call the admin API. Resolves with {status, json}; a 401 or a token
 * refused with 403 asks for the token and rejects with AuthError.
 */
async function api(method, path, { json, text, type } = {}) {
    const headers = { authorization: `Bearer ${token}` };
    let body;
    if (json !== undefined) {
        body = JSON.stringify(json);
        headers['content-type'] = 'application/json';
    } else if (text !== undefined) {
        body = text;
        headers['content-type'] = type || 'text/plain; charset=utf-8';
    }
    let res;
    try {
        res = await fetch(path, { method, headers, body, cache: 'no-store' });
    } catch {
        throw new Error('The venue server cannot be reached. Is it running?');
    }
    let data = null;
    try {
        data = await res.json();
    } catch {
        /* not JSON */
    }
    const err = data && data.error ? data.error : null;
    if (res.status === 401) {
        askToken('That token was not accepted: it is unknown, expired or revoked. Please enter an admin token.');
        throw new AuthError('unauthorized');
    }
    /* 403 about the token itself names no field; other refusals (revoking
     * yourself) do, and are shown where they happened. */
    if (res.status === 403 && !(err && err.field)) {
        askToken('This token is not an admin\'s: it works in the venue, but not here. Please enter an admin token.');
        throw new AuthError('forbidden');
    }
    return { status: res.status, json: data, error: err };
}

function status(text, kind = 'ok') {
    const s = $('admin-status');
    s.textContent = text;
    s.dataset.kind = kind;
}

/* Show a failure in the status line; auth failures already asked for the token. */
function failed(what, e) {
    if (e instanceof AuthError) return;
    status(`${what}: ${e.message}`, 'bad');
}

function errorText(r) {
    return r.error ? r.error.message : `HTTP ${r.status}`;
}

/* GET one of the admin API's lists and render it: its summary line says "Loading…" until then. */
async function loadList(summaryId, path, what, render) {
    const summary = $(summaryId);
    summary.textContent = 'Loading…';
    try {
        const r = await api('GET', path);
        if (r.status !== 200) throw new Error(errorText(r));
        render(r.json);
    } catch (e) {
        summary.textContent = '';
        failed(what, e);
    }
}

/* Copy text; if the browser will not, select it for Ctrl+C. */
async function copy(text, codeEl, what) {
    try {
        await navigator.clipboard.writeText(text);
        status(`${what} copied.`);
    } catch {
        if (codeEl) {
            const range = document.createRange();
            range.selectNodeContents(codeEl);
            const sel = getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
        }
        status(`This browser would not copy by itself: the ${what.toLowerCase()} is selected, press Ctrl+C (or ⌘C).`, 'bad');
    }
}

/* ---- tabs ------------------------------------------------------------------ */

const TABS = { 'tab-users': loadUsers, 'tab-now': loadPresence, 'tab-programme': loadProgramme, 'tab-audit': loadAudit };

const tabs = () => [...document.querySelectorAll('[role="tab"]')];

function showTab(id) {
    if (id !== currentTab()) status('');
    selectTab(tabs(), id);
    TABS[id]();
}

function initTabs() {
    for (const tab of tabs()) wireTab(tab, tabs, showTab);
}

function currentTab() {
    return document.querySelector('[role="tab"][aria-selected="true"]').id;
}

/* ---- registrations ---------------------------------------------------------- */

function loadUsers() {
    const q = $('search-input').value.trim();
    return loadList('users-summary', `/api/admin/users${q ? `?q=${encodeURIComponent(q)}` : ''}`,
        'The registrations could not be loaded', (json) => {
            users = q ? users : json.users; /* names for the audit log come from the full list */
            renderUsers(json.users, q);
        });
}

function renderUsers(list, q) {
    const rows = list.map((u) => {
        const tr = el('tr');
        tr.dataset.id = u.id;
        if (u.revoked) tr.classList.add('revoked');
        const name = el('td', 'name');
        const bdi = el('bdi', null, u.name);
        const id = el('div', 'id', u.id);
        name.append(bdi, id);
        const org = el('td', null, u.org || '—');
        org.dir = 'auto';
        const st = el('td');
        st.append(el('span', u.revoked ? 'status-revoked' : 'status-active', u.revoked ? 'Revoked' : 'Active'));
        const act = el('td');
        if (!u.revoked) {
            const b = button('mod-button danger', 'Revoke');
            b.setAttribute('aria-label', `Revoke ${u.name}'s registration`);
            b.addEventListener('click', () => revoke(u));
            act.append(b);
        }
        tr.append(name, org, el('td', null, u.role), el('td', 'at', when(u.created_ms)), el('td', 'at', when(u.last_seen_ms)), st, act);
        return tr;
    });
    $('users-table').tBodies[0].replaceChildren(...rows);
    const n = list.length;
    $('users-summary').textContent = q
        ? `${n} ${n === 1 ? 'registration matches' : 'registrations match'} “${q}”.`
        : `${n} ${n === 1 ? 'registration' : 'registrations'}, newest first.`;
}

async function revoke(u) {
    if (!window.confirm(`Revoke ${u.name}'s registration? Their token stops working at once and they are disconnected.`)) return;
    try {
        const r = await api('DELETE', `/api/admin/users/${encodeURIComponent(u.id)}`);
        if (r.status !== 200) throw new Error(errorText(r));
        status(`${u.name}'s registration is revoked.`);
        await loadUsers();
    } catch (e) {
        failed(`Could not revoke ${u.name}`, e);
    }
}

async function onAdd(ev) {
    ev.preventDefault();
    const name = $('add-name').value.trim();
    const role = $('add-role').value;
    const org = $('add-org').value.trim();
    const err = $('add-error');
    err.textContent = '';
    if (!name) {
        err.textContent = 'The name is required.';
        $('add-name').focus();
        return;
    }
    try {
        const r = await api('POST', '/api/admin/users', { json: org ? { name, role, org } : { name, role } });
        if (r.status !== 201) {
            err.textContent = `Not registered: ${errorText(r)}`;
            const f = r.error && r.error.field && $(`add-${r.error.field}`);
            if (f) f.focus();
            return;
        }
        const u = r.json;
        $('add-result-title').textContent = `Registered ${u.name} (${u.role}${u.org ? `, ${u.org}` : ''})`;
        $('add-token').textContent = u.token;
        $('add-link').textContent = u.link;
        $('add-result').hidden = false;
        $('add-result').focus();
        $('add-form').reset();
        status(`${u.name} is registered. Copy the token or the join link now: it is shown only here.`);
        loadUsers();
    } catch (e) {
        failed('Could not register', e);
    }
}

function hideAddResult() {
    $('add-token').textContent = '';
    $('add-link').textContent = '';
    $('add-result').hidden = true;
    $('add-name').focus();
}

/* ---- CSV import --------------------------------------------------------------- */

let imported = []; /* the last import's users, with tokens, until hidden */

async function onImport(ev) {
    ev.preventDefault();
    const file = $('import-file').files[0];
    const box = $('import-error');
    box.hidden = true;
    box.replaceChildren();
    let csv = '';
    try {
        csv = file ? await file.text() : $('import-text').value;
    } catch {
        showImportError('The file could not be read.', null);
        return;
    }
    if (!csv.trim()) {
        showImportError('Choose a CSV file or paste the list first.', null);
        $('import-file').focus();
        return;
    }
    try {
        const r = await api('POST', '/api/admin/users/import', { text: csv, type: 'text/csv; charset=utf-8' });
        if (r.status !== 201) {
            showImportError(`Nobody was registered: ${errorText(r)}`, r.error);
            return;
        }
        imported = r.json.users;
        renderImport(r.json.count, imported);
        $('import-form').reset();
        status(`${r.json.count} registered from the list. Copy their tokens now: they are shown only here.`);
        loadUsers();
    } catch (e) {
        failed('Could not import', e);
    }
}

/* A refusal in its box: the sentence, then what it names ([label, value]: the line, the session, the field). */
function showRefusal(box, text, parts = []) {
    const items = [el('p', null, text)];
    if (parts.length) {
        const where = el('p');
        parts.forEach(([label, value], i) => {
            if (i) where.append(document.createTextNode(' · '));
            const v = el('bdi', null, value);
            where.append(el('strong', null, `${label}: `), v);
        });
        items.push(where);
    }
    box.replaceChildren(...items);
    box.hidden = false;
}

/* An import refused: the message, with the line and field it names. */
function showImportError(text, err) {
    const parts = [];
    if (err && err.line) parts.push(['Line', String(err.line)]);
    if (err && err.field) parts.push(['Field', err.field === 'body' ? 'the list' : err.field]);
    showRefusal($('import-error'), text, parts);
}

function renderImport(count, list) {
    $('import-result-title').textContent = `${count} ${count === 1 ? 'person' : 'people'} registered`;
    const rows = list.map((u) => {
        const tr = el('tr');
        const name = el('td', 'name', u.name);
        name.dir = 'auto';
        const tok = el('td');
        tok.append(el('code', null, u.token));
        const link = el('td');
        link.append(el('code', null, u.link));
        tr.append(name, el('td', null, u.org || '—'), el('td', null, u.role), tok, link);
        return tr;
    });
    $('import-table').tBodies[0].replaceChildren(...rows);
    $('import-result').hidden = false;
    $('import-result').focus();
}

/* One CSV field, as server/store/user_csv.c writes them: quoted when it
 * must be, and a would-be formula (a leading = + - @, tab or CR) made text
 * with a ' (OWASP's advice on CSV injection), next to every token. */
function csvField(s) {
    const formula = /^[=+\-@\t\r]/.test(s);
    return formula || /[",\r\n]/.test(s) ? `"${formula ? "'" : ''}${s.replace(/"/g, '""')}"` : s;
}

function hideImport() {
    imported = [];
    $('import-table').tBodies[0].replaceChildren();
    $('import-result').hidden = true;
    $('import-file').focus();
}

/* ---- now ------------------------------------------------------------------------ */

function loadPresence() {
    return loadList('now-summary', '/api/admin/presence', 'Who is where could not be loaded', renderPresence);
}

function personLine(u) {
    const li = el('li');
    const name = el('bdi', 'pname', u.name);
    const bits = [u.role];
    if (u.status === 'away') bits.push('away');
    if (u.hand) bits.push('hand raised');
    if (u.connected === false) bits.push('connection lost');
    li.append(name, el('span', 'pmeta', bits.join(' · ')));
    li.dataset.id = u.id;
    return li;
}

function renderPresence(p) {
    const boxes = [];
    let total = 0;
    const list = [...(p.rooms || [])];
    if (p.lobbyless && p.lobbyless.length) list.push({ id: '', name: 'Connected, in no room', users: p.lobbyless });
    for (const r of list) {
        const n = r.users.length;
        total += n;
        const box = el('section', n ? 'now-room' : 'now-room empty');
        box.dataset.room = r.id;
        const h = el('h3');
        const name = el('span', null, r.name);
        name.dir = 'auto';
        const count = el('span', 'count', String(n));
        count.setAttribute('aria-label', `${n} ${n === 1 ? 'person' : 'people'}`);
        h.append(name, count);
        box.append(h);
        if (n) {
            const ul = el('ul');
            ul.append(...r.users.map(personLine));
            box.append(ul);
        }
        boxes.push(box);
    }
    $('now-rooms').replaceChildren(...boxes);
    const t = new Date().toLocaleTimeString();
    $('now-summary').textContent = `${total} ${total === 1 ? 'person' : 'people'} in the venue, as of ${t}.`;
}

/* ---- programme ------------------------------------------------------------------- */

/* the organiser's locale and time zone: the server's times are UTC */
const dayTime = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const ZONE = dayTime.resolvedOptions().timeZone;
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const STATE_TEXT = { scheduled: 'Scheduled', live: 'Live', ended: 'Ended' };

let programme = []; /* GET /api/admin/programme's sessions, each with its questions */
let editing = null; /* the id of the session in the form; '' for a new one */

function loadProgramme() {
    return loadList('prog-summary', '/api/admin/programme', 'The programme could not be loaded', (json) => {
        programme = json.sessions || [];
        renderProgramme();
    });
}

function names(people) {
    return people && people.length ? people.map((u) => u.name || u.id).join(', ') : '—';
}

function renderProgramme() {
    const rows = programme.map((s) => {
        const tr = el('tr');
        tr.dataset.session = s.id;
        const at = el('td', 'at', `${dayTime.format(Date.parse(s.start))}–${timeOnly.format(Date.parse(s.end))}`);
        const title = el('td', 'name');
        title.append(el('bdi', null, s.title), el('div', 'id', s.id));
        const speakers = el('td', null, names(s.speakers));
        speakers.dir = 'auto';
        const n = (s.questions || []).length;
        const act = el('td', 'prog-actions');
        const edit = button('mod-button', 'Edit');
        edit.setAttribute('aria-label', `Edit “${s.title}”`);
        edit.addEventListener('click', () => openForm(s));
        const remove = button('mod-button danger', 'Remove');
        remove.setAttribute('aria-label', `Remove “${s.title}” from the programme`);
        remove.addEventListener('click', () => removeSession(s));
        act.append(edit, remove);
        tr.append(at, title, el('td', null, roomName(s.room)), speakers,
            el('td', `state-${s.state}`, STATE_TEXT[s.state] || s.state), el('td', null, String(n)), act);
        return tr;
    });
    $('prog-table').tBodies[0].replaceChildren(...rows);
    const n = programme.length;
    $('prog-summary').textContent = n
        ? `${n} ${n === 1 ? 'session' : 'sessions'}, by start. Times are in your time zone (${ZONE}).`
        : 'There is no programme yet: import a file or add a session.';
    renderQuestions();
}

/* Each session's questions, most votes first, as its moderators see them. */
function renderQuestions() {
    const boxes = [];
    let total = 0;
    for (const s of programme) {
        const qs = [...(s.questions || [])].sort((a, b) => b.votes - a.votes || a.ts - b.ts);
        if (!qs.length) continue;
        total += qs.length;
        const box = el('section', 'prog-q');
        const h = el('h3');
        h.id = `prog-q-${s.id}`;
        h.append(el('bdi', null, s.title), document.createTextNode(` · ${roomName(s.room)}`));
        box.setAttribute('aria-labelledby', h.id);
        const list = el('ol', 'prog-q-list');
        for (const q of qs) {
            const li = el('li', q.answered ? 'answered' : null);
            const text = el('p', 'prog-q-text', q.text);
            text.dir = 'auto';
            const meta = el('p', 'prog-q-meta');
            meta.append(el('span', 'prog-q-votes', `${q.votes} ${q.votes === 1 ? 'vote' : 'votes'}`),
                document.createTextNode(' · asked by '), el('bdi', null, q.from ? q.from.name : ''),
                document.createTextNode(` at ${timeOnly.format(q.ts)}${q.answered ? ' · answered' : ''}`));
            li.append(text, meta);
            list.append(li);
        }
        box.append(h, list);
        boxes.push(box);
    }
    $('prog-questions').replaceChildren(...boxes);
    $('prog-q-summary').textContent = total
        ? `${total} ${total === 1 ? 'question' : 'questions'}, most votes first in each session.`
        : 'No questions yet: attendees ask them during a live session.';
}

/* A session as the programme file has it: people by id, nothing the file does not take. */
function fileSession(s) {
    const ids = (people) => (people || []).map((u) => (typeof u === 'string' ? u : u.id));
    const f = { id: s.id, title: s.title, room: s.room, start: s.start, end: s.end };
    if (s.description) f.description = s.description;
    for (const k of ['speakers', 'moderators', 'captioners']) if (s[k] && s[k].length) f[k] = ids(s[k]);
    return f;
}

/* "2026-12-02T10:00" in the organiser's time zone (a datetime-local field), and back to UTC. */
function localInput(iso) {
    const d = new Date(iso);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function utcOf(local) {
    const ms = new Date(local).getTime();
    return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
}

/* The session and field a refusal names: "sessions[3] (keynote).start: ..." */
function programmeRefusal(err) {
    const parts = [];
    const m = /^sessions\[(\d+)\](?: \(([^)]*)\))?/.exec(err ? err.message : '');
    if (m) parts.push(['Session', m[2] || `number ${+m[1] + 1} in the file`]);
    const field = err && err.field ? err.field.replace(/^sessions\[\d+\]\.?/, '') : '';
    if (field) parts.push(['Field', field === 'body' ? 'the whole file' : field]);
    return parts;
}

/* Replace the programme; resolves with the refusal ({status, error}) or null when it took. */
async function postProgramme(body) {
    const r = await api('POST', '/api/admin/programme', { text: body, type: 'application/json' });
    if (r.status === 200) {
        $('prog-import-error').hidden = true; /* an earlier refusal is not news any more */
        status(`The programme is saved: ${r.json.sessions} ${r.json.sessions === 1 ? 'session' : 'sessions'}.`);
        await loadProgramme();
        return null;
    }
    return r;
}

async function onProgrammeImport(ev) {
    ev.preventDefault();
    const box = $('prog-import-error');
    box.hidden = true;
    const file = $('prog-file').files[0];
    if (!file) {
        showRefusal(box, 'Choose a programme file first.');
        $('prog-file').focus();
        return;
    }
    let text;
    try {
        text = await file.text();
    } catch {
        showRefusal(box, 'The file could not be read.');
        return;
    }
    try {
        const r = await postProgramme(text);
        if (r) {
            showRefusal(box, `Nothing was imported: ${errorText(r)}`, programmeRefusal(r.error));
            return;
        }
        $('prog-import-form').reset();
    } catch (e) {
        failed('Could not import the programme', e);
    }
}

function fillChoices(select, list, chosen) {
    select.replaceChildren(...list.map(([value, text]) => {
        const o = option(value, text);
        o.selected = chosen.includes(value);
        return o;
    }));
}

/* The form for one session (s), or for a new one (s null). */
async function openForm(s) {
    if (!rooms.length) await loadFilterChoices();
    editing = s ? s.id : '';
    $('prog-edit-title').textContent = s ? `Edit “${s.title}”` : 'Add a session';
    $('prog-id').value = s ? s.id : '';
    $('prog-id').readOnly = !!s;
    $('prog-f-title').value = s ? s.title : '';
    $('prog-f-description').value = s ? s.description || '' : '';
    const room = s ? s.room : (rooms[0] && rooms[0].id) || '';
    fillChoices($('prog-room'), rooms.map((r) => [r.id, r.name]), [room]);
    if (s && !rooms.some((r) => r.id === room)) $('prog-room').append(option(room, room));
    $('prog-room').value = room;
    const start = s ? s.start : new Date(Math.ceil(Date.now() / 900000) * 900000).toISOString();
    $('prog-start').value = localInput(start);
    $('prog-end').value = localInput(s ? s.end : new Date(Date.parse(start) + 3600000).toISOString());
    /* speakers: registered people, and whoever the session names though the list does not */
    const chosen = s ? s.speakers.map((u) => u.id) : [];
    const people = users.filter((u) => !u.revoked).map((u) => [u.id, `${u.name} (${u.role})`]);
    for (const u of s ? s.speakers : []) if (!people.some(([id]) => id === u.id)) people.push([u.id, u.name || u.id]);
    fillChoices($('prog-speakers'), people, chosen);
    $('prog-form-error').textContent = '';
    $('prog-edit').hidden = false;
    $('prog-edit-title').focus();
}

function closeForm() {
    editing = null;
    $('prog-edit').hidden = true;
    $('prog-new').focus();
}

async function onProgrammeSave(ev) {
    ev.preventDefault();
    const err = $('prog-form-error');
    err.textContent = '';
    const id = $('prog-id').value.trim();
    const title = $('prog-f-title').value.trim();
    const old = programme.find((x) => x.id === editing);
    /* a time not touched keeps its seconds: the field shows minutes only */
    const timeOf = (field, was) => (was && $(field).value === localInput(was) ? was : utcOf($(field).value));
    const start = timeOf('prog-start', old && old.start);
    const end = timeOf('prog-end', old && old.end);
    const bad = (text, field) => {
        err.textContent = text;
        $(field).focus();
    };
    if (!SESSION_ID.test(id)) return bad('The id is 1 to 64 letters, digits, _ or -.', 'prog-id');
    if (editing === '' && programme.some((x) => x.id === id)) return bad(`There is a session “${id}” already.`, 'prog-id');
    if (!title) return bad('The title is required.', 'prog-f-title');
    if (!start) return bad('When does it start?', 'prog-start');
    if (!end || Date.parse(end) <= Date.parse(start)) return bad('It must end after it starts.', 'prog-end');
    const speakers = [...$('prog-speakers').selectedOptions].map((o) => o.value);
    const changed = { ...(old ? fileSession(old) : { id }), title, room: $('prog-room').value, start, end, speakers };
    const description = $('prog-f-description').value.trim();
    if (description) changed.description = description;
    else delete changed.description;
    if (!speakers.length) delete changed.speakers;
    const list = old ? programme.map((x) => (x.id === editing ? changed : fileSession(x))) : [...programme.map(fileSession), changed];
    try {
        const r = await postProgramme(JSON.stringify({ sessions: list }));
        if (r) {
            const parts = programmeRefusal(r.error).map(([k, v]) => `${k}: ${v}`).join(' · ');
            err.textContent = `Not saved: ${errorText(r)}${parts ? ` (${parts})` : ''}`;
            return;
        }
        closeForm();
    } catch (e) {
        failed('Could not save the programme', e);
    }
}

async function removeSession(s) {
    if (!window.confirm(`Remove “${s.title}” from the programme? Its questions and slides go with it.`)) return;
    try {
        const r = await postProgramme(JSON.stringify({ sessions: programme.filter((x) => x.id !== s.id).map(fileSession) }));
        if (r) status(`Could not remove “${s.title}”: ${errorText(r)}`, 'bad');
    } catch (e) {
        failed(`Could not remove “${s.title}”`, e);
    }
}

/* ---- audit ------------------------------------------------------------------------ */

function loadAudit() {
    const args = new URLSearchParams();
    const room = $('audit-room').value;
    const actor = $('audit-actor').value.trim();
    const since = $('audit-since').value;
    if (room) args.set('room', room);
    if (actor) args.set('actor', actor);
    if (since) {
        const ms = new Date(since).getTime();
        if (Number.isFinite(ms)) args.set('since', String(Math.max(0, ms)));
    }
    args.set('limit', '500');
    return loadList('audit-summary', `/api/admin/audit?${args}`, 'The audit log could not be loaded',
        (json) => renderAudit(json.entries, !!(room || actor || since)));
}

function renderAudit(entries, filtered) {
    const rows = entries.map((e) => {
        const tr = el('tr');
        tr.dataset.action = e.action;
        const who = el('td', 'name');
        who.append(el('bdi', null, e.actor_name));
        who.append(el('div', 'id', e.actor_id));
        const target = el('td');
        if (e.target_id) {
            /* the name when it was done (a guest has no registration to look up), else today's */
            const n = e.target_name || personName(e.target_id);
            if (n) target.append(el('bdi', null, n), el('div', 'id', e.target_id));
            else target.append(el('span', 'id', e.target_id));
        } else {
            target.textContent = '—';
        }
        const reason = el('td', null, e.reason || '');
        reason.dir = 'auto';
        tr.append(el('td', 'at', when(e.ts_ms)), who, el('td', null, e.action), target,
            el('td', null, e.room ? roomName(e.room) : '—'), el('td', 'detail', e.detail || ''), reason);
        return tr;
    });
    $('audit-table').tBodies[0].replaceChildren(...rows);
    const n = entries.length;
    $('audit-summary').textContent = `${n} ${n === 1 ? 'entry' : 'entries'}${filtered ? ' matching the filters' : ''}, newest first.`;
}

/* Room choices and the people who may have acted, for the filters. */
async function loadFilterChoices() {
    try {
        const res = await fetch('/api/venue', { cache: 'no-store' });
        rooms = (await res.json()).rooms || [];
        const sel = $('audit-room');
        const keep = sel.value;
        sel.replaceChildren(option('', 'Any room'), ...rooms.map((r) => option(r.id, r.name)));
        sel.value = keep;
    } catch {
        /* the filter still works with a typed id */
    }
    const actors = users.filter((u) => u.role === 'moderator' || u.role === 'admin');
    $('audit-actors').replaceChildren(...actors.map((u) => option(u.id, `${u.name} (${u.role})`)));
}

/* ---- start ------------------------------------------------------------------------ */

async function enter() {
    $('token-screen').hidden = true;
    $('admin-app').hidden = false;
    $('forget-token').hidden = false;
    status('');
    await loadUsers();
    if (!token) return; /* the token was refused */
    loadFilterChoices();
    if (currentTab() !== 'tab-users') TABS[currentTab()]();
}

function init() {
    initTabs();
    $('token-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        const t = $('token-input').value.trim();
        if (!t) {
            $('token-error').textContent = 'Please enter the token.';
            $('token-input').focus();
            return;
        }
        token = t;
        keepToken(t);
        enter().then(() => {
            if (token) $('tab-users').focus();
        });
    });
    $('forget-token').addEventListener('click', () => askToken(''));
    $('add-form').addEventListener('submit', onAdd);
    $('add-done').addEventListener('click', hideAddResult);
    $('copy-token').addEventListener('click', () => copy($('add-token').textContent, $('add-token'), 'Token'));
    $('copy-link').addEventListener('click', () => copy($('add-link').textContent, $('add-link'), 'Join link'));
    $('import-form').addEventListener('submit', onImport);
    $('import-done').addEventListener('click', hideImport);
    $('copy-import').addEventListener('click', () => {
        const lines = ['name,organisation,role,token,link', ...imported.map((u) => [u.name, u.org, u.role, u.token, u.link].map(csvField).join(','))];
        copy(`${lines.join('\r\n')}\r\n`, $('import-table'), 'List');
    });
    $('search-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        loadUsers();
    });
    $('now-refresh').addEventListener('click', loadPresence);
    $('prog-refresh').addEventListener('click', loadProgramme);
    $('prog-new').addEventListener('click', () => openForm(null));
    $('prog-cancel').addEventListener('click', closeForm);
    $('prog-form').addEventListener('submit', onProgrammeSave);
    $('prog-import-form').addEventListener('submit', onProgrammeImport);
    for (const z of document.querySelectorAll('.prog-zone')) z.textContent = `(your time zone, ${ZONE})`;
    $('audit-form').addEventListener('submit', (ev) => {
        ev.preventDefault();
        loadAudit();
    });
    token = storedToken();
    if (token) enter();
    else askToken('');
}

init();
