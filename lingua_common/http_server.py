"""uvicorn embedded in a service's own event loop: started and stopped by the service, never by signals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the service's process handles SIGINT/SIGTERM itself and stops all of its servers


class EmbeddedHttpServer:
    """One ASGI app on host:port (0: an ephemeral port, read back from `port` once started)."""

    def __init__(self, app: Any, host: str, port: int, **config: Any) -> None:
        config.setdefault("log_level", "warning")
        config.setdefault("lifespan", "off")
        self._server = _Server(uvicorn.Config(app, host=host, port=port, **config))
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def start(self) -> int:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Graceful: in-flight requests get uvicorn's timeout_graceful_shutdown."""
        self._server.should_exit = True
        if self._task is not None:
            await self._task
