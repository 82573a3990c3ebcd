"""The simulated crossbar backend ("sim"): the hub's embedded digital twin.

Wraps :class:`~neurohybrid.memristor.crossbar.Crossbar` (data-driven TiOx model of
Messaris et al., IEEE TCAD 2018, with device-to-device, cycle-to-cycle and read
variability) behind :class:`~neurohybrid.memristor.backend.MemristorBackend`, so the same
hub code drives the twin or a real instrument.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from neurohybrid.errors import ConfigError
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS, MemristorBackend
from neurohybrid.memristor.crossbar import DEFAULT_INITIAL_RESISTANCE_OHM, Crossbar
from neurohybrid.memristor.limits import ProgrammingLimits
from neurohybrid.memristor.model import TiOxParams


@MEMRISTOR_BACKENDS.register("sim")
class SimMemristorBackend(MemristorBackend):
    """A simulated TiOx crossbar behind the memristor backend interface.

    Arguments are those of :class:`Crossbar` (``params`` may also be a mapping of
    :class:`TiOxParams` fields, e.g. from YAML) plus ``limits`` (programming limits).
    """

    name = "sim"

    def __init__(
        self,
        n_wordlines: int = 32,
        n_bitlines: int = 32,
        params: TiOxParams | Mapping[str, float] | None = None,
        d2d_spread: float = 0.1,
        c2c_spread: float = 0.05,
        read_noise: float = 0.005,
        initial_resistance_ohm: float | tuple[float, float] = DEFAULT_INITIAL_RESISTANCE_OHM,
        seed: int = 0,
        limits: ProgrammingLimits | Mapping[str, float] | None = None,
    ) -> None:
        if params is None:
            tiox = TiOxParams()
        elif isinstance(params, TiOxParams):
            tiox = params
        elif isinstance(params, Mapping):
            tiox = TiOxParams.from_mapping(params)
        else:
            raise ConfigError(f"params={params!r} must be a TiOxParams or a mapping")
        super().__init__(
            limits=limits,
            n_wordlines=n_wordlines,
            n_bitlines=n_bitlines,
            params=tiox.to_dict(),
            d2d_spread=d2d_spread,
            c2c_spread=c2c_spread,
            read_noise=read_noise,
            initial_resistance_ohm=initial_resistance_ohm,
            seed=seed,
        )
        self.crossbar = Crossbar(
            n_wordlines=n_wordlines,
            n_bitlines=n_bitlines,
            params=tiox,
            d2d_spread=d2d_spread,
            c2c_spread=c2c_spread,
            read_noise=read_noise,
            initial_resistance_ohm=initial_resistance_ohm,
            seed=seed,
        )

    @property
    def shape(self) -> tuple[int, int]:
        return self.crossbar.shape

    @property
    def resistance_ohm(self) -> np.ndarray:
        """True (noise-free) resistances of the twin, ohm, (n_wl, n_bl); a copy."""
        return self.crossbar.resistance_ohm

    def _open(self) -> None:
        """Nothing to open: the twin exists from construction."""

    def _close(self) -> None:
        """Nothing to release."""

    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        return self.crossbar.read(wordline, bitline)

    def _read_all(self) -> np.ndarray:
        return self.crossbar.read_all()

    def _pulse(
        self,
        wordline: np.ndarray,
        bitline: np.ndarray,
        amplitude_v: np.ndarray,
        width_s: np.ndarray,
    ) -> None:
        self.crossbar.pulse(wordline, bitline, amplitude_v, width_s)
