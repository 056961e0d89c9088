import assert from "node:assert/strict";
import { test } from "node:test";
import { micOpenIn, TurnMachine, type TurnState } from "../src/state.js";

test("a turn goes ready → recording → waiting → playing → ready", () => {
  const m = new TurnMachine();
  const seen: string[] = [];
  m.onChange((s, prev, e) => seen.push(`${prev}>${s}:${e}`));
  for (const e of ["connected", "speech_started", "speech_ended", "result_audio", "turn_done"] as const) {
    assert.equal(m.fire(e), true, e);
  }
  assert.equal(m.state, "ready");
  assert.deepEqual(seen, ["idle>ready:connected", "ready>recording:speech_started", "recording>waiting:speech_ended",
    "waiting>playing:result_audio", "playing>ready:turn_done"]);
});

test("transitions from the wrong state are no-ops", () => {
  const m = new TurnMachine();
  assert.equal(m.fire("speech_started"), false); // not connected yet
  m.fire("connected");
  assert.equal(m.fire("speech_ended"), false); // "end sentence" before recording
  assert.equal(m.fire("result_audio"), false); // a result while listening does not start playback
  m.fire("speech_started");
  assert.equal(m.fire("speech_started"), false);
  m.fire("speech_ended");
  assert.equal(m.fire("speech_ended"), false); // a second click
  assert.equal(m.state, "waiting");
  assert.equal(m.fire("turn_done"), true); // a result without speech, or an error
  assert.equal(m.state, "ready");
  assert.equal(m.fire("disconnected"), true);
  assert.equal(m.fire("disconnected"), false);
});

test("the microphone is open only while listening or recording (half duplex)", () => {
  const open = (["idle", "ready", "recording", "waiting", "playing"] as TurnState[]).filter(micOpenIn);
  assert.deepEqual(open, ["ready", "recording"]);
});
