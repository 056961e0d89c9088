"""Rule-based machine translation with Apertium, one long-lived pipeline per translation direction.

An Apertium "mode" (e.g. /usr/share/apertium/modes/eng-spa.mode) is a shell pipeline of ~11 programs
(morphological analyser, tagger, transfer stages, generator). Starting it costs ~0.2 s, so each direction
runs once, in null-flush mode (`-z` on every program): a block of text ended by a NUL byte goes in, its
translation ended by a NUL byte comes out, and the programs stay up for the next block.

Text is passed in Apertium's stream format: reserved characters are backslash-escaped and the block ends
with a superblank (`[][\\n]`), without which the analyser holds back the last word waiting for more input.
Apertium marks words it could not handle: `*` unknown to the analyser, `@` missing from the bilingual
dictionary, `#` not generated in the target language. The marks are removed from the text and counted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import select
import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from lingua_common.model_format import APERTIUM_MANIFEST, ENGINE_APERTIUM

log = logging.getLogger(__name__)

# Where Debian (and a source install) put the modes; LINGUA_APERTIUM_MODES overrides (a path list).
_MODE_DIRS: Final = ("/usr/share/apertium/modes", "/usr/local/share/apertium/modes")
_RESERVED: Final = re.compile(r"([\^$@*/<>{}\[\]\\#])")
# An unescaped superblank "[...]" (formatting Apertium carries through; nothing to show a user).
_SUPERBLANK: Final = re.compile(r"(?<!\\)\[(?:\\.|[^\]\\])*\]")
# A mark at the start of a word, not escaped: *unknown @untranslated #ungenerated.
_MARK: Final = re.compile(r"(?<![\\\w])([*@#])(?=\w)")
_ESCAPED: Final = re.compile(r"\\(.)")
_MAX_BLOCK_CHARS: Final = 10_000  # one block is one utterance's sentences; far more is a bug upstream
_READ_TIMEOUT_S: Final = 20.0
_DEATH_WAIT_S: Final = 1.0


class ApertiumUnavailable(RuntimeError):
    """The Debian package that provides a mode is not installed here."""

    def __init__(self, message: str, package: str) -> None:
        super().__init__(message)
        self.package = package


class ApertiumFailed(RuntimeError):
    """A pipeline died or stopped answering (it is restarted for the next call)."""


@dataclass
class Marks:
    unknown: int = 0  # *
    untranslated: int = 0  # @
    generation_gaps: int = 0  # #

    def add(self, other: Marks) -> None:
        self.unknown += other.unknown
        self.untranslated += other.untranslated
        self.generation_gaps += other.generation_gaps

    @property
    def total(self) -> int:
        return self.unknown + self.untranslated + self.generation_gaps


def mode_dirs() -> list[Path]:
    override = os.environ.get("LINGUA_APERTIUM_MODES", "")
    return [Path(p) for p in override.split(os.pathsep) if p] if override else [Path(d) for d in _MODE_DIRS]


def find_mode(mode: str) -> Path | None:
    """The .mode file of `mode` (e.g. "eng-spa"), or None when no installed package provides it."""
    if not re.fullmatch(r"[a-z]{2,3}(?:_[A-Za-z0-9]+)?-[a-z]{2,3}(?:_[A-Za-z0-9]+)?", mode):
        return None
    for directory in mode_dirs():
        path = directory / f"{mode}.mode"
        if path.is_file():
            return path
    return None


def parse_mode(path: Path) -> list[list[str]]:
    """The programs of a mode file, each with `-z` added so that it flushes at every NUL byte."""
    commands = []
    for stage in path.read_text(encoding="utf-8").strip().split("|"):
        # $1 is the generator's mark option (-g: keep marks, so that we can count them), $2 the tagger's.
        argv = shlex.split(stage.replace("$1", "-g").replace("$2", ""))
        if not argv:
            raise ValueError(f"{path}: empty stage in the pipeline")
        commands.append([argv[0], "-z", *argv[1:]])
    return commands


def to_stream(text: str) -> bytes:
    """Plain text as one Apertium null-flush block."""
    flat = " ".join(text.split())[:_MAX_BLOCK_CHARS]
    return (_RESERVED.sub(r"\\\1", flat) + "[][\n]\0").encode("utf-8")


def from_stream(block: str) -> tuple[str, Marks]:
    """A translated block as plain text with the marks removed, and the marks counted."""
    text = _SUPERBLANK.sub(" ", block)
    marks = Marks()
    for mark in _MARK.findall(text):
        if mark == "*":
            marks.unknown += 1
        elif mark == "@":
            marks.untranslated += 1
        else:
            marks.generation_gaps += 1
    text = _MARK.sub("", text)
    text = _ESCAPED.sub(r"\1", text)
    return " ".join(text.split()), marks


@dataclass
class _Pipeline:
    """The running programs of one mode."""

    procs: list[subprocess.Popen[bytes]]
    pending: bytearray = field(default_factory=bytearray)

    @property
    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def ends_within(self, seconds: float) -> bool:
        """Whether the pipeline's last program exits within `seconds` (it does after an upstream death)."""
        try:
            self.procs[-1].wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    def kill(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
                log.warning("apertium process %s did not exit", p.pid)
        for p in self.procs:
            for stream in (p.stdin, p.stdout):
                if stream is not None:
                    stream.close()


class ApertiumDirection:
    """One mode (e.g. eng-spa) as a persistent pipeline; `translate` is thread-safe (calls are serialised)."""

    def __init__(self, mode: str, package: str) -> None:
        self.mode, self.package = mode, package
        self._lock = threading.Lock()
        self._pipe: _Pipeline | None = None
        self.restarts = 0

    @property
    def available(self) -> bool:
        return find_mode(self.mode) is not None

    @property
    def pids(self) -> list[int]:
        """Process ids of the running pipeline (for supervision and tests)."""
        pipe = self._pipe
        return [p.pid for p in pipe.procs] if pipe is not None else []

    def _start(self) -> _Pipeline:
        path = find_mode(self.mode)
        if path is None:
            raise ApertiumUnavailable(
                f"Apertium mode {self.mode} is not installed: install the Debian package {self.package} "
                f"(apt-get install {self.package})", self.package)
        procs: list[subprocess.Popen[bytes]] = []
        previous: IO[bytes] | None = None
        try:
            for argv in parse_mode(path):
                proc = subprocess.Popen(argv, stdin=previous if previous is not None else subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                if previous is not None:
                    previous.close()  # the next program owns it now
                procs.append(proc)
                previous = proc.stdout
        except OSError as exc:
            _Pipeline(procs).kill()
            raise ApertiumUnavailable(f"cannot start Apertium mode {self.mode}: {exc}", self.package) from exc
        log.info("apertium %s started (%d programs)", self.mode, len(procs))
        return _Pipeline(procs)

    def translate(self, text: str) -> tuple[str, Marks]:
        if not text.strip():
            return "", Marks()
        with self._lock:
            for attempt in (1, 2):  # a pipeline found dead is restarted once
                if self._pipe is None or not self._pipe.alive:
                    if self._pipe is not None:
                        self.restarts += 1
                        log.warning("apertium %s died; restarting it", self.mode)
                        self._pipe.kill()
                    self._pipe = self._start()
                try:
                    block = self._round_trip(self._pipe, to_stream(text))
                    if not self._pipe.alive or (not block.strip() and self._pipe.ends_within(_DEATH_WAIT_S)):
                        # When a program dies, the ones after it see end of input and flush a last NUL on
                        # their way out: that (empty) block is not an answer. The exit may not be visible yet
                        # when it arrives, so an empty answer waits briefly for the last program to end.
                        raise ApertiumFailed("a program of the pipeline exited")
                    return from_stream(block)
                except (OSError, ApertiumFailed) as exc:
                    log.warning("apertium %s failed (%s); restarting it", self.mode, exc)
                    self._pipe.kill()
                    self._pipe = None
                    self.restarts += 1
                    if attempt == 2:
                        raise ApertiumFailed(f"Apertium {self.mode} failed: {exc}") from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _round_trip(pipe: _Pipeline, block: bytes) -> str:
        first, last = pipe.procs[0], pipe.procs[-1]
        assert first.stdin is not None and last.stdout is not None
        first.stdin.write(block)
        first.stdin.flush()
        out = last.stdout
        deadline = time.monotonic() + _READ_TIMEOUT_S
        while (end := pipe.pending.find(b"\0")) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([out], [], [], left)[0]:
                raise ApertiumFailed(f"no answer within {_READ_TIMEOUT_S:.0f} s")
            chunk = os.read(out.fileno(), 65536)
            if not chunk:
                raise ApertiumFailed("the pipeline closed its output")
            pipe.pending += chunk
        data = bytes(pipe.pending[:end])
        del pipe.pending[:end + 1]
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        with self._lock:
            if self._pipe is not None:
                self._pipe.kill()
                self._pipe = None


@dataclass
class ApertiumOutput:
    texts: list[str]
    marks: Marks


class ApertiumTranslator:
    """The directions of one Apertium language-pair package, from its manifest (lingua_common.model_format)."""

    engine = ENGINE_APERTIUM

    def __init__(self, model_dir: Path) -> None:
        manifest = json.loads((Path(model_dir) / APERTIUM_MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("engine") != ENGINE_APERTIUM:
            raise ValueError(f"{model_dir / APERTIUM_MANIFEST}: not an Apertium manifest")
        self.package = str(manifest["package"])
        self._directions = {(str(m["src"]), str(m["tgt"])): ApertiumDirection(str(m["mode"]), self.package)
                            for m in manifest["modes"]}

    @property
    def language_pairs(self) -> list[tuple[str, str]]:
        """Pairs whose mode is installed on this machine."""
        return [pair for pair, direction in self._directions.items() if direction.available]

    @property
    def declared_pairs(self) -> list[tuple[str, str]]:
        return list(self._directions)

    def direction(self, src: str, tgt: str) -> ApertiumDirection:
        direction = self._directions.get((src, tgt))
        if direction is None:
            raise ValueError(f"{self.package} does not translate {src}->{tgt}")
        return direction

    def supports(self, src: str, tgt: str) -> bool:
        return (src, tgt) in self._directions and self._directions[(src, tgt)].available

    def translate_marked(self, sentences: Sequence[str], src: str, tgt: str) -> ApertiumOutput:
        direction = self.direction(src, tgt)
        out = ApertiumOutput([], Marks())
        for sentence in sentences:
            text, marks = direction.translate(sentence)
            out.texts.append(text)
            out.marks.add(marks)
        return out

    def translate(self, sentences: Sequence[str], src: str, tgt: str, context: str = "") -> list[str]:
        del context  # Apertium translates sentence by sentence
        return self.translate_marked(sentences, src, tgt).texts

    def close(self) -> None:
        for direction in self._directions.values():
            direction.close()
