import assert from "node:assert/strict";
import { test } from "node:test";
import { EnergyVad, levelDb, type VadDecision } from "../src/vad.js";

const SPEECH = -20;
const QUIET = -70;

function run(vad: EnergyVad, levels: number[]): { decision: VadDecision; at: number }[] {
  const out: { decision: VadDecision; at: number }[] = [];
  levels.forEach((db, i) => {
    const d = vad.push(db);
    if (d) out.push({ decision: d, at: i });
  });
  return out;
}

const frames = (db: number, ms: number): number[] => Array<number>(ms / 20).fill(db);

test("speech starts after the onset frames and ends after silence + tail", () => {
  const vad = new EnergyVad();
  const events = run(vad, [...frames(QUIET, 400), ...frames(SPEECH, 1000), ...frames(QUIET, 2000)]);
  assert.deepEqual(events, [
    { decision: "speech_start", at: 20 + 2 }, // third loud frame
    { decision: "speech_end", at: 20 + 50 + Math.ceil(1250 / 20) - 1 },
  ]);
});

test("a pause shorter than the hangover does not end the sentence; a click does not start one", () => {
  const vad = new EnergyVad();
  const events = run(vad, [...frames(QUIET, 200), SPEECH, SPEECH, QUIET, ...frames(SPEECH, 400),
    ...frames(QUIET, 1000), ...frames(SPEECH, 400), ...frames(QUIET, 1300)]);
  assert.deepEqual(events.map((e) => e.decision), ["speech_start", "speech_end"]);
});

test("digital silence never counts as speech and a noisy room raises the threshold", () => {
  const vad = new EnergyVad();
  assert.deepEqual(run(vad, frames(-Infinity, 1000)), []);
  // -40 dBFS hum for a while: above the -45 floor, but it is the room, not a speaker.
  const noisy = new EnergyVad({ onsetFrames: 3 });
  run(noisy, frames(-48, 2000));
  assert.deepEqual(run(noisy, frames(-40, 400)), []);
  assert.equal(run(noisy, frames(-20, 100))[0]?.decision, "speech_start");
});

test("a manual start is ended by the hangover; a long monologue is cut at maxTurnMs", () => {
  const vad = new EnergyVad({ maxTurnMs: 2000 });
  vad.startManually();
  assert.equal(run(vad, frames(QUIET, 1300)).at(-1)?.decision, "speech_end");
  // 3 s without a pause: cut after 2 s, and the rest starts the next turn.
  const events = run(vad, frames(SPEECH, 3000));
  assert.deepEqual(events, [{ decision: "speech_start", at: 2 }, { decision: "speech_end", at: 99 },
    { decision: "speech_start", at: 102 }]);
});

test("levelDb of full-scale and silent frames", () => {
  assert.equal(levelDb(new Float32Array([1, -1, 1, -1])), 0);
  assert.equal(levelDb(new Int16Array(4)), -Infinity);
  assert.ok(Math.abs(levelDb(new Int16Array([16384, -16384])) - -6.02) < 0.01);
});
