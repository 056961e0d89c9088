import assert from "node:assert/strict";
import { test } from "node:test";
import { Recorder } from "../src/recorder.js";

const frame = (v: number): Int16Array => new Int16Array(320).fill(v);

test("the pre-roll starts the turn, then audio goes out in 100 ms chunks, the rest at the end", () => {
  const r = new Recorder(3, 5);
  for (let i = 1; i <= 10; i++) assert.equal(r.push(frame(i)), null); // listening: nothing is sent
  r.start();
  assert.equal(r.push(frame(11)), null);
  const chunk = r.push(frame(12)); // 3 pre-roll frames + 2 new ones: a full chunk
  assert.ok(chunk);
  assert.deepEqual([chunk[0], chunk[320 * 3], chunk.length], [8, 11, 320 * 5]); // begins 3 frames before onset
  assert.equal(r.push(frame(13)), null);
  const rest = r.finish();
  assert.deepEqual([rest.length, rest[0]], [320, 13]);
  assert.equal(r.sentSamples, 320 * 6);
  assert.equal(r.recording, false);
});

test("after a turn the pre-roll starts empty again", () => {
  const r = new Recorder(3, 5);
  r.start();
  r.push(frame(1));
  assert.equal(r.finish().length, 320);
  r.start();
  assert.equal(r.finish().length, 0);
});
