"""`lingua up` (what `make up` runs) end to end: every process starts, the printed development key works at
the gateway, the web client is served, and Ctrl-C stops everything."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.mesh import speech_wav
from tests.helpers.phrasebook import phrasebook
from tests.helpers.ports import free_port_block

pytestmark = [pytest.mark.slow, pytest.mark.models]
SENTENCE = "Go straight ahead until the end of the street."
BANNER_END = "Press Ctrl-C to stop."


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def _wait_for_banner(out: Path, proc: asyncio.subprocess.Process, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    while BANNER_END not in (text := await asyncio.to_thread(out.read_text, errors="replace")):
        assert proc.returncode is None, f"lingua up exited with {proc.returncode}:\n{text[-3000:]}"
        assert time.monotonic() < deadline, f"lingua up did not come up:\n{text[-3000:]}"
        await asyncio.sleep(0.5)
    return text


async def test_lingua_up_runs_the_mesh_with_a_working_gateway_and_stops_on_ctrl_c(pipeline, tmp_path: Path) -> None:
    base = free_port_block(8)
    ports = dict(zip(["scheduler", "metrics", "hub_grpc", "hub_http", "gw_http", "gw_grpc", "compat", "control"],
                     range(base, base + 8), strict=True))
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "LINGUA_HUB_GRPC_PORT": str(ports["hub_grpc"]), "LINGUA_HUB_HTTP_PORT": str(ports["hub_http"]),
        "LINGUA_GATEWAY_HTTP_PORT": str(ports["gw_http"]), "LINGUA_GATEWAY_GRPC_PORT": str(ports["gw_grpc"]),
        "LINGUA_COMPAT_PORT": str(ports["compat"]), "LINGUA_NODE_CONTROL_PORT": str(ports["control"]),
    }
    out = tmp_path / "up.out"
    with out.open("wb") as stdout, (tmp_path / "up.err").open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from lingua_cli.main import main; main()", "up",
            "--port", str(ports["scheduler"]), "--metrics-port", str(ports["metrics"]),
            cwd=tmp_path, env=env, stdout=stdout, stderr=stderr)
    try:
        banner = await _wait_for_banner(out, proc)
        key_line = re.search(r"API key\s+(lk_\S+)", banner)
        assert key_line, banner
        key = key_line.group(1)
        gateway = f"http://127.0.0.1:{ports['gw_http']}"
        assert f"web client       {gateway}/" in banner
        async with httpx.AsyncClient(base_url=gateway, timeout=120) as http:
            page = await http.get("/")
            assert page.status_code == 200 and "<title>" in page.text  # the web client's bundle
            assert (await http.get("/app.js")).status_code == 200
            wav = speech_wav(pipeline, SENTENCE)
            refused = await http.post("/v1/speech/translate", files={"audio": ("s.wav", wav, "audio/wav")},
                                      data={"src_lang": "en", "tgt_lang": "fr"})
            assert refused.status_code == 401
            reply = await http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {key}"},
                                    files={"audio": ("s.wav", wav, "audio/wav")},
                                    data={"src_lang": "en", "tgt_lang": "fr"})
            assert reply.status_code == 200, reply.text
            assert reply.json()["text_translated"] == phrasebook()[SENTENCE]
        assert _listening(ports["compat"]) and _listening(ports["hub_http"])
        assert (tmp_path / "data" / "gateway" / "gateway.db").is_file()  # tenants under the working directory
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        rc = await asyncio.wait_for(proc.wait(), 90)
    assert rc == 0, (tmp_path / "up.err").read_text(errors="replace")[-3000:]
    for name, port in ports.items():
        assert not _listening(port), f"{name} still listening on {port} after Ctrl-C"
