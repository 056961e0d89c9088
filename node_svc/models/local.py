"""An installed model version as the node sees it, its on-disk manifest, names that are safe on disk, and
version ordering."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from lingua.v1 import common_pb2, node_pb2
from lingua_common.errors import LinguaError

# Written inside every installed version directory; a hub file may not use this name.
MANIFEST_NAME = ".lingua_manifest.json"
MANIFEST_FORMAT = 1

# The hub's own rules (hub_svc/catalog.py): neither can be "..", start with a dot or contain a slash.
MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$")


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative POSIX path inside the version directory
    size: int
    sha256: str


@dataclass(frozen=True)
class LocalModel:
    model_id: str
    version: str
    kind: int  # node_pb2.ModelKind
    languages: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]
    dialect: str
    engine: str
    path: Path  # the version directory
    files: tuple[FileEntry, ...]
    installed_unix_ms: int
    license: str = ""
    description: str = ""
    size_bytes: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "size_bytes", sum(f.size for f in self.files))

    @property
    def kind_name(self) -> str:
        return node_pb2.ModelKind.Name(self.kind).removeprefix("MODEL_KIND_").lower()  # type: ignore[arg-type]

    def to_proto(self) -> node_pb2.InstalledModel:
        return node_pb2.InstalledModel(
            model_id=self.model_id, kind=self.kind, languages=list(self.languages),  # type: ignore[arg-type]
            pairs=[common_pb2.LanguagePair(src_lang=a, tgt_lang=b) for a, b in self.pairs],
            dialect=self.dialect, version=self.version, state=node_pb2.MODEL_STATE_READY)

    def to_manifest(self) -> dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "model_id": self.model_id, "version": self.version, "kind": self.kind,
                "languages": list(self.languages), "pairs": [list(p) for p in self.pairs],
                "dialect": self.dialect, "engine": self.engine, "license": self.license,
                "description": self.description, "installed_unix_ms": self.installed_unix_ms,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files]}

    @classmethod
    def from_manifest(cls, data: Any, root: Path) -> LocalModel:
        """Parse a manifest (raises ValueError on any wrong shape); `path` is root/<model_id>/<version>."""
        if not isinstance(data, dict):
            raise ValueError("a manifest is a JSON object")
        model_id, version = check_model_id(_str(data, "model_id")), check_version(_str(data, "version"))
        files = data.get("files")
        if not isinstance(files, list) or not files:
            raise ValueError("manifest `files` must be a non-empty list")
        pairs = data.get("pairs", [])
        if not isinstance(pairs, list) or not all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs):
            raise ValueError("manifest `pairs` must be [[src, tgt], ...]")
        return cls(model_id=model_id, version=version, kind=_int(data, "kind"),
                   languages=tuple(_str_list(data, "languages")), pairs=tuple((p[0], p[1]) for p in pairs),
                   dialect=_str(data, "dialect", ""), engine=_str(data, "engine", ""),
                   license=_str(data, "license", ""), description=_str(data, "description", ""),
                   path=root / model_id / version, installed_unix_ms=_int(data, "installed_unix_ms"),
                   files=tuple(FileEntry(safe_relative_path(_str(f, "path")), _int(f, "size"), _sha(f))
                               for f in files))


def _str(data: Any, key: str, default: str | None = None) -> str:
    value = data.get(key, default) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise ValueError(f"`{key}` must be a string")
    return value


def _int(data: Any, key: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"`{key}` must be a non-negative integer")
    return value


def _str_list(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f"`{key}` must be a list of strings")
    return value


def _sha(data: Any) -> str:
    value = _str(data, "sha256")
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError("`sha256` must be 64 lower-case hex characters")
    return value


def check_model_id(model_id: str) -> str:
    if not MODEL_ID.match(model_id):
        raise ValueError(f"model id {model_id!r}: use [a-z0-9._-], starting with a letter or digit")
    return model_id


def check_version(version: str) -> str:
    if not VERSION.match(version):
        raise ValueError(f"version {version!r} is not a version")
    return version


def safe_relative_path(path: str) -> str:
    """`path` if it is a plain relative POSIX path that stays inside its directory; ValueError otherwise."""
    p = PurePosixPath(path)
    if (not path or "\\" in path or "\x00" in path or p.is_absolute() or str(p) != path
            or any(part in ("", ".", "..") for part in path.split("/"))):
        raise ValueError(f"file path {path!r} must be relative, without '..' or '.' components")
    if path == MANIFEST_NAME:
        raise ValueError(f"file path {path!r} is reserved for the node's manifest")
    return path


def check_file_list(files: list[FileEntry]) -> None:
    """Every path safe, no duplicates, no file that is also a directory of another: LinguaError otherwise."""
    try:
        paths = [safe_relative_path(f.path) for f in files]
    except ValueError as exc:
        raise LinguaError(common_pb2.MODEL_VERIFY_FAILED, f"refusing the hub's file list: {exc}") from None
    if len(set(paths)) != len(paths):
        raise LinguaError(common_pb2.MODEL_VERIFY_FAILED, "refusing the hub's file list: a path appears twice")
    dirs = {str(parent) for p in paths for parent in PurePosixPath(p).parents}
    if clash := dirs.intersection(paths):
        raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                          f"refusing the hub's file list: {sorted(clash)[0]!r} is both a file and a directory")


def version_key(version: str) -> tuple[int, Any, str]:
    """Sort key: PEP 440 ordering where the version parses (1.10.0 > 1.9.0, 1.0.0rc1 < 1.0.0), else the
    tuple of its numbers. Parsed versions sort after unparsable ones."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging comes with onnxruntime and pytest
        pass
    else:
        try:
            return (1, Version(version), version)
        except InvalidVersion:
            pass
    return (0, tuple(int(n) for n in re.findall(r"\d+", version)), version)
