"""compile_all: every compiled kernel loads (or compiles) through its owning class."""

from __future__ import annotations

from neurohybrid.kernels import compile_all, refresh_cache


def test_compile_all_builds_each_kernel_owner():
    taken = compile_all()
    assert set(taken) == {"board", "detector", "extracellular", "hub_fanout", "programming_guard", "stimulation_guard"}
    assert all(seconds >= 0.0 for seconds in taken.values())


def test_refresh_cache_drops_cached_kernels_only_when_a_source_changed(tmp_path):
    cache = tmp_path / "board" / "__pycache__"
    cache.mkdir(parents=True)
    kernel_files = [cache / "kernel.dpi_run-1.py311.nbi", cache / "kernel.dpi_run-1.py311.1.nbc"]
    other = cache / "dpi.cpython-311.pyc"
    for path in (*kernel_files, other):
        path.write_bytes(b"x")
    assert refresh_cache(tmp_path)
    assert not any(path.exists() for path in kernel_files) and other.exists()
    kernel_files[0].write_bytes(b"x")
    assert not refresh_cache(tmp_path)  # same sources: the cache is kept
    assert kernel_files[0].exists()
    (tmp_path / "__pycache__" / "kernels.sha256").write_text("an older digest")
    assert refresh_cache(tmp_path)
    assert not kernel_files[0].exists()


def test_read_only_inputs_reuse_the_compiled_kernels():
    import numpy as np

    from neurohybrid.mea.detector import OnlineSpikeDetector
    from neurohybrid.mea.detector_kernel import detect_chunk
    from neurohybrid.memristor.limits import ProgrammingGuard, _admit_in_order

    guard = ProgrammingGuard()
    n_admit = len(_admit_in_order.signatures)
    now = np.broadcast_to(np.int64(10**9), (1,))  # read-only, as a scalar time becomes
    guard.check(np.array([0]), np.array([0]), np.array([1.0]), np.array([1e-6]), now)
    assert len(_admit_in_order.signatures) == n_admit

    det = OnlineSpikeDetector(2, 20_000.0)
    n_detect = len(detect_chunk.signatures)
    chunk = np.zeros((100, 2), np.float32)
    chunk.setflags(write=False)
    det.process(chunk, 0)
    assert len(detect_chunk.signatures) == n_detect
