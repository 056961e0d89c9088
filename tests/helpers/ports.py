"""Free TCP ports for processes that must be told their port up front (no ephemeral port 0)."""

from __future__ import annotations

import contextlib
import random
import socket


def free_port_block(count: int) -> int:
    """A base port with `count` consecutive free ports from it (free when checked; tests race nobody else)."""
    for _ in range(50):
        base = random.randrange(20_000, 40_000)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    stack.enter_context(socket.create_server(("127.0.0.1", port)))
            except OSError:
                continue
        return base
    raise RuntimeError(f"no block of {count} free ports found")
