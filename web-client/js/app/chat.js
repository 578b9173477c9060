/*
 * chat.js - the room's chat as the page handles it: sending (only while
 * connected and in a room, else told why), each message into the chat
 * panel and as a speech bubble over the speaker's avatar, the room's memory
 * as the server sends it, and a moderator's delete.
 */

import { state } from './state.js';

const SPEAKING_MS = 4000; /* the speech bubble after a chat message */

/* Returns whether the message went out (the chat box is then cleared). */
export function sendChat(text) {
    const client = state.client;
    if (client.state !== 'open' || !client.room) {
        state.panels.showError('Not connected right now: your message was not sent. It will work again once reconnected.');
        return false;
    }
    return client.chat(text);
}

export function onChat(m) {
    const client = state.client;
    const av = state.avatars.get(m.from);
    if (av) av.speaking = performance.now() + SPEAKING_MS;
    if (state.panels && client.room && m.room === client.room.id) state.panels.addChat(m);
}

/* The room's recent lines (after joined): they replace what was shown. */
export function onChatHistory(d) {
    const client = state.client;
    if (state.panels && client.room && d.room === client.room.id) state.panels.showChatHistory(d.lines);
}

export function onChatDeleted(d) {
    const client = state.client;
    if (state.panels && client.room && d.room === client.room.id) state.panels.removeChat(d.msg);
}

/* A moderator's delete; the server says whether it went. */
export async function deleteChat(m) {
    try {
        await state.client.mod('delete_chat', { message: m.msg });
        state.panels.announce(`Message from ${m.name} deleted.`);
    } catch (e) {
        state.panels.showError(`The message was not deleted: ${e.message}`);
    }
}
