// TTS playback, strictly one clip after another in the order they were queued (results already arrive in
// utterance order). Every clip goes through the lingua-meter worklet on its way to the speakers; its
// counts say how much audible sound was really rendered (shown in the page, read by the browser test).
import type { Audio } from "@lingua/sdk/v1/common_pb";
import { AudioEncoding } from "@lingua/sdk/v1/common_pb";
import { pcm16ToChannels } from "./pcm.js";
import type { MeterReport } from "./worklet.js";

export interface PlaybackStats {
  clips: number;
  renderedSamples: number;
  loudSamples: number;
  peak: number;
}

export class Player {
  readonly stats: PlaybackStats = { clips: 0, renderedSamples: 0, loudSamples: 0, peak: 0 };
  readonly #meter: AudioWorkletNode;
  #queue: Promise<void> = Promise.resolve();
  #current: AudioBufferSourceNode | null = null;
  #generation = 0;

  constructor(readonly context: AudioContext) {
    this.#meter = new AudioWorkletNode(context, "lingua-meter", { numberOfInputs: 1, numberOfOutputs: 1 });
    this.#meter.port.onmessage = (e: MessageEvent<MeterReport>) => {
      this.stats.renderedSamples += e.data.rendered;
      this.stats.loudSamples += e.data.loud;
      this.stats.peak = Math.max(this.stats.peak, e.data.peak);
    };
    this.#meter.connect(context.destination);
  }

  /** Queues a clip; resolves when it has played (or was skipped by `stop()`). */
  play(audio: Audio): Promise<void> {
    const generation = this.#generation;
    const turn = this.#queue.then(async () => {
      if (generation !== this.#generation) return;
      const buffer = await this.#decode(audio);
      if (generation !== this.#generation || buffer === null) return;
      await this.#playBuffer(buffer);
      this.stats.clips++;
    });
    this.#queue = turn.catch(() => undefined); // one bad clip must not block the ones after it
    return turn;
  }

  /** Drops everything queued and silences what is playing. */
  stop(): void {
    this.#generation++;
    this.#current?.stop();
  }

  /** The clip as an AudioBuffer; null when there is nothing to play. */
  async #decode(audio: Audio): Promise<AudioBuffer | null> {
    if (audio.data.byteLength === 0) return null;
    if (audio.encoding === AudioEncoding.PCM16) {
      const channels = pcm16ToChannels(audio.data, Math.max(1, audio.channels));
      const frames = channels[0]?.length ?? 0;
      if (frames === 0) return null;
      const buffer = this.context.createBuffer(channels.length, frames, audio.sampleRateHz);
      channels.forEach((samples, c) => buffer.copyToChannel(samples, c));
      return buffer;
    }
    // WAV, MP3, Ogg/WebM Opus, FLAC: the browser's decoder (it wants its own copy of the bytes).
    return this.context.decodeAudioData(audio.data.slice().buffer);
  }

  #playBuffer(buffer: AudioBuffer): Promise<void> {
    return new Promise((resolve) => {
      const source = this.context.createBufferSource();
      source.buffer = buffer;
      source.connect(this.#meter);
      source.onended = () => {
        source.disconnect();
        if (this.#current === source) this.#current = null;
        resolve();
      };
      this.#current = source;
      source.start();
    });
  }
}
