/*
 * limits.js - the venue.v1 limits the page checks before it sends, so that
 * people are told at once instead of by the server's refusal.
 *
 * The source is protocol/proto.h: each constant here is its PROTO_<name>
 * (text lengths in Unicode code points). tests/client/limits.test.mjs
 * fails when they differ, and when the pages' maxlength attributes do.
 */

export const NAME_MAX = 64;
export const TEXT_MAX = 500;
export const REASON_MAX = 200;
export const MINUTES_MAX = 525600;
export const CAPACITY_MAX = 100000;
