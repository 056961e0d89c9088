// Turns microphone frames into what is sent: a short pre-roll kept while waiting for speech (the VAD needs
// a few frames to be sure, and the first syllable must not be lost), then ~100 ms chunks while recording.
// Pure bookkeeping, no I/O: main.ts sends what it returns.
import { concatInt16 } from "./audio/pcm.js";

export class Recorder {
  readonly #preRoll: Int16Array[] = [];
  #pending: Int16Array[] = [];
  #recording = false;
  /** Samples handed out for sending during the current turn. */
  sentSamples = 0;

  constructor(
    readonly preRollFrames = 15, // 300 ms of 20 ms frames
    readonly framesPerChunk = 5, // 100 ms
  ) {}

  get recording(): boolean {
    return this.#recording;
  }

  /** Starts a turn with the pre-roll as its beginning. */
  start(): void {
    this.#pending = this.#preRoll.splice(0);
    this.#recording = true;
    this.sentSamples = 0;
  }

  /** Adds a frame; returns a chunk to send when one is full (only while recording). */
  push(frame: Int16Array): Int16Array | null {
    if (!this.#recording) {
      this.#preRoll.push(frame);
      if (this.#preRoll.length > this.preRollFrames) this.#preRoll.shift();
      return null;
    }
    this.#pending.push(frame);
    return this.#pending.length >= this.framesPerChunk ? this.#take() : null;
  }

  /** Ends the turn; returns the rest of its audio (possibly empty), to send as the final chunk. */
  finish(): Int16Array {
    this.#recording = false;
    this.#preRoll.length = 0;
    return this.#take();
  }

  #take(): Int16Array {
    const chunk = concatInt16(this.#pending);
    this.#pending = [];
    this.sentSamples += chunk.length;
    return chunk;
  }
}
