"""The optional per-job features, as names and as a bit mask (proto-free)."""

from __future__ import annotations

from collections.abc import Iterable

# Order fixes the bit positions of the mask.
FEATURE_NAMES: tuple[str, ...] = (
    "speaker_identification",
    "voice_cloning",
    "speech_rate_detection",
    "speech_rate_control",
    "emotion_detection",
    "voice_style_detection",
    "persona_adaptation",
)


def mask_of(names: Iterable[str]) -> int:
    mask = 0
    for name in names:
        mask |= 1 << FEATURE_NAMES.index(name)
    return mask


def names_of(mask: int) -> list[str]:
    return [name for i, name in enumerate(FEATURE_NAMES) if mask >> i & 1]
