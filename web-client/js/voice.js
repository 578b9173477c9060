/*
 * voice.js - voice in the page, the media part: the connection to Janus
 * (janus.js, VideoRoom), my microphone published while I turn it on, and
 * the voices I am told to hear, played through WebAudio and, in spatial
 * rooms, placed where their avatars stand. No DOM of the page: app/voice.js
 * gives it the server's `voice` and `voice_peers` (venue-client.js), what
 * the person does and the poses, and shows what it reports.
 *
 * Owns one Janus session for the current `voice` (url, token, room,
 * listen, id: another one is a new connection), with
 *   - a publisher handle joined to `room` as participant `id` (display: my
 *     user id). It publishes only while the microphone is on and I may
 *     speak: getUserMedia is asked then and never before, audio only, and
 *     the track is released when the microphone goes off. Listening needs
 *     no permission at all.
 *   - one multistream subscriber handle in `listen`, subscribed to exactly
 *     the feeds of `voice_peers` (join with streams, then subscribe and
 *     unsubscribe, one request at a time: Janus answers each with an
 *     offer, or says why not).
 *   - one AudioContext, and per voice heard:
 *       track -> MediaStreamSource -> GainNode (the person's volume for
 *       them) -> PannerNode (spatial rooms only) -> destination, and a
 *       ChannelSplitter with two AnalyserNodes after it, left and right,
 *       for levels(). Each remote stream also plays in a muted <audio>
 *       element: without one Chromium feeds WebAudio nothing.
 * A Janus WebSocket that drops (Janus restarting) is reconnected with
 * backoff, without a page reload, and the microphone published again if it
 * was on. Everything a callback of an old connection says is ignored: each
 * connection has its generation, and a callback checks it.
 *
 * Events (CustomEvent, data in `detail`):
 *   state  {state, reason, delay}: none (no voice known), off (the venue has
 *          none), down (the server says the media server is away), idle (up,
 *          but nothing to join: in no room), connecting, up, reconnecting
 *          (lost Janus; delay: ms to the next try)
 *   mic    {wanted, publishing, error}: the microphone; error is a sentence
 *          for people when it could not be used
 */

import { listenerFrame, headOf } from './voicespace.js';

const PLUGIN = 'janus.plugin.videoroom';
const PENDING_MS = 10000; /* a subscription request Janus has not answered by then is given up */
const REFUSED_HOLD_MS = 3000; /* a feed Janus refused is not asked for again this soon */
const ANALYSER_SIZE = 1024; /* samples per level reading, ~21 ms at 48 kHz */
const MIC_LINGER_MS = 8000; /* a push-to-talk key let go: published, silent, this long */

/* Feed ids to subscribe to (in want, not in have) and to drop (in have, not in want). */
export function peerChanges(have, want) {
    const h = new Set(have);
    const w = new Set(want);
    return { add: [...w].filter((f) => !h.has(f)), remove: [...h].filter((f) => !w.has(f)) };
}

/* The Janus WebSocket URL of `voice.url`: a path on the page's origin, or an absolute ws(s) URL. */
export function janusServer(url, base) {
    const u = new URL(url, base);
    if (u.protocol === 'http:') u.protocol = 'ws:';
    else if (u.protocol === 'https:') u.protocol = 'wss:';
    return u.href;
}

/* What the connection of a `voice` is for: another key is another connection; '' none. */
function keyOf(v) {
    if (!v || v.state !== 'up' || !v.url || !(v.room || v.listen)) return '';
    return [v.url, v.token, v.room, v.listen, v.id].join('\u0000');
}

/* A sentence for people when getUserMedia failed. */
function micError(e) {
    const name = e && e.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') return 'The browser did not allow this page to use a microphone.';
    if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found.';
    if (name === 'NotReadableError') return 'The microphone is busy in another program, or not working.';
    return `The microphone could not be used${e && e.message ? ` (${e.message})` : ''}.`;
}

function rms(analyser, buf) {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
    return Math.sqrt(sum / buf.length);
}

/* A position [x, y, z] into a PannerNode or the AudioListener: AudioParams, or the old setter. */
function setPosition(node, v) {
    if (node.positionX) {
        node.positionX.value = v[0];
        node.positionY.value = v[1];
        node.positionZ.value = v[2];
    } else {
        node.setPosition(v[0], v[1], v[2]);
    }
}

/* Which way the AudioListener faces: forward and up, AudioParams or the old setter. */
function setOrientation(listener, f, u) {
    if (listener.forwardX) {
        listener.forwardX.value = f[0];
        listener.forwardY.value = f[1];
        listener.forwardZ.value = f[2];
        listener.upX.value = u[0];
        listener.upY.value = u[1];
        listener.upZ.value = u[2];
    } else {
        listener.setOrientation(f[0], f[1], f[2], u[0], u[1], u[2]);
    }
}

export class Voice extends EventTarget {
    /*
     * deps.loadJanus     async () => the Janus constructor, initialised (janus.js)
     * deps.audioContext  () => a new AudioContext
     * deps.getUserMedia  (constraints) => Promise<MediaStream>
     * deps.audioElement  () => an <audio> element (need not be in the document)
     * deps.MediaStream   the MediaStream constructor
     * deps.base          the page's URL, for a relative `voice.url`
     * deps.backoff       {baseMs: 500, maxMs: 15000}; deps.random: () => [0, 1)
     */
    constructor(deps) {
        super();
        this.loadJanus = deps.loadJanus;
        this.newAudioContext = deps.audioContext || (() => new AudioContext({ latencyHint: 'interactive' }));
        this.getUserMedia = deps.getUserMedia || ((c) => navigator.mediaDevices.getUserMedia(c));
        this.newAudio = deps.audioElement || (() => new Audio());
        this.MediaStream = deps.MediaStream || globalThis.MediaStream;
        this.base = deps.base || (globalThis.location && globalThis.location.href);
        this.backoff = { baseMs: 500, maxMs: 15000, ...(deps.backoff || {}) };
        this.random = deps.random || Math.random;
        this.micLingerMs = deps.micLingerMs ?? MIC_LINGER_MS;
        this.micLinger = 0; /* ms until which a microphone let go stays published, silent */
        this.micLingerTimer = null;

        this.config = null; /* the normVoice in force */
        this.user = ''; /* my user id: my publisher's display */
        this.key = ''; /* keyOf the connection made or being made */
        this.gen = 0; /* the connection's generation: callbacks of older ones are ignored */
        this.janus = null; /* the janus.js session */
        this.ready = false; /* the session exists */
        this.pub = null; /* {handle, joined, offering, configured, webrtc} */
        this.sub = null; /* {handle, joined, feeds: Set, mids: Map mid -> feed, pending: {kind, feeds, timer}} */
        this.peers = new Map(); /* feed -> user id: whom voice_peers says to hear */
        this.refused = new Map(); /* feed -> ms until which it is not asked for again */
        this.refusedTimer = null;
        this.heard = new Map(); /* subscriber mid -> the graph of one voice */
        this.volumes = new Map(); /* user id -> gain, the person's choice */
        this.ctx = null; /* the AudioContext, made with the first voice */
        this.state = 'none';
        this.attempt = 0;
        this.retryTimer = null;

        this.micWanted = false;
        this.micTrack = null; /* my microphone, only while wanted and allowed */
        this.deviceId = ''; /* '' the browser's default */
        this.deviceChanged = false;
        this.micSyncing = false;
        this.micAgain = false;
    }

    _emit(type, detail) {
        this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    _report(state, reason = '', delay = null) {
        this.state = state;
        this._emit('state', { state, reason, delay });
    }

    _micChanged(error = '') {
        this._emit('mic', { wanted: this.micWanted, publishing: this.publishing, error });
    }

    /* My voice is going out now: published, and its PeerConnection up. */
    get publishing() {
        return !!(this.micWanted && this.pub && this.pub.configured && this.pub.webrtc);
    }

    /* The server lets me speak now. */
    get canPublish() {
        const v = this.config;
        return !!(v && v.state === 'up' && v.publish && v.room);
    }

    /* ---- what the server says -------------------------------------------- */

    /*
     * The server's `voice` now (a normVoice of venue-client.js, or null) and
     * my user id. Another room, listen room, id, token or url is a new
     * connection; not "up" ends everything.
     */
    setConfig(v, user) {
        const before = this.config;
        this.config = v;
        this.user = user || '';
        const key = keyOf(v);
        if (key !== this.key) {
            this._stop();
            this.key = key;
            if (key) this._connect();
            else this._report(v ? (v.state === 'up' ? 'idle' : v.state) : 'none', v ? v.reason : '');
        } else if (key && this.retryTimer) {
            /* the server says voice is up while we wait to retry: try now */
            clearTimeout(this.retryTimer);
            this.retryTimer = null;
            this._connect();
        }
        if (!this.canPublish && this.micWanted) {
            /* rights taken: the microphone goes off, and stays off until turned on again */
            this.micWanted = false;
            this._micChanged();
        }
        this._syncMic();
        if (v && before && (v.mode !== before.mode || v.range !== before.range)) {
            for (const h of [...this.heard.values()]) this._hear(h.mid, h.feed, h.track);
        }
    }

    /* voice_peers: the feeds of `listen` to hear, [{id, user}]. */
    setPeers(room, peers) {
        if (!this.config || room !== this.config.listen) return;
        /* never my own feed (a stage lists its speakers to everyone, them too):
         * hearing myself is an echo, and my echo canceller would then take my
         * voice out of what I send */
        const mine = this.config.room === room ? this.config.id : 0;
        this.peers = new Map(peers.filter((p) => p.id !== mine).map((p) => [p.id, p.user]));
        for (const h of this.heard.values()) if (this.peers.has(h.feed)) h.user = this.peers.get(h.feed);
        this._syncSubscriber();
    }

    /* ---- the connection --------------------------------------------------- */

    async _connect() {
        const gen = ++this.gen;
        const v = this.config;
        this._report(this.attempt ? 'reconnecting' : 'connecting');
        let Janus;
        try {
            Janus = await this.loadJanus();
        } catch (e) {
            this._lost(gen, `the voice library did not load (${(e && e.message) || e})`);
            return;
        }
        if (gen !== this.gen) return;
        let server;
        try {
            server = janusServer(v.url, this.base);
        } catch {
            this._lost(gen, `the voice server's address is not usable (${v.url})`);
            return;
        }
        const janus = new Janus({
            server,
            token: v.token,
            /* the venue's TURN relay, if any; never janus.js' default public STUN server */
            iceServers: v.ice || [],
            success: () => {
                if (gen !== this.gen) return;
                this.ready = true;
                this.attempt = 0;
                if (v.room) this._attachPublisher(gen);
                else this._report('up'); /* an overflow room: listening only */
                this._syncSubscriber();
            },
            error: (why) => this._lost(gen, String(why)),
        });
        if (gen === this.gen) this.janus = janus;
        else this._destroy(janus); /* it failed at once, and was given up */
    }

    /* The connection of generation gen failed or dropped: clean up, and try again later. */
    _lost(gen, why) {
        if (gen !== this.gen || !this.key) return;
        this._drop();
        const exp = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this.attempt, 16));
        const delay = Math.round(exp / 2 + this.random() * (exp / 2));
        this.attempt++;
        this._report('reconnecting', why, delay);
        this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            if (this.key) this._connect();
        }, delay);
    }

    /* No connection for this voice any more (another one, or none, follows). */
    _stop() {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.attempt = 0;
        this._drop();
    }

    /* Forget the connection: its handles, the voices heard through it, and the session. */
    _drop() {
        this.gen++;
        const wasPublishing = this.publishing;
        for (const mid of [...this.heard.keys()]) this._unhear(mid);
        if (this.sub && this.sub.pending) clearTimeout(this.sub.pending.timer);
        this.sub = null;
        this.pub = null;
        this.ready = false;
        const j = this.janus;
        this.janus = null;
        if (j) this._destroy(j);
        if (wasPublishing) this._micChanged();
    }

    _destroy(janus) {
        try {
            janus.destroy({ cleanupHandles: true, notifyDestroyed: false });
        } catch {
            /* a session that never was */
        }
    }

    /* ---- my microphone ---------------------------------------------------- */

    _attachPublisher(gen) {
        const v = this.config;
        this.janus.attach({
            plugin: PLUGIN,
            success: (handle) => {
                if (gen !== this.gen) return;
                this.pub = { handle, joined: false, offering: false, configured: false, webrtc: false };
                handle.send({ message: { request: 'join', ptype: 'publisher', room: v.room, id: v.id, token: v.token, display: this.user } });
            },
            error: (why) => this._lost(gen, `the voice room could not be reached (${why})`),
            onmessage: (msg, jsep) => {
                if (gen === this.gen) this._onPublisher(gen, msg, jsep);
            },
            webrtcState: (up) => {
                if (gen !== this.gen || !this.pub) return;
                this.pub.webrtc = !!up;
                this._micChanged();
            },
            oncleanup: () => {
                /* the PeerConnection went (unpublished, hung up): publish again if still wanted */
                if (gen !== this.gen || !this.pub) return;
                const was = this.publishing;
                Object.assign(this.pub, { offering: false, configured: false, webrtc: false });
                if (was) this._micChanged();
                this._syncMic();
            },
        });
    }

    _onPublisher(gen, msg, jsep) {
        const pub = this.pub;
        if (!pub) return;
        const what = msg.videoroom;
        if (what === 'joined') {
            pub.joined = true;
            this._report('up');
            this._syncMic();
        } else if (what === 'destroyed') {
            this._lost(gen, 'the voice room was closed');
            return;
        } else if (what === 'event') {
            if (msg.error_code || msg.error) {
                if (!pub.joined) {
                    /* refused at the door (a token Janus does not know yet, after a restart): try again later */
                    this._lost(gen, `the voice room refused to let you in (${msg.error || msg.error_code})`);
                    return;
                }
                pub.offering = false;
                this.micWanted = false;
                this._syncMic();
                this._micChanged(`Your microphone could not be switched on (${msg.error || msg.error_code}).`);
                return;
            }
            if (msg.configured === 'ok') {
                pub.offering = false;
                pub.configured = true;
                this._micChanged();
            }
            if (msg.leaving === 'ok' || msg.kicked === 'ok') {
                /* taken out of the voice room: the server's next `voice` says what now */
                pub.joined = false;
                Object.assign(pub, { offering: false, configured: false });
                this._micChanged();
            }
        }
        if (jsep) pub.handle.handleRemoteJsep({ jsep });
    }

    /*
     * The person turns the microphone on or off. linger: a push-to-talk
     * key let go, which keeps the microphone published but silent for
     * micLingerMs, so that the next press speaks at once instead of
     * waiting for a new offer and cutting the first word. The button (and
     * a right taken away) turns it off at once.
     */
    setMic(on, { linger = false } = {}) {
        on = !!on && this.canPublish;
        if (on === this.micWanted) return;
        this.micWanted = on;
        clearTimeout(this.micLingerTimer);
        this.micLingerTimer = null;
        this.micLinger = !on && linger && this.micLingerMs > 0 ? Date.now() + this.micLingerMs : 0;
        if (this.micLinger) {
            this.micLingerTimer = setTimeout(() => {
                this.micLinger = 0;
                this._syncMic();
            }, this.micLingerMs);
        }
        this._micChanged();
        this._syncMic();
    }

    /* The microphone to use: a deviceId of enumerateDevices, '' the default. */
    setDevice(id) {
        id = id || '';
        if (id === this.deviceId) return;
        this.deviceId = id;
        this.deviceChanged = !!this.micTrack;
        this._syncMic();
    }

    /* Bring the microphone to what is wanted, one step at a time (getUserMedia and offers take a while). */
    async _syncMic() {
        if (this.micSyncing) {
            this.micAgain = true;
            return;
        }
        this.micSyncing = true;
        try {
            do {
                this.micAgain = false;
                await this._micStep();
            } while (this.micAgain);
        } finally {
            this.micSyncing = false;
        }
    }

    async _micStep() {
        const want = this.micWanted && this.canPublish;
        if (!want) {
            if (this.micLinger > Date.now() && this.canPublish && this.micTrack) {
                this.micTrack.enabled = false; /* silence, still published */
                return;
            }
            this._unpublish();
            return;
        }
        if (this.micTrack) this.micTrack.enabled = true;
        if (!this.micTrack || this.deviceChanged) {
            const replacing = this.micTrack;
            this.deviceChanged = false;
            let track;
            try {
                track = await this._openMic();
            } catch (e) {
                if (replacing) return; /* keep the microphone that works */
                this.micWanted = false;
                this._micChanged(micError(e));
                return;
            }
            if (!(this.micWanted && this.canPublish) || this.deviceChanged) {
                track.stop();
                this.micAgain = true;
                return;
            }
            this.micTrack = track;
            track.addEventListener('ended', () => {
                /* unplugged, or taken away by the browser */
                if (this.micTrack !== track) return;
                this.micTrack = null;
                this.micWanted = false;
                this._syncMic();
                this._micChanged('The microphone stopped working.');
            });
            const pub = this.pub;
            if (replacing && pub && (pub.configured || pub.offering)) {
                pub.handle.replaceTracks({ tracks: [{ type: 'audio', capture: track, recv: false, dontStop: true }] });
            }
            if (replacing) replacing.stop();
            this._micChanged();
        }
        const pub = this.pub;
        if (!pub || !pub.joined || pub.configured || pub.offering) return;
        pub.offering = true;
        const gen = this.gen;
        pub.handle.createOffer({
            tracks: [{ type: 'audio', capture: this.micTrack, recv: false, dontStop: true }],
            success: (jsep) => {
                if (gen !== this.gen || this.pub !== pub) return;
                pub.handle.send({ message: { request: 'publish' }, jsep });
            },
            error: (e) => {
                if (gen !== this.gen || this.pub !== pub) return;
                pub.offering = false;
                this.micWanted = false;
                this._syncMic();
                this._micChanged(micError(e));
            },
        });
    }

    async _openMic() {
        const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
        if (this.deviceId) audio.deviceId = { exact: this.deviceId };
        let stream;
        try {
            stream = await this.getUserMedia({ audio, video: false });
        } catch (e) {
            if (!this.deviceId || e.name !== 'OverconstrainedError') throw e;
            delete audio.deviceId; /* the chosen one is gone: the default */
            stream = await this.getUserMedia({ audio, video: false });
        }
        return stream.getAudioTracks()[0];
    }

    /* Stop publishing and let the microphone go. */
    _unpublish() {
        const pub = this.pub;
        let changed = false;
        if (pub && (pub.configured || pub.offering)) {
            pub.handle.send({ message: { request: 'unpublish' } });
            Object.assign(pub, { offering: false, configured: false, webrtc: false });
            changed = true;
        }
        if (this.micTrack) {
            this.micTrack.stop();
            this.micTrack = null;
            changed = true;
        }
        if (changed) this._micChanged();
    }

    /* ---- the voices I hear ------------------------------------------------- */

    /* Make the subscription what voice_peers says, one request to Janus at a time. */
    _syncSubscriber() {
        if (!this.ready || !this.config || !this.config.listen) return;
        const now = Date.now();
        const want = [...this.peers.keys()].filter((f) => !(this.refused.get(f) > now));
        let sub = this.sub;
        if (!sub) {
            if (want.length) this._attachSubscriber();
            return;
        }
        if (!sub.handle || sub.pending) return;
        if (!sub.joined) {
            if (want.length) {
                this._request(sub, 'join', want, { request: 'join', ptype: 'subscriber', room: this.config.listen, token: this.config.token, streams: want.map((feed) => ({ feed })) });
            }
            return;
        }
        const { add, remove } = peerChanges(sub.feeds, want);
        if (remove.length) this._request(sub, 'unsubscribe', remove, { request: 'unsubscribe', streams: remove.map((feed) => ({ feed })) });
        else if (add.length) this._request(sub, 'subscribe', add, { request: 'subscribe', streams: add.map((feed) => ({ feed })) });
    }

    _request(sub, kind, feeds, message) {
        const gen = this.gen;
        const timer = setTimeout(() => {
            if (gen !== this.gen || sub.pending !== pending) return;
            sub.pending = null;
            this._syncSubscriber();
        }, PENDING_MS);
        const pending = { kind, feeds, timer };
        sub.pending = pending;
        sub.handle.send({ message });
    }

    _attachSubscriber() {
        const gen = this.gen;
        const sub = { handle: null, joined: false, feeds: new Set(), mids: new Map(), pending: null };
        this.sub = sub;
        this.janus.attach({
            plugin: PLUGIN,
            success: (handle) => {
                if (gen !== this.gen || this.sub !== sub) return;
                sub.handle = handle;
                this._syncSubscriber();
            },
            error: (why) => this._lost(gen, `the voices could not be reached (${why})`),
            onmessage: (msg, jsep) => {
                if (gen === this.gen && this.sub === sub) this._onSubscriber(sub, msg, jsep);
            },
            onremotetrack: (track, mid, on) => {
                if (gen !== this.gen || this.sub !== sub || track.kind !== 'audio') return;
                if (on) this._hear(mid, sub.mids.get(mid), track);
                else this._unhear(mid);
            },
        });
    }

    _onSubscriber(sub, msg, jsep) {
        const what = msg.videoroom;
        const done = () => {
            if (sub.pending) clearTimeout(sub.pending.timer);
            sub.pending = null;
        };
        if (what === 'attached' || what === 'updated') {
            if (what === 'attached') sub.joined = true;
            if (Array.isArray(msg.streams)) {
                /* the subscription as Janus has it: which mid plays which feed */
                sub.mids.clear();
                sub.feeds.clear();
                for (const s of msg.streams) {
                    if (!s || s.type !== 'audio' || s.active === false || !Number.isSafeInteger(s.feed_id)) continue;
                    sub.mids.set(String(s.mid), s.feed_id);
                    sub.feeds.add(s.feed_id);
                }
                for (const mid of [...this.heard.keys()]) if (!sub.mids.has(mid)) this._unhear(mid);
            } else if (sub.pending) {
                /* nothing changed in the SDP: take the request as done */
                const gone = sub.pending.kind === 'unsubscribe';
                for (const f of sub.pending.feeds) {
                    if (gone) sub.feeds.delete(f);
                    else sub.feeds.add(f);
                }
                /* An unsubscribe that changed nothing: Janus had no such feed
                 * any more (its publisher was just kicked or left, and Janus
                 * does not offer the subscriber anything for that): nothing
                 * plays on those mids now, so stop hearing them here. */
                if (gone) {
                    for (const [mid, feed] of [...sub.mids]) {
                        if (!sub.pending.feeds.includes(feed)) continue;
                        sub.mids.delete(mid);
                        this._unhear(mid);
                    }
                }
            }
            done();
        } else if (what === 'event' && (msg.error_code || msg.error)) {
            /* e.g. no such feed (yet): hold those back a moment */
            if (sub.pending && sub.pending.kind !== 'unsubscribe') this._refuse(sub.pending.feeds);
            done();
        } else if (what === 'event' && msg.left === 'ok') {
            sub.joined = false;
            sub.feeds.clear();
            done();
        }
        if (jsep) {
            const gen = this.gen;
            sub.handle.createAnswer({
                jsep,
                tracks: [], /* receive only: nothing of mine goes this way */
                success: (answer) => {
                    if (gen === this.gen && this.sub === sub) sub.handle.send({ message: { request: 'start' }, jsep: answer });
                },
                error: () => {
                    if (gen === this.gen && this.sub === sub) this._lost(gen, 'the voices could not be set up');
                },
            });
        }
        if (!sub.pending) this._syncSubscriber();
    }

    _refuse(feeds) {
        const until = Date.now() + REFUSED_HOLD_MS;
        for (const f of feeds) this.refused.set(f, until);
        clearTimeout(this.refusedTimer);
        this.refusedTimer = setTimeout(() => {
            const now = Date.now();
            for (const [f, t] of this.refused) if (t <= now) this.refused.delete(f);
            this._syncSubscriber();
        }, REFUSED_HOLD_MS);
    }

    /* ---- playback ----------------------------------------------------------- */

    _audio() {
        if (!this.ctx) this.ctx = this.newAudioContext();
        return this.ctx;
    }

    /* The autoplay policy may have started the AudioContext suspended: a user gesture resumes it. */
    resume() {
        if (this.ctx && this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    }

    /* One voice heard: its graph (see the header). Again for the same mid replaces it. */
    _hear(mid, feed, track) {
        if (this.heard.has(mid)) this._unhear(mid);
        const ctx = this._audio();
        const v = this.config;
        const user = this.peers.get(feed) || '';
        const stream = new this.MediaStream([track]);
        const audio = this.newAudio();
        audio.muted = true;
        audio.srcObject = stream;
        const played = audio.play && audio.play();
        if (played && played.catch) played.catch(() => {});
        const source = ctx.createMediaStreamSource(stream);
        const gain = ctx.createGain();
        gain.gain.value = this.volumes.has(user) ? this.volumes.get(user) : 1;
        source.connect(gain);
        let out = gain;
        let panner = null;
        if (v.mode === 'spatial') {
            panner = ctx.createPanner();
            panner.panningModel = 'HRTF';
            panner.distanceModel = 'linear'; /* full up close, silent at `range` */
            panner.refDistance = 1;
            panner.maxDistance = v.range;
            panner.rolloffFactor = 1;
            gain.connect(panner);
            out = panner;
        } else {
            /* the stage: no place, the same in both ears */
            gain.channelCount = 2;
            gain.channelCountMode = 'explicit';
            gain.channelInterpretation = 'speakers';
        }
        out.connect(ctx.destination);
        const split = ctx.createChannelSplitter(2);
        out.connect(split);
        const left = ctx.createAnalyser();
        const right = ctx.createAnalyser();
        left.fftSize = right.fftSize = ANALYSER_SIZE;
        split.connect(left, 0);
        split.connect(right, 1);
        this.heard.set(mid, { mid, feed, user, track, audio, source, gain, panner, split, left, right, buf: new Float32Array(ANALYSER_SIZE) });
    }

    _unhear(mid) {
        const h = this.heard.get(mid);
        if (!h) return;
        this.heard.delete(mid);
        for (const node of [h.source, h.gain, h.panner, h.split]) if (node) node.disconnect();
        h.audio.srcObject = null;
    }

    /* The person's volume for someone: 0 silent, 1 as they come, up to 2. */
    setVolume(user, gain) {
        this.volumes.set(user, gain);
        for (const h of this.heard.values()) if (h.user === user) h.gain.gain.value = gain;
    }

    /*
     * Place the listener at my pose {p, q} and each voice at its avatar:
     * positionOf(userId) gives [x, y, z] (where the avatar is drawn) or
     * null (unknown yet: then it is heard from where I stand).
     */
    place(me, positionOf) {
        if (!this.ctx || !me) return;
        const l = listenerFrame(me.p, me.q);
        setPosition(this.ctx.listener, l.position);
        setOrientation(this.ctx.listener, l.forward, l.up);
        const at = [0, 0, 0];
        for (const h of this.heard.values()) {
            if (!h.panner) continue;
            const pos = positionOf(h.user);
            setPosition(h.panner, pos ? headOf(pos[0], pos[1], pos[2], at) : l.position);
        }
    }

    /* For tests: each voice heard, with its RMS level now after the panner, per ear. */
    levels() {
        return [...this.heard.values()].map((h) => ({ user: h.user, feed: h.feed, left: rms(h.left, h.buf), right: rms(h.right, h.buf) }));
    }

    /* Leave for good: nothing connected, microphone released, audio closed. */
    close() {
        this.micWanted = false;
        clearTimeout(this.micLingerTimer);
        this.micLinger = 0;
        this.key = '';
        this._stop();
        this._unpublish();
        clearTimeout(this.refusedTimer);
        if (this.ctx) this.ctx.close().catch(() => {});
        this.ctx = null;
    }
}
