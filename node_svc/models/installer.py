"""Install a model version from the hub into the local store: one install of a model at a time (threads and
processes), files in parallel, resumable, verified, then registered all at once."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from lingua.v1 import common_pb2, hub_pb2
from lingua_common.errors import LinguaError
from node_svc.models.fetch import CallWatch, FetchContext, FileFetch, Stopped
from node_svc.models.fsutil import FileLock
from node_svc.models.hubsource import HubApi, HubSource, is_transient, lingua_error
from node_svc.models.local import FileEntry, LocalModel, check_file_list, check_model_id, check_version, version_key
from node_svc.models.progress import InstallProgress, ProgressCallback, ProgressTracker
from node_svc.models.store import ModelStore
from node_svc.models.trust import ModelTrust, TrustedVersion

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class InstallResult:
    model: LocalModel
    fetched_bytes: int  # over the network by this install
    resumed_bytes: int  # already on disk from an interrupted install
    retries: int  # network failures retried
    already_installed: bool
    seconds: float


@dataclass
class _Job:
    model_id: str
    stop: threading.Event = field(default_factory=threading.Event)
    cancelled: bool = False
    tracker: ProgressTracker | None = None
    watch: CallWatch | None = None
    retries: int = 0


def choose_version(model: hub_pb2.Model, version: str = "") -> hub_pb2.ModelVersion:
    """`version` itself, or the newest version that is not deprecated, stable ones first."""
    if version:
        for v in model.versions:
            if v.version == version:
                if v.status == hub_pb2.VERSION_STATUS_DEPRECATED:
                    log.warning("installing %s %s although the hub marks it deprecated", model.model_id, version)
                return v
        have = ", ".join(sorted((v.version for v in model.versions), key=version_key)) or "none"
        raise LinguaError(common_pb2.MODEL_NOT_AVAILABLE,
                          f"the hub has no version {version!r} of {model.model_id} (it has: {have})")
    live = [v for v in model.versions if v.status != hub_pb2.VERSION_STATUS_DEPRECATED]
    stable = [v for v in live if v.status in (hub_pb2.VERSION_STATUS_STABLE, hub_pb2.VERSION_STATUS_UNSPECIFIED)]
    if not live:
        raise LinguaError(common_pb2.MODEL_NOT_AVAILABLE, f"every version of {model.model_id} is deprecated")
    return max(stable or live, key=lambda v: version_key(v.version))


class ModelInstaller:
    def __init__(self, store: ModelStore, hub_address: str, token: str = "", parallel_files: int = 3,
                 retries: int = 4, backoff_s: float = 0.5, *, trust: ModelTrust, stall_timeout_s: float = 60.0,
                 progress_interval_s: float = 0.1,
                 source_factory: Callable[[], HubApi] | None = None) -> None:
        """`trust` decides which versions may be installed (node_svc/models/trust.py: signed by a trusted key)."""
        self.store, self.hub_address, self.trust = store, hub_address, trust
        self.parallel_files, self.retries, self.backoff_s = max(1, parallel_files), retries, backoff_s
        self.stall_timeout_s, self.progress_interval_s = stall_timeout_s, progress_interval_s
        self._new_source = source_factory or (lambda: HubSource(hub_address, token))
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []

    def install(self, model_id: str, version: str = "", progress: ProgressCallback | None = None) -> LocalModel:
        return self.install_detailed(model_id, version, progress).model

    def active(self) -> list[InstallProgress]:
        """Installs downloading or verifying right now."""
        with self._lock:
            trackers = [job.tracker for job in self._jobs if job.tracker is not None]
        return [t.snapshot() for t in trackers]

    def cancel(self, model_id: str) -> bool:
        """Stop the installs of `model_id` (their partial files stay, for resume); they raise JOB_CANCELLED."""
        with self._lock:
            jobs = [job for job in self._jobs if job.model_id == model_id]
        for job in jobs:
            job.cancelled = True
            job.stop.set()
            if job.watch is not None:
                job.watch.cancel_all()
        return bool(jobs)

    def install_detailed(self, model_id: str, version: str = "",
                         progress: ProgressCallback | None = None) -> InstallResult:
        started = time.monotonic()
        try:
            check_model_id(model_id)
            if version:
                check_version(version)
        except ValueError as exc:
            raise LinguaError(common_pb2.INVALID_MESSAGE, str(exc)) from None
        if version and (done := self.store.get(model_id, version)) is not None:
            return InstallResult(done, 0, 0, 0, True, 0.0)
        job = _Job(model_id)
        with self._lock:
            self._jobs.append(job)
        lock = FileLock(self.store.lock_path(model_id))
        try:
            if not lock.acquire(cancelled=job.stop.is_set):
                raise self._cancelled(job, f"install of {model_id} cancelled while waiting for another install")
            try:
                return self._install_locked(job, model_id, version, progress, started)
            finally:
                lock.release()
        finally:
            with self._lock:
                self._jobs.remove(job)

    def _install_locked(self, job: _Job, model_id: str, version: str, progress: ProgressCallback | None,
                        started: float) -> InstallResult:
        if version and (found := self.store.get(model_id, version) or self.store.adopt(model_id, version)):
            return InstallResult(found, 0, 0, 0, True, time.monotonic() - started)
        first = source = self._new_source()
        try:
            model, source = self._get_model(job, first, model_id)
            chosen = choose_version(model, version)
            if found := self.store.get(model_id, chosen.version) or self.store.adopt(model_id, chosen.version):
                return InstallResult(found, 0, 0, job.retries, True, time.monotonic() - started)
            if model.model_id != model_id or not chosen.files:
                raise LinguaError(common_pb2.MODEL_VERIFY_FAILED,
                                  f"the hub answered {model.model_id!r} {chosen.version} with {len(chosen.files)} "
                                  f"files when asked for {model_id!r}")
            try:  # the signed manifest, or nothing: what an earlier try left of a refused version goes too
                trusted = self.trust.check(model, chosen)
            except LinguaError:
                self.store.discard_partial(model_id, chosen.version)
                raise
            check_file_list(trusted.files)  # before anything is written
            return self._download(job, model, chosen, trusted, source, progress, started)
        finally:
            source.close()
            if source is not first:
                first.close()

    def _download(self, job: _Job, model: hub_pb2.Model, chosen: hub_pb2.ModelVersion, trusted: TrustedVersion,
                  source: HubApi, progress: ProgressCallback | None, started: float) -> InstallResult:
        files: list[FileEntry] = trusted.files
        staging = self.store.partial_dir(model.model_id, chosen.version)
        staging.mkdir(parents=True, exist_ok=True)
        tracker = ProgressTracker(model.model_id, chosen.version, sum(f.size for f in files), len(files),
                                  progress, interval_s=self.progress_interval_s)
        watch = CallWatch(self.stall_timeout_s)
        job.tracker, job.watch = tracker, watch
        if job.stop.is_set():  # cancelled before the watch existed
            watch.cancel_all()
        ctx = FetchContext(model.model_id, chosen.version, staging, source, self._new_source, tracker, watch,
                           job.stop, retries=self.retries, backoff_s=self.backoff_s)
        ticking = threading.Event()
        ticker = threading.Thread(target=self._tick, args=(ticking, watch, tracker), daemon=True,
                                  name=f"install-{model.model_id}")
        ticker.start()
        try:
            self._fetch_all(job, ctx, files)
            for stray in [p for p in staging.rglob("*") if p.is_file()]:
                if stray.relative_to(staging).as_posix() not in {f.path for f in files}:
                    stray.unlink()
            local = LocalModel(
                model_id=model.model_id, version=chosen.version, kind=trusted.kind, languages=trusted.languages,
                pairs=trusted.pairs, dialect=trusted.dialect,
                engine=trusted.engine, license=model.license, description=model.description, path=staging,
                files=tuple(files), installed_unix_ms=int(time.time() * 1000))
            local = self.store.add(local, staging)
        except BaseException as exc:
            cancelled = isinstance(exc, LinguaError) and exc.code == common_pb2.JOB_CANCELLED
            tracker.finish("cancelled" if cancelled else "failed", str(exc) or type(exc).__name__)
            raise
        finally:
            ticking.set()
            ticker.join()
        final = tracker.finish("done")
        log.info("installed %s %s (%s): %d bytes fetched, %d resumed, %d retries", local.model_id, local.version,
                 f"signed by key {trusted.key_id}" if trusted.key_id else "UNVERIFIED", final.fetched_bytes,
                 final.done_bytes - final.fetched_bytes, ctx.retries_done + job.retries)
        return InstallResult(local, final.fetched_bytes, final.done_bytes - final.fetched_bytes,
                             ctx.retries_done + job.retries, False, time.monotonic() - started)

    def _fetch_all(self, job: _Job, ctx: FetchContext, files: list[FileEntry]) -> None:
        error: BaseException | None = None
        with ThreadPoolExecutor(max_workers=min(self.parallel_files, len(files)),
                                thread_name_prefix=f"fetch-{ctx.model_id}") as pool:
            pending: set[Future[int]] = {pool.submit(FileFetch(ctx, f).run) for f in files}
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        exc = future.exception()
                        if exc is not None and not isinstance(exc, Stopped) and error is None:
                            error = exc
                            job.stop.set()  # the other files stop too; what they have stays for resume
                            ctx.watch.cancel_all()
            except BaseException:  # e.g. KeyboardInterrupt in the thread that waits
                job.stop.set()
                ctx.watch.cancel_all()
                raise
        if job.cancelled:
            raise self._cancelled(job, f"install of {ctx.model_id} {ctx.version} cancelled; "
                                       f"{ctx.tracker.snapshot().done_bytes} bytes kept in {ctx.staging} for resume")
        if error is not None:
            raise error
        if job.stop.is_set():
            raise self._cancelled(job, f"install of {ctx.model_id} {ctx.version} stopped")

    def _get_model(self, job: _Job, source: HubApi, model_id: str) -> tuple[hub_pb2.Model, HubApi]:
        """The hub's catalog entry, retrying network failures (each retry on a fresh connection)."""
        failures, first = 0, source
        try:
            while True:
                try:
                    return source.get_model(model_id), source
                except grpc.RpcError as exc:
                    if not is_transient(exc) or failures >= self.retries:
                        raise lingua_error(exc, f"asking the hub at {self.hub_address} for {model_id}") from None
                    failures += 1
                    job.retries += 1
                    if job.stop.wait(min(30.0, self.backoff_s * 2 ** (failures - 1)) * random.uniform(0.5, 1.0)):
                        raise self._cancelled(job, f"install of {model_id} cancelled") from None
                    if source is not first:
                        source.close()
                    source = self._new_source()
        except BaseException:
            if source is not first:  # the caller closes `first`
                source.close()
            raise

    @staticmethod
    def _cancelled(job: _Job, message: str) -> LinguaError:
        return LinguaError(common_pb2.JOB_CANCELLED, message)

    def _tick(self, ticking: threading.Event, watch: CallWatch, tracker: ProgressTracker) -> None:
        """Cancel stalled streams (they are retried) and keep reporting while bytes do not flow."""
        while not ticking.wait(0.25):
            watch.cancel_stalled()
            tracker.tick()
