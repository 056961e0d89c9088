"""Decompression bombs for tests and bench/abuse.py: small files that decode to hours of audio."""

from __future__ import annotations

import functools
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

THREE_HOURS_S = 10_800


@functools.cache
def silence_flac(seconds: int = THREE_HOURS_S, rate: int = 16000) -> bytes:
    """`seconds` of digital silence as 16-bit mono FLAC (3 h: about 0.5 MB, 660 MB once decoded to float32).
    Made once per process with sox (no dither, so it stays tiny), or soundfile where sox is missing."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "silence.flac"
        try:
            subprocess.run(["sox", "-D", "-n", "-r", str(rate), "-c", "1", "-b", "16", str(path), "trim", "0",
                            str(seconds)], check=True, capture_output=True)
        except FileNotFoundError:
            with sf.SoundFile(str(path), "w", rate, 1, format="FLAC", subtype="PCM_16") as out:
                minute = np.zeros(rate * 60, dtype=np.int16)
                for _ in range(seconds // 60):
                    out.write(minute)
        return path.read_bytes()
