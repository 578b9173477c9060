/*
 * A full plenary (crowd.mjs): the page with 500 avatars in the room draws
 * them all, keeps the name tags few, still answers input, switches to the
 * 2D map, and logs no errors. How fast it draws them is crowd-fps.test.mjs,
 * a perf test.
 */

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { shot, consoleErrors, until, sleep } from './harness.mjs';
import { REAL, SIMULATED, startCrowd, stopCrowd, watchCrowd } from './crowd.mjs';

let crowd;

before(async () => {
    crowd = await startCrowd();
});

after(async () => {
    await stopCrowd();
});

test('500 avatars in the plenary: the page stays responsive', async () => {
    const { page, count } = await watchCrowd(crowd);
    assert.ok(count >= REAL + SIMULATED, `${count} avatars`);
    await shot(page, 'plenary-500-3d');
    /* at most a few dozen name tags, however many people */
    const tags = await page.$$eval('#tags .tag:not([hidden])', (els) => els.length);
    assert.ok(tags <= 32, `${tags} name tags`);
    /* the page still answers input: typing into chat is immediate */
    await page.click('#chat-input');
    await page.keyboard.type('still smooth');
    assert.equal(await page.inputValue('#chat-input'), 'still smooth');
    await page.click('#view-toggle');
    await until(() => page.evaluate(() => window.__venue.view === '2d'), 5000, '2D map');
    await sleep(1000);
    await shot(page, 'plenary-500-2d');
    assert.deepEqual(consoleErrors(page), []);
});
