// The page: reads the settings form, and shows connection, turn state, subtitles, errors and history. No
// protocol or audio logic lives here; main.ts decides, this module only renders.
import type { FeatureName } from "./api.js";
import type { ClientError } from "./errors.js";
import { AUTO, type Choice, type LanguageMenu, sourceChoices, targetChoices, twoWayOffered } from "./languages.js";
import { FEATURES, LANGUAGES, type Settings } from "./settings.js";
import type { TurnState } from "./state.js";

function $<T extends HTMLElement>(selector: string): T {
  const el = document.querySelector<T>(selector);
  if (!el) throw new Error(`page is missing ${selector}`);
  return el;
}

export interface Turn {
  index: bigint;
  asr: string;
  translated: string;
  details: string;
}

const STATE_TEXT: Record<TurnState, string> = {
  idle: "not connected",
  ready: "listening — start speaking",
  recording: "recording…",
  waiting: "translating…",
  playing: "playing the translation",
};

export class View {
  readonly connect = $<HTMLButtonElement>("#connect");
  readonly speak = $<HTMLButtonElement>("#speak");
  readonly endSentence = $<HTMLButtonElement>("#end-sentence");
  readonly swap = $<HTMLButtonElement>("#swap");
  readonly #src = $<HTMLSelectElement>("#src-lang");
  readonly #tgt = $<HTMLSelectElement>("#tgt-lang");
  readonly #twoWay = $<HTMLInputElement>("#two-way");
  readonly #twoWayLabel = $<HTMLElement>("#two-way-label");
  readonly #languagesNote = $<HTMLElement>("#languages-note");
  readonly #resultInfo = $<HTMLElement>("#result-info");
  readonly #apiKey = $<HTMLInputElement>("#api-key");
  readonly #pairing = $<HTMLInputElement>("#pairing-code");
  readonly #gateway = $<HTMLInputElement>("#gateway-url");
  readonly #features = $<HTMLFieldSetElement>("#features");
  readonly #connection = $<HTMLElement>("#connection");
  readonly #turn = $<HTMLElement>("#turn");
  readonly #turnState = $<HTMLElement>("#turn-state");
  readonly #level = $<HTMLMeterElement>("#level");
  readonly #error = $<HTMLElement>("#error");
  readonly #subtitle = $<HTMLElement>("#subtitle");
  readonly #translation = $<HTMLElement>("#translation");
  readonly #history = $<HTMLOListElement>("#history");
  readonly #sessionInfo = $<HTMLElement>("#session-info");
  readonly #sessionMode = $<HTMLElement>("#session-mode");
  readonly #offline = $<HTMLElement>("#offline");
  /** What the mesh serves (null: not known yet, the static list is shown). */
  #menu: LanguageMenu | null = null;
  #locked = false; // connected or connecting: the settings are fixed
  /** The saved choice, applied once the mesh's languages arrive (it may not be in the static list). */
  #saved: { src: string; tgt: string; twoWay: boolean } | null = null;

  constructor() {
    this.#fillLanguages();
    for (const f of FEATURES) {
      const label = document.createElement("label");
      label.title = f.hint;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "feature";
      box.value = f.name;
      label.append(box, ` ${f.label}`);
      this.#features.append(label);
    }
    this.swap.addEventListener("click", () => {
      this.#saved = null;
      const [src, tgt] = [this.#src.value, this.#tgt.value];
      this.#fillLanguages(tgt, src);
    });
    this.#src.addEventListener("change", () => {
      this.#saved = null;
      this.#fillLanguages(this.#src.value, this.#tgt.value);
    });
    this.#tgt.addEventListener("change", () => {
      this.#saved = null;
      this.#syncTwoWay();
    });
    this.#twoWay.addEventListener("change", () => {
      this.#saved = null;
    });
  }

  /** The API key or gateway field changed (typed or pasted): `listener` may fetch the languages again. */
  onConnectionInput(listener: () => void): void {
    for (const el of [this.#apiKey, this.#gateway]) el.addEventListener("input", listener);
  }

  /** Fills the pickers from what the mesh serves (null: the static list), keeping the choice when possible. */
  setLanguages(menu: LanguageMenu | null, note = ""): void {
    this.#menu = menu;
    const saved = menu ? this.#saved : null;
    const twoWay = saved ? saved.twoWay : this.#twoWay.checked;
    this.#fillLanguages(saved?.src ?? this.#src.value, saved?.tgt ?? this.#tgt.value);
    this.#twoWay.checked = twoWay && twoWayOffered(menu, this.#src.value, this.#tgt.value);
    if (menu) this.#saved = null;
    this.#languagesNote.textContent = note;
    this.#languagesNote.hidden = note === "";
  }

  get languages(): LanguageMenu | null {
    return this.#menu;
  }

  #fillLanguages(src = this.#src.value, tgt = this.#tgt.value): void {
    const fallback = LANGUAGES.map((l): Choice => ({ code: l.code, label: `${l.name} (${l.code})` }));
    const sources = this.#menu ? sourceChoices(this.#menu) : fallback;
    fill(this.#src, sources, src);
    const targets = this.#menu ? targetChoices(this.#menu, this.#src.value) : fallback;
    fill(this.#tgt, targets, tgt);
    this.#syncTwoWay();
  }

  /** Two-way is offered only for a pair both of whose directions one translator serves. */
  #syncTwoWay(): void {
    const offered = twoWayOffered(this.#menu, this.#src.value, this.#tgt.value);
    this.#twoWayLabel.dataset["offered"] = String(offered);
    if (!offered) this.#twoWay.checked = false;
    this.#twoWay.disabled = this.#locked || !offered;
    this.#twoWayLabel.title = offered
      ? "Both people speak: each sentence is translated into the other language"
      : "Two-way needs a pair that one translator serves in both directions";
    this.swap.disabled = this.#locked || this.#src.value === AUTO;
  }

  showSettings(s: Settings): void {
    this.#saved = { src: s.srcLang, tgt: s.tgtLang, twoWay: s.twoWay };
    this.#fillLanguages(s.srcLang, s.tgtLang);
    this.#twoWay.checked = s.twoWay && twoWayOffered(this.#menu, this.#src.value, this.#tgt.value);
    this.#apiKey.value = s.apiKey;
    this.#gateway.value = s.gatewayUrl;
    for (const box of this.#featureBoxes()) box.checked = s.features[box.value as FeatureName] ?? false;
  }

  readSettings(): Settings {
    const features = Object.fromEntries(this.#featureBoxes().map((b) => [b.value, b.checked]));
    return {
      apiKey: this.#apiKey.value.trim(),
      gatewayUrl: this.#gateway.value.trim(),
      srcLang: this.#src.value,
      tgtLang: this.#tgt.value,
      twoWay: this.#twoWay.checked,
      features: features as Record<FeatureName, boolean>,
    };
  }

  /** The pairing code as typed (digits only), or an error message when it cannot be one. */
  pairingCode(): { code: string } | { problem: string } {
    const code = this.#pairing.value.replace(/\s+/g, "");
    if (code === "" || /^\d{6}$/.test(code)) return { code };
    return { problem: "A pairing code is 6 digits (shown on the translator's dashboard). Leave it empty to use any translator." };
  }

  clearPairingCode(): void {
    this.#pairing.value = ""; // single use: it is spent once a session used it
  }

  /** Buttons and form follow the state: settings are fixed while connected. */
  showTurn(state: TurnState, busy: boolean): void {
    this.#turn.dataset["state"] = state;
    this.#turnState.textContent = STATE_TEXT[state];
    const connected = state !== "idle";
    document.body.dataset["connected"] = String(connected); // a phone folds the (fixed) settings away
    this.connect.textContent = connected ? "Disconnect" : busy ? "Connecting…" : "Connect";
    this.connect.disabled = busy;
    // Held down (push-to-talk), it stays enabled while recording: letting go of it ends the sentence.
    this.speak.disabled = state !== "ready" && !(state === "recording" && this.speak.dataset["held"] === "true");
    this.endSentence.disabled = state !== "recording";
    this.#locked = connected || busy;
    for (const el of [this.#src, this.#tgt, this.#apiKey, this.#pairing, this.#gateway, this.#features]) {
      el.disabled = this.#locked;
    }
    this.#syncTwoWay();
    if (state !== "recording" && state !== "ready") this.#level.value = -80;
  }

  /** The device has no network: the page still works (it came from the app's cache) but cannot translate. */
  showOffline(offline: boolean): void {
    this.#offline.hidden = !offline;
  }

  /** Push-to-talk: the speak button is being held. */
  showHeld(held: boolean): void {
    this.speak.dataset["held"] = String(held);
  }

  showConnection(kind: "idle" | "ok" | "warn" | "error", text: string): void {
    this.#connection.dataset["kind"] = kind;
    this.#connection.textContent = text;
  }

  /** The session, its node when paired, and what it translates ("two-way en ⇄ es", "auto-detect → fr"). */
  showSession(sessionId: string, nodeId: string, how = ""): void {
    this.#sessionInfo.textContent = sessionId ? `Session ${sessionId}${nodeId ? ` · paired with ${nodeId}` : ""}` : "";
    this.#sessionMode.textContent = sessionId ? how : "";
  }

  /** How the shown translation was made: the language heard, the engine and its tier. */
  showResultInfo(text: string): void {
    this.#resultInfo.textContent = text;
  }

  showLevel(db: number): void {
    this.#level.value = Math.max(-80, Math.min(0, db));
  }

  showError(error: ClientError | { text: string; detail?: string } | null): void {
    this.#error.hidden = error === null;
    if (error === null) return;
    this.#error.dataset["code"] = "code" in error ? error.code : "";
    $("#error-text").textContent = error.text;
    $("#error-detail").textContent = error.detail ?? "";
  }

  /** Live transcript: a partial replaces the previous one, the final text fixes it. */
  showSubtitle(text: string, final: boolean): void {
    this.#subtitle.textContent = text;
    this.#subtitle.dataset["final"] = String(final);
  }

  showTranslation(text: string): void {
    this.#translation.textContent = text;
  }

  clearLive(): void {
    this.showSubtitle("", false);
    this.showTranslation("");
    this.showResultInfo("");
  }

  addTurn(turn: Turn): void {
    const li = document.createElement("li");
    li.dataset["index"] = String(turn.index);
    const src = document.createElement("p");
    src.className = "src";
    src.textContent = turn.asr;
    const tgt = document.createElement("p");
    tgt.className = "tgt";
    tgt.textContent = turn.translated;
    const meta = document.createElement("small");
    meta.textContent = turn.details;
    li.append(src, tgt, meta);
    this.#history.prepend(li);
  }

  #featureBoxes(): HTMLInputElement[] {
    return [...this.#features.querySelectorAll<HTMLInputElement>("input[name=feature]")];
  }
}

/** Replaces a select's options, keeping `wanted` selected when it is still there (else the first option). */
function fill(select: HTMLSelectElement, choices: Choice[], wanted: string): void {
  select.replaceChildren(...choices.map((c) => new Option(c.label, c.code)));
  select.value = choices.some((c) => c.code === wanted) ? wanted : (choices[0]?.code ?? "");
}
