"""What `lingua hub import-bundled` publishes and what a node's `install = "bundled"` asks for agree; the hub
client's file sources (a file, bytes, parts joined on the fly); scripts/ensure_languages.sh's two cheap paths."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from hub_svc.client import CHUNK, FileSource, blocks_of, describe, sha256_of
from hub_svc.importer import bundled
from lingua.v1 import node_pb2
from lingua_common.model_format import (
    APERTIUM_MANIFEST,
    APERTIUM_PACKAGES,
    ENGINE_APERTIUM,
    ENGINE_CT2_WHISPER,
    WHISPER_BASE_ID,
)
from node_svc.models.manager import BUNDLED_MODEL_IDS, parse_install_list

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "ensure_languages.sh"


def test_install_bundled_names_exactly_what_import_bundled_publishes() -> None:
    assert [b.model.model_id for b in bundled()] == list(BUNDLED_MODEL_IDS)
    assert parse_install_list("bundled, whisper-base, extra") == [*BUNDLED_MODEL_IDS, "extra"]


def test_whisper_base_and_apertium_bundles() -> None:
    bundles = {b.model.model_id: b for b in bundled()}
    whisper = bundles[WHISPER_BASE_ID]
    assert whisper.model.kind == node_pb2.MODEL_KIND_ASR and whisper.model.engine == ENGINE_CT2_WHISPER
    assert whisper.version == "1.0.0" and whisper.model.license == "MIT"
    languages = list(whisper.model.languages)
    assert len(languages) == len(set(languages)) == 99 and languages[:4] == ["en", "zh", "de", "es"]
    assert {"fr", "pt", "ca", "ja", "su"} <= set(languages) and "yue" not in languages  # large-v3 added yue
    assert sorted(whisper.files) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    parts = whisper.files["model.bin"]
    assert isinstance(parts, tuple) and [p.name for p in parts] == ["model.bin.part1", "model.bin.part2"]

    for pkg in APERTIUM_PACKAGES:
        b = bundles[pkg.model_id]
        assert b.model.kind == node_pb2.MODEL_KIND_MT and b.model.engine == ENGINE_APERTIUM
        assert b.version == pkg.version and b.model.license == "GPL-3.0" and pkg.package in b.model.description
        assert [(p.src_lang, p.tgt_lang) for p in b.model.pairs] == pkg.pairs
        content = b.files[APERTIUM_MANIFEST]
        assert list(b.files) == [APERTIUM_MANIFEST] and isinstance(content, bytes)
        assert json.loads(content) == pkg.manifest()


def test_file_sources_describe_and_stream_the_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(os.urandom(CHUNK + 17))
    b.write_bytes(os.urandom(CHUNK // 2))
    joined = a.read_bytes() + b.read_bytes()
    inline = b"x" * (2 * CHUNK + 1)
    files: dict[str, FileSource] = {"whole": a, "joined": (a, b), "inline": inline, "empty": b""}
    declared = {f.path: f for f in describe(files)}
    assert list(declared) == ["empty", "inline", "joined", "whole"]  # sorted, as before
    assert declared["whole"].size == a.stat().st_size and declared["whole"].sha256 == sha256_of(a)
    assert declared["joined"].size == len(joined) and declared["joined"].sha256 == hashlib.sha256(joined).hexdigest()
    assert declared["inline"].sha256 == hashlib.sha256(inline).hexdigest() and declared["empty"].size == 0
    for path, content in (("joined", joined), ("inline", inline), ("whole", a.read_bytes())):
        blocks = list(blocks_of(files[path]))
        assert b"".join(blocks) == content and all(0 < len(x) <= CHUNK for x in blocks)
    assert list(blocks_of(b"")) == []


def _fake_bin(tmp_path: Path, *names: str) -> Path:
    """Commands that log their arguments and succeed, but `apt-get install` (no network, say) fails."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in names:
        fail = '[ "$1" = install ] && exit 100\n' if name == "apt-get" else ""
        (bin_dir / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{tmp_path}/calls"\n{fail}exit 0\n')
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _run_script(tmp_path: Path, bin_dir: Path, modes: Path) -> subprocess.CompletedProcess[str]:
    # /usr/bin is needed (bash, env, python3): hide what the test must control behind the fake bin directory.
    env = {**os.environ, "PATH": f"{bin_dir}:{REPO / '.venv' / 'bin'}:/usr/bin:/bin", "APERTIUM_MODES": str(modes)}
    return subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path)


def test_ensure_languages_is_a_silent_no_op_when_everything_is_there(tmp_path: Path) -> None:
    modes = tmp_path / "modes"
    modes.mkdir()
    for pkg in APERTIUM_PACKAGES:
        for _, _, mode in pkg.modes:
            (modes / f"{mode}.mode").write_text("")
    bin_dir = _fake_bin(tmp_path, "apertium", "espeak-ng", "sox", "apt-get", "sudo")
    done = _run_script(tmp_path, bin_dir, modes)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not (tmp_path / "calls").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="as non-root the script may reach the real apt-get through sudo")
def test_ensure_languages_explains_and_exits_0_when_apt_fails(tmp_path: Path) -> None:
    modes = tmp_path / "modes"
    modes.mkdir()
    (modes / "eng-spa.mode").write_text("")  # the other direction of the pair is missing: still missing
    bin_dir = _fake_bin(tmp_path, "apertium", "espeak-ng", "sox", "apt-get")
    done = _run_script(tmp_path, bin_dir, modes)
    assert done.returncode == 0, done.stderr
    packages = " ".join(pkg.package for pkg in APERTIUM_PACKAGES)
    assert (tmp_path / "calls").read_text().splitlines() == [
        "apt-get update -qq", f"apt-get install -y -qq --no-install-recommends {packages}"]
    assert f"missing Debian packages: {packages}" in done.stderr
    assert "only the phrasebook pairs" in done.stderr and "espeak-ng's own voices" not in done.stderr
