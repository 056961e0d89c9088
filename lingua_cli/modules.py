"""`lingua node modules list|enable NAME|disable NAME`: a thin client of the node's control API."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any


def _call(url: str, method: str = "GET") -> Any:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def run_modules(node: str, action: str, name: str | None) -> int:
    base = node.rstrip("/") + "/api/modules"
    try:
        if action == "list":
            rows = _call(base)
        elif not name:
            print(f"lingua node modules {action}: name the module", file=sys.stderr)
            return 2
        else:
            rows = [_call(f"{base}/{name}/{action}", "POST")]
    except urllib.error.HTTPError as exc:
        print(f"lingua node modules: {json.loads(exc.read()).get('error', exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"lingua node modules: cannot reach the node at {node}: {exc}", file=sys.stderr)
        return 1
    print(f"{'MODULE':<24} {'ENABLED':<8} {'LOADED':<7} {'OFFERED':<8} NOTE")
    for row in rows:
        print(f"{row['name']:<24} {'yes' if row['enabled'] else 'no':<8} {'yes' if row['loaded'] else 'no':<7} "
              f"{'yes' if row['advertised'] else 'no':<8} {row['error']}")
    return 0
