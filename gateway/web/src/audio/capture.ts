// The microphone: getUserMedia → MediaStreamAudioSourceNode → the lingua-capture worklet, which hands back
// 16 kHz PCM16 frames. `close()` stops the tracks, which releases the device (the browser's recording
// indicator goes off) — what half duplex means by "mic released".
import type { CaptureFrame } from "./worklet.js";

export type FrameHandler = (frame: CaptureFrame) => void;

export class Microphone {
  #stream: MediaStream | null = null;
  #source: MediaStreamAudioSourceNode | null = null;
  #node: AudioWorkletNode | null = null;

  constructor(
    readonly context: AudioContext,
    readonly onFrame: FrameHandler,
  ) {}

  get isOpen(): boolean {
    return this.#stream !== null;
  }

  async open(): Promise<void> {
    if (this.#stream) return;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    // Wired to the destination so that every browser keeps rendering it (a sink-only node is a corner of the
    // spec implementations have differed on); the worklet never writes its output, so nothing is heard.
    const node = new AudioWorkletNode(this.context, "lingua-capture", { numberOfInputs: 1, numberOfOutputs: 1 });
    node.port.onmessage = (e: MessageEvent<CaptureFrame>) => this.onFrame(e.data);
    const source = this.context.createMediaStreamSource(stream);
    source.connect(node).connect(this.context.destination);
    this.#stream = stream;
    this.#source = source;
    this.#node = node;
  }

  close(): void {
    this.#stream?.getTracks().forEach((t) => t.stop());
    this.#source?.disconnect();
    if (this.#node) {
      this.#node.disconnect();
      this.#node.port.onmessage = null;
      this.#node.port.close();
    }
    this.#stream = null;
    this.#source = null;
    this.#node = null;
  }
}
