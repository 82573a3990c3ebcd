"""Template backend: the recipe for driving a real crossbar (ArC TWO via ``pyarc2``).

:class:`TemplateMemristorBackend` is deliberately **not registered**. Copy it to a new
module (or a plugin package), fill in the four primitives, and register it::

    @MEMRISTOR_BACKENDS.register("arc2")
    class Arc2MemristorBackend(MemristorBackend): ...

or, from a separate package, through the entry-point group
``neurohybrid.memristor_backends`` (see :mod:`neurohybrid.core.registry`).

Recipe for ArC TWO (``pip install pyarc2``; https://github.com/arc-instruments/pyarc2):

1. ``__init__``: accept and keep every setting (instrument index, firmware path, channel
   map, read voltage, polarity) and pass them to ``super().__init__(limits=..., **kwargs)``
   for provenance. Validate them (ConfigError naming the key). Touch no hardware here.
2. ``_configure``: ``from pyarc2 import Instrument, find_ids``; ``ids = find_ids()``; raise
   :class:`~neurohybrid.core.errors.DeviceError` if empty; ``self._arc = Instrument(ids[idx],
   firmware_path)``; then ground everything (``self._arc.ground_all()``). Import
   ``pyarc2`` here, not at module level, so the core imports without it.
3. Address mapping: ArC TWO has 64 channels; a 32x32 crossbar puts word lines on one set
   of 32 channels and bit lines on the other. Keep the map (word line -> channel, bit line
   -> channel) as a setting; it depends on the daughterboard and the chip carrier.
4. ``_read(wordline, bitline)``: for each address,
   ``current_a = self._arc.read_one(low_ch, high_ch, read_voltage_v)`` with the bit line
   as ``low`` (grounded) and the word line as ``high``; resistance ``= read_voltage_v /
   current_a`` (the Southampton convention: static resistance at a small read voltage,
   0.2 V in Messaris et al. 2018). A zero or non-finite current is a DeviceError.
5. ``_pulse(wordline, bitline, amplitude_v, width_s)``: for each address,
   ``self._arc.pulse_one(low_ch, high_ch, amplitude_v, int(round(width_s * 1e9)))``
   (voltage in V, width in integer nanoseconds), then ``self._arc.ground_all()``.
   **Polarity**: this package's convention is that a positive pulse raises R (see
   :mod:`neurohybrid.memristor.model`). If the devices set (R down) under positive bias
   with the word line high, swap ``low`` and ``high`` (a ``polarity`` setting) rather
   than changing the sign in the plasticity rules.
6. ``_shutdown``: ``self._arc.ground_all()``, drop the instrument object.
7. Never re-check limits or addresses: :meth:`MemristorBackend.program` has done it and
   passes each address at most once per ``_pulse`` call. Each read or pulse cost ~10 ms over
   the original ArC ONE serial link; batch where the instrument allows.
8. The shared memristor compliance suite (``test/unit/test_memristor_compliance.py``) runs on
   every registered backend: add yours and its construction arguments to its table.
"""

from __future__ import annotations

import numpy as np

from neurohybrid.memristor.backend import MemristorBackend


class TemplateMemristorBackend(MemristorBackend):
    """Skeleton of a hardware crossbar backend; every primitive raises NotImplementedError."""

    name = "template"

    def __init__(self, n_wordlines: int = 32, n_bitlines: int = 32, **kwargs: object) -> None:
        super().__init__(n_wordlines=n_wordlines, n_bitlines=n_bitlines, **kwargs)
        self._shape = (int(n_wordlines), int(n_bitlines))

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    def _configure(self) -> None:
        raise NotImplementedError("open the instrument: pyarc2.Instrument(find_ids()[0], fw)")

    def _shutdown(self) -> None:
        raise NotImplementedError("ground all channels (Instrument.ground_all) and release")

    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        raise NotImplementedError("R = V_read / Instrument.read_one(low, high, V_read) per address")

    def _pulse(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
    ) -> None:
        raise NotImplementedError("Instrument.pulse_one(low, high, voltage, nanos) per address")
