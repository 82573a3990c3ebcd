"""Clock exchanges on a thread of their own (own node and executor, the device node's context).

The stamps of an NTP-like exchange are only as good as the promptness of the code taking them:
served from the device node's own executor they wait behind device steps (RTTs of 10-30 ms on
a loaded machine). A helper node spun by an executor on its own thread keeps the device node
single-threaded (cheap) while the exchange is stamped and answered at once.

The helper node lives in the device node's rclpy context, hence in the same DDS participant:
a second context would be a second participant loading the same Fast DDS profile, which binds
the profile's TCP listening port a second time ("TCPTransport Error binding at port ... Address
already in use") and doubles every discovery and TLS link of the process.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from neurohybrid.srv import ClockSync


class _Spinner:
    def __init__(self, name: str, namespace: str, context: Context) -> None:
        # the process's remaps (``__node:=hub``) name the device node, not this one
        self.node = Node(name, namespace=namespace, context=context, use_global_arguments=False)
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _spin(self) -> None:
        try:
            self._executor.spin()
        except Exception:  # context shut down under the executor: nothing left to serve
            pass

    def close(self) -> None:
        self._executor.shutdown(timeout_sec=1.0)
        self._thread.join(timeout=2.0)
        self.node.destroy_node()


class ClockSyncClient(_Spinner):
    """Asks ``service`` for its clock every ``period_s``; hands (t1, t2, t3, t4) to ``on_sample``."""

    def __init__(self, name: str, namespace: str, context: Context, service: str, period_s: float,
                 on_sample: Callable[[int, int, int, int], None]) -> None:
        super().__init__(name, namespace, context)
        self._client = self.node.create_client(ClockSync, service)
        self._on_sample = on_sample
        self.node.create_timer(period_s, self._exchange)
        self.start()

    def _exchange(self) -> None:
        if not self._client.service_is_ready():
            return
        t1 = time.time_ns()
        future = self._client.call_async(ClockSync.Request(client_send_ns=t1))

        def done(fut) -> None:
            t4 = time.time_ns()
            res = fut.result()
            if res is not None and res.client_send_ns == t1:
                self._on_sample(t1, res.server_receive_ns, res.server_send_ns, t4)

        future.add_done_callback(done)


class ClockSyncServer(_Spinner):
    """Serves ``clock_sync`` (the master clock) in ``namespace``."""

    def __init__(self, name: str, namespace: str, context: Context, clock_domain: str) -> None:
        super().__init__(name, namespace, context)
        self._domain = clock_domain
        self.node.create_service(ClockSync, "clock_sync", self._serve)
        self.start()

    def _serve(self, req: ClockSync.Request, res: ClockSync.Response) -> ClockSync.Response:
        res.server_receive_ns = time.time_ns()
        res.client_send_ns = req.client_send_ns
        res.clock_domain = self._domain
        res.server_send_ns = time.time_ns()
        return res
