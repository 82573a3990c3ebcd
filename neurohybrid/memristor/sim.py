"""The simulated crossbar backend ("sim"): the hub's embedded digital twin.

Wraps :class:`~neurohybrid.memristor.crossbar.Crossbar` (data-driven TiOx model of
Messaris et al., IEEE TCAD 2018, with device-to-device, cycle-to-cycle and read
variability) behind :class:`~neurohybrid.memristor.backend.MemristorBackend`, so the same
hub code drives the twin or a real instrument.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from neurohybrid.core.errors import ConfigError
from neurohybrid.core.node_params import SEED_BOUNDS
from neurohybrid.core.params import ParamSet, ParamSpec
from neurohybrid.memristor.backend import MEMRISTOR_BACKENDS, MemristorBackend
from neurohybrid.memristor.crossbar import CROSSBAR_PARAMS, DEFAULT_INITIAL_RESISTANCE_OHM, Crossbar
from neurohybrid.memristor.limits import ProgrammingLimits
from neurohybrid.memristor.model import TiOxParams

SIM_PARAMS = ParamSet("memristor sim backend (TiOx crossbar twin)", [
    ParamSpec("seed", 0, "random seed of the memristor twin", "", SEED_BOUNDS),
])


@MEMRISTOR_BACKENDS.register("sim")
class SimMemristorBackend(MemristorBackend):
    """A simulated TiOx crossbar behind the memristor backend interface.

    Arguments are those of :class:`Crossbar` (``params`` may also be a mapping of
    :class:`TiOxParams` fields, e.g. from YAML) plus ``limits`` (programming limits) and
    ``n_tiles``: the twin of ``n_tiles`` crossbars of ``n_wordlines x n_bitlines`` is one
    :class:`Crossbar` with the tiles stacked along its word lines. That is exact for this
    model: every device evolves on its own (no sneak paths, no shared lines in eq. 7), and each
    device draws its own device-to-device factors, as separate chips would.
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
        n_tiles: int = 1,
    ) -> None:
        n_tiles = CROSSBAR_PARAMS["n_tiles"].check(n_tiles)
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
            n_tiles=n_tiles,
        )
        self._n_tiles = n_tiles
        self._tile_shape = (CROSSBAR_PARAMS["n_wordlines"].check(n_wordlines),
                            CROSSBAR_PARAMS["n_bitlines"].check(n_bitlines))
        self.crossbar = Crossbar(
            n_wordlines=n_tiles * self._tile_shape[0],
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
        return self._tile_shape

    @property
    def n_tiles(self) -> int:
        return self._n_tiles

    @property
    def resistance_ohm(self) -> np.ndarray:
        """True (noise-free) resistances of the twin, ohm, (n_tiles * n_wl, n_bl) (tiles stacked); a copy."""
        return self.crossbar.resistance_ohm

    def _configure(self) -> None:
        """Nothing to open: the twin exists from construction."""

    def _shutdown(self) -> None:
        """Nothing to release."""

    def _read(self, wordline: np.ndarray, bitline: np.ndarray) -> np.ndarray:
        return self.crossbar.read_checked(wordline, bitline)  # the backend validated them

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
