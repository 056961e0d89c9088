"""Download one file of a model version into the staging directory: resume from what is on disk, retry
network failures with exponential backoff and jitter, then check size and sha256."""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from node_svc.models.fsutil import fsync_file
from node_svc.models.hubsource import DownloadStream, HubApi, is_transient, lingua_error
from node_svc.models.local import FileEntry
from node_svc.models.progress import ProgressTracker

_BLOCK = 1024 * 1024


class Stopped(Exception):
    """The install was cancelled, or another file of it failed: stop, keep what is on disk."""


class _ShortStream(Exception):
    """The hub's stream ended before the end of the file (a broken connection): resume from where it ended."""


class CallWatch:
    """The download streams of one install that are in flight: cancel them all at once, or those that have
    received nothing for `stall_s` seconds (a stall then counts as a network failure)."""

    def __init__(self, stall_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_s, self._clock = stall_s, clock
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._calls: dict[int, tuple[DownloadStream, float]] = {}
        self._stalled: set[int] = set()

    def register(self, stream: DownloadStream) -> int:
        with self._lock:
            token = next(self._ids)
            self._calls[token] = (stream, self._clock())
            return token

    def touch(self, token: int) -> None:
        with self._lock:
            if token in self._calls:
                self._calls[token] = (self._calls[token][0], self._clock())

    def unregister(self, token: int) -> bool:
        """Forget the stream; True if the watch cancelled it for stalling."""
        with self._lock:
            self._calls.pop(token, None)
            stalled = token in self._stalled
            self._stalled.discard(token)
            return stalled

    def cancel_all(self) -> None:
        with self._lock:
            streams = [stream for stream, _ in self._calls.values()]
        for stream in streams:
            stream.cancel()

    def cancel_stalled(self) -> int:
        now = self._clock()
        with self._lock:
            stalled = [(token, stream) for token, (stream, seen) in self._calls.items()
                       if now - seen > self.stall_s and token not in self._stalled]
            self._stalled.update(token for token, _ in stalled)
        for _, stream in stalled:
            stream.cancel()
        return len(stalled)


@dataclass
class FetchContext:
    """What every file download of one install shares."""

    model_id: str
    version: str
    staging: Path
    source: HubApi  # shared by first attempts
    new_source: Callable[[], HubApi]  # a fresh connection for each retry
    tracker: ProgressTracker
    watch: CallWatch
    stop: threading.Event
    retries: int = 4
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    retries_done: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count_retry(self) -> None:
        with self._lock:
            self.retries_done += 1

    def check_stop(self) -> None:
        if self.stop.is_set():
            raise Stopped()


def sha256_file(path: Path, stop: threading.Event | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            if stop is not None and stop.is_set():
                raise Stopped()
            digest.update(block)
    return digest.hexdigest()


class FileFetch:
    """One file: `run()` leaves it complete and verified in staging and returns the bytes fetched."""

    def __init__(self, ctx: FetchContext, entry: FileEntry) -> None:
        self.ctx, self.entry = ctx, entry
        self.dest = ctx.staging / entry.path
        self.have = 0
        self.fetched = 0

    def run(self) -> int:
        ctx, entry = self.ctx, self.entry
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self.have = self.dest.stat().st_size if self.dest.is_file() else 0
        if self.have > entry.size:  # cannot be a prefix of the file: start over
            self.dest.unlink()
            self.have = 0
        ctx.tracker.on_disk(self.have)
        if entry.size == 0:
            self.dest.touch()
        failures, private = 0, None
        try:
            while self.have < entry.size:
                ctx.check_stop()
                before = self.have
                try:
                    self._attempt(private or ctx.source)
                except (Stopped, LinguaError):
                    raise
                except Exception as exc:
                    if ctx.stop.is_set():
                        raise Stopped() from None
                    if not (isinstance(exc, _ShortStream) or is_transient(exc)):
                        if isinstance(exc, grpc.RpcError):
                            raise lingua_error(exc, f"downloading {entry.path} of {ctx.model_id} {ctx.version}"
                                               ) from None
                        raise
                    failures = 1 if self.have > before else failures + 1  # progress resets the count
                    if failures > ctx.retries:
                        if isinstance(exc, grpc.RpcError):
                            raise lingua_error(exc, f"downloading {entry.path} of {ctx.model_id} {ctx.version} "
                                                    f"(gave up after {failures} failed attempts)") from None
                        raise LinguaError(common_pb2.MODEL_NOT_AVAILABLE,
                                          f"downloading {entry.path}: {exc} (gave up after {failures} attempts)"
                                          ) from None
                    ctx.count_retry()
                    delay = min(ctx.max_backoff_s, ctx.backoff_s * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)
                    if ctx.stop.wait(delay):
                        raise Stopped() from None
                    if private is not None:
                        private.close()
                    private = ctx.new_source()
        finally:
            if private is not None:
                private.close()
        self._verify()
        return self.fetched

    def _attempt(self, source: HubApi) -> None:
        stream = source.download(self.ctx.model_id, self.ctx.version, self.entry.path, self.have)
        token = self.ctx.watch.register(stream)
        try:
            self._pump(stream, token)
        except Exception as exc:
            if self.ctx.watch.unregister(token) and not isinstance(exc, Stopped | LinguaError):
                raise _ShortStream(f"nothing received for {self.ctx.watch.stall_s:.0f} s at byte {self.have}"
                                   ) from exc
            raise
        self.ctx.watch.unregister(token)
        if self.have < self.entry.size:
            raise _ShortStream(f"the stream ended at byte {self.have} of {self.entry.size}")

    def _pump(self, stream: DownloadStream, token: int) -> None:
        ctx, entry = self.ctx, self.entry
        if ctx.stop.is_set():
            stream.cancel()
            raise Stopped()
        with self.dest.open("ab") as fh:
            for response in stream:
                if response.offset != self.have:
                    raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                                      f"{entry.path}: the hub sent bytes at offset {response.offset}, "
                                      f"expected {self.have}")
                if response.total_size and response.total_size != entry.size:
                    raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                                      f"{entry.path}: the hub streams {response.total_size} bytes, its "
                                      f"catalog says {entry.size}")
                if self.have + len(response.data) > entry.size:
                    raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                                      f"{entry.path}: the hub sent more than the {entry.size} bytes declared")
                fh.write(response.data)
                self.have += len(response.data)
                self.fetched += len(response.data)
                ctx.tracker.fetched(len(response.data))
                ctx.watch.touch(token)
                ctx.check_stop()

    def _verify(self) -> None:
        ctx, entry = self.ctx, self.entry
        size = self.dest.stat().st_size
        digest = sha256_file(self.dest, ctx.stop) if size == entry.size else ""
        if size != entry.size or digest != entry.sha256:
            self.dest.unlink(missing_ok=True)
            ctx.tracker.lost(size)
            found = f"{size} bytes" if size != entry.size else f"sha256 {digest}"
            raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                              f"{ctx.model_id} {ctx.version} {entry.path}: {found}, the hub's catalog says "
                              f"{entry.size} bytes, sha256 {entry.sha256}; the download was deleted")
        fsync_file(self.dest)
        ctx.tracker.file_done()
