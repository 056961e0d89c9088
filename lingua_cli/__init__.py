"""lingua_cli."""
