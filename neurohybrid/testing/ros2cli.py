"""The stock ROS 2 command-line tools (``ros2 launch``, ``ros2 topic``, ...) driven from tests.

Each call runs the real ``ros2`` executable in the test's isolated DDS domain (the environment
``isolate_discovery`` set), as a user would type it; the ``ros2`` daemon a call may start is
stopped by :func:`stop_daemon` when the tests are done with it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from neurohybrid.launcher import stock

#: The modules the stock CLI needs beyond the launch system.
CLI_MODULES = ("ros2cli", "ros2launch", "ros2topic", "ros2node", "ros2param", "ros2service",
               "ros2lifecycle", "ros2run", "ros2interface")


def missing() -> str | None:
    """Why ``ros2 launch`` and the stock CLI cannot run here, or None when they can."""
    reason = stock.missing()
    if reason:
        return reason
    absent = [name for name in CLI_MODULES if importlib.util.find_spec(name) is None]
    if absent or shutil.which("ros2") is None:
        return (f"stock ROS 2 CLI not available ({', '.join(absent) or 'no ros2 on PATH'}): source a "
                f"ROS 2 install, or `make test` with ../shared/ros2-stock present installs it")
    return None


def ros2(*args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``ros2 ARGS...`` to completion; its output (stdout and stderr) is in ``.stdout``."""
    return subprocess.run(["ros2", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout_s)


def stop_daemon() -> None:
    """Stop the ``ros2`` daemon of this domain (started by the first call that needed it)."""
    ros2("daemon", "stop", timeout_s=30)


class Ros2Process:
    """A long-running ``ros2`` command (``launch``, ``topic hz``) as a process group of its own."""

    def __init__(self, args: list[str], log: Path, cwd: Path | None = None,
                 command: list[str] | None = None) -> None:
        self.log = log
        self._out = open(log, "wb")
        self.proc = subprocess.Popen(command or ["ros2", *args], stdout=self._out, stderr=subprocess.STDOUT,
                                     cwd=cwd, start_new_session=True, env=dict(os.environ))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int = signal.SIGINT, group: bool = False) -> None:
        """Send ``signum`` to the process, or to its whole group (a terminal's Ctrl-C)."""
        if self.alive():
            if group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)

    def wait(self, timeout_s: float = 60.0) -> int:
        """Wait for the exit (SIGKILL everything it started after ``timeout_s``); the exit code.

        Whatever it started and left behind (a launcher killed or cancelled before its nodes
        stopped) is SIGKILLed too, so no test leaves processes running.
        """
        import psutil

        try:
            descendants = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            descendants = []
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            code = self.proc.wait()
        _, alive = psutil.wait_procs(descendants, timeout=min(timeout_s, ORPHAN_GRACE_S))
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self._out.close()
        return code

    def stop(self, timeout_s: float = 60.0) -> int:
        self.signal(signal.SIGINT)
        return self.wait(timeout_s)

    def __enter__(self) -> "Ros2Process":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._out.closed:
            self.stop()


#: How long what a finished launcher leaves behind may take to exit by itself, s.
ORPHAN_GRACE_S = 10.0
#: Lines that must not appear in the output of a clean run or a clean stop.
UNCLEAN = re.compile(r"Traceback|\[FATAL\]|\[ERROR\]|process has died|died unexpectedly|Segmentation fault")


def unclean_lines(text: str) -> list[str]:
    """The lines of ``text`` that show an unclean run or stop (tracebacks, FATAL/ERROR, deaths)."""
    return [line for line in text.splitlines() if UNCLEAN.search(line)]
