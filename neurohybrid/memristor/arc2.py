"""The ArC TWO memristor backend ("arc2"): a real crossbar through ArC Instruments' ``pyarc2``.

**Never run on a real instrument.** It is written against the installed ``pyarc2`` (0.6.0,
bindings of libarc2) and tested only through a recording double of the ``pyarc2.Instrument``
calls it makes (:mod:`neurohybrid.testing.arc2_double`), whose signatures the tests check
against the installed package. ``tools/arc2_hardware_check.py`` is the check a lab with an
instrument runs (README, "ArC TWO").

Mapping of the memristor contract onto ``pyarc2.Instrument`` (channels of the standard 32x32
daughterboard: word line i is channel i (i < 16) or i + 16, bit line j is channel j + 16
(j < 16) or j + 32, the rows and columns of libarc2's ``read_slice`` docstring):

* read one device: ``read_one(low, high, read_voltage_v)`` with the bit line ``low`` and the
  word line ``high``; R = read_voltage_v / |I| (static resistance at a small read voltage,
  0.2 V as in Messaris et al., IEEE TCAD 2018).
* read a slice (several devices of one word line): ``read_slice(word line channel, V)``, one
  current per bit line, in bit-line order.
* read the whole array: ``read_all(V, BiasOrder.Rows)``, a 32x32 current array [row, column].
* program: for each accepted pulse, the other channels grounded (``ground_all``) or floating
  (``float_all``) as ``idle`` says, then ``pulse_one(low, high, amplitude_v, width_ns)``, back
  to ``idle``, ``execute()`` and ``wait()``; width in integer nanoseconds. Limits
  (:class:`~neurohybrid.memristor.limits.ProgrammingLimits`) are enforced by
  :meth:`MemristorBackend.program` before any pulse reaches the instrument.
* safe state (deactivate) and shutdown: ``ground_all()``, ``execute()``, ``wait()``.

Polarity: this package's convention is that a positive pulse raises R
(:mod:`neurohybrid.memristor.model`). ``polarity="bitline_high"`` swaps ``low`` and ``high`` for
devices that reset under positive word-line bias, instead of changing signs in the rules.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neurohybrid.core.errors import ConfigError, DeviceError
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.core.validate import Bounds
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS, MemristorBackend
from neurohybrid.memristor.limits import ProgrammingLimits

ARC2_LINES = 32
"""Word lines and bit lines of the standard ArC TWO 32x32 daughterboard."""
ARC2_CHANNELS = 64
"""Channels of an ArC TWO."""
MAX_READ_VOLTAGE_V = 1.0
"""Ceiling of the read voltage, V: a read must not program (TiOx switches from ~1 V, Messaris 2018)."""

ARC2_PARAMS = ParamSet("memristor arc2 backend (ArC TWO through pyarc2)", [
    ParamSpec("firmware", "", "path of the ArC TWO firmware file loaded by pyarc2.Instrument (required)"),
    ParamSpec("instrument_index", 0, "which of pyarc2.find_ids() to open", "", Bounds(0, 63, integer=True)),
    ParamSpec("read_voltage_v", 0.2, "read voltage (R = V / |I|)", "V",
              Bounds(0.0, MAX_READ_VOLTAGE_V, low_open=True)),
    ParamSpec("idle", "ground", "what the other channels do around a pulse", choices=("ground", "float")),
    ParamSpec("polarity", "wordline_high", "which line gets the pulse voltage",
              choices=("wordline_high", "bitline_high")),
    ParamSpec("driver", "pyarc2", "Python module providing find_ids and Instrument (pyarc2)"),
])


def wordline_channel(wordline: np.ndarray) -> np.ndarray:
    """ArC TWO channel of each word line (rows: channels 0-15 and 32-47)."""
    wl = np.asarray(wordline, np.int64)
    return np.where(wl < 16, wl, wl + 16)


def bitline_channel(bitline: np.ndarray) -> np.ndarray:
    """ArC TWO channel of each bit line (columns: channels 16-31 and 48-63)."""
    bl = np.asarray(bitline, np.int64)
    return np.where(bl < 16, bl + 16, bl + 32)


@MEMRISTOR_BACKENDS.register("arc2")
class Arc2MemristorBackend(MemristorBackend):
    """A 32x32 crossbar on an ArC TWO, read and programmed through ``pyarc2.Instrument``.

    ``seed`` is accepted (and ignored: an instrument has no random seed) so that the hub builds
    every memristor backend with the same arguments.
    """

    name = "arc2"

    def __init__(self, firmware: str = "", instrument_index: int = 0, read_voltage_v: float = 0.2,
                 idle: str = "ground", polarity: str = "wordline_high", driver: str = "pyarc2",
                 n_wordlines: int = ARC2_LINES, n_bitlines: int = ARC2_LINES, seed: int = 0,
                 limits: ProgrammingLimits | dict[str, float] | None = None) -> None:
        settings = ARC2_PARAMS.check({"firmware": str(firmware), "instrument_index": instrument_index,
                                      "read_voltage_v": read_voltage_v, "idle": idle, "polarity": polarity,
                                      "driver": driver})
        if (n_wordlines, n_bitlines) != (ARC2_LINES, ARC2_LINES):
            raise ConfigError(f"n_wordlines, n_bitlines = {n_wordlines}, {n_bitlines}: the arc2 backend drives "
                              f"the standard {ARC2_LINES}x{ARC2_LINES} daughterboard; allowed: "
                              f"{ARC2_LINES}, {ARC2_LINES}")
        super().__init__(limits=limits, **settings, n_wordlines=n_wordlines, n_bitlines=n_bitlines, seed=seed)
        self._settings = settings
        self._arc: Any = None
        self._driver: ModuleType | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return (ARC2_LINES, ARC2_LINES)

    # ----- lifecycle -------------------------------------------------------------------
    def _configure(self) -> None:
        name = self._settings["driver"]
        try:
            driver = importlib.import_module(name)
        except ImportError as exc:
            raise DeviceError(f"arc2: cannot import driver={name!r} ({exc}); install pyarc2") from None
        ids = list(driver.find_ids())
        index = self._settings["instrument_index"]
        if not ids:
            raise DeviceError(f"arc2: no ArC TWO found: {name}.find_ids() returned no instrument (it looks "
                              "for ArC TWO boards on USB through libarc2); connect and power the instrument, "
                              "check its USB permissions, or choose memristor_backend 'sim'")
        if index >= len(ids):
            raise DeviceError(f"arc2: instrument_index={index} outside allowed [0, {len(ids) - 1}] "
                              f"({name}.find_ids() = {ids})")
        firmware = self._settings["firmware"]
        if not firmware or not Path(firmware).is_file():
            raise ConfigError(f"firmware={firmware!r} is not a file; allowed: the path of the ArC TWO "
                              "firmware (.bin) that pyarc2.Instrument loads")
        self._driver = driver
        self._arc = driver.Instrument(ids[index], firmware, True)
        self._to_ground()

    def _safe_state(self) -> int:
        """Every channel grounded (no bias across any device); programming is synchronous."""
        self._to_ground()
        return 0

    def _shutdown(self) -> None:
        self._arc = None
        self._driver = None

    def _to_ground(self) -> None:
        self._arc.ground_all()
        self._arc.execute()
        self._arc.wait()

    # ----- reads -----------------------------------------------------------------------
    def _resistance(self, current_a: np.ndarray) -> np.ndarray:
        current = np.abs(np.asarray(current_a, np.float64))
        if not (np.isfinite(current).all() and (current > 0).all()):
            raise DeviceError(f"arc2: read returned a zero or non-finite current ({current_a!r}); "
                              "the device or its contact is open")
        return self._settings["read_voltage_v"] / current

    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        v = self._settings["read_voltage_v"]
        rows = np.unique(wordline)
        if len(wordline) > 1 and len(rows) == 1:
            return self._resistance(np.asarray(self._arc.read_slice(int(wordline_channel(rows[0])), v))[bitline])
        low, high = self._low_high(wordline, bitline)
        return self._resistance([self._arc.read_one(int(lo), int(hi), v) for lo, hi in zip(low, high)])

    def _read_all(self) -> np.ndarray:
        currents = np.asarray(self._arc.read_all(self._settings["read_voltage_v"], self._driver.BiasOrder.Rows))
        return self._resistance(currents.reshape(self.shape))

    # ----- programming -----------------------------------------------------------------
    def _low_high(self, wordline: np.ndarray, bitline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wl, bl = wordline_channel(wordline), bitline_channel(bitline)
        return (bl, wl) if self._settings["polarity"] == "wordline_high" else (wl, bl)

    def _pulse(self, wordline: np.ndarray, bitline: np.ndarray, amplitude_v: np.ndarray,
               width_s: np.ndarray) -> None:
        rest = self._arc.ground_all if self._settings["idle"] == "ground" else self._arc.float_all
        low, high = self._low_high(wordline, bitline)
        nanos = np.rint(np.asarray(width_s) * 1e9).astype(np.int64)
        for lo, hi, v, ns in zip(low.tolist(), high.tolist(), np.asarray(amplitude_v).tolist(), nanos.tolist()):
            rest()
            self._arc.pulse_one(lo, hi, float(v), ns)
            rest()
            self._arc.execute()
            self._arc.wait()
