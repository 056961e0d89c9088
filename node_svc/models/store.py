"""The node's local model store.

Layout under `root`:

    registry.json                     every installed version (written atomically; a generation counter)
    <model_id>/<version>/...          the model's files and .lingua_manifest.json (the hub's metadata)
    .partial/<model_id>/<version>/    downloads in progress (kept for resume)
    .locks/<model_id>.lock            one install of a model at a time, across processes
    .trash/                           versions being deleted

A version directory appears only by an atomic rename of a fully verified staging directory. The registry
is a cache of the manifests: when it is missing or corrupt it is rebuilt from them.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from node_svc.models.fsutil import FileLock, atomic_write_json, fsync_dir
from node_svc.models.local import MANIFEST_NAME, LocalModel, check_model_id, check_version, version_key

log = logging.getLogger(__name__)

REGISTRY_NAME = "registry.json"
REGISTRY_FORMAT = 1
T = TypeVar("T")
Key = tuple[str, str]


def default_models_dir(env: Mapping[str, str] | None = None) -> Path:
    """$LINGUA_NODE_MODELS_DIR, else $XDG_DATA_HOME/lingua/models, else ~/.local/share/lingua/models."""
    env = os.environ if env is None else env
    if env.get("LINGUA_NODE_MODELS_DIR"):
        return Path(env["LINGUA_NODE_MODELS_DIR"]).expanduser()
    base = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return base / "lingua" / "models"


@dataclass(frozen=True)
class _Registry:
    generation: int
    models: dict[Key, LocalModel]


class ModelStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.registry_path = self.root / REGISTRY_NAME
        self._lock = threading.Lock()
        self._cache: tuple[tuple[int, int, int], _Registry] | None = None

    # -- paths ------------------------------------------------------------------------------------------

    def version_dir(self, model_id: str, version: str) -> Path:
        return self.root / check_model_id(model_id) / check_version(version)

    def partial_dir(self, model_id: str, version: str) -> Path:
        return self.root / ".partial" / check_model_id(model_id) / check_version(version)

    def lock_path(self, model_id: str) -> Path:
        return self.root / ".locks" / f"{check_model_id(model_id)}.lock"

    # -- reading ----------------------------------------------------------------------------------------

    def list(self) -> builtins.list[LocalModel]:
        """Every installed version, by model id, oldest version first."""
        return sorted(self._read().models.values(), key=lambda m: (m.model_id, version_key(m.version)))

    def versions(self, model_id: str) -> builtins.list[LocalModel]:
        return [m for m in self.list() if m.model_id == model_id]

    def get(self, model_id: str, version: str) -> LocalModel | None:
        return self._read().models.get((model_id, version))

    def latest(self, model_id: str) -> LocalModel | None:
        versions = self.versions(model_id)
        return versions[-1] if versions else None

    def generation(self) -> int:
        """Changes with every change of the registry (by this process or another): compare for inequality."""
        return self._read().generation

    def partials(self) -> builtins.list[tuple[str, str, int]]:
        """Unfinished downloads: (model_id, version, bytes on disk)."""
        out = []
        base = self.root / ".partial"
        for model_dir in sorted(base.iterdir()) if base.is_dir() else []:
            for version_dir in sorted(model_dir.iterdir()) if model_dir.is_dir() else []:
                size = sum(p.stat().st_size for p in version_dir.rglob("*") if p.is_file())
                out.append((model_dir.name, version_dir.name, size))
        return out

    # -- writing ----------------------------------------------------------------------------------------

    def add(self, model: LocalModel, staging: Path | None = None) -> LocalModel:
        """Register a finished version. With `staging` (a directory of verified files), write the manifest
        into it and rename it into place first; without, the version directory must already hold them."""
        target = self.version_dir(model.model_id, model.version)
        model = replace(model, path=target)
        if staging is not None:
            if self.get(model.model_id, model.version) is not None:
                raise FileExistsError(f"{model.model_id} {model.version} is already installed")
            atomic_write_json(staging / MANIFEST_NAME, model.to_manifest())
            if not self.registry_path.exists():  # a fresh store: write it empty first, else the version
                self._mutate(lambda models: (None, True))  # renamed in below would look like a lost registry
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():  # an unregistered leftover (e.g. a crash between rename and registry write)
                self._trash(target)
            os.rename(staging, target)
            fsync_dir(target.parent)
            self._prune_empty(staging.parent, self.root / ".partial")
        elif not (target / MANIFEST_NAME).is_file():
            raise FileNotFoundError(f"{target} has no {MANIFEST_NAME}")

        def put(models: dict[Key, LocalModel]) -> tuple[LocalModel, bool]:
            models[(model.model_id, model.version)] = model
            return model, True

        return self._mutate(put)

    def adopt(self, model_id: str, version: str) -> LocalModel | None:
        """Register a complete version directory the registry does not know (None when there is none)."""
        target = self.version_dir(model_id, version)
        try:
            model = LocalModel.from_manifest(json.loads((target / MANIFEST_NAME).read_bytes()), self.root)
        except (OSError, ValueError):
            return None
        if (model.model_id, model.version) != (model_id, version):
            return None
        return self.add(model)

    def remove(self, model_id: str, version: str | None = None) -> builtins.list[LocalModel]:
        """Unregister and delete one version, or every version when `version` is None."""

        def drop(models: dict[Key, LocalModel]) -> tuple[builtins.list[LocalModel], bool]:
            victims = [m for (mid, ver), m in models.items() if mid == model_id and version in (None, ver)]
            return self._drop(models, victims)

        return self._delete(self._mutate(drop))

    def gc(self, in_use: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset()
           ) -> builtins.list[LocalModel]:
        """Delete every version that is neither the latest of its model nor in `in_use` ((model_id, version))."""

        def collect(models: dict[Key, LocalModel]) -> tuple[builtins.list[LocalModel], bool]:
            latest: dict[str, LocalModel] = {}
            for m in models.values():
                if m.model_id not in latest or version_key(m.version) > version_key(latest[m.model_id].version):
                    latest[m.model_id] = m
            victims = [m for key, m in models.items() if key not in in_use and latest[m.model_id] is not m]
            return self._drop(models, victims)

        return self._delete(self._mutate(collect))

    def discard_partial(self, model_id: str, version: str) -> None:
        """Delete what an unfinished download of one version left (while holding the model's install lock)."""
        self._trash(self.partial_dir(model_id, version))
        self._prune_empty(self.root / ".partial" / model_id, self.root / ".partial")

    def clear_partials(self, model_id: str | None = None) -> int:
        """Delete unfinished downloads (of one model, or all); returns the bytes freed. Do not call while an
        install of that model is running."""
        freed = 0
        for mid, version, size in self.partials():
            if model_id in (None, mid):
                self._trash(self.partial_dir(mid, version))
                self._prune_empty(self.root / ".partial" / mid, self.root / ".partial")
                freed += size
        return freed

    def rebuild(self) -> builtins.list[LocalModel]:
        """Rewrite the registry from the version directories' manifests."""
        with FileLock(self.root / ".registry.lock"):
            found = self._scan()
            self._write(_Registry(self._fresh_generation(), found))
        return self.list()

    # -- internals ----------------------------------------------------------------------------------------

    @staticmethod
    def _drop(models: dict[Key, LocalModel], victims: builtins.list[LocalModel]
              ) -> tuple[builtins.list[LocalModel], bool]:
        for m in victims:
            del models[(m.model_id, m.version)]
        return sorted(victims, key=lambda m: (m.model_id, version_key(m.version))), bool(victims)

    def _delete(self, victims: builtins.list[LocalModel]) -> builtins.list[LocalModel]:
        for m in victims:  # already unregistered: a crash here leaves at most an unregistered directory
            self._trash(m.path)
            self._prune_empty(m.path.parent, self.root)
        return victims

    def _read(self) -> _Registry:
        with self._lock:
            try:
                st = os.stat(self.registry_path)
            except FileNotFoundError:
                if not self._scan():
                    return _Registry(0, {})  # a fresh store: nothing installed, nothing to rebuild
                problem = "is missing"
            else:
                sig = (st.st_ino, st.st_mtime_ns, st.st_size)
                if self._cache is not None and self._cache[0] == sig:
                    return self._cache[1]
                try:
                    registry = self._parse(self.registry_path.read_bytes())
                except (OSError, ValueError) as exc:
                    problem = f"is unreadable ({exc})"
                else:
                    self._cache = (sig, registry)
                    return registry
        return self._rebuild_if_broken(problem)

    def _mutate(self, change: Callable[[dict[Key, LocalModel]], tuple[T, bool]]) -> T:
        """Apply `change` to the registry read fresh from disk, under the registry lock, and write it (next
        generation) when `change` says it changed something."""
        with FileLock(self.root / ".registry.lock"):
            current = self._load_locked("")
            models = dict(current.models)
            result, changed = change(models)
            if changed:
                self._write(_Registry(current.generation + 1, models))
        return result

    def _rebuild_if_broken(self, problem: str) -> _Registry:
        with FileLock(self.root / ".registry.lock"):
            return self._load_locked(problem)

    def _load_locked(self, problem: str) -> _Registry:
        """The registry on disk; rebuilt from the manifests (and written) when missing or unreadable."""
        try:
            return self._parse(self.registry_path.read_bytes())
        except (OSError, ValueError) as exc:
            found = self._scan()
            missing = isinstance(exc, FileNotFoundError)
            if missing and not found:
                return _Registry(0, {})
            log.warning("model registry %s %s; rebuilt it from %d installed version(s)",
                        self.registry_path, problem or ("is missing" if missing else f"is unreadable ({exc})"),
                        len(found))
            registry = _Registry(self._fresh_generation(), found)
            self._write(registry)
            return registry

    def _write(self, registry: _Registry) -> None:
        models = sorted(registry.models.values(), key=lambda m: (m.model_id, version_key(m.version)))
        atomic_write_json(self.registry_path, {"format": REGISTRY_FORMAT, "generation": registry.generation,
                                               "models": [m.to_manifest() for m in models]})
        st = os.stat(self.registry_path)
        with self._lock:
            self._cache = ((st.st_ino, st.st_mtime_ns, st.st_size), registry)

    def _parse(self, raw: bytes) -> _Registry:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != REGISTRY_FORMAT:
            raise ValueError(f"not a format-{REGISTRY_FORMAT} registry")
        generation, entries = data.get("generation"), data.get("models")
        if not isinstance(generation, int) or isinstance(generation, bool) or not isinstance(entries, list):
            raise ValueError("`generation` must be an integer and `models` a list")
        models = {}
        for entry in entries:
            m = LocalModel.from_manifest(entry, self.root)
            models[(m.model_id, m.version)] = m
        return _Registry(generation, models)

    def _scan(self) -> dict[Key, LocalModel]:
        """Every version directory with a valid manifest."""
        found: dict[Key, LocalModel] = {}
        if not self.root.is_dir():
            return found
        for manifest in sorted(self.root.glob(f"*/*/{MANIFEST_NAME}")):
            version_dir = manifest.parent
            if version_dir.parent.name.startswith("."):
                continue
            try:
                m = LocalModel.from_manifest(json.loads(manifest.read_bytes()), self.root)
            except (OSError, ValueError) as exc:
                log.warning("ignoring %s: %s", manifest, exc)
                continue
            if m.path != version_dir:
                log.warning("ignoring %s: it describes %s %s", manifest, m.model_id, m.version)
                continue
            found[(m.model_id, m.version)] = m
        return found

    @staticmethod
    def _fresh_generation() -> int:
        # After a rebuild the old counter is unknown: a clock value differs from any counter a reader holds.
        return time.time_ns() // 1_000_000

    def _trash(self, path: Path) -> None:
        trash = self.root / ".trash"
        trash.mkdir(parents=True, exist_ok=True)
        target = trash / uuid.uuid4().hex
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return
        shutil.rmtree(target, ignore_errors=True)

    @staticmethod
    def _prune_empty(directory: Path, stop: Path) -> None:
        while directory != stop and stop in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent
