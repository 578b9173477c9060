#!/usr/bin/python3
"""voice_peer.py - simulated voice participants for voice-load.mjs --engine aiortc.

Many participants in one asyncio process, each what web-client/js/voice.js
does with Janus: its own Janus session (WebSocket API, "janus-protocol",
token on every request), a VideoRoom publisher handle joined as a
participant (publishing audio only if it speaks), and one multistream
subscriber handle for the feeds it hears. The media are real WebRTC
(aiortc: ICE with aioice, DTLS-SRTP with libsrtp, no ICE server at all), but
nothing is decoded or played:

  - received SRTP is decrypted by libsrtp (so every packet's auth tag is
    checked), then counted per SSRC and dropped, right in the UDP socket's
    callback once DTLS is up (fast_path). aiortc's own receive path would
    queue each packet, depacketise it, run a jitter buffer and queue decoded
    frames in an asyncio.Queue that nobody reads, without bound; here no
    decoder thread is started either. The per-SSRC sequence and jitter
    statistics that aiortc's RTCP receiver reports are made of are still
    fed, so Janus gets receiver reports as from a browser.
  - a speaker sends real Opus: one second of a beep (440 Hz, loud for 100 ms
    of every 500 ms, the shape of Chromium's fake microphone), encoded once
    with libopus (mono, 20 ms frames, about 24 kbit/s of payload as Chromium
    codes its fake microphone) and sent in a loop at 50 packets a second,
    with the audio-level header extension a browser adds.

This is what Janus' per-subscriber cost depends on: it encrypts and sends
every packet to every subscriber whatever the receiver does with it.

Control: JSON lines on stdin, one answer line each on stdout (with the same
"seq"):
  {"op": "join", "seq", "url", "i", "id", "token", "room", "publish", "timeoutMs"}
  {"op": "listen", "seq", "i", "room", "feeds", "timeoutMs"}
  {"op": "stats", "seq"}      counters of every PeerConnection, the shape of
                              the Chromium pages' stats() in voice-load.mjs
  {"op": "ice", "seq"}        the iceServers each PeerConnection was given
The process ends when stdin closes, or after --max-secs (bounded like every
wait here). Debian packages only: python3-aiortc, python3-websockets, and
python3-uvloop if installed (it halves the CPU per packet received).
"""

import argparse
import asyncio
import fractions
import json
import math
import os
import socket
import struct
import sys
import time

import av
import pylibsrtp
import websockets
from aioice.ice import StunProtocol
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver, StreamStatistics
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import is_rtcp

PLUGIN = "janus.plugin.videoroom"
KEEPALIVE_S = 25  # janus.js' interval; Janus ends a session after 60 s without one
REQUEST_S = 20  # one Janus request answered within this, or the participant fails

# ---------------------------------------------------------------- aiortc, leaner


def rtp_header_len(data):
    """Bytes of the RTP header (fixed part, CSRCs, extensions) of a packet."""
    n = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        n += 4 + 4 * struct.unpack_from("!H", data, n + 2)[0]
    return n


class _SeqTs:
    """The two fields of a packet that StreamStatistics.add reads."""

    __slots__ = ("sequence_number", "timestamp")


def count_rtp(dtls, data):
    """Count a decrypted RTP packet for its SSRC, feed its receiver's RTCP
    statistics (the receiver reports), and drop it. Until fast_path is on."""
    seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
    rx = dtls.__dict__.setdefault("bench_rx", {})  # ssrc -> [packets, bytes, header bytes, StreamStatistics]
    c = rx.get(ssrc)
    if c is None:
        receiver = dtls._rtp_router.ssrc_table.get(ssrc)
        st = None
        if receiver is not None:
            st = receiver._RTCRtpReceiver__remote_streams.setdefault(ssrc, StreamStatistics(48000))
        c = rx[ssrc] = [0, 0, 0, st]
    c[0] += 1
    c[1] += len(data)
    c[2] += rtp_header_len(data)
    if c[3] is not None:
        p = _SeqTs()
        p.sequence_number = seq
        p.timestamp = ts
        c[3].add(p)


async def _count_rtp(self, data, arrival_time_ms):
    """Replaces RTCDtlsTransport._handle_rtp_data (after SRTP unprotect): count, drop."""
    count_rtp(self, data)


_datagram_received = StunProtocol.datagram_received


def fast_path(dtls):
    """Once DTLS is up: SRTP packets go from the UDP socket's callback straight
    to libsrtp and a count. aiortc would queue each one (aioice's
    asyncio.Queue), wake a coroutine for it, copy the decrypted packet out
    and parse it in Python: most of its CPU per packet, and this process
    must keep up with 15,000 packets a second or more. STUN, DTLS and SRTCP
    still take aiortc's way.

    The RTP header is not encrypted, so the counts come from it; one packet
    in 16 is also decrypted in place in libsrtp's buffer (its auth tag
    checked) and left there. Each packet also updates its stream's StreamStatistics
    as StreamStatistics.add would, inline: the receiver reports (loss,
    highest sequence, jitter) stay what aiortc sends."""
    srtp = dtls._rx_srtp
    session = srtp._srtp[0]
    cdata = srtp._cdata
    buf = srtp._buffer
    room = len(cdata)
    unprotect = pylibsrtp._binding.lib.srtp_unprotect
    len_p = pylibsrtp._binding.ffi.new("int *")
    rx = dtls.__dict__.setdefault("bench_rx", {})  # ssrc -> [packets, bytes, header bytes, StreamStatistics]
    bad = dtls.__dict__.setdefault("bench_bad", [0])  # packets whose auth tag failed
    ssrc_table = dtls._rtp_router.ssrc_table
    unpack = struct.Struct("!HII").unpack_from
    now = time.time

    def fast(data):
        n = len(data)
        seq, ts, ssrc = unpack(data, 2)
        if not seq & CHECK_EVERY_MASK:
            if n > room:
                bad[0] += 1
                return
            len_p[0] = n
            buf[0:n] = data
            if unprotect(session, cdata, len_p):
                bad[0] += 1
                return
        c = rx.get(ssrc)
        if c is None:
            receiver = ssrc_table.get(ssrc)
            st = None
            if receiver is not None:
                st = receiver._RTCRtpReceiver__remote_streams.setdefault(ssrc, StreamStatistics(48000))
            c = rx[ssrc] = [0, 0, 0, st]
        h = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10:
            h += 4 + 4 * ((data[h + 2] << 8) | data[h + 3])
        c[0] += 1
        c[1] += n - SRTP_TAG  # the RTP packet, without the SRTP tag
        c[2] += h
        st = c[3]
        if st is None:
            return
        # StreamStatistics.add, inline
        st.packets_received += 1
        if st.base_seq is None:
            st.base_seq = seq
        if st.max_seq is None or (seq != st.max_seq and ((seq - st.max_seq) & 0xFFFF) < 0x8000):
            arrival = int(now() * 48000)
            if st.max_seq is not None and seq < st.max_seq:
                st.cycles += 1 << 16
            st.max_seq = seq
            if ts != st._last_timestamp and st.packets_received > 1:
                diff = abs((arrival - st._last_arrival) - (ts - st._last_timestamp))
                st._jitter_q4 += diff - ((st._jitter_q4 + 8) >> 4)
            st._last_arrival = arrival
            st._last_timestamp = ts

    for proto in dtls.transport._connection._protocols:
        proto.bench_fast = fast
        _grow_receive_buffer(proto)


RCVBUF = 4 * 1024 * 1024
# The SRTP auth tag of Janus' AES_CM_128_HMAC_SHA1_80 profile.
SRTP_TAG = 10
# One packet in 16 goes through libsrtp, its auth tag checked (the replay
# window takes the gaps): the check that Janus sends what it should stays,
# at a sixteenth of the cost.
CHECK_EVERY_MASK = 15


def _grow_receive_buffer(proto):
    """A browser's socket absorbs a burst while its process is busy; the
    default 208 KiB holds 0.1 s of a listener's media and overflowed in
    the plenary (the kernel's rcvbuf errors). SO_RCVBUFFORCE needs root,
    which the namespace already has; net.core.rmem_max is not the
    namespace's to raise."""
    sock = proto.transport.get_extra_info("socket") if proto.transport else None
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)


def _datagram_received_fast(self, data, addr):
    """StunProtocol.datagram_received: SRTP (not SRTCP) to the fast path once there is one."""
    fast = self.bench_fast
    if fast is not None and (data[0] & 0xC0) == 0x80 and not (192 <= data[1] <= 223):
        fast(data)
    else:
        _datagram_received(self, data, addr)


async def _receive_without_decoder(self, parameters):
    """Replaces RTCRtpReceiver.receive: the same, without the decoder thread."""
    if not self._RTCRtpReceiver__started:
        for codec in parameters.codecs:
            self._RTCRtpReceiver__codecs[codec.payloadType] = codec
        self._RTCRtpReceiver__transport._register_rtp_receiver(self, parameters)
        self._RTCRtpReceiver__rtcp_task = asyncio.ensure_future(self._run_rtcp())
        self._RTCRtpReceiver__started = True


_send_rtp = RTCDtlsTransport._send_rtp


async def _send_rtp_counted(self, data):
    """RTCDtlsTransport._send_rtp, counting the RTP packets sent (before SRTP)."""
    await _send_rtp(self, data)
    if not is_rtcp(data):
        tx = self.__dict__.setdefault("bench_tx", [0, 0, 0])  # packets, bytes, header bytes
        tx[0] += 1
        tx[1] += len(data)
        tx[2] += rtp_header_len(data)


_next_encoded_frame = RTCRtpSender._next_encoded_frame


async def _next_encoded_frame_with_level(self, codec):
    """A pre-encoded packet has no audio level: give it the track's, as a browser sends one."""
    f = await _next_encoded_frame(self, codec)
    if f.audio_level is None:
        f.audio_level = getattr(self.track, "level", None)
    return f


_stun_request = StunProtocol.request


async def _stun_request_retransmitted(self, request, addr, integrity_key=None, retransmissions=None):
    """StunProtocol.request, retransmitting consent checks too. aioice sends
    its RFC 7675 consent checks once (retransmissions=0) and closes the
    connection after six lost in a row: a process busy counting 15,000
    packets a second answers late and would lose its listeners' media for
    a reason no browser has (browsers retransmit them). Three
    retransmissions wait 7.5 s in all, within RFC 7675's 30 s."""
    if retransmissions == 0:
        retransmissions = 3
    return await _stun_request(self, request, addr, integrity_key=integrity_key, retransmissions=retransmissions)


av.logging.set_level(av.logging.ERROR)  # libopus' "frames left in the queue" when the encoder goes
RTCDtlsTransport._handle_rtp_data = _count_rtp
StunProtocol.datagram_received = _datagram_received_fast
StunProtocol.bench_fast = None
StunProtocol.request = _stun_request_retransmitted
RTCDtlsTransport._send_rtp = _send_rtp_counted
RTCRtpReceiver.receive = _receive_without_decoder
RTCRtpSender._next_encoded_frame = _next_encoded_frame_with_level

# ---------------------------------------------------------------- the voice


def opus_second():
    """50 Opus packets (1 s) of a beep, encoded once; with the audio level (-dBov) of each.

    A 440 Hz tone, loud for 100 ms of every 500 ms and quiet (-30 dB) in
    between, coded as Chromium codes its fake microphone: mono, 20 ms
    frames, about 24 kbit/s of payload (constrained VBR)."""
    enc = av.CodecContext.create("libopus", "w")
    enc.sample_rate = 48000
    enc.layout = "mono"
    enc.format = "s16"
    enc.bit_rate = 24000
    enc.options = {"application": "voip", "vbr": "constrained"}
    out = []
    levels = []
    for k in range(70):  # the first 20 are the encoder settling: not kept
        beep = (k * 20) % 500 < 100
        amp = (0.3 if beep else 0.01) * 32767
        pcm = struct.pack("<960h", *(int(amp * math.sin(2 * math.pi * 440 * (k * 960 + n) / 48000)) for n in range(960)))
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(pcm)
        frame.sample_rate = 48000
        frame.pts = k * 960
        for p in enc.encode(frame):
            out.append(bytes(p))
        levels.append(10 if beep else 40)  # -dBov, as the audio-level extension carries it
    enc.encode(None)  # drained, or libopus complains when it is freed
    out = out[20:70]
    assert len(out) == 50, len(out)
    return out, levels[20:70]


class OpusLoop(MediaStreamTrack):
    """An audio track of pre-encoded Opus packets, paced at one every 20 ms."""

    kind = "audio"
    TB = fractions.Fraction(1, 48000)

    def __init__(self, packets, levels):
        super().__init__()
        self.packets = packets
        self.levels = levels
        self.level = None  # of the packet last returned, for the audio-level extension
        self.n = 0
        self.t0 = None

    async def recv(self):
        if self.readyState != "live":
            raise Exception("ended")  # aiortc's MediaStreamError; the sender stops
        if self.t0 is None:
            self.t0 = time.monotonic()
        wait = self.t0 + self.n * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        k = self.n % len(self.packets)
        p = av.Packet(self.packets[k])
        p.pts = self.n * 960
        p.time_base = self.TB
        self.level = self.levels[k]
        self.n += 1
        return p


# ---------------------------------------------------------------- Janus


class JanusError(Exception):
    pass


class Session:
    """One Janus session over one WebSocket, as janus.js makes it: requests
    matched by transaction (acks skipped), other events kept per handle."""

    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.ws = None
        self.id = None
        self.n = 0
        self.waiting = {}  # transaction -> Future of the answer
        self.handles = {}  # handle id -> Handle
        self.tasks = []

    async def open(self):
        self.ws = await websockets.connect(self.url, subprotocols=["janus-protocol"], ping_interval=None,
                                           max_size=4 * 1024 * 1024, open_timeout=REQUEST_S)
        self.tasks.append(asyncio.ensure_future(self._read()))
        r = await self.request({"janus": "create"})
        self.id = r["data"]["id"]
        self.tasks.append(asyncio.ensure_future(self._keepalive()))

    async def _read(self):
        try:
            async for raw in self.ws:
                m = json.loads(raw)
                if m.get("janus") == "ack":
                    continue
                f = self.waiting.pop(m.get("transaction"), None)
                if f is not None and not f.done():
                    f.set_result(m)
                    continue
                h = self.handles.get(m.get("sender"))
                if h is not None:
                    h.event(m)
        except websockets.ConnectionClosed:
            pass
        for f in self.waiting.values():
            if not f.done():
                f.set_exception(JanusError("the Janus WebSocket closed"))
        for h in self.handles.values():
            h.down("the Janus WebSocket closed")

    async def _keepalive(self):
        while True:
            await asyncio.sleep(KEEPALIVE_S)
            try:
                await self.request({"janus": "keepalive"})
            except Exception:
                pass  # a missed keepalive shows as Janus' timeout event

    async def request(self, body):
        self.n += 1
        t = f"t{self.n}"
        msg = dict(body, transaction=t, token=self.token)
        if self.id is not None:
            msg["session_id"] = self.id
        f = asyncio.get_running_loop().create_future()
        self.waiting[t] = f
        await self.ws.send(json.dumps(msg))
        try:
            r = await asyncio.wait_for(f, REQUEST_S)
        finally:
            self.waiting.pop(t, None)
        if r.get("janus") == "error":
            raise JanusError(f"{body.get('janus')}: {r['error'].get('code')} {r['error'].get('reason')}")
        return r

    async def attach(self):
        r = await self.request({"janus": "attach", "plugin": PLUGIN})
        h = Handle(self, r["data"]["id"])
        self.handles[h.id] = h
        return h

    async def close(self):
        for t in self.tasks:
            t.cancel()
        if self.ws is not None:
            await self.ws.close()


class Handle:
    """A VideoRoom handle: its messages, and whether its PeerConnection is up."""

    def __init__(self, session, hid):
        self.session = session
        self.id = hid
        self.up = asyncio.Event()  # Janus said webrtcup
        self.fail = asyncio.get_running_loop().create_future()  # why it went down
        self.downs = 0

    def event(self, m):
        kind = m.get("janus")
        if kind == "webrtcup":
            self.up.set()
        elif kind in ("hangup", "detached", "timeout"):
            self.down(f"{kind} {m.get('reason', '')}".strip())

    def down(self, why):
        self.downs += 1
        if not self.fail.done():
            self.fail.set_result(why)

    async def message(self, body, jsep=None):
        """A plugin request; its answer (the event after the ack), error if the plugin refused."""
        req = {"janus": "message", "handle_id": self.id, "body": body}
        if jsep:
            req["jsep"] = jsep
        r = await self.session.request(req)
        data = r.get("plugindata", {}).get("data", {})
        if "error" in data:
            raise JanusError(f"{body['request']}: {data.get('error_code')} {data['error']}")
        return r

    async def webrtcup(self):
        """Until Janus says webrtcup; an error if the handle went down first."""
        done, _ = await asyncio.wait([asyncio.ensure_future(self.up.wait()), self.fail],
                                     return_when=asyncio.FIRST_COMPLETED)
        if not self.up.is_set():
            raise JanusError(f"PeerConnection down: {self.fail.result()}")


def new_pc(ice_log):
    """A PeerConnection with no ICE server (aiortc's default would be a public STUN server)."""
    ice_log.append("[]")
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class Participant:
    def __init__(self, i, pid):
        self.i = i
        self.id = pid
        self.session = None
        self.pub = None  # publisher handle
        self.pub_pc = None
        self.sub = None
        self.sub_pc = None
        self.tracks = 0


class Worker:
    def __init__(self):
        self.parts = {}  # i -> Participant
        self.ice = []  # the iceServers of every PeerConnection made, as JSON
        self.opus = None
        self.max_gap_ms = 0.0

    async def join(self, o):
        p = Participant(o["i"], o["id"])
        self.parts[p.i] = p
        t0 = time.monotonic()
        p.session = Session(o["url"], o["token"])
        await p.session.open()
        p.pub = await p.session.attach()
        r = await p.pub.message({"request": "join", "ptype": "publisher", "room": o["room"], "id": p.id,
                                 "display": f"bench {p.id}", "token": o["token"]})
        if r["plugindata"]["data"].get("videoroom") != "joined":
            raise JanusError(f"join: {r['plugindata']['data']}")
        joined_ms = 1000 * (time.monotonic() - t0)
        if not o["publish"]:
            return {"joinedMs": joined_ms, "upMs": None}
        if self.opus is None:
            self.opus = opus_second()
        p.pub_pc = new_pc(self.ice)
        p.pub_pc.addTransceiver(OpusLoop(*self.opus), direction="sendonly")
        await p.pub_pc.setLocalDescription(await p.pub_pc.createOffer())  # gathers: the SDP has the candidates
        r = await p.pub.message({"request": "publish"},
                                jsep={"type": "offer", "sdp": p.pub_pc.localDescription.sdp, "trickle": False})
        if not r.get("jsep"):
            raise JanusError(f"publish: no answer SDP: {r.get('plugindata')}")
        await p.pub_pc.setRemoteDescription(RTCSessionDescription(r["jsep"]["sdp"], "answer"))
        await p.pub.webrtcup()
        return {"joinedMs": joined_ms, "upMs": 1000 * (time.monotonic() - t0)}

    async def listen(self, o):
        p = self.parts[o["i"]]
        t0 = time.monotonic()
        p.sub = await p.session.attach()
        r = await p.sub.message({"request": "join", "ptype": "subscriber", "room": o["room"],
                                 "streams": [{"feed": f} for f in o["feeds"]], "token": p.session.token})
        if not r.get("jsep"):
            raise JanusError(f"subscribe: no offer: {r.get('plugindata')}")
        p.sub_pc = pc = new_pc(self.ice)

        @pc.on("track")
        def _track(track):
            p.tracks += 1

        await pc.setRemoteDescription(RTCSessionDescription(r["jsep"]["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await p.sub.message({"request": "start"}, jsep={"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False})
        await p.sub.webrtcup()
        dtls = pc.getTransceivers()[0].receiver.transport
        for _ in range(100):  # Janus' webrtcup can come a moment before our side has the SRTP keys
            if dtls._rx_srtp is not None:
                fast_path(dtls)
                break
            await asyncio.sleep(0.05)
        if p.tracks < len(o["feeds"]):
            raise JanusError(f"{p.tracks} of {len(o['feeds'])} tracks")
        return {"upMs": 1000 * (time.monotonic() - t0), "tracks": p.tracks, "maxGapMs": self.max_gap_ms}

    def stats(self):
        """Counters now, in the shape of the Chromium pages' stats(): per
        participant, RTP sent (bytes and header bytes before SRTP, packets),
        and per stream received [ssrc, bytes-header, header, packets, lost,
        concealed, samples, jitter s] (nothing is decoded: no concealment)."""
        now = 1000 * time.monotonic()
        out = []
        for p in self.parts.values():
            r = {"i": p.i, "downs": (p.pub.downs if p.pub else 0) + (p.sub.downs if p.sub else 0), "up": None, "down": None}
            if p.pub_pc is not None:
                tx = p.pub_pc.getSenders()[0].transport.__dict__.get("bench_tx", [0, 0, 0])
                r["up"] = {"bytes": tx[1] - tx[2], "hdr": tx[2], "pkts": tx[0], "t": now}
            if p.sub_pc is not None:
                tr = p.sub_pc.getTransceivers()
                dtls = tr[0].receiver.transport if tr else None
                rx = dtls.__dict__.get("bench_rx", {}) if dtls else {}
                down = []
                for t in tr:
                    streams = t.receiver._RTCRtpReceiver__remote_streams
                    for ssrc, st in streams.items():
                        c = rx.get(ssrc, [0, 0, 0])
                        down.append([str(ssrc), c[1] - c[2], c[2], c[0], st.packets_lost, 0, 0, st.jitter / 48000])
                r["down"] = down
                r["downT"] = now
            out.append(r)
        return {"t": now, "parts": out, "maxGapMs": self.max_gap_ms}

    async def lateness(self):
        """How late this loop's timers run: a saturated worker is not a fair client."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            t = time.monotonic()
            self.max_gap_ms = max(self.max_gap_ms, 1000 * (t - last - 0.25))
            last = t


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max-secs", type=float, default=1200, help="exit after this long whatever happens")
    args = ap.parse_args()
    loop = asyncio.get_running_loop()
    w = Worker()
    late = asyncio.ensure_future(w.lateness())
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    pending = set()

    def answer(seq, body):
        sys.stdout.write(json.dumps(dict(body, seq=seq)) + "\n")
        sys.stdout.flush()

    async def run(o):
        seq = o.get("seq")
        try:
            if o["op"] == "join":
                r = await asyncio.wait_for(w.join(o), o["timeoutMs"] / 1000)
            elif o["op"] == "listen":
                r = await asyncio.wait_for(w.listen(o), o["timeoutMs"] / 1000)
            elif o["op"] == "stats":
                r = w.stats()
            elif o["op"] == "ice":
                r = {"ice": w.ice}
            else:
                raise ValueError(f"unknown op {o['op']}")
            answer(seq, {"ok": True, "r": r})
        except asyncio.TimeoutError:
            answer(seq, {"ok": False, "error": f"{o['op']} {o.get('id', o.get('i'))}: not up in {o.get('timeoutMs', 0) / 1000} s"})
        except Exception as e:  # one participant's failure is its answer, not the worker's end
            answer(seq, {"ok": False, "error": f"{o['op']} {o.get('id', o.get('i'))}: {type(e).__name__}: {e}"})

    deadline = loop.time() + args.max_secs
    while loop.time() < deadline:
        try:
            line = await asyncio.wait_for(reader.readline(), deadline - loop.time())
        except asyncio.TimeoutError:
            break
        if not line:
            break  # stdin closed: voice-load is done (or gone)
        t = asyncio.ensure_future(run(json.loads(line)))
        pending.add(t)
        t.add_done_callback(pending.discard)
    late.cancel()
    for t in pending:
        t.cancel()
    # Closing hundreds of PeerConnections one by one takes long and nobody waits for it: the
    # namespace ends with voice-load, and Janus is stopped first.
    sys.stdout.flush()
    if PROFILE:
        PROFILE.disable()
        PROFILE.dump_stats(os.path.join(os.environ["VOICE_PEER_PROFILE"], f"voice_peer-{os.getpid()}.prof"))
    os._exit(0)


# VOICE_PEER_PROFILE=DIR: a cProfile of each worker into DIR, to see where its CPU goes.
PROFILE = None
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
if __name__ == "__main__":
    # Janus runs a thread per handle (400 in the plenary) and the scheduler
    # shares the cores per thread: left equal, these few processes would
    # get a sliver and drop what Janus sent them. Ahead of Janus they take
    # what they need and Janus the rest, so its CPU is still its own and a
    # starved Janus still shows (packets expected but not sent).
    try:
        os.setpriority(os.PRIO_PROCESS, 0, -10)
    except OSError:
        pass
    if os.environ.get("VOICE_PEER_PROFILE"):
        import cProfile

        PROFILE = cProfile.Profile()
        PROFILE.enable()
    try:
        import uvloop  # Debian's python3-uvloop: the UDP receive path in C, about half the CPU per packet

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
