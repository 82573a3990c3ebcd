"""Starts the node processes of a launch description and supervises them.

SIGINT/SIGTERM are forwarded to every child's process group; the supervisor returns only after
all children have exited. A child that dies unexpectedly (non-zero exit, not respawning) stops
the others and makes the exit code non-zero; a respawning child is restarted after its delay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

from neurohybrid.launcher.description import NodeSpec, command_line

_STOP_GRACE_S = 10.0


@dataclass
class _Child:
    spec: NodeSpec
    cmd: list[str]
    proc: subprocess.Popen | None = None
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    """Runs the nodes of a launch file until they exit, a signal arrives or ``duration_s`` ends."""

    def __init__(self, specs: list[NodeSpec], log: IO[str] = sys.stdout) -> None:
        self._children = [_Child(spec, command_line(spec)) for spec in specs]
        self._log = log
        self._stop = threading.Event()
        self.failed: list[str] = []

    def _say(self, text: str) -> None:
        print(f"[launch] {text}", file=self._log, flush=True)

    def _start(self, child: _Child) -> None:
        env = {**os.environ, **child.spec.env}
        child.proc = subprocess.Popen(child.cmd, env=env, start_new_session=True)
        child.restart_at = None
        self._say(f"started {child.spec.label} (pid {child.proc.pid})")

    def pids(self) -> dict[str, int]:
        """The pid of every running child, by node label."""
        return {c.spec.label: c.proc.pid for c in self._children
                if c.proc is not None and c.proc.poll() is None}

    def request_stop(self, signum: int | None = None, frame: object = None) -> None:
        """Ask the supervisor to stop all children (signal handler and API)."""
        self._stop.set()

    def run(self, duration_s: float | None = None, poll_s: float = 0.05) -> int:
        """Start everything and supervise; return 0, or 1 if a node died unexpectedly."""
        previous = {s: signal.signal(s, self.request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            for child in self._children:
                self._start(child)
            while not self._stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    self._say(f"duration of {duration_s} s reached")
                    break
                if self._check_children():
                    break
                self._stop.wait(poll_s)
        finally:
            self._shutdown()
            for s, handler in previous.items():
                signal.signal(s, handler)
        return 1 if self.failed else 0

    def _check_children(self) -> bool:
        """Handle exits; True when supervision should end."""
        now = time.monotonic()
        running = 0
        for child in self._children:
            if child.proc is None or child.proc.poll() is None:
                if child.restart_at is not None and now >= child.restart_at:
                    child.restarts += 1
                    self._start(child)
                running += child.proc is not None and child.proc.poll() is None
                continue
            code = child.proc.returncode
            if child.spec.respawn:
                if child.restart_at is None:
                    self._say(f"{child.spec.label} exited with {code}; respawning in "
                              f"{child.spec.respawn_delay_s} s")
                    child.restart_at = now + child.spec.respawn_delay_s
                    child.proc = None
                running += 1
            elif code != 0:
                self._say(f"{child.spec.label} died unexpectedly with exit code {code}")
                self.failed.append(child.spec.label)
                return True
        return running == 0

    def _shutdown(self) -> None:
        live = [c for c in self._children if c.proc is not None and c.proc.poll() is None]
        for child in live:
            try:
                os.killpg(child.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + _STOP_GRACE_S
        for child in live:
            try:
                child.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{child.spec.label} ignored SIGINT; killing it")
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()
        self._say("all nodes stopped")
