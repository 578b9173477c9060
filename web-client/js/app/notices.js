/*
 * notices.js - the banners over the view: moderators' announcements, each
 * until dismissed (the newest few are kept), and a breakout's countdown
 * with where everyone goes back to.
 */

import { $, el, button } from '../dom.js';
import { timeOf, clockLeft } from '../panels.js';
import { state, roomName } from './state.js';

const BANNERS_SHOWN = 3; /* announcements on screen at once */

let breakoutTimer = null;

export function showAnnouncement(a) {
    const box = $('announcements');
    const b = el('div', 'banner announce');
    b.setAttribute('role', 'group');
    b.setAttribute('aria-label', 'Announcement');
    const head = el('p', 'banner-head');
    const who = el('bdi', null, a.name || 'A moderator');
    head.append(el('strong', null, 'Announcement'), document.createTextNode(' from '), who,
        document.createTextNode(` · to ${a.venue ? 'everyone in the venue' : roomName(a.room)} · ${timeOf(a.ts)}`));
    const text = el('p', 'banner-text', a.text);
    text.dir = 'auto';
    const close = button('banner-close', '×');
    close.setAttribute('aria-label', 'Dismiss this announcement');
    close.addEventListener('click', () => {
        const next = b.nextElementSibling || b.previousElementSibling;
        b.remove();
        (next ? next.querySelector('.banner-close') : $('view')).focus();
    });
    b.append(head, text, close);
    box.append(b);
    while (box.childElementCount > BANNERS_SHOWN) box.firstElementChild.remove();
}

export function onBreakout(d) {
    const banner = $('breakout-banner');
    clearInterval(breakoutTimer);
    breakoutTimer = null;
    if (!d.active) {
        banner.hidden = true;
        return;
    }
    $('breakout-text').textContent = `You are in ${roomName(d.room)} until ${timeOf(d.ends)}. ` +
        `Then everyone goes back to ${roomName(d.returnTo)} together.`;
    const tick = () => {
        const left = clockLeft(d.ends);
        $('breakout-left').textContent = left ? `${left} left` : `time is up: going back to ${roomName(d.returnTo)}…`;
    };
    tick();
    breakoutTimer = setInterval(tick, 1000);
    banner.hidden = false;
    state.panels.announce(`Breakout: a moderator sent you to ${roomName(d.room)} for ${Math.max(1, Math.round((d.ends - Date.now()) / 60000))} minutes. ` +
        `Then you go back to ${roomName(d.returnTo)}.`);
}
