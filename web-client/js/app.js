/*
 * app.js - the venue page (index.html): starts the join screen, hands each
 * of the connection's events to the part of the page that deals with it,
 * and runs the frame loop.
 *
 * The parts, one job each, are in app/: join.js (the join screen and the
 * connection), rooms.js (which room I am in), people.js (everyone's
 * avatars, my hand), moving.js (my own walking), views.js (3D view or 2D
 * map), chat.js, stage.js (an overflow room's relayed stage),
 * moderation.js (the moderators' panel, and what moderation does to me),
 * notices.js (announcements, breakouts), twins.js (the showcases' live
 * city data), programme.js (the programme: its tab, reminders, my room's
 * line, the boards), find.js (finding a person across the venue, going
 * to them, my privacy settings), follow.js (walking behind someone), and
 * on stage: slides.js (the slides, presenting
 * them), captions.js (live captions), questions.js (questions, the
 * floor); voice.js (the microphone, hearing the others, who speaks);
 * help.js (the Help dialog, "?"), welcome.js (the first visit's tour),
 * breakouts.js (a running breakout, for its moderators).
 * What they share is app/state.js.
 * Everything protocol-shaped lives in venue-client.js, the voice media in
 * voice.js (placed by voicespace.js), smoothing in motion.js, drawing in view3d.js / map2d.js, panel text in panels.js,
 * reading live data in livedata.js.
 *
 * The development hooks (app/dev.js: window.__venue and ?simulate=N) are
 * loaded only when asked for: by ?simulate in the URL, or by a test that
 * sets window.__venueHooks before the page runs (tests/browser/harness.mjs).
 */

import { Panels } from './panels.js';
import { $ } from './dom.js';
import { state } from './app/state.js';
import { initJoin, startConnection, onStatus, onWelcome, onError } from './app/join.js';
import { startRooms, joinRoom, onJoined, onLeft, showRoomList, onRoomSettings, onScene } from './app/rooms.js';
import { startPeople, toggleHand, onPresence, onPoses, placeAvatars } from './app/people.js';
import { startMoving, onPoseFix, moveMe } from './app/moving.js';
import { startViews } from './app/views.js';
import { sendChat, onChat, onChatHistory, onChatDeleted, deleteChat } from './app/chat.js';
import { startReactions } from './app/reactions.js';
import { startMessages } from './app/messages.js';
import { onStage } from './app/stage.js';
import { startModeration, onMeChanged, onKicked, onSessionRoles, onFloorRoles } from './app/moderation.js';
import { showAnnouncement, onBreakout } from './app/notices.js';
import { startTwins, onTwin } from './app/twins.js';
import { startProgramme, onProgramme, onSessionState, onRoomChanged, onReminder } from './app/programme.js';
import { startSlides, onSlides, refreshSlides } from './app/slides.js';
import { startCaptions, onCaption, refreshCaptions } from './app/captions.js';
import { startQuestions, onQuestions, onQuestion, onFloor, refreshQuestions } from './app/questions.js';
import { startVoice, onVoice, onVoicePeers, onTalking, placeVoices } from './app/voice.js';
import { startHelp } from './app/help.js';
import { startWelcome } from './app/welcome.js';
import { startBreakouts } from './app/breakouts.js';
import { startFind, onPrivacy, onFindJoined } from './app/find.js';
import { startFollow, onFollowPresence, onFollowJoined, onFollowLeft } from './app/follow.js';

/* Whose stage I see, or who I am on it, may have changed: what each stage part offers me. */
function stageRolesChanged() {
    refreshSlides();
    refreshCaptions();
    refreshQuestions();
}

function wireClient(client) {
    client.on('status', onStatus);
    client.on('me', onMeChanged);
    client.on('kicked', onKicked);
    client.on('announce', showAnnouncement);
    client.on('breakout', onBreakout);
    client.on('stage', onStage);
    client.on('room', onRoomSettings);
    client.on('welcome', onWelcome);
    client.on('joined', onJoined);
    client.on('left', onLeft);
    client.on('presence', onPresence);
    client.on('poses', onPoses);
    client.on('pose', onPoseFix);
    client.on('chat', onChat);
    client.on('chathistory', onChatHistory);
    client.on('chatdeleted', onChatDeleted);
    client.on('scene', onScene);
    for (const type of ['rooms', 'programme', 'session']) client.on(type, showRoomList);
    client.on('twin', onTwin);
    client.on('programme', onProgramme);
    client.on('stars', onProgramme);
    client.on('stage', onProgramme);
    client.on('session', onSessionState);
    client.on('reminder', onReminder);
    client.on('joined', onRoomChanged);
    client.on('left', onRoomChanged);
    for (const type of ['programme', 'session', 'joined', 'left', 'stage', 'me']) client.on(type, stageRolesChanged);
    client.on('session', onSessionRoles);
    client.on('floor', onFloorRoles);
    client.on('slides', onSlides);
    client.on('caption', onCaption);
    client.on('questions', onQuestions);
    client.on('question', onQuestion);
    client.on('floor', onFloor);
    client.on('voice', onVoice);
    client.on('voice_peers', onVoicePeers);
    for (const type of ['presence', 'joined', 'left', 'stage']) client.on(type, onTalking);
    client.on('privacy', onPrivacy);
    client.on('presence', onFollowPresence);
    client.on('joined', onFollowJoined);
    client.on('joined', onFindJoined);
    client.on('left', onFollowLeft);
    client.on('error', onError);
}

function enterVenue() {
    const client = state.client;
    state.panels = new Panels(client, { joinRoom, toggleHand, sendChat, deleteChat });
    startConnection();
    startRooms();
    startPeople();
    startModeration();
    startMoving();
    startViews();
    startTwins();
    startProgramme();
    startSlides();
    startCaptions();
    startQuestions();
    startVoice();
    startHelp();
    startBreakouts();
    startReactions();
    startMessages();
    startFind();
    startFollow();
    /* what happened between the welcome and now */
    if (client.room) {
        onJoined({ room: client.room, reason: 'request' });
        onRoomChanged({ room: client.room, reason: 'request' });
    }
    if (client.stage) onStage({ hall: client.stage.hall, users: [...client.stage.users.values()], added: [...client.stage.users.values()], removed: [] });
    requestAnimationFrame(frame);
    $('view').focus();
    startWelcome(); /* after the focus is on the room: it goes back there */
}

let lastFrame = 0;

function frame(now) {
    requestAnimationFrame(frame);
    const dtS = Math.min(0.1, lastFrame ? (now - lastFrame) / 1000 : 0);
    lastFrame = now;
    moveMe(dtS);
    placeAvatars(now);
    placeVoices();
    if (state.view && state.model) {
        state.view.render(state.list, state.me, now, dtS, state.listChanged);
        state.listChanged = false;
    }
}

if (new URLSearchParams(location.search).has('simulate') || window.__venueHooks === true) import('./app/dev.js');
initJoin({ wire: wireClient, enter: enterVenue });
