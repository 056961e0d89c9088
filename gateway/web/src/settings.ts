// What the user chooses (languages, features, API key, gateway) and where it is kept: localStorage, so a
// reload keeps it. The pairing code is deliberately not kept: it is single use.
import type { FeatureName } from "./api.js";

export interface Settings {
  apiKey: string;
  /** Empty: the page's own origin (the gateway serves this page). */
  gatewayUrl: string;
  /** "auto": detect the spoken language. */
  srcLang: string;
  tgtLang: string;
  /** A two-way conversation between srcLang and tgtLang (offered only for pairs that work both ways). */
  twoWay: boolean;
  features: Record<FeatureName, boolean>;
}

/** The seven optional modules of lingua.v1.Features, in the message's field order. */
export const FEATURES: readonly { name: FeatureName; label: string; hint: string }[] = [
  { name: "speakerIdentification", label: "Speaker identification", hint: "Tell speakers apart" },
  { name: "voiceCloning", label: "Voice cloning", hint: "Speak the translation in the speaker's voice" },
  { name: "speechRateDetection", label: "Speech rate detection", hint: "Measure how fast the speaker talks" },
  { name: "speechRateControl", label: "Speech rate control", hint: "Match the speaker's pace" },
  { name: "emotionDetection", label: "Emotion detection", hint: "Detect the speaker's emotion" },
  { name: "voiceStyleDetection", label: "Voice style detection", hint: "Detect the speaking style" },
  { name: "personaAdaptation", label: "Persona adaptation", hint: "Adapt register and wording" },
];

/** The pickers' choices until the gateway said which languages the mesh serves (GET ListLanguages). */
export const LANGUAGES: readonly { code: string; name: string }[] = [
  { code: "en", name: "English" },
  { code: "fr", name: "French" },
  { code: "de", name: "German" },
  { code: "es", name: "Spanish" },
  { code: "it", name: "Italian" },
  { code: "pt", name: "Portuguese" },
  { code: "nl", name: "Dutch" },
  { code: "zh", name: "Chinese" },
  { code: "ja", name: "Japanese" },
];

const STORAGE_KEY = "lingua.webclient.settings.v1";

function noFeatures(): Record<FeatureName, boolean> {
  return Object.fromEntries(FEATURES.map((f) => [f.name, false])) as Record<FeatureName, boolean>;
}

export const DEFAULTS: Settings = { apiKey: "", gatewayUrl: "", srcLang: "en", tgtLang: "fr", twoWay: false,
  features: noFeatures() };

export function loadSettings(storage: Storage): Settings {
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? "{}") as Partial<Settings>;
    return { ...DEFAULTS, ...saved, features: { ...noFeatures(), ...saved.features } };
  } catch {
    return { ...DEFAULTS, features: noFeatures() }; // unreadable (hand-edited, older format): start fresh
  }
}

export function saveSettings(storage: Storage, settings: Settings): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(settings));
}

/** The gateway's origin: the setting, else `?gateway=` in the page URL, else the page's own origin. */
export function gatewayBaseUrl(settings: Settings, page: Location): string {
  const chosen = settings.gatewayUrl.trim() || new URLSearchParams(page.search).get("gateway") || page.origin;
  return chosen.replace(/\/+$/, "");
}
