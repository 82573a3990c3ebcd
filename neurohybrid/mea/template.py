"""Recipe for a hardware MEA backend (after neo's ``examplerawio.py``): copy, rename, fill in.

``TemplateMEABackend`` is deliberately **not registered** and every method raises
``NotImplementedError``; its docstrings say which hardware call goes where. To add a device
(e.g. a Multi Channel Systems MEA2100 through the McsUsbNet .NET API, or a MaxWell MaxOne /
MaxTwo through the ``maxlab`` Python API):

1. Copy this file to ``neurohybrid/mea/<device>.py`` and rename the class.
2. Decorate it with ``@MEA_BACKENDS.register("<device>")`` (or, from another package, publish
   it in the entry-point group ``neurohybrid.mea_backends``).
3. Fill in the private methods and ``now_ns``. Do **not** validate stimulus commands:
   ``MEABackend.stimulate`` has already refused every command outside the
   ``StimulationLimits`` (and every batch while the device is not armed) and passes only
   accepted ones, whole.
4. The shared MEA compliance suite (``test/unit/test_mea_compliance.py``) runs on every
   registered backend, so yours gets every interface check once it is registered; add its
   construction arguments to the suite's table of backend arguments.

Conventions the node relies on: ``source_id`` = electrode index in ``layout`` order;
``time_ns`` in the device clock (the MEA node publishes the clock domain and the hub estimates
its offset); kinds KIND_PSP / KIND_EVOKED_AP / KIND_SPONTANEOUS_AP.
"""

from __future__ import annotations

from typing import Any

from neurohybrid.core.events import SpikeEvents, StimulusBatch
from neurohybrid.mea.backend import MEABackend
from neurohybrid.mea.layout import ElectrodeLayout
from neurohybrid.mea.stimulation import StimulationLimits


class TemplateMEABackend(MEABackend):
    """Skeleton of a hardware MEA backend; each method documents the device call it needs."""

    name = "template"

    def __init__(
        self, layout: ElectrodeLayout, limits: StimulationLimits, device_id: str = "", **kwargs: Any
    ) -> None:
        """Keep the arguments only (``super().__init__`` stores them for ``info()``).

        Do not touch the device here: opening belongs in ``_configure`` so that a lifecycle
        node controls when the lab goes live. Typical kwargs: device serial / IP, sampling rate,
        amplifier gain, hardware filter band, detector threshold, stimulation electrode list.
        """
        super().__init__(layout, limits, device_id=device_id, **kwargs)

    @property
    def now_ns(self) -> int:
        """Device clock in ns: the hardware sample counter times 1e9 / fs (e.g. the MEA2100
        timestamp of the last received sample frame; MaxLab ``frame number / 20 kHz``)."""
        raise NotImplementedError("read the device sample counter and convert to ns")

    def _configure(self) -> None:
        """Open and set up the device; raise DeviceError if it is absent or busy.

        MCS MEA2100: connect through ``CMcsUsbListNet`` / ``CMeaDeviceNet``, set the sample rate
        (25-50 kHz), select the channels of ``layout``, enable the real-time spike detector of the
        DSP or stream raw data into an ``OnlineSpikeDetector``, load the stimulus generator.
        MaxWell: ``maxlab.util.initialize()``, route the 1,024 electrodes of ``layout``
        (``maxlab.chip.Array.select_electrodes``), connect stimulation units to the stimulation
        electrodes, ``maxlab.util.offset()``. Check that the layout matches the chip's.
        """
        raise NotImplementedError("open the device and apply the configuration")

    def _shutdown(self) -> None:
        """Stop streaming, power down stimulation units and release the device handle."""
        raise NotImplementedError("stop streaming and disconnect")

    def _advance(self, duration_s: float) -> SpikeEvents:
        """Return the spikes detected since the last call, up to ``duration_s`` more of data.

        Hardware runs in real time, so this drains the device's event FIFO (MCS: DSP spike
        events; MaxLab: ``maxlab.stream`` spike events with frame numbers), converts frame
        numbers to ns, maps hardware channels to electrode indices of ``layout`` and assigns
        kinds with the rules documented in ``neurohybrid.mea.sim`` (evoked window after a
        delivered stimulus on the same electrode, PSP when none).
        """
        raise NotImplementedError("drain the device's spike FIFO into SpikeEvents")

    def _stimulate(self, batch: StimulusBatch) -> None:
        """Deliver the accepted commands (already checked against the limits).

        MCS: write biphasic current pulses (amplitude_ua, phase_width_us, pulse_count) into the
        STG memory of each electrode's stimulus channel and trigger them at ``time_ns``.
        MaxWell: ``maxlab.Sequence`` with ``DAC`` amplitude steps and ``DelaySamples`` for the
        phase widths, one sequence per stimulation unit, sent at the scheduled frame.
        Future commands must be queued (device scheduler or host queue) so ``safe_state`` can
        drop them.
        """
        raise NotImplementedError("program and trigger the stimulus generator")

    def _arm(self) -> None:
        """Connect the stimulation units to their electrodes (MCS: enable the STG channels;
        MaxWell: power up the stimulation units) so that ``_stimulate`` can act."""
        raise NotImplementedError("enable the stimulators")

    def _safe_state(self) -> int:
        """Stop stimulating now: clear queued/armed sequences and disconnect or ground the
        stimulation units (MCS: stop and clear the STG; MaxWell: power off stimulation units).
        Recording may continue. Return the number of commands that were still queued."""
        raise NotImplementedError("clear queued stimuli and disable the stimulators")
