"""lingua.v1 protobuf and gRPC stubs (generated)."""
