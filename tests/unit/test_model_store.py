"""The node's local model store: atomic registry, rebuild from manifests, versions side by side, ordering,
remove, gc, generation, and the installer's path checks."""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lingua.v1 import common_pb2, hub_pb2, node_pb2
from lingua_common.errors import LinguaError
from node_svc.models import LocalModel, ModelStore, choose_version, default_models_dir, version_key
from node_svc.models.fsutil import FileLock
from node_svc.models.local import MANIFEST_NAME, FileEntry, check_file_list
from node_svc.models.progress import InstallProgress, ProgressTracker


def _install(store: ModelStore, model_id: str, version: str, payload: bytes = b"weights",
             kind: int = node_pb2.MODEL_KIND_MT) -> LocalModel:
    staging = store.partial_dir(model_id, version)
    (staging / "sub").mkdir(parents=True, exist_ok=True)
    (staging / "sub" / "model.bin").write_bytes(payload)
    entry = FileEntry("sub/model.bin", len(payload), hashlib.sha256(payload).hexdigest())
    model = LocalModel(model_id=model_id, version=version, kind=kind, languages=(), pairs=(("en", "fr"),),
                       dialect="", engine="ctranslate2-m2m100", path=staging, files=(entry,),
                       installed_unix_ms=1_700_000_000_000, license="MIT", description="test")
    return store.add(model, staging)


def test_versions_side_by_side_latest_ordering_and_proto(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    assert store.list() == [] and store.generation() == 0 and store.latest("m") is None
    for v in ("1.9.0", "1.10.0", "1.2.0", "1.10.0rc1"):
        _install(store, "m", v, payload=v.encode())
    _install(store, "other", "2")
    assert [m.version for m in store.versions("m")] == ["1.2.0", "1.9.0", "1.10.0rc1", "1.10.0"]
    latest = store.latest("m")
    assert latest is not None and latest.version == "1.10.0"
    assert (latest.path / "sub" / "model.bin").read_bytes() == b"1.10.0"
    assert latest.path == tmp_path / "models" / "m" / "1.10.0" and latest.size_bytes == 6
    assert not (tmp_path / "models" / ".partial" / "m").exists()  # staging moved into place
    proto = latest.to_proto()
    assert proto.state == node_pb2.MODEL_STATE_READY and proto.version == "1.10.0"
    assert [(p.src_lang, p.tgt_lang) for p in proto.pairs] == [("en", "fr")]
    assert proto.kind == node_pb2.MODEL_KIND_MT
    # A second store object (another process) sees the same thing.
    assert [(m.model_id, m.version) for m in ModelStore(tmp_path / "models").list()] == [
        (m.model_id, m.version) for m in store.list()]
    with pytest.raises(FileExistsError):
        _install(store, "m", "1.9.0")
    assert version_key("1.10.0") > version_key("1.9.0") > version_key("1.9.0rc1")
    assert version_key("2024.1.x") > version_key("2023.12.x")  # not PEP 440: numbers compared as ints


def test_registry_is_written_atomically_and_generation_changes(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    g0 = store.generation()
    _install(store, "a", "1.0.0")
    g1 = store.generation()
    other = ModelStore(tmp_path)  # e.g. the CLI while a node runs
    _install(other, "a", "1.1.0")
    g2 = store.generation()  # the first store notices the other's install
    assert len({g0, g1, g2}) == 3
    assert store.get("a", "1.1.0") is not None
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temp file left over
    data = json.loads((tmp_path / "registry.json").read_text())
    assert data["format"] == 1 and data["generation"] == g2 and len(data["models"]) == 2
    store.remove("a", "9.9.9")  # removes nothing: the registry is not rewritten
    assert store.generation() == g2
    store.remove("a", "1.0.0")
    assert other.generation() != g2


@pytest.mark.parametrize("damage", ["missing", "bad-json", "wrong-shape", "bad-entry"])
def test_registry_rebuilt_from_manifests(tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture) -> None:
    store = ModelStore(tmp_path)
    _install(store, "a", "1.0.0")
    _install(store, "a", "1.1.0")
    _install(store, "b", "3")
    before = {(m.model_id, m.version): m for m in store.list()}
    generation = store.generation()
    registry = tmp_path / "registry.json"
    if damage == "missing":
        registry.unlink()
    elif damage == "bad-json":
        registry.write_text('{"format": 1, "generation": ')
    elif damage == "wrong-shape":
        registry.write_text('{"format": 1, "generation": "x", "models": {}}')
    else:
        data = json.loads(registry.read_text())
        data["models"][0]["files"][0]["path"] = "../../etc/passwd"
        registry.write_text(json.dumps(data))
    (tmp_path / "junk").mkdir()  # a directory without manifests is ignored
    fresh = ModelStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="node_svc.models.store"):
        after = {(m.model_id, m.version): m for m in fresh.list()}
    assert after == before
    assert "rebuilt it from 3 installed version(s)" in caplog.text
    assert fresh.generation() != generation
    assert json.loads(registry.read_text())["format"] == 1  # written back
    assert fresh.latest("a") is not None and fresh.latest("a").version == "1.1.0"  # type: ignore[union-attr]


def test_remove_and_gc(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    for v in ("1.0.0", "1.1.0", "1.9.0", "1.10.0"):
        _install(store, "m", v)
    _install(store, "solo", "1")
    removed = store.gc(in_use={("m", "1.1.0")})
    assert [(m.model_id, m.version) for m in removed] == [("m", "1.0.0"), ("m", "1.9.0")]
    assert [(m.model_id, m.version) for m in store.list()] == [("m", "1.1.0"), ("m", "1.10.0"), ("solo", "1")]
    assert not (tmp_path / "m" / "1.0.0").exists() and (tmp_path / "m" / "1.1.0").is_dir()
    assert store.gc(in_use={("m", "1.1.0")}) == []
    assert [m.version for m in store.remove("m", "1.10.0")] == ["1.10.0"]
    assert store.latest("m").version == "1.1.0"  # type: ignore[union-attr]
    assert [m.version for m in store.remove("m")] == ["1.1.0"]
    assert not (tmp_path / "m").exists()
    assert store.remove("m") == []
    assert not any((tmp_path / ".trash").iterdir())


def test_unregistered_version_dir_is_adopted_and_partials_cleared(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    model = _install(store, "a", "1.0.0")
    # As if a crash came between the rename and the registry write: the directory is complete.
    (tmp_path / "registry.json").write_text(json.dumps({"format": 1, "generation": 5, "models": []}))
    assert store.get("a", "1.0.0") is None
    adopted = store.adopt("a", "1.0.0")
    assert adopted is not None and adopted.files == model.files and store.generation() == 6
    assert store.adopt("a", "2.0.0") is None
    partial = store.partial_dir("b", "1")
    partial.mkdir(parents=True)
    (partial / "x.bin").write_bytes(b"12345")
    assert store.partials() == [("b", "1", 5)]
    assert store.clear_partials("b") == 5 and store.partials() == []


def test_default_models_dir() -> None:
    assert default_models_dir({"LINGUA_NODE_MODELS_DIR": "/srv/m"}) == Path("/srv/m")
    assert default_models_dir({"XDG_DATA_HOME": "/x"}) == Path("/x/lingua/models")
    assert default_models_dir({}) == Path.home() / ".local" / "share" / "lingua" / "models"


def test_names_and_paths_are_checked(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    for bad_id in ("..", "../x", "A", ".hidden", "a/b", ""):
        with pytest.raises(ValueError):
            store.partial_dir(bad_id, "1.0")
    with pytest.raises(ValueError):
        store.version_dir("ok", "../1")
    for bad_path in ("../x", "/etc/passwd", "a/../../x", "a//b", "./a", "a\\b", MANIFEST_NAME, ""):
        with pytest.raises(LinguaError) as err:
            check_file_list([FileEntry(bad_path, 1, "0" * 64)])
        assert err.value.code == common_pb2.MODEL_VERIFY_FAILED
    with pytest.raises(LinguaError):  # a file that is also a directory
        check_file_list([FileEntry("a", 1, "0" * 64), FileEntry("a/b", 1, "0" * 64)])
    check_file_list([FileEntry("a/b.bin", 1, "0" * 64), FileEntry(".hidden/c", 1, "0" * 64)])


def test_choose_version_prefers_newest_stable() -> None:
    s, b, d = hub_pb2.VERSION_STATUS_STABLE, hub_pb2.VERSION_STATUS_BETA, hub_pb2.VERSION_STATUS_DEPRECATED
    model = hub_pb2.Model(model_id="m", versions=[hub_pb2.ModelVersion(version=v, status=st) for v, st in (
        ("1.9.0", s), ("1.10.0", s), ("2.0.0", b), ("3.0.0", d))])
    assert choose_version(model).version == "1.10.0"
    assert choose_version(model, "3.0.0").version == "3.0.0"  # explicitly asked for: allowed
    only_beta = hub_pb2.Model(model_id="m", versions=[hub_pb2.ModelVersion(version="0.1", status=b)])
    assert choose_version(only_beta).version == "0.1"
    with pytest.raises(LinguaError) as err:
        choose_version(model, "4.0.0")
    assert err.value.code == common_pb2.MODEL_NOT_AVAILABLE


HOLD_LOCK = """
import fcntl, sys
fh = open(sys.argv[1], "a")
fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_file_lock_excludes_threads_and_can_be_abandoned(tmp_path: Path) -> None:
    lock_path = tmp_path / ".locks" / "m.lock"
    first = FileLock(lock_path)
    assert first.acquire()
    second = FileLock(lock_path)
    stop = threading.Event()
    stop.set()
    assert not second.acquire(cancelled=stop.is_set)  # held elsewhere: gives up when told to
    got: list[bool] = []

    def wait_then_release() -> None:
        lock = FileLock(lock_path)
        got.append(lock.acquire())
        lock.release()

    waiter = threading.Thread(target=wait_then_release)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got
    first.release()
    waiter.join(5)
    assert got == [True]
    # Another process holding the flock blocks us too.
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(lock_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        deadline = time.monotonic() + 0.3
        assert not FileLock(lock_path).acquire(cancelled=lambda: time.monotonic() > deadline)
    finally:
        holder.communicate(b"")
    mine = FileLock(lock_path)
    assert mine.acquire()
    mine.release()


def test_progress_is_rate_limited_with_a_final_report() -> None:
    now = [0.0]
    seen: list[InstallProgress] = []
    tracker = ProgressTracker("m", "1", total_bytes=1000, files_total=2, callback=seen.append, interval_s=0.1,
                              clock=lambda: now[0])
    tracker.on_disk(200)  # resumed
    for _ in range(8):
        now[0] += 0.01
        tracker.fetched(100)
    assert len(seen) == 1  # the first update, then nothing within 0.1 s
    now[0] += 0.2
    tracker.file_done()
    assert len(seen) == 2 and seen[-1].state == "verifying" and seen[-1].done_bytes == 1000
    assert seen[-1].fetched_bytes == 800 and seen[-1].bytes_per_s > 0
    final = tracker.finish("done")
    assert seen[-1] == final and final.state == "done" and final.eta_s == 0.0
    tracker.fetched(1)
    now[0] += 1
    tracker.tick()
    assert seen[-1] == final  # nothing after the final report
