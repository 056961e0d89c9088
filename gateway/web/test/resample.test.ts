import assert from "node:assert/strict";
import { test } from "node:test";
import { lowPass, StreamingResampler, toInt16 } from "../src/audio/resample.js";

function tone(hz: number, rate: number, seconds: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));
}

function rms(x: Float32Array): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
}

function resampleInBlocks(input: Float32Array, from: number, to: number, block = 128): Float32Array {
  const r = new StreamingResampler(from, to);
  const parts: number[] = [];
  for (let i = 0; i < input.length; i += block) parts.push(...r.push(input.subarray(i, i + block)));
  return Float32Array.from(parts);
}

test("48 kHz → 16 kHz keeps the length and a speech-band tone, block by block", () => {
  const out = resampleInBlocks(tone(440, 48_000, 1), 48_000, 16_000);
  assert.ok(Math.abs(out.length - 16_000) <= 1, String(out.length));
  assert.ok(Math.abs(rms(out.subarray(100)) - 0.5 / Math.SQRT2) < 0.01);
  // No discontinuity at block edges: consecutive samples of a 440 Hz tone at 16 kHz differ by < 0.09.
  for (let i = 101; i < out.length; i++) assert.ok(Math.abs(out[i]! - out[i - 1]!) < 0.1, `jump at ${i}`);
});

test("44.1 kHz input (a fractional ratio) gives the right length and only finite samples", () => {
  const out = resampleInBlocks(tone(300, 44_100, 2), 44_100, 16_000);
  assert.ok(Math.abs(out.length - 32_000) <= 1, String(out.length));
  assert.ok(out.every(Number.isFinite));
  assert.ok(Math.abs(rms(out.subarray(100)) - 0.5 / Math.SQRT2) < 0.01);
  for (let i = 101; i < out.length; i++) assert.ok(Math.abs(out[i]! - out[i - 1]!) < 0.07, `jump at ${i}`);
});

test("odd block sizes and upsampling work too", () => {
  const r = new StreamingResampler(8_000, 16_000);
  const parts: number[] = [];
  const input = tone(200, 8_000, 1);
  for (let i = 0; i < input.length; i += 77) parts.push(...r.push(input.subarray(i, i + 77)));
  assert.ok(Math.abs(parts.length - 16_000) <= 2 && parts.every(Number.isFinite), String(parts.length));
});

test("what 16 kHz cannot carry is filtered out instead of aliasing", () => {
  const out = resampleInBlocks(tone(12_000, 48_000, 0.5), 48_000, 16_000);
  assert.ok(rms(out.subarray(100)) < 0.05, String(rms(out)));
});

test("low-pass taps sum to one; int16 conversion clips", () => {
  assert.ok(Math.abs(lowPass(31, 0.15).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.deepEqual([...toInt16(Float32Array.from([0, 1, -1, 2, -2, 0.5]))], [0, 32767, -32768, 32767, -32768, 16384]);
});
