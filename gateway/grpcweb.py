"""The grpc-web wire format: length-prefixed frames, a trailers frame, and the base64 `-text` variant.

A grpc-web body is a sequence of frames: one flag byte (0x00 data, 0x80 trailers), a 4-byte big-endian
length, then the payload. Trailers are `name: value` lines (lowercase names, CRLF-separated) sent as the
last frame, because browsers cannot read HTTP/2 trailers. The `-text` variant base64-encodes the body;
clients may send it as several concatenated, individually padded base64 chunks.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass, field
from urllib.parse import quote

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError, grpc_status_for

DATA_FLAG = 0x00
TRAILERS_FLAG = 0x80
_COMPRESSED = 0x01
_HEADER = struct.Struct(">BI")
_PADDED = re.compile(rb"[^=]+=*")
_TIMEOUT = re.compile(r"^(\d{1,8})([HMSmun])$")
_UNIT_S = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}

PROTO_TYPE = "application/grpc-web+proto"
TEXT_TYPE = "application/grpc-web-text"


@dataclass(frozen=True)
class WireFormat:
    """What the client sent (and so gets back): binary or base64 text."""

    text: bool
    content_type: str

    @classmethod
    def from_content_type(cls, header: str) -> WireFormat:
        base = header.split(";", 1)[0].strip().lower()
        if base in ("application/grpc-web", PROTO_TYPE):
            return cls(text=False, content_type=PROTO_TYPE)
        if base in (TEXT_TYPE, TEXT_TYPE + "+proto"):
            return cls(text=True, content_type=TEXT_TYPE + "+proto")
        raise LinguaError(common_pb2.INVALID_MESSAGE,
                          f"content-type {header!r} is not grpc-web (use {PROTO_TYPE} or {TEXT_TYPE})")

    def encode(self, frame: bytes) -> bytes:
        # A streamed response encodes each frame on its own (padded), so it can be flushed frame by frame;
        # grpc-web text clients decode 4-character groups, so inner padding is fine.
        return base64.b64encode(frame) if self.text else frame

    def decode_body(self, body: bytes) -> bytes:
        return _b64_chunks(body) if self.text else body


def _b64_chunks(body: bytes) -> bytes:
    """Decode base64 that may be several padded chunks back to back ("QUJD" + "RA==" + "RUY=")."""
    compact = b"".join(body.split())
    out = bytearray()
    # A chunk ends at its padding; unpadded chunks are whole 4-char groups and decode with the next one.
    chunks = _PADDED.findall(compact)
    if sum(map(len, chunks)) != len(compact):
        raise LinguaError(common_pb2.INVALID_MESSAGE, "grpc-web-text body has stray '=' padding")
    for chunk in chunks:
        try:
            out += base64.b64decode(chunk, validate=True)
        except binascii.Error as exc:
            raise LinguaError(common_pb2.INVALID_MESSAGE, f"grpc-web-text body is not valid base64: {exc}") from None
    return bytes(out)


def frame(payload: bytes, flag: int = DATA_FLAG) -> bytes:
    return _HEADER.pack(flag, len(payload)) + payload


def parse_frames(body: bytes) -> list[tuple[int, bytes]]:
    """Split a request body into (flag, payload) frames; truncated or compressed frames are errors."""
    frames: list[tuple[int, bytes]] = []
    offset = 0
    while offset < len(body):
        if len(body) - offset < _HEADER.size:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "grpc-web body ends inside a frame header")
        flag, length = _HEADER.unpack_from(body, offset)
        offset += _HEADER.size
        if offset + length > len(body):
            raise LinguaError(common_pb2.INVALID_MESSAGE,
                              f"grpc-web frame announces {length} bytes but only {len(body) - offset} follow")
        if flag & _COMPRESSED:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "compressed grpc-web frames are not supported")
        frames.append((flag, body[offset:offset + length]))
        offset += length
    return frames


def single_message(body: bytes) -> bytes:
    """The one data frame of a unary or server-streaming request."""
    data = [payload for flag, payload in parse_frames(body) if not flag & TRAILERS_FLAG]
    if len(data) != 1:
        raise LinguaError(common_pb2.INVALID_MESSAGE,
                          f"a grpc-web request carries exactly one message, got {len(data)}")
    return data[0]


@dataclass(frozen=True)
class Status:
    """A call's outcome as grpc-web trailers carry it."""

    code: grpc.StatusCode = grpc.StatusCode.OK
    message: str = ""
    error: common_pb2.Error | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, error: common_pb2.Error) -> Status:
        extra = {"retry-after-ms": str(error.retry_after_ms)} if error.retry_after_ms else {}
        return cls(grpc_status_for(error.code), error.message, error, extra)

    def trailers(self) -> dict[str, str]:
        out = {"grpc-status": str(self.code.value[0])}
        if self.message:
            out["grpc-message"] = quote(self.message, safe=" !#$&'()*+,/:;=?@[]~")  # percent-encoded per spec
        if self.error is not None:
            detail = any_pb2.Any()
            detail.Pack(self.error)
            rich = status_pb2.Status(code=self.code.value[0], message=self.message, details=[detail])
            # -bin values are base64 without padding, as in gRPC metadata.
            out["grpc-status-details-bin"] = base64.b64encode(rich.SerializeToString()).decode().rstrip("=")
        out.update(self.extra)
        return out


def trailers_frame(status: Status) -> bytes:
    block = "".join(f"{name}: {value}\r\n" for name, value in status.trailers().items())
    return frame(block.encode("ascii"), TRAILERS_FLAG)


def parse_trailers(payload: bytes) -> dict[str, str]:
    """Trailer lines back into a dict (lowercased names); used by clients and tests."""
    out: dict[str, str] = {}
    for line in payload.decode("ascii").split("\r\n"):
        if ":" in line:
            name, value = line.split(":", 1)
            out[name.strip().lower()] = value.strip()
    return out


def grpc_timeout(header: str | None) -> float | None:
    """The `grpc-timeout` header ("10S", "500m") in seconds; None when absent or malformed."""
    m = _TIMEOUT.match(header or "")
    return int(m.group(1)) * _UNIT_S[m.group(2)] if m else None
