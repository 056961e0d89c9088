"""What the node dashboard's JSON endpoints answer, independent of HTTP (node_svc/control.py serves it).

`ModelOps` is the shape the model store/installer is plugged in through; without one the models panel
says model management is not configured.
"""

from __future__ import annotations

import asyncio
import os
import platform
import re
import time
from typing import TYPE_CHECKING, Any, Protocol

from lingua.v1 import node_pb2
from node_svc.modules.manager import ModuleManager

if TYPE_CHECKING:
    from node_svc.agent import NodeAgent

PAIRING_TIMEOUT_S = 6.0
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
_VERSION = re.compile(r"^[A-Za-z0-9._\-+]{0,64}$")


class ModelOps(Protocol):
    """The node's model store as the dashboard uses it. Calls come from HTTP worker threads.

    Errors: raise KeyError for an unknown model/version (-> 404), ValueError for a request that cannot be
    done (e.g. removing a model in use, installing one already being installed; -> 409); anything else
    is answered 500 with its message.
    """

    def installed(self) -> list[dict[str, Any]]:
        """[{model_id, version, kind, size_bytes, languages, pairs: [[src, tgt], ...], in_use}]"""
        ...

    def installs(self) -> list[dict[str, Any]]:
        """Installs in progress or recently ended:
        [{model_id, version, done_bytes, total_bytes, bytes_per_s, eta_s, state, error}]"""
        ...

    def install(self, model_id: str, version: str) -> None:
        """Start installing in the background and return at once ("" = the newest version)."""
        ...

    def remove(self, model_id: str, version: str) -> None: ...


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _state_name(state: int) -> str:
    try:
        return node_pb2.NodeState.Name(state).removeprefix("NODE_STATE_").lower()
    except ValueError:
        return "unknown"


def _kind_name(kind: int) -> str:
    try:
        return node_pb2.ModelKind.Name(kind).removeprefix("MODEL_KIND_").lower()
    except ValueError:
        return "unknown"


class Dashboard:
    def __init__(self, modules: ModuleManager, agent: NodeAgent | None = None,
                 models: ModelOps | None = None) -> None:
        self.modules = modules
        self.agent = agent
        self.models_ops = models
        self._started = time.monotonic()
        self._gpus: list[dict[str, Any]] | None = None

    # ---- GET /api/status ---------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        agent = self.agent
        now_ms = int(time.time() * 1000)
        if agent is None:
            return {"agent": False, "now_unix_ms": now_ms, "modules": self.module_list()}
        if agent.resources.age_s() >= 0.9:  # the dashboard polls every second; heartbeats may be rarer
            agent.resources.add(*agent.monitor.usage())
        if self._gpus is None:
            self._gpus = [{"name": g.name, "memory_mb": g.memory_mb} for g in agent.monitor.gpus()]
        if agent.connected.is_set():
            connection = "connected"
        elif agent.stopping:
            connection = "stopped"
        elif agent.loop is None:
            connection = "not started"
        else:
            connection = "reconnecting"
        samples = agent.resources.snapshot()
        code = agent.pairing_code
        pairing = ({"code": code.code, "expires_at_unix_ms": code.expires_at_unix_ms}
                   if code is not None and code.expires_at_unix_ms > now_ms else None)
        return {
            "agent": True,
            "now_unix_ms": now_ms,
            "node_id": agent.node_id,
            "display_name": agent.settings.display_name,
            "state": _state_name(agent.state) if agent.connected.is_set() else "offline",
            "connection": connection,
            "scheduler": agent.settings.scheduler,
            "version": _node_version(),
            "platform": f"{platform.system().lower()}-{platform.machine()}",
            "hardware": {"cpu_cores": os.cpu_count() or 1, "memory_mb": agent.monitor.memory_mb, "gpus": self._gpus},
            "max_concurrent_jobs": agent.settings.max_concurrent_jobs,
            "uptime_s": round(time.monotonic() - self._started, 1),
            "now": samples[-1] if samples else None,
            "samples": samples,
            "pairing_code": pairing,
        }

    # ---- GET /api/jobs -----------------------------------------------------------------------------

    def jobs(self) -> dict[str, Any]:
        if self.agent is None:
            return {"current": [], "recent": [], "total_finished": 0}
        return self.agent.jobs.snapshot()

    # ---- modules -----------------------------------------------------------------------------------

    def module_list(self) -> list[dict[str, Any]]:
        return [s.as_dict() for s in self.modules.status()]

    # ---- POST /api/pairing-code --------------------------------------------------------------------

    def pairing_code(self) -> dict[str, Any]:
        agent = self.agent
        if agent is None or agent.loop is None or agent.loop.is_closed():
            raise ApiError(503, "the node agent is not running")
        if not agent.connected.is_set():
            raise ApiError(503, f"not connected to the scheduler at {agent.settings.scheduler}")
        future = asyncio.run_coroutine_threadsafe(agent.request_pairing_code(PAIRING_TIMEOUT_S), agent.loop)
        try:
            code = future.result(PAIRING_TIMEOUT_S + 1)
        except ConnectionError as exc:
            raise ApiError(503, str(exc)) from None
        except TimeoutError:
            future.cancel()
            raise ApiError(504, "the scheduler did not answer the pairing-code request in time") from None
        return {"code": code.code, "expires_at_unix_ms": code.expires_at_unix_ms,
                "now_unix_ms": int(time.time() * 1000)}

    # ---- models ------------------------------------------------------------------------------------

    def engines(self) -> list[dict[str, Any]]:
        """The models the running pipeline uses (what the node advertises)."""
        if self.agent is None:
            return []
        from node_svc.capabilities import installed_models

        return [{"model_id": m.model_id, "version": m.version, "kind": _kind_name(m.kind),
                 "languages": list(m.languages), "cross_lingual_languages": list(m.cross_lingual_languages),
                 "pairs": [[p.src_lang, p.tgt_lang] for p in m.pairs]}
                for m in installed_models(self.agent.pipeline)]

    def models(self) -> dict[str, Any]:
        ops = self.models_ops
        if ops is None:
            return {"configured": False, "engines": self.engines()}
        return {"configured": True, "engines": self.engines(),
                "installed": self._call(ops.installed), "installs": self._call(ops.installs)}

    def install_model(self, body: Any) -> dict[str, Any]:
        ops, model_id, version = self._model_request(body)
        self._call(ops.install, model_id, version)
        return {"accepted": True, "model_id": model_id, "version": version}

    def remove_model(self, body: Any) -> dict[str, Any]:
        ops, model_id, version = self._model_request(body)
        self._call(ops.remove, model_id, version)
        return {"removed": True, "model_id": model_id, "version": version}

    def _model_request(self, body: Any) -> tuple[ModelOps, str, str]:
        if self.models_ops is None:
            raise ApiError(501, "model management is not configured on this node")
        if not isinstance(body, dict):
            raise ApiError(400, 'expected a JSON object {"model_id": ..., "version": ...}')
        model_id, version = body.get("model_id"), body.get("version") or ""
        if not isinstance(model_id, str) or not _MODEL_ID.match(model_id):
            raise ApiError(400, "model_id: 1-200 characters of letters, digits, '.', '_', '-', '/'")
        if not isinstance(version, str) or not _VERSION.match(version):
            raise ApiError(400, "version: up to 64 characters of letters, digits, '.', '_', '-', '+'")
        return self.models_ops, model_id, version

    @staticmethod
    def _call(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except KeyError as exc:
            raise ApiError(404, str(exc.args[0]) if exc.args else "not found") from None
        except ValueError as exc:
            raise ApiError(409, str(exc)) from None


def _node_version() -> str:
    from node_svc.agent import NODE_VERSION

    return NODE_VERSION
