"""Filesystem primitives for the model store: durable atomic writes and locks that hold across threads and
processes."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def atomic_write_json(path: Path, data: Any) -> None:
    """Write a temp file beside `path`, flush and fsync it, rename it over `path`, fsync the directory: a
    reader sees the old content or the new, never a torn file, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


class FileLock:
    """An exclusive lock on `path`: a threading.Lock for this process (per path) plus fcntl.flock for other
    processes. Not re-entrant."""

    _guard = threading.Lock()
    _thread_locks: dict[str, threading.Lock] = {}

    def __init__(self, path: Path) -> None:
        self.path = path
        key = os.path.abspath(path)
        with FileLock._guard:
            self._thread_lock = FileLock._thread_locks.setdefault(key, threading.Lock())
        self._fh: TextIO | None = None

    def acquire(self, cancelled: Callable[[], bool] | None = None, poll_s: float = 0.05) -> bool:
        """Wait for the lock; False (not holding it) as soon as `cancelled()` says so."""
        while not self._thread_lock.acquire(timeout=poll_s):
            if cancelled is not None and cancelled():
                return False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fh = self.path.open("a")
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if cancelled is not None and cancelled():
                        fh.close()
                        self._thread_lock.release()
                        return False
                    time.sleep(poll_s)
        except BaseException:
            self._thread_lock.release()
            raise
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
            self._thread_lock.release()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
