"""The phrasebook the bundled MT model was trained on (read from the TSV, never hard-coded)."""

from __future__ import annotations

from pathlib import Path

TSV = Path(__file__).resolve().parents[2] / "scripts" / "mt_fixture" / "phrasebook_en_fr.tsv"

# Long, common-word sentences that Piper speaks and whisper tiny.en hears reliably.
SPEECH_SENTENCES = (
    "I am here on vacation with my family.",
    "Go straight ahead until the end of the street.",
    "What is the best way to get to the museum?",
    "I would like to rent a bicycle for the day.",
)


def phrasebook() -> dict[str, str]:
    pairs = {}
    for line in TSV.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            en, fr = line.split("\t", 1)
            pairs[en.strip()] = fr.strip()
    return pairs
