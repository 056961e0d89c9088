"""The node's local control API and dashboard (HTTP on 127.0.0.1:8090 by default).

    GET  /                               -> the dashboard (static files in node_svc/dashboard/)
    GET  /api/modules                    -> [{"name", "enabled", "available", "loaded", "error", "advertised"}]
    POST /api/modules/<name>/enable      -> that module's status
    POST /api/modules/<name>/disable
    GET  /api/status                     -> node id, name, state, connection, scheduler, hardware, the last
                                            120 resource samples {t_unix_ms, cpu, mem, gpu, gpu_mem} (%)
    GET  /api/jobs                       -> {"current": [...], "recent": [... last 50, newest first]}
    POST /api/pairing-code               -> {"code", "expires_at_unix_ms", "now_unix_ms"} (asks the scheduler)
    GET  /api/models                     -> {"configured", "engines", "installed", "installs"}
    POST /api/models/install             {"model_id", "version"} -> 202, installs in the background
    POST /api/models/remove              {"model_id", "version"}

A module change takes effect at once for new jobs and reaches the scheduler with the next heartbeat.
Errors are JSON {"error": message} with a 4xx/5xx status. Bodies over 64 KiB are refused. While bound to a
loopback address, requests must name a loopback Host (no DNS rebinding), and POSTs from a browser must come
from the dashboard's own origin (no cross-site requests).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from node_svc.dashboard_api import ApiError, Dashboard, ModelOps
from node_svc.modules.manager import ModuleManager

if TYPE_CHECKING:
    from node_svc.agent import NodeAgent

MAX_BODY = 64 * 1024
STATIC_DIR = Path(__file__).parent / "dashboard"
# The only files served: URL path -> (file in STATIC_DIR, content type). Nothing else is read from disk.
STATIC: dict[str, tuple[str, str]] = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/favicon.ico": ("favicon.svg", "image/svg+xml"),
}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _host_name(host_header: str) -> str:
    """'127.0.0.1:8090' -> '127.0.0.1', '[::1]:8090' -> '::1'."""
    return (urlsplit(f"//{host_header}").hostname or "").lower()


def _handler(dashboard: Dashboard, bound_host: str) -> type[BaseHTTPRequestHandler]:
    check_host = bound_host in _LOOPBACK

    class Handler(BaseHTTPRequestHandler):
        server_version = "lingua-node"

        def _send(self, status: int, body: Any) -> None:
            self._send_bytes(status, json.dumps(body).encode(), "application/json")

        def _send_bytes(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            if content_type.startswith("text/html"):
                self.send_header("Content-Security-Policy", _CSP)
                self.send_header("X-Frame-Options", "DENY")
            self.end_headers()
            self.wfile.write(data)

        def _host_ok(self) -> bool:
            if check_host and _host_name(self.headers.get("Host", "")) not in _LOOPBACK | {bound_host}:
                self._send(403, {"error": "this node's dashboard answers only on a loopback address"})
                return False
            return True

        def _path(self) -> str:
            return urlsplit(self.path).path

        def do_GET(self) -> None:
            if not self._host_ok():
                return
            path = self._path()
            try:
                if path.rstrip("/") == "/api/modules":
                    self._send(200, dashboard.module_list())
                elif path == "/api/status":
                    self._send(200, dashboard.status())
                elif path == "/api/jobs":
                    self._send(200, dashboard.jobs())
                elif path == "/api/models":
                    self._send(200, dashboard.models())
                elif path in STATIC:
                    name, content_type = STATIC[path]
                    self._send_bytes(200, (STATIC_DIR / name).read_bytes(), content_type)
                else:
                    self._send(404, {"error": f"no such resource {path}"})
            except ApiError as exc:
                self._send(exc.status, {"error": exc.message})
            except Exception as exc:  # the dashboard must not take the node down; say what failed
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

        def _body(self) -> Any:
            if self.headers.get("Transfer-Encoding"):
                raise ApiError(411, "send a Content-Length (chunked bodies are not accepted)")
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise ApiError(400, "bad Content-Length") from None
            if length < 0:
                raise ApiError(400, "bad Content-Length")
            if length > MAX_BODY:
                raise ApiError(413, f"body over {MAX_BODY} bytes")
            raw = self.rfile.read(length) if length else b""
            if not raw.strip():
                return None
            try:
                return json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise ApiError(400, "the body is not valid JSON") from None

        def do_POST(self) -> None:
            if not self._host_ok():
                return
            origin = self.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != self.headers.get("Host", ""):
                self._send(403, {"error": "cross-origin requests are not accepted"})
                return
            path = self._path()
            parts = path.strip("/").split("/")
            try:
                body = self._body()
                if parts[:2] == ["api", "modules"]:
                    if len(parts) != 4 or parts[3] not in ("enable", "disable"):
                        raise ApiError(404, "use POST /api/modules/<name>/enable or /disable")
                    try:
                        status = dashboard.modules.set_enabled(parts[2], parts[3] == "enable")
                    except KeyError as exc:
                        raise ApiError(404, str(exc.args[0])) from None
                    self._send(200, status.as_dict())
                elif path == "/api/pairing-code":
                    self._send(200, dashboard.pairing_code())
                elif path == "/api/models/install":
                    self._send(202, dashboard.install_model(body))
                elif path == "/api/models/remove":
                    self._send(200, dashboard.remove_model(body))
                else:
                    raise ApiError(404, f"no such action {path}")
            except ApiError as exc:
                self._send(exc.status, {"error": exc.message})
            except Exception as exc:
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

        def log_message(self, format: str, *args: Any) -> None:  # keep the node's log structured
            return

    return Handler


class ControlServer:
    """Serves the control API and the dashboard from a background thread.

    `agent` (optional) feeds the status, jobs and pairing endpoints; `models` (optional) is the model
    store behind the models panel (without it the panel says model management is not configured).
    """

    def __init__(self, manager: ModuleManager, port: int, host: str = "127.0.0.1", *,
                 agent: NodeAgent | None = None, models: ModelOps | None = None) -> None:
        self.dashboard = Dashboard(manager, agent=agent, models=models)
        self._server = ThreadingHTTPServer((host, port), _handler(self.dashboard, host))
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="node-control", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
