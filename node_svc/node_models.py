"""What the node agent needs from the local model manager (node_svc/models) to obey install orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class NodeModels(Protocol):
    def install_now(self, model_id: str, version: str, progress: Callable[[Any], None]) -> Any:
        """Install from the hub (blocking; raises LinguaError); returns the installed model."""
        ...
