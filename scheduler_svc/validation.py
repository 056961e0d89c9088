"""Cheap checks of an utterance before it is dispatched (headers only; nodes do the decoding)."""

from __future__ import annotations

import re

from lingua.v1 import common_pb2
from lingua_common.audio import AudioDecodeError, wav_seconds
from lingua_common.errors import LinguaError

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# Upper bound for compressed encodings, whose duration is unknown without decoding.
_COMPRESSED_BYTES_PER_S = 48_000


def check_language(code: str, role: str, allow_auto: bool = False) -> None:
    """A language code; allow_auto: "auto" too (a source language the node identifies by ear)."""
    if allow_auto and code == "auto":
        return
    if not _LANG.match(code or ""):
        shown = code if len(code or "") <= 20 else code[:20] + "..."  # never echo an unbounded string
        raise LinguaError(common_pb2.UNSUPPORTED_LANGUAGE,
                          f"{role} language {shown!r} is not a language code (use e.g. 'en', 'fr')")


def audio_seconds(audio: common_pb2.Audio, max_s: float) -> float:
    """Duration of `audio` in seconds, or LinguaError(INVALID_AUDIO / PAYLOAD_TOO_LARGE)."""
    data = audio.data
    if not data:
        raise LinguaError(common_pb2.INVALID_AUDIO, "the utterance has no audio (0 bytes)")
    channels = audio.channels or 1
    if audio.encoding == common_pb2.PCM16:
        rate = audio.sample_rate_hz
        if not 8000 <= rate <= 48000:
            raise LinguaError(common_pb2.INVALID_AUDIO,
                              f"PCM16 needs sample_rate_hz between 8000 and 48000, got {rate}")
        if channels > 2:
            raise LinguaError(common_pb2.INVALID_AUDIO, f"at most 2 channels are supported, got {channels}")
        if len(data) % (2 * channels):
            raise LinguaError(common_pb2.INVALID_AUDIO,
                              f"PCM16 data length {len(data)} is not a whole number of {channels}-channel samples")
        seconds = len(data) / (2 * channels * rate)
    elif audio.encoding == common_pb2.WAV:
        try:
            seconds = wav_seconds(data)
        except AudioDecodeError as exc:
            raise LinguaError(common_pb2.INVALID_AUDIO, str(exc)) from None
    elif audio.encoding in (common_pb2.FLAC, common_pb2.OGG_OPUS, common_pb2.WEBM_OPUS, common_pb2.MP3):
        if len(data) > max_s * _COMPRESSED_BYTES_PER_S:
            raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                              f"{len(data)} bytes of compressed audio is over the "
                              f"{int(max_s * _COMPRESSED_BYTES_PER_S)}-byte limit")
        return 0.0
    else:
        raise LinguaError(common_pb2.INVALID_AUDIO, "audio.encoding is not set (PCM16, WAV, FLAC, ...)")
    if seconds > max_s:
        raise LinguaError(common_pb2.PAYLOAD_TOO_LARGE,
                          f"utterance is {seconds:.1f} s long; the limit is {max_s:.0f} s - cut it into sentences")
    return seconds
