"""Fixtures for tests that start real nodes over Fast DDS."""

from __future__ import annotations

import pytest

from neurohybrid.testing.graph import NodeProcess


@pytest.fixture
def ros_context():
    """An initialised rclpy context for the test's own node, shut down afterwards."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


@pytest.fixture
def start_node(tmp_path):
    """Start installed node executables as processes; all are stopped at teardown."""
    procs: list[NodeProcess] = []

    def start(exe: str, *args: str, env: dict[str, str] | None = None) -> NodeProcess:
        proc = NodeProcess(exe, list(args), tmp_path / f"{exe}-{len(procs)}.log", env=env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()
