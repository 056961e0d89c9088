"""Child processes of a supervisor (`lingua up`) that never outlive it.

- Stopping: `Children.handle_signals()` installs handlers for SIGTERM, SIGHUP and SIGINT (overriding one the
  supervisor inherited as ignored: a background job of a non-interactive shell has SIGINT ignored), which
  raise `Stopped` in the supervisor's main thread. `stop()` then sends every live child SIGTERM (each service's
  graceful stop), waits for them, and SIGKILLs any that outlast the grace period. A second signal while
  stopping kills the children at once.
- The supervisor killed (SIGKILL, OOM): every child is started with PR_SET_PDEATHSIG = SIGTERM (Linux prctl, in
  the child before exec), so the kernel stops it when its parent dies; a child whose parent died before that
  took effect exits at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

PR_SET_PDEATHSIG = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Resolved once, before any fork: the child only calls it.
_PRCTL = _load_prctl()


class Stopped(Exception):
    """A stop signal reached the supervisor."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _die_with(parent_pid: int) -> Callable[[], None]:
    def preexec() -> None:  # runs in the child between fork and exec: no locks, no imports
        if _PRCTL is not None:
            _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class Children:
    def __init__(self, grace_s: float = 40.0) -> None:
        self.grace_s = grace_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stopping = False
        self._previous: dict[int, object] = {}

    def spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        """`python -m <args>` with `env`, stopped by the kernel if this process dies."""
        proc = subprocess.Popen([sys.executable, "-m", *args], env=env, preexec_fn=_die_with(os.getpid()))
        self.procs.append(proc)
        return proc

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def handle_signals(self) -> None:
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def restore_signals(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:  # impatient: a second signal while stopping kills what is left now
            self._send(signal.SIGKILL)
            return
        self.stopping = True
        raise Stopped(signum)

    def _send(self, sig: int) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(sig)

    def stop(self) -> None:
        """SIGTERM every live child (last started first), wait up to grace_s in all, then SIGKILL the rest."""
        self.stopping = True
        self._send(signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for proc in self.procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
