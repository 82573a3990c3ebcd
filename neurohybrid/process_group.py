"""Stopping a child process together with everything it started (its process group)."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_process_group(proc: subprocess.Popen, timeout_s: float) -> int:
    """SIGINT the group of ``proc`` (started with ``start_new_session=True``) and wait for it.

    A group still running after ``timeout_s`` seconds is SIGKILLed. Returns the exit code.
    """
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode
