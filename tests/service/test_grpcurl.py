"""Operators debug with grpcurl: reflection lists the services, health answers, admin calls work."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers.mesh import running_node, running_scheduler

pytestmark = pytest.mark.models

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")


async def _grpcurl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(GRPCURL, "-plaintext", *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_grpcurl_lists_services_checks_health_and_lists_nodes(pipeline) -> None:
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline, name="n1"):
        address = f"127.0.0.1:{sched.port}"
        services = (await _grpcurl(address, "list")).split()
        health = json.loads(await _grpcurl("-d", '{"service": "lingua.v1.SessionService"}', address,
                                           "grpc.health.v1.Health/Check"))
        nodes = json.loads(await _grpcurl("-d", "{}", address, "lingua.v1.SchedulerAdmin/ListNodes"))
        described = await _grpcurl(address, "describe", "lingua.v1.TranslationResult")
    for name in ("lingua.v1.SessionService", "lingua.v1.NodeService", "lingua.v1.SchedulerAdmin",
                 "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"):
        assert name in services
    assert health["status"] == "SERVING"
    [node] = nodes["nodes"]
    assert node["displayName"] == "n1"
    assert node["state"] == "NODE_STATE_READY"
    assert "en" in node["asrLanguages"]
    assert {"srcLang": "en", "tgtLang": "fr", "tier": "TRANSLATION_TIER_DEMO", "engine": "ctranslate2-m2m100"} \
        in node["mtPairs"]
    assert "text_translated" in described
