"""Graceful shutdown: of one instance of several (stop accepting, hand over, exit; `drain`), or of an
instance alone (finish what is in flight, give the rest an explicit outcome, exit; `drain_alone`).

Scaled out (redis://):

1. Stop accepting: health NOT_SERVING (Envoy takes the instance out of rotation), new node and session
   streams are refused with UNAVAILABLE (clients and nodes try the next instance), new utterances on open
   sessions get no outcome here (the client re-sends them where it resumes), and this instance's nodes
   turn DRAINING, so no instance gives them new jobs.
2. Hand over, as soon as nothing is in flight: a session's jobs still queued for a node are dropped (the
   client re-sends them); once its running jobs delivered their outcome the session is closed keeping its
   shared record, its stream ends with UNAVAILABLE and the client resumes it elsewhere with its resume
   token. A node with no job running (ours or relayed for another instance) has its stream ended with
   UNAVAILABLE and reconnects to the next scheduler.
3. At the deadline whatever is left is handed over anyway: its jobs are cancelled and re-dispatched by
   their origin (a lost node) or re-sent by their client (a resumed session).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from scheduler_svc.mesh import Mesh

log = logging.getLogger(__name__)

SESSION_MOVED = "this scheduler instance is shutting down: resume the session on another one"
NODE_MOVED = "this scheduler instance is shutting down: reconnect to another one"


@dataclass
class Handover:
    sessions: int = 0
    nodes: int = 0
    # Handed over at the deadline with work still in flight.
    forced_sessions: int = 0
    forced_nodes: int = 0
    seconds: float = 0.0


def stop_accepting(mesh: Mesh) -> None:
    mesh.draining = True
    for node_id in list(mesh.links):
        mesh.node_draining(node_id, "scheduler instance shutting down")


def hand_over(mesh: Mesh, relayed: Callable[[str], int], force: bool, report: Handover) -> bool:
    """Hand over every session and node with nothing in flight (everything if `force`); True when all are."""
    for session in list(mesh.sessions.values()):
        mesh.withdraw_queued(session)  # waiting for a node could take long: the client re-sends them
        if session.jobs and not force:
            continue
        report.sessions += 1
        report.forced_sessions += bool(session.jobs)
        session.handed_over = True
        mesh.close_session(session, "scheduler instance shutting down", forget=False)
    for node_id, link in list(mesh.links.items()):
        if link.handed_over:
            continue  # its stream is ending
        node = mesh.registry.get(node_id)
        busy = (len(node.reserved) if node is not None else 0) + relayed(node_id)
        if busy and not force:
            continue
        report.nodes += 1
        report.forced_nodes += bool(busy)
        link.handed_over = True
        link.outbox.put_nowait(None)
    return not mesh.sessions and not mesh.links


async def drain(mesh: Mesh, relayed: Callable[[str], int], timeout_s: float, poll_s: float = 0.05) -> Handover:
    """Steps 1-3 above; returns once every stream is handed over or ending (at most about timeout_s)."""
    started = time.monotonic()
    report = Handover()
    stop_accepting(mesh)
    while not hand_over(mesh, relayed, time.monotonic() - started >= timeout_s, report):
        if time.monotonic() - started >= timeout_s + 1.0:  # forced; node streams did not end in time
            break
        await asyncio.sleep(poll_s)
    report.seconds = time.monotonic() - started
    log.info("handed over %d session(s) and %d node(s) in %.1f s (%d and %d with work in flight)",
             report.sessions, report.nodes, report.seconds, report.forced_sessions, report.forced_nodes)
    return report


SHUTTING_DOWN = "the scheduler is shutting down"


async def drain_alone(mesh: Mesh, timeout_s: float) -> Handover:
    """One instance with nobody to hand over to (memory://), on SIGTERM:

    1. Stop accepting: new sessions and node streams are refused (UNAVAILABLE), and a new utterance on an
       open session gets a SESSION_CLOSED error in its place in the order. Nodes keep working.
    2. Utterances in flight (running or waiting for a slot) get up to `timeout_s` to finish.
    3. What is left then gets an explicit SESSION_CLOSED error with its utterance_index; each session's
       order is flushed (a missing index becomes RESULT_TIMEOUT), a last SESSION_CLOSED error without an
       index says the session ended, and its stream closes after everything was written.
    """
    started = time.monotonic()
    report = Handover()
    mesh.draining = True
    mesh.no_jobs.clear()
    if mesh.jobs:  # no job is added while draining: wait for the last to finish
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(mesh.no_jobs.wait(), timeout_s)
    report.forced_sessions = len({job.session.session_id for job in mesh.jobs.values()})
    mesh.fail_in_flight(SHUTTING_DOWN)
    report.sessions = mesh.end_sessions(SHUTTING_DOWN)
    report.seconds = time.monotonic() - started
    log.info("stopped %d session(s) in %.1f s (%d with utterances cut short)",
             report.sessions, report.seconds, report.forced_sessions)
    return report
