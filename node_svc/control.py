"""The node's local control API (JSON over HTTP, 127.0.0.1 by default): optional modules on and off.

    GET  /api/modules                    -> [{"name", "enabled", "available", "loaded", "error", "advertised"}]
    POST /api/modules/<name>/enable      -> that module's status
    POST /api/modules/<name>/disable

A change takes effect at once for new jobs and reaches the scheduler with the next heartbeat.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from node_svc.modules.manager import ModuleManager


def _handler(manager: ModuleManager) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/api/modules":
                self._send(200, [s.as_dict() for s in manager.status()])
            else:
                self._send(404, {"error": f"no such resource {self.path}"})

        def do_POST(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) != 4 or parts[:2] != ["api", "modules"] or parts[3] not in ("enable", "disable"):
                self._send(404, {"error": "use POST /api/modules/<name>/enable or /disable"})
                return
            try:
                status = manager.set_enabled(parts[2], parts[3] == "enable")
            except KeyError as exc:
                self._send(404, {"error": str(exc.args[0])})
                return
            self._send(200, status.as_dict())

        def log_message(self, format: str, *args: Any) -> None:  # keep the node's log structured
            return

    return Handler


class ControlServer:
    def __init__(self, manager: ModuleManager, port: int, host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(manager))
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="node-control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
