"""The protos lint clean, generated/ is what `make proto` produces, and contract names exist."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lingua.v1 import admin_pb2, common_pb2, gateway_pb2, hub_pb2, node_pb2, session_pb2

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def test_buf_lint_is_clean() -> None:
    done = subprocess.run([str(BIN / "buf"), "lint"], cwd=ROOT, capture_output=True, text=True, env=_env())
    assert done.returncode == 0, done.stdout + done.stderr


def test_generated_code_is_not_stale(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "protos", work / "protos")
    shutil.copytree(ROOT / "scripts", work / "scripts")
    for name in ("buf.yaml", "buf.gen.yaml"):
        shutil.copy(ROOT / name, work / name)
    env = _env() | {"LINGUA_PYTHON": sys.executable}
    done = subprocess.run([str(BIN / "buf"), "generate"], cwd=work, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    fresh, committed = work / "generated/python/lingua/v1", ROOT / "generated/python/lingua/v1"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir() if p.name != "__init__.py" and p.is_file()), \
        "generated/ has other files than `make proto` produces"
    _match, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
    assert not mismatch and not errors, f"generated/ is stale, run `make proto`: {mismatch + errors}"


def test_contract_names() -> None:
    services = {
        "SessionService": (session_pb2, {"Converse", "OpenSession", "PushAudio", "Subscribe", "CloseSession",
                                         "Translate"}),
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
