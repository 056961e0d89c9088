"""How many seconds of audio a request carries, for the tenant's audio-seconds-per-day quota.

Cheap on purpose (the gateway does not decode audio): PCM16 from its length, WAV from its header,
compressed formats from the container's declared duration. Audio the scheduler will reject anyway
counts as 0; it is refused there with a precise error.
"""

from __future__ import annotations

import io

import av

from lingua.formats import encoding_from_header
from lingua.v1 import common_pb2
from lingua_common.audio import AudioDecodeError, wav_seconds


def audio_seconds(audio: common_pb2.Audio) -> float:
    data = audio.data
    if not data:
        return 0.0
    if audio.encoding == common_pb2.PCM16:
        rate = audio.sample_rate_hz
        return len(data) / (2 * (audio.channels or 1) * rate) if rate > 0 else 0.0
    if audio.encoding == common_pb2.WAV:
        try:
            return wav_seconds(data)
        except AudioDecodeError:
            return 0.0
    if audio.encoding in (common_pb2.FLAC, common_pb2.OGG_OPUS, common_pb2.WEBM_OPUS, common_pb2.MP3):
        try:
            with av.open(io.BytesIO(data), mode="r") as container:
                return float(container.duration or 0) / av.time_base
        except (av.error.FFmpegError, ValueError):
            return 0.0
    return 0.0


def sniff_encoding(data: bytes, filename: str = "", content_type: str = "") -> int:
    """The encoding of an uploaded file: its magic bytes, else its name or type; PCM16 if none match.

    (A bare MP3 frame sync is not trusted: raw PCM can start with the same bits.)
    """
    announced = encoding_from_header(data)
    if announced is not None:
        return announced
    hint = f"{filename} {content_type}".lower()
    for token, encoding in (("wav", common_pb2.WAV), ("flac", common_pb2.FLAC), ("ogg", common_pb2.OGG_OPUS),
                            ("opus", common_pb2.OGG_OPUS), ("webm", common_pb2.WEBM_OPUS),
                            ("mp3", common_pb2.MP3), ("mpeg", common_pb2.MP3)):
        if token in hint:
            return encoding
    return common_pb2.PCM16
