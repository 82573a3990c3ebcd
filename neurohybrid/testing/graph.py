"""Building blocks for graph tests: node processes, isolated discovery, waiting on conditions,
driving a managed node through its lifecycle."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from neurohybrid.process_group import stop_process_group

PACKAGE = "neurohybrid"


def isolate_discovery(seed: int | None = None) -> int:
    """Give this process (and its children) a private DDS domain on localhost only.

    Domain ids 1-100 are free of the ports the OS hands out; the id comes from the pid so two
    test sessions on one machine do not cross-talk. Returns the domain id.
    """
    domain = 1 + (os.getpid() if seed is None else seed) % 100
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.pop("ROS_LOCALHOST_ONLY", None)
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    return domain


def executable(name: str) -> Path:
    """Path of an installed node executable (``lib/neurohybrid/<name>``)."""
    from ament_index_python.packages import get_package_prefix

    path = Path(get_package_prefix(PACKAGE)) / "lib" / PACKAGE / name
    if not path.exists():
        raise FileNotFoundError(f"no executable {name!r} at {path}; run `make build`")
    return path


def wait_for(condition: Callable[[], bool], timeout_s: float, poll: Callable[[], None] | None = None,
             what: str = "condition") -> None:
    """Poll ``condition`` (calling ``poll`` between checks, e.g. spin_once) until true or timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        if poll is not None:
            poll()
        else:
            time.sleep(0.01)


class NodeProcess:
    """A node started as its own process group, stopped with SIGINT (then SIGKILL)."""

    def __init__(self, exe: str, args: list[str] | None = None, log_path: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.exe = exe
        self.log_path = log_path
        self._log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [str(executable(exe)), *(args or [])],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout_s: float = 10.0) -> int:
        """SIGINT the group and wait; SIGKILL it if it does not exit in ``timeout_s``."""
        code = stop_process_group(self.proc, timeout_s)
        if self._log is not subprocess.DEVNULL:
            self._log.close()
        return code

    def kill(self) -> None:
        """SIGKILL the whole group at once (simulates a crash)."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


class LifecycleClient:
    """Drives a managed node through its lifecycle services (as a lifecycle manager does).

    ``spin`` is called while waiting for answers (e.g. the test executor's ``spin_once``).
    """

    def __init__(self, node: object, target: str, spin: Callable[[], None], timeout_s: float = 30.0) -> None:
        from lifecycle_msgs.srv import ChangeState, GetState

        self._change = node.create_client(ChangeState, f"{target}/change_state")
        self._get = node.create_client(GetState, f"{target}/get_state")
        self._spin = spin
        self._timeout_s = timeout_s
        wait_for(lambda: self._change.service_is_ready() and self._get.service_is_ready(), timeout_s, spin,
                 f"lifecycle services of {target}")

    def _call(self, client: object, request: object) -> object:
        future = client.call_async(request)
        wait_for(future.done, self._timeout_s, self._spin, "lifecycle service answer")
        return future.result()

    def change(self, transition: str) -> bool:
        """Trigger ``transition`` (configure, cleanup, activate, deactivate, shutdown); True if it succeeded."""
        from lifecycle_msgs.msg import Transition
        from lifecycle_msgs.srv import ChangeState

        request = ChangeState.Request(transition=Transition(label=transition))
        return bool(self._call(self._change, request).success)

    def state(self) -> str:
        """The node's current state label (unconfigured, inactive, active, finalized)."""
        from lifecycle_msgs.srv import GetState

        return self._call(self._get, GetState.Request()).current_state.label
