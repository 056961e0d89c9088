"""The original prototype's JSON-over-WebSocket protocol (reference/original-system.md §2), spoken by Lingua.

`node_frames` / `session_frames` translate its frames to and from lingua.v1 messages; `node_bridge` and
`server` run `/ws/node` (Electron nodes) as an adapter process in front of the scheduler's NodeService;
the gateway serves `/ws/session` (gateway/legacy_session.py) with `session_frames`.
"""
