// The web client: wires the turn machine, microphone, VAD, recorder, session and player together.
//
// One turn: the open microphone feeds the VAD (and a short pre-roll); speech onset (or "Speak now") starts
// recording and audio goes out in ~100 ms chunks; the VAD's hangover (or "End sentence") sends the final
// chunk and releases the microphone; the live transcript arrives as ASR partials, then the result with its
// translation and speech, which is played; then the microphone opens again for the next sentence.
//
// The language pickers list what the mesh serves (ListLanguages, fetched once an API key is entered), with
// each target's tier, "auto-detect" when a translator can tell languages apart, and a two-way toggle for the
// pairs that one translator serves in both directions.
//
// On a phone it is an installable app (manifest.webmanifest, and sw.js caches the app shell so that it opens
// offline and says so): the speak button also works as push-to-talk (hold while speaking, let go to send), the
// screen stays on while a session runs (Screen Wake Lock), audio resumes when the page comes back from the
// background, and a network change resumes the session's stream (LinguaSession.networkChanged).
import { type Connection, type LinkStatus, LinguaSession, listLanguages, type SessionParams } from "./api.js";
import { Microphone } from "./audio/capture.js";
import { Player } from "./audio/playback.js";
import type { CaptureFrame } from "./audio/worklet.js";
import { type ClientError, clientSideError, fromLinguaError, isClientError } from "./errors.js";
import { AUTO, languageName, tierLabel } from "./languages.js";
import { Recorder } from "./recorder.js";
import { gatewayBaseUrl, loadSettings, saveSettings } from "./settings.js";
import { micOpenIn, TurnMachine, type TurnState } from "./state.js";
import { View } from "./ui.js";
import { EnergyVad } from "./vad.js";
import { ScreenWakeLock } from "./wakelock.js";
import type { AsrPartial, Error as LinguaError, TranslationResult } from "@lingua/sdk/v1/common_pb";
import { SessionEvent_Kind, type ServerMessage } from "@lingua/sdk/v1/session_pb";

// How long a sent sentence may go unanswered before the page gives up on it (the server normally answers
// with a result or a typed error well before: job timeouts and the result grace window are shorter).
const RESULT_WAIT_MS = 90_000;
// Holding the speak button at least this long is push-to-talk: letting go ends the sentence. A shorter tap starts
// a hands-free sentence that the pause after it (or "End sentence") ends.
const HOLD_MS = 400;
// The browser's network events come in bursts ("change" then "online"): the session hears the last of a burst.
const NETWORK_SETTLE_MS = 200;

interface AudioParts {
  context: AudioContext;
  mic: Microphone;
  player: Player;
}

/** What the page did, for people debugging it and for the browser test (window.linguaDebug). */
export interface DebugInfo {
  transitions: string[];
  framesCaptured: number;
  /** Loudest microphone frame so far (dBFS). */
  peakDb: number;
  /** Frames already on their way when the mic closed: dropped, never sent. */
  framesDropped: number;
  micOpened: number;
  micClosed: number;
  /** "open@ready", "close@waiting", …: when the mic was opened and released, by turn state (half duplex). */
  micEvents: string[];
  chunksSent: number;
  samplesSent: number;
  partials: string[];
  results: {
    index: string; asr: string; translated: string; ttsBytes: number; srcLang: string; tgtLang: string;
    detectedLang: string; mtEngine: string; tier: string; pivotLang: string;
  }[];
  /** The mesh's languages as last fetched: how many times, the pairs offered, or why it failed. */
  languages: { loads: number; pairs: string[]; twoWay: string[]; detectable: string[]; error: string };
  /** What the open session was asked for (null: none open). */
  session: { srcLang: string; tgtLang: string; twoWay: boolean } | null;
  errors: string[];
  playback: Player["stats"] | null;
  state: TurnState;
  /** Utterance indices the server gave the sentences sent (the final push's answer), in order. */
  sealed: string[];
  /** Results that arrived again for an utterance already shown (ignored; a resumed stream must not cause any). */
  duplicates: number;
  /** Screen Wake Lock: its current state and every change ("held", "released", "off", …). */
  wakeLock: string;
  wakeLockLog: string[];
  /** The browser's network reports ("offline", "online", "change") as the page heard them. */
  network: string[];
  /** AudioContext resumptions: "visible:suspended>running", … */
  audioResumes: string[];
  /** Push-to-talk holds: "hold 1840ms" (ended the sentence) or "tap 90ms" (hands-free). */
  ptt: string[];
  serviceWorker: string;
}

class App {
  readonly view = new View();
  readonly machine = new TurnMachine();
  readonly vad = new EnergyVad();
  readonly recorder = new Recorder();
  readonly debug: DebugInfo = {
    transitions: [], framesCaptured: 0, peakDb: -Infinity, framesDropped: 0, micOpened: 0, micClosed: 0, micEvents: [], chunksSent: 0,
    samplesSent: 0, partials: [], results: [], errors: [], playback: null, state: "idle",
    languages: { loads: 0, pairs: [], twoWay: [], detectable: [], error: "" }, session: null,
    sealed: [], duplicates: 0, wakeLock: "off", wakeLockLog: [], network: [], audioResumes: [], ptt: [],
    serviceWorker: "",
  };
  readonly wakeLock = new ScreenWakeLock((state, detail) => {
    this.debug.wakeLock = state;
    this.debug.wakeLockLog.push(detail ? `${state}: ${detail}` : state);
  });
  #audio: AudioParts | null = null;
  #session: LinguaSession | null = null;
  #busy = false;
  #expected: bigint | undefined; // the utterance index of the sentence being awaited
  #waitTimer: ReturnType<typeof setTimeout> | undefined;
  #micSync: Promise<void> = Promise.resolve();
  #params: SessionParams | null = null;
  #languagesFor = ""; // the gateway and key the pickers were filled for (or are being filled for)
  #languagesLoad: Promise<void> = Promise.resolve();
  #languagesTimer: ReturnType<typeof setTimeout> | undefined;
  #held: { pointer: number; since: number } | null = null; // the speak button held down (push-to-talk)
  #shown = new Set<string>(); // "session:index" of the results shown, so that none is shown twice
  #networkTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    const saved = loadSettings(localStorage);
    this.view.showSettings(saved);
    this.view.onConnectionInput(() => {
      clearTimeout(this.#languagesTimer);
      this.#languagesTimer = setTimeout(() => void this.#loadLanguages(), 400);
    });
    if (saved.apiKey) void this.#loadLanguages();
    this.view.connect.addEventListener("click", () => void (this.#session ? this.disconnect() : this.connect()));
    this.view.speak.addEventListener("click", () => this.#startTurn(true));
    this.view.speak.addEventListener("pointerdown", (e) => this.#pressSpeak(e));
    this.view.speak.addEventListener("pointerup", (e) => this.#releaseSpeak(e));
    this.view.speak.addEventListener("pointercancel", (e) => this.#releaseSpeak(e));
    this.view.speak.addEventListener("contextmenu", (e) => e.preventDefault()); // a long press is push-to-talk
    this.view.endSentence.addEventListener("click", () => this.#endTurn());
    window.addEventListener("online", () => this.#onNetwork(true, "online"));
    window.addEventListener("offline", () => this.#onNetwork(false, "offline"));
    // Chrome on Android also says when the connection type changes (Wi-Fi to cellular) without going offline.
    const connection = (navigator as Navigator & { connection?: EventTarget }).connection;
    connection?.addEventListener("change", () => {
      if (navigator.onLine) this.#onNetwork(true, "change");
    });
    this.view.showOffline(!navigator.onLine);
    // A phone suspends a page's audio in the background; it is resumed when the page is shown again.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") void this.#resumeAudio("visible");
    });
    window.addEventListener("pageshow", () => void this.#resumeAudio("pageshow"));
    this.machine.onChange((state, previous, event) => {
      this.debug.transitions.push(`${previous}>${state}`);
      this.debug.state = state;
      if (event === "speech_ended" || event === "turn_done" || event === "disconnected") this.#clearWait();
      this.#render();
      this.#syncMic();
    });
    this.#render();
  }

  async connect(): Promise<void> {
    const settings = this.view.readSettings();
    const pairing = this.view.pairingCode();
    if (!settings.apiKey) return this.view.showError({ text: "Enter the API key you were given, then connect." });
    if ("problem" in pairing) return this.view.showError({ text: pairing.problem });
    saveSettings(localStorage, settings);
    this.view.showError(null);
    this.view.showConnection("warn", "connecting…");
    this.#busy = true;
    this.#render();
    try {
      // Audio first, inside the click: browsers only start an AudioContext from a user gesture.
      const audio = this.#audio ?? (await this.#startAudio());
      await audio.context.resume();
      await this.#loadLanguages(); // at once if the pickers already list this key's languages
      const chosen = this.view.readSettings(); // the pickers may have just been filled
      const params: SessionParams = {
        srcLang: chosen.srcLang, tgtLang: chosen.tgtLang, twoWay: chosen.twoWay, features: settings.features,
        pairingCode: pairing.code,
      };
      saveSettings(localStorage, chosen);
      const conn = { baseUrl: gatewayBaseUrl(settings, location), apiKey: settings.apiKey };
      this.#params = params;
      this.debug.session = { srcLang: params.srcLang, tgtLang: params.tgtLang, twoWay: params.twoWay };
      this.#session = await LinguaSession.open(conn, params, {
        message: (msg) => this.#onMessage(msg),
        status: (status) => this.#onStatus(status),
        fatal: (error) => this.#onFatal(error),
      });
      if (pairing.code) this.view.clearPairingCode();
      this.#shown.clear();
      this.machine.fire("connected");
      void this.wakeLock.acquire();
    } catch (err) {
      this.#fail(isClientError(err) ? err : { text: `Could not start: ${String(err)}` });
      this.view.showConnection("error", "not connected");
      this.debug.session = null;
    } finally {
      this.#busy = false;
      this.#render();
    }
  }

  async disconnect(): Promise<void> {
    const session = this.#session;
    this.#session = null;
    this.debug.session = null;
    this.machine.fire("disconnected");
    this.wakeLock.release();
    this.#audio?.player.stop();
    this.recorder.finish();
    await session?.close();
  }

  /** Fills the pickers with what the mesh serves for the key and gateway typed (once per key and gateway). */
  #loadLanguages(): Promise<void> {
    const settings = this.view.readSettings();
    if (!settings.apiKey || this.#session) return this.#languagesLoad;
    const conn: Connection = { baseUrl: gatewayBaseUrl(settings, location), apiKey: settings.apiKey };
    const wanted = `${conn.baseUrl} ${conn.apiKey}`;
    if (wanted === this.#languagesFor) return this.#languagesLoad; // loaded, or on its way
    this.#languagesFor = wanted;
    const stale = (): boolean => this.#languagesFor !== wanted || this.#session !== null;
    this.#languagesLoad = listLanguages(conn).then(
      (menu) => {
        if (stale()) return;
        this.debug.languages = {
          loads: this.debug.languages.loads + 1,
          pairs: menu.offers.map((o) => `${o.src}>${o.tgt}:${tierLabel(o.tier)}`),
          twoWay: menu.offers.filter((o) => o.twoWay).map((o) => `${o.src}>${o.tgt}`),
          detectable: menu.detectable, error: "",
        };
        if (menu.offers.length > 0) this.view.setLanguages(menu);
        else this.view.setLanguages(null, "No translator is online right now, so these are the usual languages.");
      },
      (err: unknown) => {
        if (stale()) return;
        this.#languagesFor = ""; // asked again on the next key change or connect
        const error = isClientError(err) ? err : clientSideError("NETWORK", String(err));
        this.debug.languages = { ...this.debug.languages, error: error.code };
        this.view.setLanguages(null, `Could not list the translators' languages — ${error.text}`);
      },
    );
    return this.#languagesLoad;
  }

  async #startAudio(): Promise<AudioParts> {
    const context = new AudioContext({ latencyHint: "interactive" });
    await context.audioWorklet.addModule(new URL("./worklet.js", import.meta.url));
    const mic = new Microphone(context, (frame) => this.#onFrame(frame));
    const player = new Player(context);
    this.debug.playback = player.stats;
    this.#audio = { context, mic, player };
    return this.#audio;
  }

  // -- the microphone side of a turn ----------------------------------------------------------------------

  #onFrame(frame: CaptureFrame): void {
    this.debug.framesCaptured++;
    this.debug.peakDb = Math.max(this.debug.peakDb, frame.db);
    const state = this.machine.state;
    if (!micOpenIn(state)) {
      this.debug.framesDropped++;
      return;
    }
    this.view.showLevel(frame.db);
    const decision = this.vad.push(frame.db);
    const chunk = this.recorder.push(frame.pcm);
    if (state === "ready" && decision === "speech_start") this.#startTurn(false);
    if (state !== "recording") return;
    if (chunk) this.#send(chunk, false);
    if (decision === "speech_end" && !this.#held) this.#endTurn(); // push-to-talk: letting go ends it
  }

  #startTurn(manual: boolean): void {
    if (!this.machine.fire("speech_started")) return;
    if (manual) this.vad.startManually(); // the hangover still ends the turn after the speaker stops
    this.recorder.start();
    this.view.clearLive();
    this.view.showError(null);
  }

  #endTurn(): void {
    if (!this.machine.fire("speech_ended")) return; // mic released by the state change
    this.vad.reset();
    const final = this.#send(this.recorder.finish(), true);
    this.#expected = undefined;
    this.#waitTimer = setTimeout(() => {
      this.#fail(clientSideError("TIMEOUT", `no result within ${RESULT_WAIT_MS / 1000} s`));
      this.machine.fire("turn_done");
    }, RESULT_WAIT_MS);
    void final.then((index) => {
      if (index !== undefined) {
        this.#expected = index;
        this.debug.sealed.push(String(index));
      } else if (this.machine.state === "waiting") {
        this.#fail({ text: "Nothing was recorded. Speak a little louder or closer to the microphone." });
        this.machine.fire("turn_done");
      }
    });
  }

  /** Sends a chunk; a failed push ends the turn with the reason (the server dropped that sentence). */
  #send(pcm: Int16Array, isFinal: boolean): Promise<bigint | undefined> {
    const session = this.#session;
    if (!session) return Promise.resolve(undefined);
    this.debug.chunksSent++;
    this.debug.samplesSent += pcm.length;
    return session.pushAudio(pcm, isFinal).catch((err: ClientError) => {
      this.#abandonTurn(err);
      return undefined;
    });
  }

  // -- push-to-talk --------------------------------------------------------------------------------------------

  #pressSpeak(e: PointerEvent): void {
    if (e.button !== 0 || this.#held || this.machine.state !== "ready") return;
    this.#held = { pointer: e.pointerId, since: performance.now() };
    this.view.speak.setPointerCapture(e.pointerId);
    this.view.showHeld(true); // the button stays enabled while held, so that letting go is heard
    this.#startTurn(true);
  }

  #releaseSpeak(e: PointerEvent): void {
    const held = this.#held;
    if (!held || held.pointer !== e.pointerId) return;
    this.#held = null;
    this.view.showHeld(false);
    const ms = Math.round(performance.now() - held.since);
    const hold = ms >= HOLD_MS && e.type === "pointerup";
    this.debug.ptt.push(`${hold ? "hold" : "tap"} ${ms}ms`);
    if (hold) this.#endTurn();
    this.#render();
  }

  // -- the phone around the page -----------------------------------------------------------------------------

  #onNetwork(online: boolean, how: string): void {
    this.debug.network.push(how);
    this.view.showOffline(!online);
    clearTimeout(this.#networkTimer);
    this.#networkTimer = setTimeout(() => this.#session?.networkChanged(navigator.onLine), NETWORK_SETTLE_MS);
  }

  async #resumeAudio(why: string): Promise<void> {
    const context = this.#audio?.context;
    if (!context || !this.#session || context.state === "running" || context.state === "closed") return;
    const before = context.state;
    try {
      await context.resume();
    } catch (err) {
      this.debug.errors.push(`audio resume: ${String(err)}`);
    }
    this.debug.audioResumes.push(`${why}:${before}>${context.state}`);
  }

  #abandonTurn(error: ClientError): void {
    this.#fail(error);
    if (this.machine.state === "recording") {
      this.recorder.finish();
      this.vad.reset();
      this.machine.fire("speech_ended");
    }
    this.machine.fire("turn_done");
  }

  /** Half duplex: open the microphone in ready/recording, release it otherwise. Serialized, since both
   * directions are async and states can change while a getUserMedia() is pending. */
  #syncMic(): void {
    this.#micSync = this.#micSync.then(async () => {
      const mic = this.#audio?.mic;
      if (!mic) return;
      const want = micOpenIn(this.machine.state);
      if (want && !mic.isOpen) {
        try {
          await mic.open();
          this.debug.micOpened++;
          this.debug.micEvents.push(`open@${this.machine.state}`);
          this.vad.reset();
        } catch (err) {
          this.#fail({ text: "The microphone is not available. Allow this page to use it, then connect again.", detail: String(err) });
          await this.disconnect();
          return;
        }
        if (!micOpenIn(this.machine.state)) this.#syncMic(); // state moved on while the mic was opening
      } else if (!want && mic.isOpen) {
        mic.close();
        this.debug.micClosed++;
        this.debug.micEvents.push(`close@${this.machine.state}`);
      }
    });
  }

  // -- what the server says -------------------------------------------------------------------------------

  #onMessage(msg: ServerMessage): void {
    switch (msg.kind.case) {
      case "asrPartial":
        return this.#onPartial(msg.kind.value);
      case "result":
        return this.#onResult(msg.kind.value);
      case "error":
        return this.#onServerError(msg.kind.value);
      case "event": {
        const e = msg.kind.value;
        if (e.kind === SessionEvent_Kind.PAIRED_NODE_UNAVAILABLE || e.kind === SessionEvent_Kind.FALLBACK_TO_POOL) {
          this.view.showConnection("warn", e.message || "paired translator unavailable");
        } else if (e.kind === SessionEvent_Kind.PAIRED_NODE_AVAILABLE) {
          this.view.showConnection("ok", "connected (paired)");
        }
        return;
      }
      default:
        return; // heartbeats, TTS chunks (the result carries the whole speech), opened/closed echoes
    }
  }

  #onPartial(p: AsrPartial): void {
    this.debug.partials.push(p.text);
    if (this.machine.state === "waiting" || this.machine.state === "recording") this.view.showSubtitle(p.text, p.isFinal);
  }

  #onResult(r: TranslationResult): void {
    const tts = r.ttsAudio;
    const tier = tierLabel(r.tier);
    this.debug.results.push({
      index: String(r.utteranceIndex), asr: r.textAsr, translated: r.textTranslated, ttsBytes: tts?.data.length ?? 0,
      srcLang: r.srcLang, tgtLang: r.tgtLang, detectedLang: r.detectedLang, mtEngine: r.mtEngine, tier,
      pivotLang: r.pivotLang,
    });
    const key = `${r.sessionId}:${r.utteranceIndex}`;
    if (this.#shown.has(key)) {
      this.debug.duplicates++;
      return;
    }
    this.#shown.add(key);
    // How it was made: the language heard (auto-detect, two-way), the engine and its tier.
    const how = [
      r.detectedLang ? `heard ${languageName(r.detectedLang)}` : "",
      r.mtEngine ? `${r.mtEngine}${tier ? ` (${tier})` : ""}` : tier,
      r.pivotLang ? `via ${languageName(r.pivotLang)}` : "",
    ].filter(Boolean).join(" · ");
    const ms = Math.round(r.timings?.totalMs ?? 0);
    this.view.addTurn({
      index: r.utteranceIndex, asr: r.textAsr, translated: r.textTranslated,
      details: [`#${r.utteranceIndex}`, `${r.srcLang || "?"}→${r.tgtLang || "?"}`, how, `${ms} ms`, r.nodeId]
        .filter(Boolean).join(" · "),
    });
    if (this.machine.state !== "waiting") return; // a late answer to a sentence given up on: history only
    if (this.#expected !== undefined && r.utteranceIndex !== this.#expected) return;
    this.view.showSubtitle(r.textAsr, true);
    this.view.showTranslation(r.textTranslated);
    this.view.showResultInfo([`${r.srcLang || "?"} → ${r.tgtLang || "?"}`, how].filter(Boolean).join(" · "));
    const player = this.#audio?.player;
    if (!tts || tts.data.length === 0 || !player) {
      this.machine.fire("turn_done");
      return;
    }
    this.machine.fire("result_audio");
    player
      .play(tts)
      .catch((err: unknown) => this.#fail({ text: "The translation's speech could not be played.", detail: String(err) }))
      .finally(() => this.machine.fire("turn_done"));
  }

  #onServerError(e: LinguaError): void {
    const error = fromLinguaError(e);
    const ours = e.utteranceIndex === undefined || this.#expected === undefined || e.utteranceIndex === this.#expected;
    if (this.machine.state === "recording" || (this.machine.state === "waiting" && ours)) this.#abandonTurn(error);
    else this.#fail(error);
  }

  #onStatus(status: LinkStatus): void {
    if (status.kind === "connected") {
      this.view.showConnection("ok", status.renewed ? "connected (new session)" : status.nodeId ? "connected (paired)" : "connected");
      this.view.showSession(status.sessionId, status.nodeId, this.#sessionText());
      if (status.renewed && this.machine.state === "waiting") {
        this.#abandonTurn(clientSideError("NETWORK", "the session was renewed while a sentence was in flight"));
      }
    } else if (status.kind === "reconnecting") {
      this.view.showConnection("warn", `reconnecting in ${Math.ceil(status.inMs / 1000)} s — ${status.error.code}`);
    } else {
      this.view.showConnection("idle", "not connected");
      this.view.showSession("", "");
    }
  }

  /** "two-way en ⇄ es", "auto-detect → fr", "en → fr". */
  #sessionText(): string {
    const p = this.#params;
    if (!p) return "";
    if (p.twoWay) return `two-way ${p.srcLang} ⇄ ${p.tgtLang}`;
    return `${p.srcLang === AUTO ? "auto-detect" : p.srcLang} → ${p.tgtLang}`;
  }

  #onFatal(error: ClientError): void {
    this.#fail(error);
    this.#session = null;
    this.debug.session = null;
    this.machine.fire("disconnected");
    this.wakeLock.release();
    this.#audio?.player.stop();
    this.view.showConnection("error", `disconnected — ${error.code}`);
  }

  #fail(error: ClientError | { text: string; detail?: string }): void {
    this.debug.errors.push("code" in error ? `${error.code}: ${error.text}` : error.text);
    this.view.showError(error);
  }

  #clearWait(): void {
    clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
  }

  #render(): void {
    this.view.showTurn(this.machine.state, this.#busy);
  }
}

declare global {
  interface Window {
    linguaDebug?: DebugInfo;
  }
}

const app = new App();
window.linguaDebug = app.debug;

// The service worker that makes the page an installable app that opens offline (secure contexts only: https, or
// localhost).
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").then(
    () => {
      app.debug.serviceWorker = "registered";
    },
    (err: unknown) => {
      app.debug.serviceWorker = `failed: ${String(err)}`;
    },
  );
} else {
  app.debug.serviceWorker = "unsupported";
}
