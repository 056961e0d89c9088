"""The protos lint clean, generated/ and sdk/java/src/generated are what `make proto` produces, and contract names
exist."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lingua.v1 import admin_pb2, common_pb2, gateway_pb2, hub_pb2, node_pb2, session_pb2
from tests.helpers.node_tools import WEB, web_tools

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def test_buf_lint_is_clean() -> None:
    done = subprocess.run([str(BIN / "buf"), "lint"], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr


def _generate(tmp_path: Path, plugins: list[dict[str, Any]]) -> Path:
    """`buf generate` with these plugins of buf.gen.yaml, in a copy of the repository; returns the copy."""
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "protos", work / "protos")
    shutil.copytree(ROOT / "scripts", work / "scripts")
    shutil.copy(ROOT / "buf.yaml", work / "buf.yaml")
    template = dict(yaml.safe_load((ROOT / "buf.gen.yaml").read_text()), plugins=plugins)
    env = _env() | {"LINGUA_PYTHON": sys.executable, "LINGUA_WEB_NODE_MODULES": str(WEB / "node_modules")}
    done = subprocess.run([str(BIN / "buf"), "generate", "--template", json.dumps(template)], cwd=work,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    return work


def _plugins(out: str) -> list[dict[str, Any]]:
    plugins: list[dict[str, Any]] = yaml.safe_load((ROOT / "buf.gen.yaml").read_text())["plugins"]
    chosen = [p for p in plugins if p["out"] == out]
    assert chosen, f"buf.gen.yaml has no plugin writing {out}"
    return chosen


def _assert_same(fresh: Path, committed: Path, extra_ok: set[str]) -> None:
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir() if p.name not in extra_ok and p.is_file()), \
        f"{committed} has other files than `make proto` produces"
    _match, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
    assert not mismatch and not errors, f"{committed} is stale, run `make proto`: {mismatch + errors}"


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    work = _generate(tmp_path, _plugins("generated/python"))
    _assert_same(work / "generated/python/lingua/v1", ROOT / "generated/python/lingua/v1", {"__init__.py"})


def test_generated_typescript_sdk_is_not_stale(tmp_path: Path) -> None:
    web_tools()  # protoc-gen-es is the pinned npm package in gateway/web
    work = _generate(tmp_path, _plugins("generated/ts"))
    _assert_same(work / "generated/ts/lingua/v1", ROOT / "generated/ts/lingua/v1", set())
    # Every .proto has its module, and the SDK's package.json exports what it generates.
    protos = sorted(p.stem for p in (ROOT / "protos/lingua/v1").glob("*.proto"))
    assert sorted(p.name for p in (ROOT / "generated/ts/lingua/v1").glob("*_pb.js")) == [f"{s}_pb.js" for s in protos]
    package = json.loads((ROOT / "generated/ts/package.json").read_text())
    assert package["exports"]["./v1/*"] == {"types": "./lingua/v1/*.d.ts", "default": "./lingua/v1/*.js"}


def test_generated_java_sdk_is_not_stale(tmp_path: Path) -> None:
    """sdk/java/src/generated: Debian's protoc and grpc-java plugin (scripts/ensure_java.sh; `make test` runs it)."""
    tools = [Path(os.environ.get("LINGUA_JAVA_PROTOC", "/usr/bin/protoc")),
             Path(os.environ.get("LINGUA_GRPC_JAVA_PLUGIN", "/usr/bin/grpc_java_plugin"))]
    missing = [str(t) for t in tools if not os.access(t, os.X_OK)]
    if missing:
        reason = f"needs {', '.join(missing)}; run scripts/ensure_java.sh"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    work = _generate(tmp_path, _plugins("sdk/java/src/generated"))
    _assert_same(work / "sdk/java/src/generated/lingua/v1", ROOT / "sdk/java/src/generated/lingua/v1", set())
    assert sorted(p.name for p in (ROOT / "sdk/java/src/generated/lingua/v1").iterdir()) == [
        "Common.java", "Session.java", "SessionServiceGrpc.java"]


def test_contract_names() -> None:
    services = {
        "SessionService": (session_pb2, {"Converse", "OpenSession", "PushAudio", "Subscribe", "CloseSession",
                                         "Translate", "ListLanguages"}),
        "NodeService": (node_pb2, {"Connect"}),
        "SchedulerAdmin": (admin_pb2, {"ListNodes", "GetNode", "DrainNode", "ListSessions", "GetStats",
                                       "ExplainDispatch"}),
        "ModelHub": (hub_pb2, {"ListModels", "GetModel", "DownloadFile", "PublishModel", "DeprecateVersion"}),
        "TenantAdmin": (gateway_pb2, {"CreateTenant", "ListTenants", "IssueApiKey", "RevokeApiKey",
                                      "UpdateQuota"}),
    }
    # RPCs beyond CONTRACT.md, each added by an issue that needed it.
    extensions = {"SchedulerAdmin": {"InstallModel"}}
    for name, (module, rpcs) in services.items():
        assert {m.name for m in module.DESCRIPTOR.services_by_name[name].methods} == rpcs | extensions.get(name, set())
    for code in ("INVALID_MESSAGE", "INVALID_SESSION", "INVALID_AUDIO", "UNSUPPORTED_LANGUAGE",
                 "UNSUPPORTED_FEATURE", "INVALID_PAIRING_CODE", "NO_AVAILABLE_NODE", "NODE_OVERLOADED",
                 "MODEL_NOT_AVAILABLE", "JOB_TIMEOUT", "RESULT_TIMEOUT", "UNAUTHENTICATED", "RATE_LIMITED",
                 "QUOTA_EXCEEDED", "INTERNAL"):
        common_pb2.ErrorCode.Value(code)
    for enc in ("PCM16", "WAV", "FLAC", "OGG_OPUS", "WEBM_OPUS", "MP3"):
        common_pb2.AudioEncoding.Value(enc)
    fields = {f.name for f in common_pb2.TranslationResult.DESCRIPTOR.fields}
    assert {"session_id", "utterance_index", "job_id", "node_id", "text_asr", "text_translated", "tts_audio",
            "extras", "timings"} <= fields
    assert {f.name for f in session_pb2.TranslateResponse.DESCRIPTOR.fields} >= fields - {"attempt_id"}


def test_contract_names_for_real_languages() -> None:
    """CONTRACT.md's names for languages, tiers and the result's translation provenance."""
    for tier in ("TRANSLATION_TIER_NEURAL", "TRANSLATION_TIER_RULE_BASED", "TRANSLATION_TIER_PIVOT",
                 "TRANSLATION_TIER_DEMO"):
        common_pb2.TranslationTier.Value(tier)
    offer = {f.name for f in session_pb2.LanguageOffer.DESCRIPTOR.fields}
    assert {"src_lang", "tgt_lang", "tier", "engine", "voice", "pivot_lang"} <= offer
    assert "pairs" in session_pb2.ListLanguagesResponse.DESCRIPTOR.fields_by_name
    result = {f.name for f in common_pb2.TranslationResult.DESCRIPTOR.fields}
    assert {"detected_lang", "mt_engine", "tier", "pivot_lang"} <= result
