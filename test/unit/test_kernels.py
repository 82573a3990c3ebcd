"""compile_all: every compiled kernel loads (or compiles) through its owning class."""

from __future__ import annotations

from neurohybrid.kernels import compile_all


def test_compile_all_builds_each_kernel_owner():
    taken = compile_all()
    assert set(taken) == {"board", "detector", "programming_guard"}
    assert all(seconds >= 0.0 for seconds in taken.values())
