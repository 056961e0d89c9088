"""A small client library over the scheduler's gRPC API; the CLI is a thin layer over it."""

from __future__ import annotations

from pathlib import Path

import grpc

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, session_pb2, session_pb2_grpc
from lingua_common.features import FEATURE_NAMES
from lingua_common.grpc_server import channel_options

_ENCODING_BY_SUFFIX = {
    ".wav": common_pb2.WAV, ".flac": common_pb2.FLAC, ".mp3": common_pb2.MP3,
    ".ogg": common_pb2.OGG_OPUS, ".opus": common_pb2.OGG_OPUS, ".webm": common_pb2.WEBM_OPUS,
    ".pcm": common_pb2.PCM16, ".raw": common_pb2.PCM16,
}


def audio_from_file(path: Path, sample_rate_hz: int = 16000) -> common_pb2.Audio:
    """Read an audio file as-is; the encoding comes from the suffix (.pcm/.raw: PCM16 at the given rate)."""
    encoding = _ENCODING_BY_SUFFIX.get(path.suffix.lower())
    if encoding is None:
        raise ValueError(f"unknown audio file type {path.suffix!r} (use {', '.join(sorted(_ENCODING_BY_SUFFIX))})")
    rate = sample_rate_hz if encoding == common_pb2.PCM16 else 0
    return common_pb2.Audio(data=path.read_bytes(), encoding=encoding, sample_rate_hz=rate, channels=1)


def features_from_names(names: list[str]) -> common_pb2.Features:
    unknown = [n for n in names if n not in FEATURE_NAMES]
    if unknown:
        raise ValueError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURE_NAMES)}")
    return common_pb2.Features(**dict.fromkeys(names, True))


class SchedulerClient:
    def __init__(self, address: str, timeout_s: float = 120.0) -> None:
        self._channel = grpc.insecure_channel(address, options=channel_options())
        self.sessions = session_pb2_grpc.SessionServiceStub(self._channel)
        self.admin = admin_pb2_grpc.SchedulerAdminStub(self._channel)
        self.timeout_s = timeout_s

    def translate(self, audio: common_pb2.Audio, src: str, tgt: str,
                  features: common_pb2.Features | None = None) -> session_pb2.TranslateResponse:
        request = session_pb2.TranslateRequest(audio=audio, src_lang=src, tgt_lang=tgt, features=features)
        response: session_pb2.TranslateResponse = self.sessions.Translate(request, timeout=self.timeout_s)
        return response

    def list_nodes(self) -> list[admin_pb2.NodeInfo]:
        return list(self.admin.ListNodes(admin_pb2.ListNodesRequest(), timeout=self.timeout_s).nodes)

    def close(self) -> None:
        self._channel.close()
