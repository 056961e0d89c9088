// The page: reads the settings form, and shows connection, turn state, subtitles, errors and history. No
// protocol or audio logic lives here; main.ts decides, this module only renders.
import type { FeatureName } from "./api.js";
import type { ClientError } from "./errors.js";
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

  constructor() {
    for (const select of [this.#src, this.#tgt]) {
      for (const lang of LANGUAGES) select.add(new Option(`${lang.name} (${lang.code})`, lang.code));
    }
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
      [this.#src.value, this.#tgt.value] = [this.#tgt.value, this.#src.value];
    });
  }

  showSettings(s: Settings): void {
    this.#src.value = s.srcLang;
    this.#tgt.value = s.tgtLang;
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
    this.connect.textContent = connected ? "Disconnect" : busy ? "Connecting…" : "Connect";
    this.connect.disabled = busy;
    this.speak.disabled = state !== "ready";
    this.endSentence.disabled = state !== "recording";
    for (const el of [this.#src, this.#tgt, this.swap, this.#apiKey, this.#pairing, this.#gateway, this.#features]) {
      el.disabled = connected || busy;
    }
    if (state !== "recording" && state !== "ready") this.#level.value = -80;
  }

  showConnection(kind: "idle" | "ok" | "warn" | "error", text: string): void {
    this.#connection.dataset["kind"] = kind;
    this.#connection.textContent = text;
  }

  showSession(sessionId: string, nodeId: string): void {
    this.#sessionInfo.textContent = sessionId ? `Session ${sessionId}${nodeId ? ` · paired with ${nodeId}` : ""}` : "";
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
