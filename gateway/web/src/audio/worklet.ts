// Audio worklet module (dist/worklet.js): runs on the audio rendering thread.
//
// lingua-capture: the microphone, mixed to mono and resampled from the context rate to 16 kHz PCM16, posted
//   to the page in 20 ms frames (the VAD's frame) together with their level, so the page never touches
//   raw samples at 48 kHz and never blocks the audio thread.
// lingua-meter: a pass-through in the playback path that counts what was actually rendered, so the page
//   (and the browser test) can tell that speech was played, not merely decoded.
import { levelDb } from "../vad.js";
import { StreamingResampler, toInt16 } from "./resample.js";

export interface CaptureFrame {
  pcm: Int16Array; // 16 kHz mono
  db: number;
}

export interface MeterReport {
  rendered: number; // samples (per channel) that went through
  loud: number; // of them, samples above the silence threshold
  peak: number;
}

const TARGET_RATE = 16_000;
const FRAME = TARGET_RATE / 50; // 20 ms
const SILENT = 1e-3; // about -60 dBFS

class CaptureProcessor extends AudioWorkletProcessor {
  readonly #resampler = new StreamingResampler(sampleRate, TARGET_RATE);
  #frame = new Float32Array(FRAME);
  #filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // not connected yet, or the track ended
    for (const sample of this.#resampler.push(mono(channels))) {
      this.#frame[this.#filled++] = sample;
      if (this.#filled === FRAME) this.#flush();
    }
    return true;
  }

  #flush(): void {
    const pcm = toInt16(this.#frame);
    const frame: CaptureFrame = { pcm, db: levelDb(this.#frame) };
    this.port.postMessage(frame, [pcm.buffer]);
    this.#frame = new Float32Array(FRAME);
    this.#filled = 0;
  }
}

class MeterProcessor extends AudioWorkletProcessor {
  #report: MeterReport = { rendered: 0, loud: 0, peak: 0 };
  #blocks = 0;

  process(inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const input = inputs[0] ?? [];
    const output = outputs[0] ?? [];
    for (let c = 0; c < output.length; c++) output[c]!.set(input[c] ?? input[0] ?? new Float32Array(0));
    const first = input[0];
    if (first) {
      this.#report.rendered += first.length;
      for (const s of first) {
        const a = Math.abs(s);
        if (a > SILENT) this.#report.loud++;
        if (a > this.#report.peak) this.#report.peak = a;
      }
    }
    // Report about every 100 ms (37.5 blocks of 128 at 48 kHz), and only when something changed.
    if (++this.#blocks >= 32 && this.#report.rendered > 0) {
      this.port.postMessage(this.#report);
      this.#report = { rendered: 0, loud: 0, peak: 0 };
      this.#blocks = 0;
    }
    return true;
  }
}

function mono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const out = new Float32Array(channels[0]!.length);
  for (const ch of channels) for (let i = 0; i < out.length; i++) out[i] = out[i]! + ch[i]! / channels.length;
  return out;
}

registerProcessor("lingua-capture", CaptureProcessor);
registerProcessor("lingua-meter", MeterProcessor);
