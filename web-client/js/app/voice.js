/*
 * voice.js - talking and listening, as the person does it: the microphone
 * button (and why it is off limits when it is), push-to-talk on Space, the
 * choice of microphone, a volume for each person in the People tab, who is
 * speaking (a ring on their avatar, a mark in the roster, and a polite
 * line that names them, which the person may switch off), and a plain
 * notice when voice is down or the venue has none.
 *
 * The media is ../voice.js's: this part makes one Voice when the venue
 * first says it has voice (loading janus.js and webrtc-adapter from
 * /vendor/janus/ only then), hands it the server's `voice` and
 * `voice_peers`, my wishes and, every frame, the poses (placeVoices), and
 * shows what it reports. Nothing asks for the microphone before the
 * person turns it on.
 */

import { Voice } from '../voice.js';
import { voiceBlockedText } from '../venue-client.js';
import { keyForView } from '../controls.js';
import { $, el, option, popover, loadScript } from '../dom.js';
import { state } from './state.js';
import { getPref, setPref } from './prefs.js';

const VOLUME_MAX = 200; /* per cent: a quiet voice may be turned up to twice */
const NAMED_MAX = 2; /* speakers named in the line; more are "and N others" */

let voice = null; /* the Voice, once the venue said it has voice */
let micOn = false; /* the person's choice with the button */
let talkHeld = false; /* Space held: push-to-talk */
let micBlocked = ''; /* why I may not speak now, or '' */
let noticeShut = ''; /* the notice the person dismissed (its text) */
let sayWhoSpeaks = true;
let speakingKey = '';
const volumes = new Map(); /* user id -> per cent, the person's choice */

let janusLoad = null;

/* janus.js, initialised: webrtc-adapter first (a classic script that sets window.adapter). */
function loadJanus() {
    if (!janusLoad) {
        janusLoad = (async () => {
            await loadScript('/vendor/janus/adapter.js');
            const { default: Janus } = await import('/vendor/janus/janus.es.js');
            await new Promise((resolve) => {
                Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: resolve });
            });
            return Janus;
        })();
        janusLoad.catch(() => {
            janusLoad = null; /* the next connection tries again */
        });
    }
    return janusLoad;
}

/* On entering the venue: the controls, wired; the voice the server already told of, applied. */
export function startVoice() {
    const client = state.client;
    sayWhoSpeaks = getPref('saySpeaker', 'true') !== 'false';
    const say = $('say-speaker');
    say.checked = sayWhoSpeaks;
    say.addEventListener('change', () => {
        sayWhoSpeaks = say.checked;
        setPref('saySpeaker', sayWhoSpeaks);
        speakingKey = '';
        showSpeakers();
    });
    $('mic').addEventListener('click', () => setMic(!micOn));
    const settings = $('voice-settings');
    popover($('voice-settings-toggle'), settings, () => $('mic-device'));
    $('mic-device').addEventListener('change', (ev) => {
        setPref('micDevice', ev.target.value);
        if (voice) voice.setDevice(ev.target.value);
    });
    $('voice-notice-close').addEventListener('click', () => {
        noticeShut = $('voice-notice-text').textContent;
        $('voice-notice').hidden = true;
        $('view').focus();
    });
    window.addEventListener('keydown', (ev) => pushToTalk(ev, true));
    window.addEventListener('keyup', (ev) => pushToTalk(ev, false));
    window.addEventListener('blur', () => holdToTalk(false));
    /* the autoplay policy: audio starts with a gesture, if it did not already */
    for (const type of ['pointerdown', 'keydown']) window.addEventListener(type, () => voice && voice.resume(), true);
    if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
        navigator.mediaDevices.addEventListener('devicechange', listDevices);
    }
    state.panels.personHooks.add(personVolume);
    onVoice({ voice: client.voice, previous: null });
    if (client.voicePeers) onVoicePeers(client.voicePeers);
}

/* ---- what the server says ------------------------------------------------ */

export function onVoice(d) {
    const v = d.voice;
    if (!state.panels) return;
    if (v && v.state === 'up' && !voice) makeVoice();
    if (voice) voice.setConfig(v, state.client.me ? state.client.me.id : '');
    const before = d.previous;
    $('voice-tools').hidden = !v || v.state === 'off';
    micBlocked = v && !v.publish ? voiceBlockedText(v) : '';
    /* Rights taken (a moderator's mute, locked microphones, a stage): the
     * microphone goes off and stays off until turned on again. Voice down
     * for a while (the media server restarting): it is off meanwhile (the
     * Voice lets it go) and on again once voice is back. */
    if (micBlocked && (v.state === 'up' || v.muted)) {
        micOn = false;
        talkHeld = false;
    }
    if (voice && !micBlocked && (micOn || talkHeld)) voice.setMic(true);
    if (v && v.muted && !(before && before.muted)) state.panels.announce('A moderator muted your microphone.');
    else if (v && before && before.muted && !v.muted) state.panels.announce('A moderator unmuted your microphone.');
    showMic();
    showNotice(v);
    state.panels.redecorate(); /* the volumes come and go with voice */
    if (!v || v.state !== 'up') showSpeakers();
}

export function onVoicePeers(d) {
    if (voice) voice.setPeers(d.room, d.peers);
}

function makeVoice() {
    voice = new Voice({ loadJanus });
    voice.setDevice(getPref('micDevice', ''));
    for (const [user, pc] of volumes) voice.setVolume(user, pc / 100);
    voice.addEventListener('mic', (ev) => {
        const d = ev.detail;
        if (d.error) {
            micOn = false;
            talkHeld = false;
            state.panels.showError(d.error);
        }
        if (d.publishing || voice.micTrack) listDevices(); /* labels come with the permission */
        showMic();
    });
    voice.addEventListener('state', (ev) => showNotice(state.client.voice, ev.detail));
    listDevices();
}

/* The venue's voice, for people: a notice while it is down, off, or our connection to it is lost. */
function showNotice(v, media = voice ? { state: voice.state, reason: '' } : null) {
    let why = '';
    if (v && v.state === 'off') why = 'this venue runs without voice';
    else if (v && v.state === 'down') why = v.reason || 'the voice server cannot be reached';
    else if (media && media.state === 'reconnecting') why = 'the voice server cannot be reached right now, trying again';
    const box = $('voice-notice');
    const text = why ? `Voice is unavailable: ${why}. Everything else works.` : '';
    if (!text) {
        box.hidden = true;
        noticeShut = '';
        return;
    }
    if ($('voice-notice-text').textContent !== text) {
        $('voice-notice-text').textContent = text;
        /* an outage is news; a venue without voice is not, every time one comes in */
        if (box.hidden && text !== noticeShut && v && v.state !== 'off') state.panels.announce(text);
    }
    box.hidden = text === noticeShut;
}

/* ---- my microphone ------------------------------------------------------- */

function setMic(on) {
    if (micBlocked) return;
    micOn = on;
    if (voice) voice.setMic(micOn || talkHeld);
    showMic();
    state.panels.announce(micOn ? 'Your microphone is on.' : 'Your microphone is off.');
}

/* Space held down while the view (or nothing) has focus talks, while the microphone is off. */
function pushToTalk(ev, down) {
    if (ev.code !== 'Space' || !voice || $('voice-tools').hidden) return;
    if (!down) {
        if (talkHeld) holdToTalk(false);
        return;
    }
    if (ev.repeat || micOn || micBlocked || !keyForView($('view'), ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    ev.preventDefault();
    holdToTalk(true);
}

function holdToTalk(on) {
    if (talkHeld === on) return;
    talkHeld = on;
    /* let go: kept published, silent, for a while, so the next press speaks at once */
    if (voice) voice.setMic(micOn || talkHeld, { linger: !on });
    showMic();
}

function showMic() {
    const b = $('mic');
    const on = !micBlocked && (micOn || talkHeld);
    b.disabled = !!micBlocked;
    b.setAttribute('aria-pressed', String(on));
    b.setAttribute('aria-label', on ? 'Turn microphone off' : 'Turn microphone on');
    b.classList.toggle('sending', !!(voice && voice.publishing));
    const icon = b.querySelector('.icon');
    icon.classList.toggle('icon-mic', on);
    icon.classList.toggle('icon-mic-off', !on);
    const why = $('mic-why');
    why.textContent = micBlocked;
    why.hidden = !micBlocked;
    if (micBlocked) b.setAttribute('aria-describedby', 'mic-why');
    else b.removeAttribute('aria-describedby');
}

/* The microphones this device has; their names only once the person allowed one. */
async function listDevices() {
    const md = navigator.mediaDevices;
    if (!md || !md.enumerateDevices) return;
    let devices;
    try {
        devices = (await md.enumerateDevices()).filter((d) => d.kind === 'audioinput' && d.deviceId && d.deviceId !== 'default');
    } catch {
        return;
    }
    const select = $('mic-device');
    const chosen = select.value || getPref('micDevice', '');
    const options = [option('', "The browser's default")];
    devices.forEach((d, i) => options.push(option(d.deviceId, d.label || `Microphone ${i + 1}`)));
    select.replaceChildren(...options);
    select.value = devices.some((d) => d.deviceId === chosen) ? chosen : '';
}

/* ---- the voices I hear --------------------------------------------------- */

/* A volume slider for each other person in the roster, while voice is up. */
function personVolume(u, it) {
    const v = state.client.voice;
    const me = state.client.me && u.id === state.client.me.id;
    const want = !!(v && v.state === 'up') && !me;
    if (!want) {
        if (it.volume) it.volume.remove();
        it.volume = null;
        return;
    }
    if (!it.volume) {
        const box = el('label', 'person-volume');
        const text = el('span', null, 'Volume');
        const input = el('input');
        input.type = 'range';
        input.min = '0';
        input.max = String(VOLUME_MAX);
        input.step = '10';
        input.addEventListener('input', () => {
            const pc = +input.value;
            volumes.set(input.dataset.user, pc);
            if (voice) voice.setVolume(input.dataset.user, pc / 100);
            input.setAttribute('aria-valuetext', `${pc} per cent`);
        });
        box.append(text, input);
        it.li.append(box);
        it.volume = box;
    }
    const input = it.volume.querySelector('input');
    const pc = volumes.has(u.id) ? volumes.get(u.id) : 100;
    input.dataset.user = u.id;
    input.value = String(pc);
    input.setAttribute('aria-label', `Volume of ${u.name || 'this person'}`);
    input.setAttribute('aria-valuetext', `${pc} per cent`);
}

/* Every frame: me as the listener, each voice where its avatar is drawn. */
export function placeVoices() {
    const me = state.client && state.client.me;
    if (!voice || !me) return;
    voice.place(me, (user) => {
        const av = state.avatars.get(user);
        return av ? [av.x, av.y, av.z] : null;
    });
}

/* Someone started or stopped speaking (presence): the line that names who speaks now. */
export function onTalking() {
    if (state.panels) showSpeakers();
}

function showSpeakers() {
    const client = state.client;
    const line = $('speaking');
    const v = client.voice;
    const names = [];
    if (v && v.state === 'up' && sayWhoSpeaks) {
        const people = [...client.roster.values(), ...(client.stage ? client.stage.users.values() : [])];
        for (const u of people) if (u.talking && !(client.me && u.id === client.me.id)) names.push(u.name || 'Someone');
    }
    const key = names.join('\u0000');
    if (key === speakingKey) return;
    speakingKey = key;
    line.textContent = speakersText(names);
}

/* "Ada is speaking", "Ada and Bo are speaking", "Ada, Bo and 3 others are speaking"; '' for nobody. */
function speakersText(names) {
    if (!names.length) return '';
    if (names.length === 1) return `${names[0]} is speaking`;
    if (names.length <= NAMED_MAX) return `${names.join(' and ')} are speaking`;
    const rest = names.length - NAMED_MAX;
    return `${names.slice(0, NAMED_MAX).join(', ')} and ${rest} ${rest === 1 ? 'other' : 'others'} are speaking`;
}

/* For tests (dev.js): the voices heard, with their levels per ear, and whether my microphone is going out. */
export function voiceProbe() {
    return {
        state: voice ? voice.state : 'none',
        mic: micOn || talkHeld,
        publishing: !!(voice && voice.publishing),
        peers: voice ? voice.levels() : [],
    };
}
