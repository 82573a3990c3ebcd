"""SIGINT and SIGTERM as a request to stop spinning, never as an exception.

Python's default SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread is: inside
a numba kernel's dispatcher (``[FATAL] ... returned a result with an exception set``), halfway
through the shutdown of a device, or in the ``finally`` that closes a recording; left uncaught
it kills the process by SIGINT (exit code -2, "process has died" under ``ros2 launch``).
rclpy's own handler instead shuts the context down under a running callback, whose next publish
then fails. Here a signal only records itself and wakes the executor: Python's C-level handler
writes the signal number to a wake-up socket at once (it is async-signal-safe), a thread reading
that socket triggers a guard condition of the node, and the spin loop returns; the node is then
shut down in order (safe state, close, destroy, shutdown of the context) and exits 0.

A terminal's Ctrl-C reaches every process of its group and a launcher forwards it as well, so
a second (or third) signal must change nothing: it finds the request already made.
"""

from __future__ import annotations

import faulthandler
import signal
import socket
import threading
from typing import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """The process-wide stop request; :func:`install` makes SIGINT/SIGTERM set it."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._wakers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._installed = False

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else ""

    def install(self) -> None:
        """Take over SIGINT and SIGTERM (main thread, before ``rclpy.init``); idempotent."""
        if self._installed:
            return
        self._installed = True
        # a crash (SIGSEGV, SIGABRT, ...) prints every thread's Python stack to stderr: a fault in
        # rclpy's or Fast DDS' teardown is then located in the node's log, not only "exit code -11"
        faulthandler.enable(all_threads=True)
        reader, writer = socket.socketpair()
        writer.setblocking(False)
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)
        signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        self._sockets = (reader, writer)  # kept open for the life of the process
        threading.Thread(target=self._wake_on_signals, args=(reader,), name="stop-signals",
                         daemon=True).start()

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` (e.g. a guard condition's ``trigger``) on a stop request, or now if made."""
        with self._lock:
            self._wakers.append(wake)
            if self.requested:
                wake()

    def remove_waker(self, wake: Callable[[], None]) -> None:
        with self._lock:
            if wake in self._wakers:
                self._wakers.remove(wake)

    def request(self, signum: int) -> None:
        """Record the stop request (the first signal wins) and wake every waiting executor."""
        with self._lock:
            if self.signum is None:
                self.signum = signum
            for wake in self._wakers:
                wake()

    def settle(self) -> None:
        """The process has shut down and is about to exit: from now on SIGINT/SIGTERM are ignored.

        Python's finalization restores the default action of every signal it handles (not of
        ignored ones), so a launcher's forwarded or escalated signal arriving while the
        interpreter exits killed a node that had stopped cleanly (exit code -2 under ``ros2
        launch``, seen after a stop that a blocked Fast DDS send had made last ~5 s).
        """
        if not self._installed:
            return
        signal.set_wakeup_fd(-1)
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)

    def _on_signal(self, signum: int, frame: object) -> None:
        # Runs in the main thread between two bytecodes; the waker thread has usually been first.
        if self.signum is None:
            self.signum = signum

    def _wake_on_signals(self, reader: socket.socket) -> None:
        while True:
            data = reader.recv(64)
            if not data:
                return
            self.request(data[0])


#: The one stop request of this process.
STOP = StopRequest()


def install() -> None:
    """Make SIGINT/SIGTERM a stop request (called first thing by every node executable)."""
    STOP.install()
