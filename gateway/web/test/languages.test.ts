import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { TranslationTier } from "@lingua/sdk/v1/common_pb";
import { ListLanguagesResponseSchema } from "@lingua/sdk/v1/session_pb";
import {
  AUTO,
  bestOffer,
  languageName,
  type LanguageMenu,
  menuFrom,
  sourceChoices,
  targetChoices,
  tierLabel,
  twoWayOffered,
} from "../src/languages.js";

function menu(detectable: string[] = []): LanguageMenu {
  return menuFrom(create(ListLanguagesResponseSchema, {
    pairs: [
      { srcLang: "en", tgtLang: "es", tier: TranslationTier.RULE_BASED, engine: "apertium", nodes: 1, twoWay: true },
      { srcLang: "es", tgtLang: "en", tier: TranslationTier.RULE_BASED, engine: "apertium", nodes: 1, twoWay: true },
      { srcLang: "en", tgtLang: "fr", tier: TranslationTier.DEMO, engine: "ctranslate2-m2m100", nodes: 2 },
      { srcLang: "es", tgtLang: "fr", tier: TranslationTier.PIVOT, engine: "apertium+m2m", pivotLang: "en", nodes: 1 },
      { srcLang: "de", tgtLang: "fr", tier: TranslationTier.NEURAL, engine: "ctranslate2-m2m100", nodes: 1 },
    ],
    detectableLanguages: detectable,
  }));
}

test("tiers read as people say them", () => {
  assert.equal(tierLabel(TranslationTier.NEURAL), "neural");
  assert.equal(tierLabel(TranslationTier.RULE_BASED), "rule-based");
  assert.equal(tierLabel(TranslationTier.PIVOT), "pivot");
  assert.equal(tierLabel(TranslationTier.DEMO), "demo");
  assert.equal(tierLabel(TranslationTier.UNSPECIFIED), "");
  assert.equal(languageName("es"), "Spanish");
  assert.equal(languageName(AUTO), "Auto-detect");
});

test("sources are the languages pairs start from; auto-detect only when a node detects", () => {
  assert.deepEqual(sourceChoices(menu()).map((c) => c.code), ["en", "de", "es"]); // English, German, Spanish
  const auto = sourceChoices(menu(["en", "es"]));
  assert.deepEqual(auto[0], { code: AUTO, label: "Auto-detect (en, es)" });
  assert.equal(auto.length, 4);
  const many = ["af", "ca", "de", "en", "es", "fr", "it", "pt"];
  assert.deepEqual(sourceChoices(menu(many))[0], { code: AUTO, label: "Auto-detect (8 languages)" });
});

test("targets are labelled with the tier of the best way there", () => {
  assert.deepEqual(targetChoices(menu(), "en"), [
    { code: "fr", label: "French — demo" },
    { code: "es", label: "Spanish — rule-based" },
  ]);
  assert.deepEqual(targetChoices(menu(), "es"), [
    { code: "en", label: "English — rule-based" },
    { code: "fr", label: "French — pivot via en" },
  ]);
  // auto: every target some detectable language reaches, with the best tier among them
  assert.deepEqual(targetChoices(menu(["en", "es", "de"]), AUTO).map((c) => c.label),
    ["English — rule-based", "French — neural", "Spanish — rule-based"]);
  assert.equal(bestOffer(menu(["en", "es"]), AUTO, "fr")?.tier, TranslationTier.PIVOT); // de is not detectable
  assert.deepEqual(targetChoices(menu(), "xx"), []);
});

test("two-way is offered only for pairs one node serves both ways", () => {
  const m = menu(["en", "es"]);
  assert.equal(twoWayOffered(m, "en", "es"), true);
  assert.equal(twoWayOffered(m, "es", "en"), true);
  assert.equal(twoWayOffered(m, "en", "fr"), false);
  assert.equal(twoWayOffered(m, AUTO, "es"), false);
  assert.equal(twoWayOffered(null, "en", "es"), false);
});
