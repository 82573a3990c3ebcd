"""LSL sources for tests: real liblsl outlets (pylsl) on loopback, as an acquisition system has.

:func:`raw_outlet` makes a float32 voltage stream whose description carries channel labels and
locations (the XDF meta-data convention); :class:`EventSource` runs an irregular (electrode,
kind) int32 stream from a thread, events stamped with the LSL clock as they are sent.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, Sequence

import numpy as np

from neurohybrid.core.events import KIND_SPONTANEOUS_AP
from neurohybrid.io.lsl import pylsl_module


def unique_name(prefix: str) -> str:
    """A stream name no other test (or machine on the network) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def raw_outlet(name: str, fs_hz: float, labels: Sequence[str] = (), positions_um: np.ndarray | None = None,
               n_channels: int | None = None, unit: str = "microvolts") -> Any:
    """A regularly sampled float32 outlet; labels / locations (um) / unit in its description when given."""
    lsl = pylsl_module()
    n = len(labels) if labels else int(n_channels)
    info = lsl.StreamInfo(name, "EEG", n, float(fs_hz), lsl.cf_float32, name)
    channels = info.desc().append_child("channels")
    for i in range(n):
        ch = channels.append_child("channel")
        if labels:
            ch.append_child_value("label", str(labels[i]))
        ch.append_child_value("unit", unit)
        ch.append_child_value("type", "EEG")
        if positions_um is not None:
            loc = ch.append_child("location")
            loc.append_child_value("X", repr(float(positions_um[i][0])))
            loc.append_child_value("Y", repr(float(positions_um[i][1])))
    return lsl.StreamOutlet(info, 0, 360)


def event_outlet(name: str) -> Any:
    """An irregular int32 outlet of (electrode index, event kind) samples."""
    lsl = pylsl_module()
    return lsl.StreamOutlet(lsl.StreamInfo(name, "Markers", 2, lsl.IRREGULAR_RATE, lsl.cf_int32, name))


class EventSource:
    """Sends spontaneous-AP events on random electrodes at ``rate_hz`` from a thread, until ``stop``."""

    def __init__(self, name: str, n_electrodes: int, rate_hz: float = 200.0, seed: int = 0) -> None:
        self.name = name
        self.outlet = event_outlet(name)
        self._n = int(n_electrodes)
        self._period_s = 1.0 / float(rate_hz)
        self._rng = np.random.default_rng(seed)
        self._stop = threading.Event()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name=f"lsl-events-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lsl = pylsl_module()
        # the source's own pacing (an acquisition system emits at its rate), not a synchronisation
        while not self._stop.wait(self._period_s):
            self.outlet.push_sample([int(self._rng.integers(self._n)), KIND_SPONTANEOUS_AP], lsl.local_clock())
            self.sent += 1

    def stop(self) -> None:
        """Stop sending and close the outlet."""
        self._stop.set()
        self._thread.join(timeout=5.0)
        self.outlet = None
