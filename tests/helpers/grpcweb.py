"""A minimal grpc-web client written as raw HTTP (httpx), the way a browser's fetch sends it.

It speaks both `application/grpc-web+proto` and `application/grpc-web-text`, and parses the response body
frame by frame itself (not with the gateway's own framing code, so the two cannot share a bug).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from google.protobuf.message import Message
from google.rpc import status_pb2

from lingua.v1 import common_pb2

M = TypeVar("M", bound=Message)
SERVICE = "lingua.v1.SessionService"


@dataclass
class Reply:
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    headers: httpx.Headers = field(default_factory=httpx.Headers)

    @property
    def status(self) -> int:
        return int(self.trailers.get("grpc-status", "-1"))

    def error(self) -> common_pb2.Error:
        raw = self.trailers["grpc-status-details-bin"]
        status = status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))
        err = common_pb2.Error()
        assert status.details[0].Unpack(err)
        return err

    def parse(self, kind: type[M], index: int = 0) -> M:
        return kind.FromString(self.messages[index])


class FrameReader:
    """Incremental frame parser over a (possibly base64 text) byte stream."""

    def __init__(self, text: bool) -> None:
        self.text = text
        self._raw = b""
        self._buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        if self.text:
            self._raw += data
            usable = len(self._raw) // 4 * 4
            # 4-character groups one by one: a streamed body is separately padded chunks back to back.
            self._buf += b"".join(base64.b64decode(self._raw[i:i + 4]) for i in range(0, usable, 4))
            self._raw = self._raw[usable:]
        else:
            self._buf += data
        out = []
        while len(self._buf) >= 5:
            flag, length = struct.unpack(">BI", self._buf[:5])
            if len(self._buf) < 5 + length:
                break
            out.append((flag, self._buf[5:5 + length]))
            self._buf = self._buf[5 + length:]
        return out


def _trailers(payload: bytes) -> dict[str, str]:
    out = {}
    for line in payload.decode().split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


class GrpcWebClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, api_key: str | None, text: bool = False) -> None:
        self.http = http
        self.base_url = base_url
        self.api_key = api_key
        self.text = text

    def _request(self, message: Message) -> tuple[dict[str, str], bytes]:
        payload = message.SerializeToString()
        body = struct.pack(">BI", 0, len(payload)) + payload
        headers = {"content-type": "application/grpc-web-text" if self.text else "application/grpc-web+proto",
                   "x-grpc-web": "1", "accept": "application/grpc-web-text" if self.text else "*/*"}
        if self.api_key is not None:
            headers["authorization"] = f"Bearer {self.api_key}"
        return headers, base64.b64encode(body) if self.text else body

    async def unary(self, method: str, message: Message) -> Reply:
        headers, body = self._request(message)
        response = await self.http.post(f"{self.base_url}/{SERVICE}/{method}", content=body, headers=headers)
        assert response.status_code == 200, (response.status_code, response.text)
        reply = Reply(headers=response.headers)
        for flag, payload in FrameReader(self.text).feed(response.content):
            if flag & 0x80:
                reply.trailers = _trailers(payload)
            else:
                reply.messages.append(payload)
        return reply

    async def stream(self, method: str, message: Message, into: Reply) -> AsyncIterator[bytes]:
        """Yield each data frame as it arrives; the trailers land in `into` at the end."""
        headers, body = self._request(message)
        reader = FrameReader(self.text)
        async with self.http.stream("POST", f"{self.base_url}/{SERVICE}/{method}", content=body,
                                    headers=headers) as response:
            assert response.status_code == 200
            into.headers = response.headers
            async for chunk in response.aiter_raw():
                for flag, payload in reader.feed(chunk):
                    if flag & 0x80:
                        into.trailers = _trailers(payload)
                    else:
                        into.messages.append(payload)
                        yield payload

