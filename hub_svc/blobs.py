"""Blob storage addressed by sha256: the path of a blob is derived from its hash, never from a name a
client sent, so path traversal is impossible by construction."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int:
        return self.path(sha256).stat().st_size

    def matches(self, sha256: str, size: int) -> bool:
        """Whether the blob exists, has `size` bytes and its content still hashes to `sha256`."""
        try:
            if self.size(sha256) != size:
                return False
            digest = hashlib.sha256()
            for data in self.read(sha256, chunk=1024 * 1024):
                digest.update(data)
        except (OSError, ValueError):
            return False
        return digest.hexdigest() == sha256

    def read(self, sha256: str, offset: int = 0, length: int | None = None,
             chunk: int = 256 * 1024) -> Iterator[bytes]:
        with self.path(sha256).open("rb") as fh:
            fh.seek(offset)
            remaining = length
            while remaining is None or remaining > 0:
                data = fh.read(chunk if remaining is None else min(chunk, remaining))
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data


class Upload:
    """One file being received: bytes go to a temp file while the sha256 is computed; `commit` moves it
    into place only if the hash is the declared one."""

    def __init__(self, store: BlobStore, expected_sha256: str, expected_size: int) -> None:
        self.store, self.expected, self.expected_size = store, expected_sha256, expected_size
        fd, name = tempfile.mkstemp(dir=store.root / "tmp")
        self._file = os.fdopen(fd, "wb")
        self._tmp = Path(name)
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        digest = self._hash.hexdigest()
        if digest != self.expected or self.size != self.expected_size:
            self._tmp.unlink(missing_ok=True)
            raise ValueError(f"content does not match its declaration: sha256 {digest}, {self.size} bytes "
                             f"(declared {self.expected}, {self.expected_size} bytes)")
        target = self.store.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, target)  # atomic: a blob is either absent or complete

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self._tmp.unlink(missing_ok=True)
