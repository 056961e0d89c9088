// What the language pickers offer: the pairs the mesh serves now (SessionService.ListLanguages), each with
// the best tier a translator has for it, plus "auto-detect" when some translator can tell languages apart and
// two-way for the pairs whose both directions live on one translator. No DOM here (unit-tested in node).
import { TranslationTier } from "@lingua/sdk/v1/common_pb";
import type { ListLanguagesResponse } from "@lingua/sdk/v1/session_pb";

/** The source language value that asks the translator to detect the spoken language. */
export const AUTO = "auto";

export interface Offer {
  src: string;
  tgt: string;
  tier: TranslationTier;
  engine: string;
  voice: string;
  voiceQuality: string;
  pivotLang: string;
  nodes: number;
  twoWay: boolean;
}

export interface LanguageMenu {
  offers: Offer[];
  /** Languages a translator can identify by ear; empty: no "auto-detect". */
  detectable: string[];
}

export interface Choice {
  code: string;
  label: string;
}

export function menuFrom(response: ListLanguagesResponse): LanguageMenu {
  return {
    offers: response.pairs.map((p) => ({
      src: p.srcLang, tgt: p.tgtLang, tier: p.tier, engine: p.engine, voice: p.voice, voiceQuality: p.voiceQuality,
      pivotLang: p.pivotLang, nodes: p.nodes, twoWay: p.twoWay,
    })),
    detectable: [...response.detectableLanguages],
  };
}

const TIER_TEXT: Record<TranslationTier, string> = {
  [TranslationTier.UNSPECIFIED]: "",
  [TranslationTier.NEURAL]: "neural",
  [TranslationTier.RULE_BASED]: "rule-based",
  [TranslationTier.PIVOT]: "pivot",
  [TranslationTier.DEMO]: "demo",
};

/** "neural", "rule-based", "pivot", "demo" ("" when the server did not say). */
export function tierLabel(tier: TranslationTier): string {
  return TIER_TEXT[tier] ?? "";
}

/** Best first: neural, rule-based, pivot, demo, then unspecified. */
function rank(tier: TranslationTier): number {
  return tier === TranslationTier.UNSPECIFIED ? 99 : tier;
}

const NAMES: Record<string, string> = {
  en: "English", fr: "French", de: "German", es: "Spanish", it: "Italian", pt: "Portuguese", nl: "Dutch",
  zh: "Chinese", ja: "Japanese", ca: "Catalan", gl: "Galician", eu: "Basque", ro: "Romanian", ru: "Russian",
  pl: "Polish", sv: "Swedish", da: "Danish", nb: "Norwegian Bokmål", uk: "Ukrainian", ar: "Arabic", ko: "Korean",
};

/** "Spanish" for "es"; the browser's own names for languages not listed here; the code as a last resort. */
export function languageName(code: string): string {
  if (code === AUTO) return "Auto-detect";
  const known = NAMES[code];
  if (known) return known;
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(code) ?? code;
  } catch {
    return code;
  }
}

function byName(a: Choice, b: Choice): number {
  return a.label.localeCompare(b.label);
}

// Past this many, "auto-detect" says how many languages it knows rather than naming them (Whisper knows 99).
const MAX_LISTED = 6;

/** The source picker: every language some pair starts from, and auto-detect first when a node detects. */
export function sourceChoices(menu: LanguageMenu): Choice[] {
  const codes = [...new Set(menu.offers.map((o) => o.src))];
  const choices = codes.map((code) => ({ code, label: `${languageName(code)} (${code})` })).sort(byName);
  const heard = menu.detectable;
  if (heard.length > 0) {
    const which = heard.length <= MAX_LISTED ? heard.join(", ") : `${heard.length} languages`;
    choices.unshift({ code: AUTO, label: `Auto-detect (${which})` });
  }
  return choices;
}

/** The best offer for src → tgt (src AUTO: the best from any detectable language), or undefined. */
export function bestOffer(menu: LanguageMenu, src: string, tgt: string): Offer | undefined {
  const fits = menu.offers.filter((o) => o.tgt === tgt && (src === AUTO ? menu.detectable.includes(o.src) : o.src === src));
  return fits.sort((a, b) => rank(a.tier) - rank(b.tier) || b.nodes - a.nodes)[0];
}

/** "Spanish — rule-based", "German — pivot via en": a target with how it is reached from `src`. */
export function targetLabel(offer: Offer): string {
  const tier = tierLabel(offer.tier);
  const via = offer.tier === TranslationTier.PIVOT && offer.pivotLang ? ` via ${offer.pivotLang}` : "";
  return tier ? `${languageName(offer.tgt)} — ${tier}${via}` : languageName(offer.tgt);
}

/** The target picker for a source: every language reachable from it, labelled with its best tier. */
export function targetChoices(menu: LanguageMenu, src: string): Choice[] {
  const targets = new Set(
    menu.offers.filter((o) => (src === AUTO ? menu.detectable.includes(o.src) : o.src === src)).map((o) => o.tgt),
  );
  const choices: Choice[] = [];
  for (const tgt of targets) {
    const offer = bestOffer(menu, src, tgt);
    if (offer) choices.push({ code: tgt, label: targetLabel(offer) });
  }
  return choices.sort(byName);
}

/** Whether a two-way session between src and tgt works: one translator serves both directions. */
export function twoWayOffered(menu: LanguageMenu | null, src: string, tgt: string): boolean {
  if (!menu || src === AUTO || src === tgt) return false;
  return menu.offers.some((o) => o.twoWay && ((o.src === src && o.tgt === tgt) || (o.src === tgt && o.tgt === src)));
}
