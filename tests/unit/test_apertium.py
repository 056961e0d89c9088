"""The Apertium engine: a persistent pipeline per direction, safe under concurrent jobs, restarted when one of
its processes dies, its marks removed from the text and counted. Runs the real Debian Apertium pair."""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lingua_common.model_format import APERTIUM_MANIFEST, APERTIUM_PACKAGES
from node_svc.engines.apertium import ApertiumTranslator, ApertiumUnavailable, find_mode, from_stream, to_stream

pytestmark = pytest.mark.skipif(find_mode("eng-spa") is None,
                                reason="apertium-eng-spa is missing (make test installs it as root)")

SENTENCES = {
    "My brother bought a new bicycle last week.": "Mi hermano compró una bicicleta nueva última semana.",
    "The weather is very nice today.": "El tiempo es muy bueno hoy.",
    "Where is the train station?": "Dónde es la canal de tren?",  # rule-based, and literal
}


@pytest.fixture
def eng_spa(tmp_path: Path) -> ApertiumTranslator:
    package = next(p for p in APERTIUM_PACKAGES if p.package == "apertium-eng-spa")
    (tmp_path / APERTIUM_MANIFEST).write_text(json.dumps(package.manifest()))
    translator = ApertiumTranslator(tmp_path)
    yield translator
    translator.close()


def test_translates_and_keeps_one_pipeline(eng_spa: ApertiumTranslator) -> None:
    assert sorted(eng_spa.language_pairs) == [("en", "es"), ("es", "en")]
    assert eng_spa.translate(list(SENTENCES), "en", "es") == list(SENTENCES.values())
    pids = eng_spa.direction("en", "es").pids
    assert len(pids) >= 5  # the mode's programs, started once
    eng_spa.translate(["Good morning."], "en", "es")
    assert eng_spa.direction("en", "es").pids == pids  # no process per sentence


def test_concurrent_jobs_get_their_own_translations(eng_spa: ApertiumTranslator) -> None:
    jobs = [s for s in SENTENCES for _ in range(20)]
    with ThreadPoolExecutor(8) as pool:
        out = list(pool.map(lambda s: eng_spa.translate([s], "en", "es")[0], jobs))
    assert out == [SENTENCES[s] for s in jobs]


def test_a_killed_pipeline_is_restarted(eng_spa: ApertiumTranslator) -> None:
    direction = eng_spa.direction("en", "es")
    eng_spa.translate(["Hello."], "en", "es")
    victim = direction.pids[len(direction.pids) // 2]
    os.kill(victim, signal.SIGKILL)
    assert eng_spa.translate(["The weather is very nice today."], "en", "es") == ["El tiempo es muy bueno hoy."]
    assert victim not in direction.pids
    assert direction.restarts == 1


def test_marks_are_removed_and_counted(eng_spa: ApertiumTranslator) -> None:
    out = eng_spa.translate_marked(["Zorblax went to Paris."], "en", "es")
    assert out.texts == ["Zorblax Fue a París."]
    assert (out.marks.unknown, out.marks.untranslated, out.marks.generation_gaps) == (1, 0, 0)


def test_stream_format_round_trip() -> None:
    """Reserved characters travel escaped; superblanks and escapes never reach the user."""
    assert to_stream("a [b] ^c$ @d") == b"a \\[b\\] \\^c\\$ \\@d[][\n]\0"
    text, marks = from_stream("*Zorblax fue a \\@casa[][\n]")
    assert (text, marks.unknown, marks.untranslated) == ("Zorblax fue a @casa", 1, 0)
    assert from_stream("#ir @perro")[0] == "ir perro"


def test_a_missing_mode_names_its_package(tmp_path: Path) -> None:
    (tmp_path / APERTIUM_MANIFEST).write_text(json.dumps(
        {"engine": "apertium", "package": "apertium-xx-yy", "modes": [{"src": "xx", "tgt": "yy", "mode": "xx-yy"}]}))
    translator = ApertiumTranslator(tmp_path)
    assert translator.language_pairs == [] and not translator.supports("xx", "yy")
    with pytest.raises(ApertiumUnavailable) as missing:
        translator.translate(["Hello."], "xx", "yy")
    assert missing.value.package == "apertium-xx-yy" and "apt-get install apertium-xx-yy" in str(missing.value)
