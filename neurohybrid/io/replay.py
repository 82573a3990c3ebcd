"""What every replay backend shares: its arguments, the recorded spike topic, the playback clock.

A replay backend (MEA, board, any later kind) plays a recording as if it were the device. Its
device clock advances by each ``advance(d)``; the window of the recording played is
``replay_speed`` times longer, and an event at recording time t (from the source's time 0) is
stamped ``t / replay_speed`` on the device clock (:class:`Playback`). A recording cannot be
stimulated: every replay backend refuses input with :data:`REFUSAL_REASON`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError, NeurohybridError
from neurohybrid.core.events import KIND_SILICON_SPIKE
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.units import s_to_ns
from neurohybrid.core.validate import Bounds

MAX_REPLAY_SPEED = 100.0
"""Fastest replay accepted, x real time (the detector must keep up with the raw sources)."""
REFUSAL_REASON = "replay: no stimulation possible"
"""Why every replay backend refuses input."""

REPLAY_PARAMS = ParamSet("replay backend", [
    ParamSpec("replay_file", "", "recording to replay (replay backend): .mcap, .nwb (MEA also a neo file)"),
    ParamSpec("replay_speed", 1.0, "replay speed (replay backend)", "x real time",
              Bounds(0.0, MAX_REPLAY_SPEED, low_open=True)),
])


def check_replay_args(replay_file: str | os.PathLike, replay_speed: float) -> tuple[Path, float]:
    """Validated (path, speed): the file must exist; speed in (0, MAX_REPLAY_SPEED]."""
    path = Path(replay_file) if replay_file else None
    if path is None or not path.is_file():
        raise ConfigError(f"replay_file={str(replay_file)!r}: no such file")
    return path, REPLAY_PARAMS["replay_speed"].check(replay_speed)


def time_window(times_ns: np.ndarray, start_ns: int | None, end_ns: int) -> slice:
    """Indices of the sorted ``times_ns`` in [start_ns, end_ns) (from -inf when start is None)."""
    lo = 0 if start_ns is None else int(np.searchsorted(times_ns, start_ns, side="left"))
    return slice(lo, int(np.searchsorted(times_ns, end_ns, side="left")))


def mcap_spike_topic(path: Path, topic: str, silicon: bool) -> tuple[str, dict[str, Any]]:
    """The recorded SpikeBatch topic to replay and its events (the only one of its kind if not named).

    ``silicon`` picks topics whose events are all silicon spikes, else all biological kinds.
    Errors are ConfigErrors naming the file.
    """
    from neurohybrid.io.reader import SPIKE_BATCH, Recording

    try:
        rec = Recording.open(path)
        if topic:
            return topic, rec.spikes(topic)
        candidates = [name for name in rec.topics_of(SPIKE_BATCH)
                      if _all_of_one_side(rec.spikes(name)["kind"], silicon)]
    except (NeurohybridError, KeyError) as exc:
        raise ConfigError(f"replay_file={str(path)!r}: {exc}") from None
    if len(candidates) != 1:
        what = "silicon" if silicon else "biological"
        raise ConfigError(f"replay_file={str(path)!r}: {path}: {len(candidates)} SpikeBatch topics with {what} "
                          f"events ({candidates}); name one with topic=...")
    return candidates[0], rec.spikes(candidates[0])


def _all_of_one_side(kinds: np.ndarray, silicon: bool) -> bool:
    return bool(len(kinds)) and bool(np.all(kinds == KIND_SILICON_SPIKE)) == silicon


def recording_origin_ns(spikes: dict[str, Any]) -> int:
    """Time 0 of a recorded spike topic: the start of its first recorded slice (0 if empty)."""
    starts = spikes["batch_slice_start_ns"]
    return int(starts.min()) if len(starts) else 0


class Playback:
    """The device clock of a replay and the window of the recording each advance plays."""

    def __init__(self, speed: float) -> None:
        self.speed = float(speed)
        self.restart()

    def restart(self) -> None:
        """Device clock back to 0, nothing played yet."""
        self.now_ns = 0
        self._played_until_ns: int | None = None

    def advance(self, duration_s: float) -> tuple[int | None, int]:
        """Move the device clock by ``duration_s``; the recording window [start, end) now due, ns.

        ``start`` is None on the first call (everything before ``end`` is due).
        """
        self.now_ns += s_to_ns(duration_s)
        start, end = self._played_until_ns, int(round(self.now_ns * self.speed))
        self._played_until_ns = end
        return start, end

    def to_device(self, rec_ns: np.ndarray) -> np.ndarray:
        """Recording times (ns from its time 0) -> device times, ns."""
        if self.speed == 1.0:
            return np.asarray(rec_ns, np.int64)
        return np.rint(np.asarray(rec_ns, np.float64) / self.speed).astype(np.int64)
