// A light, client-side voice activity detector: frame energy with a hangover.
//
// It only decides when a turn starts and ends; real sentence segmentation happens on the node (Silero VAD),
// which also trims the silence we send. Onset needs a few loud frames in a row (a click is not speech); the
// end needs `silenceMs` of quiet plus a short tail, so natural pauses between words do not cut a sentence.
// The threshold adapts to a slowly tracked noise floor so a noisy room does not count as speech.

export interface VadOptions {
  /** Frame length in milliseconds (the capture worklet sends 20 ms frames). */
  frameMs: number;
  /** Never speech below this level (dBFS), whatever the noise floor. */
  minSpeechDb: number;
  /** Speech must be this many dB above the tracked noise floor. */
  marginDb: number;
  /** Consecutive speech frames that start a turn. */
  onsetFrames: number;
  /** Quiet after speech that ends a turn, plus the tail kept after it (the original client's 1000 + 250). */
  silenceMs: number;
  tailMs: number;
  /** A turn is cut here even if the speaker never pauses. */
  maxTurnMs: number;
}

export const DEFAULT_VAD: VadOptions = {
  frameMs: 20,
  minSpeechDb: -45,
  marginDb: 12,
  onsetFrames: 3,
  silenceMs: 1000,
  tailMs: 250,
  maxTurnMs: 30_000,
};

export type VadDecision = "speech_start" | "speech_end" | null;

/** Level of a frame of float samples in dBFS (-Infinity for digital silence). */
export function levelDb(samples: Float32Array | Int16Array): number {
  if (samples.length === 0) return -Infinity;
  const scale = samples instanceof Int16Array ? 1 / 32768 : 1;
  let sum = 0;
  for (const s of samples) sum += (s * scale) ** 2;
  return 10 * Math.log10(sum / samples.length);
}

export class EnergyVad {
  readonly options: VadOptions;
  #noiseDb = -60;
  #loudRun = 0;
  #quietMs = 0;
  #turnMs = 0;
  #inSpeech = false;

  constructor(options: Partial<VadOptions> = {}) {
    this.options = { ...DEFAULT_VAD, ...options };
  }

  get inSpeech(): boolean {
    return this.#inSpeech;
  }

  /** Feeds one frame's level (dBFS); says when a turn starts or ends. */
  push(db: number): VadDecision {
    const o = this.options;
    const loud = db > Math.max(o.minSpeechDb, this.#noiseDb + o.marginDb);
    this.#trackNoise(db, loud);
    if (!this.#inSpeech) {
      this.#loudRun = loud ? this.#loudRun + 1 : 0;
      if (this.#loudRun < o.onsetFrames) return null;
      this.#inSpeech = true;
      this.#quietMs = 0;
      this.#turnMs = this.#loudRun * o.frameMs;
      return "speech_start";
    }
    this.#turnMs += o.frameMs;
    this.#quietMs = loud ? 0 : this.#quietMs + o.frameMs; // the hangover: any loud frame restarts it
    if (this.#quietMs >= o.silenceMs + o.tailMs || this.#turnMs >= o.maxTurnMs) {
      this.reset();
      return "speech_end";
    }
    return null;
  }

  /** Starts over (a manual start/end, or the microphone was reopened). The noise floor is kept. */
  reset(): void {
    this.#inSpeech = false;
    this.#loudRun = 0;
    this.#quietMs = 0;
    this.#turnMs = 0;
  }

  /** Force the "in speech" state (the user pressed "speak now"), so the hangover can end the turn. */
  startManually(): void {
    this.reset();
    this.#inSpeech = true;
  }

  #trackNoise(db: number, loud: boolean): void {
    if (!Number.isFinite(db) || loud) return;
    // Falls fast (a quieter room is believed at once), rises slowly (speech must not raise the floor).
    const rate = db < this.#noiseDb ? 0.3 : 0.02;
    this.#noiseDb += (db - this.#noiseDb) * rate;
  }
}
