"""lingua_common."""
