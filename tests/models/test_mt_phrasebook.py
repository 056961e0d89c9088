"""The bundled phrasebook MT model (demo/test only) translates its phrasebook, and only that.

Expected translations come from the phrasebook TSV the model was built from, so these tests
cannot pass against an empty or stale file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from node_svc.engines.mt import (
    BUNDLED_DIR,
    M2M100Translator,
    MtUnsupportedPair,
    normalize_asr,
)

pytestmark = pytest.mark.models

REPO = Path(__file__).resolve().parents[2]
PHRASEBOOK = REPO / "scripts" / "mt_fixture" / "phrasebook_en_fr.tsv"


def _load_pairs() -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for line in PHRASEBOOK.read_text(encoding="utf-8").splitlines():
        if line.strip():
            en, fr = line.split("\t")
            pairs.append((en, fr))
    return pairs


PAIRS = _load_pairs()
EN_TO_FR = dict(PAIRS)
# A deterministic spread over the whole file: every Nth pair, a dozen in all.
SAMPLE = PAIRS[:: len(PAIRS) // 12][:12]


@pytest.fixture(scope="module")
def mt() -> M2M100Translator:
    return M2M100Translator.bundled()


def test_phrasebook_is_substantial() -> None:
    assert len(PAIRS) >= 300
    assert len(SAMPLE) == 12
    assert "Where is the train station?" in EN_TO_FR


def test_manifest(mt: M2M100Translator) -> None:
    assert mt.model_dir == BUNDLED_DIR
    assert mt.model_id == "phrasebook-m2m100"
    assert mt.version
    assert set(mt.language_pairs) == {("en", "fr"), ("fr", "en")}
    assert mt.supports("en", "fr") and mt.supports("fr", "en")
    assert not mt.supports("en", "de")


@pytest.mark.parametrize(("en", "fr"), SAMPLE, ids=[en for en, _ in SAMPLE])
def test_en_to_fr(mt: M2M100Translator, en: str, fr: str) -> None:
    assert mt.translate([en], "en", "fr") == [fr]


@pytest.mark.parametrize(("en", "fr"), SAMPLE, ids=[fr for _, fr in SAMPLE])
def test_fr_to_en(mt: M2M100Translator, en: str, fr: str) -> None:
    assert mt.translate([fr], "fr", "en") == [en]


@pytest.mark.parametrize(("en", "fr"), SAMPLE, ids=[en for en, _ in SAMPLE])
def test_asr_style_english(mt: M2M100Translator, en: str, fr: str) -> None:
    # What a recogniser may produce: lowercase, no or different final punctuation.
    variants = [
        en.lower(),
        en.rstrip("?.!"),
        normalize_asr(en, "en"),
        en.rstrip("?.!") + ".",
        "  " + en.upper() + "  ",
    ]
    assert mt.translate(variants, "en", "fr") == [fr] * len(variants)


def test_train_station_examples(mt: M2M100Translator) -> None:
    expected = EN_TO_FR["Where is the train station?"]
    inputs = [
        "where is the train station",
        "Where is the train station?",
        "Where's the train station?",
        "where\u2019s the train station",
    ]
    assert mt.translate(inputs, "en", "fr") == [expected] * len(inputs)


def test_french_without_punctuation(mt: M2M100Translator) -> None:
    en, fr = SAMPLE[3]
    assert mt.translate([fr.lower().rstrip(" ?.!")], "fr", "en") == [en]


def test_whole_phrasebook_both_directions(mt: M2M100Translator) -> None:
    ens = [en for en, _ in PAIRS]
    frs = [fr for _, fr in PAIRS]
    assert mt.translate(ens, "en", "fr") == frs
    assert mt.translate(frs, "fr", "en") == ens


@pytest.mark.parametrize(("src", "tgt"), [("en", "de"), ("de", "en"), ("fr", "fr"), ("xx", "yy")])
def test_unsupported_pair_raises(mt: M2M100Translator, src: str, tgt: str) -> None:
    with pytest.raises(MtUnsupportedPair):
        mt.translate(["Where is the train station?"], src, tgt)
    assert issubclass(MtUnsupportedPair, ValueError)


def test_empty_input(mt: M2M100Translator) -> None:
    assert mt.translate([], "en", "fr") == []
    assert mt.translate(["", "   ", "\n\t", "?!"], "en", "fr") == ["", "", "", ""]


def test_batch_keeps_order(mt: M2M100Translator) -> None:
    ens = [en for en, _ in SAMPLE]
    frs = [fr for _, fr in SAMPLE]
    # Interleave blanks so the skipped slots must be put back in the right places.
    batch = [*ens[:4], "", *ens[4:8], "   ", *ens[8:]]
    expected = [*frs[:4], "", *frs[4:8], "", *frs[8:]]
    assert mt.translate(batch, "en", "fr") == expected
    assert mt.translate(list(reversed(ens)), "en", "fr") == list(reversed(frs))


def test_context_is_accepted(mt: M2M100Translator) -> None:
    en, fr = SAMPLE[0]
    assert mt.translate([en], "en", "fr", context="Earlier: hello everyone.") == [fr]


def test_concurrent_calls(mt: M2M100Translator) -> None:
    ens = [en for en, _ in SAMPLE]
    frs = [fr for _, fr in SAMPLE]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: mt.translate(ens, "en", "fr"), range(8)))
    assert results == [frs] * 8
