// Streaming sample-rate conversion for the capture worklet (the AudioContext runs at 44.1/48 kHz, the mesh
// wants 16 kHz). A short windowed-sinc low-pass removes what 16 kHz cannot carry (otherwise it folds back
// as aliasing noise that hurts ASR), then linear interpolation picks the output instants. Pure, so it is
// unit-tested outside the browser; state carries across blocks so block edges leave no clicks.

export class StreamingResampler {
  readonly ratio: number;
  readonly #taps: Float32Array;
  readonly #history: Float32Array; // the last taps.length filtered-input samples
  #prev = 0; // the last filtered sample of the previous block
  #pos = 0; // the next output instant, in input samples relative to the current block

  constructor(inputRate: number, outputRate: number, taps = 31) {
    if (inputRate <= 0 || outputRate <= 0) throw new RangeError("sample rates must be positive");
    this.ratio = inputRate / outputRate;
    this.#taps = inputRate > outputRate ? lowPass(taps, (0.45 * outputRate) / inputRate) : Float32Array.of(1);
    this.#history = new Float32Array(this.#taps.length);
  }

  /** Converts one block; returns the output samples it completes (the rest waits for the next block). */
  push(input: Float32Array): Float32Array {
    const f = this.#filter(input);
    const out: number[] = [];
    // Output instant t is in input samples of this block; -1 is the previous block's last sample, so an
    // instant that falls between two blocks interpolates across the boundary.
    while (this.#pos < f.length - 1) {
      const i = Math.floor(this.#pos);
      const frac = this.#pos - i;
      const a = i < 0 ? this.#prev : f[i]!;
      const b = f[i + 1]!;
      out.push(a + (b - a) * frac);
      this.#pos += this.ratio;
    }
    if (f.length > 0) {
      this.#pos -= f.length; // now in [-1, ratio - 1): relative to the next block
      this.#prev = f[f.length - 1]!;
    }
    return Float32Array.from(out);
  }

  #filter(input: Float32Array): Float32Array {
    const taps = this.#taps;
    if (taps.length === 1) return input;
    const h = this.#history;
    const out = new Float32Array(input.length);
    for (let n = 0; n < input.length; n++) {
      h.copyWithin(0, 1);
      h[h.length - 1] = input[n]!;
      let acc = 0;
      for (let k = 0; k < taps.length; k++) acc += taps[k]! * h[h.length - 1 - k]!;
      out[n] = acc;
    }
    return out;
  }
}

/** A Hann-windowed sinc low-pass with `cutoff` as a fraction of the sampling rate, unity gain at DC. */
export function lowPass(taps: number, cutoff: number): Float32Array {
  const h = new Float32Array(taps);
  const mid = (taps - 1) / 2;
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const x = n - mid;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (taps - 1));
    h[n] = sinc * hann;
    sum += h[n]!;
  }
  return h.map((v) => v / sum);
}

/** Float samples in [-1, 1] to signed 16-bit, clipped. */
export function toInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    out[i] = Math.round(s < 0 ? s * 32768 : s * 32767);
  }
  return out;
}
