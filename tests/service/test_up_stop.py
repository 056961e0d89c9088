"""Hard stops of `lingua up` (issue 16): `kill -TERM` (also when it inherited TERM/INT/HUP as ignored, as a
background job of a script does) and `kill -KILL` both leave no process and no bound port behind.

The real `lingua up` runs in a temporary directory on free ports; it is stopped once every service listens and
the node process has started (it is still installing its models from the hub then)."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.helpers.ports import free_port_block

pytestmark = [pytest.mark.slow]
SERVICES = ["scheduler", "hub_grpc", "hub_http", "gw_http", "gw_grpc", "compat"]
NAMES = ["scheduler", "metrics", "hub_grpc", "hub_http", "gw_http", "gw_grpc", "compat", "control"]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE  # exited; only its parent's reaping is pending
    except psutil.NoSuchProcess:
        return True


async def _until(what: str, check, timeout_s: float, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-3000:]
            raise AssertionError(f"{what} not within {timeout_s} s:\n{tail}")
        await asyncio.sleep(0.2)


async def _start(tmp_path: Path, ignoring_signals: bool) -> tuple[asyncio.subprocess.Process, dict[str, int], Path]:
    base = free_port_block(len(NAMES))
    ports = dict(zip(NAMES, range(base, base + len(NAMES)), strict=True))
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "LINGUA_HUB_GRPC_PORT": str(ports["hub_grpc"]), "LINGUA_HUB_HTTP_PORT": str(ports["hub_http"]),
        "LINGUA_GATEWAY_HTTP_PORT": str(ports["gw_http"]), "LINGUA_GATEWAY_GRPC_PORT": str(ports["gw_grpc"]),
        "LINGUA_COMPAT_PORT": str(ports["compat"]), "LINGUA_NODE_CONTROL_PORT": str(ports["control"]),
    }
    command = [sys.executable, "-c", "from lingua_cli.main import main; main()", "up",
               "--port", str(ports["scheduler"]), "--metrics-port", str(ports["metrics"])]
    if ignoring_signals:  # what a background job of a non-interactive shell inherits
        command = ["sh", "-c", 'trap "" INT TERM HUP; exec "$@"', "sh", *command]
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(*command, cwd=tmp_path, env=env, stdout=out, stderr=out)
    return proc, ports, log


async def _running_mesh(tmp_path: Path, ignoring_signals: bool = False):  # type: ignore[no-untyped-def]
    """`lingua up` with every service listening and the node started; its whole process tree."""
    proc, ports, log = await _start(tmp_path, ignoring_signals)
    up = psutil.Process(proc.pid)
    await _until("every service listening", lambda: all(_listening(ports[n]) for n in SERVICES), 240, log)
    await _until("the node started", lambda: any("node_svc" in " ".join(c.cmdline()) for c in up.children()),
                 240, log)
    tree = up.children(recursive=True)
    assert len(tree) >= 5, [c.cmdline() for c in tree]  # scheduler, hub, gateway, adapter, node
    return proc, ports, log, tree


async def _assert_nothing_left(tree: list[psutil.Process], ports: dict[str, int], log: Path) -> None:
    await _until("every child gone", lambda: all(_gone(p) for p in tree), 90, log)
    await _until("every port free", lambda: not any(_listening(p) for p in ports.values()), 30, log)


@pytest.mark.parametrize("ignoring_signals", [False, True], ids=["plain", "inherited-SIG_IGN"])
async def test_sigterm_of_lingua_up_stops_every_child_and_frees_every_port(tmp_path: Path,
                                                                           ignoring_signals: bool) -> None:
    proc, ports, log, tree = await _running_mesh(tmp_path, ignoring_signals)
    try:
        proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 90)  # it waits for its children before it exits
        assert rc == 0, log.read_text(errors="replace")[-3000:]
        assert all(_gone(p) for p in tree), [p for p in tree if not _gone(p)]
        await _assert_nothing_left(tree, ports, log)
    finally:
        for p in tree:
            if not _gone(p):
                p.kill()


async def test_sigkill_of_lingua_up_takes_its_children_down_too(tmp_path: Path) -> None:
    proc, ports, log, tree = await _running_mesh(tmp_path)
    try:
        proc.kill()  # no handler runs: the kernel's parent-death signal stops the children
        await proc.wait()
        await _assert_nothing_left(tree, ports, log)
    finally:
        for p in tree:
            if not _gone(p):
                p.kill()
