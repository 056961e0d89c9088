"""node_svc/engines."""
