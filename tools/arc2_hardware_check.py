"""Hardware check of the arc2 memristor backend on a real ArC TWO (never run by the project).

Run by a lab with an instrument and a 32x32 crossbar on the standard daughterboard::

    python tools/arc2_hardware_check.py --firmware /path/to/arc2-fw.bin [--pulse-v 1.0]

1. configure (finds the instrument with pyarc2.find_ids(), loads the firmware, grounds all);
2. reads word line 0 three ways: device by device (read_one), as a slice (read_slice) and from
   the whole-array read (read_all), and says whether they agree within ``--rtol``; they must,
   else the channel map or the slice order assumed in neurohybrid/memristor/arc2.py is wrong;
3. with ``--pulse-v`` (V, within the default programming limits), one pulse of ``--pulse-width-s``
   on (``--wordline``, ``--bitline``), and the resistance before and after (a positive pulse must
   raise R: else set polarity bitline_high);
4. safe state and shutdown (all channels grounded).
Exit status 0 when the reads agree.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from neurohybrid.memristor import MEMRISTOR_BACKENDS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firmware", required=True, help="ArC TWO firmware file")
    parser.add_argument("--instrument-index", type=int, default=0)
    parser.add_argument("--read-voltage-v", type=float, default=0.2)
    parser.add_argument("--rtol", type=float, default=0.05, help="relative agreement of the three reads")
    parser.add_argument("--pulse-v", type=float, default=None, help="apply one pulse of this voltage, V")
    parser.add_argument("--pulse-width-s", type=float, default=100e-6)
    parser.add_argument("--wordline", type=int, default=0)
    parser.add_argument("--bitline", type=int, default=0)
    args = parser.parse_args(argv)
    arc = MEMRISTOR_BACKENDS.create("arc2", firmware=args.firmware, instrument_index=args.instrument_index,
                                    read_voltage_v=args.read_voltage_v)
    arc.configure()
    try:
        bitlines = np.arange(arc.shape[1])
        one = np.array([arc.read([0], [b])[0] for b in bitlines])
        row = arc.read(np.zeros_like(bitlines), bitlines)
        whole = arc.read_all()[0]
        print("word line 0, ohm\n read_one  :", np.array2string(one, precision=0),
              "\n read_slice:", np.array2string(row, precision=0), "\n read_all  :", np.array2string(whole, precision=0))
        agree = np.allclose(row, one, rtol=args.rtol) and np.allclose(whole, one, rtol=args.rtol)
        print("reads agree" if agree else "reads DISAGREE: check the channel map / slice order in arc2.py")
        if args.pulse_v is not None:
            arc.arm()
            result = arc.program([args.wordline], [args.bitline], args.pulse_v, args.pulse_width_s, 0)
            print("pulse", "accepted" if result.accepted[0] else f"refused: {result.reasons}",
                  f"R before {result.resistance_before_ohm[0]:.0f} ohm, after {result.resistance_after_ohm[0]:.0f} ohm")
    finally:
        arc.shutdown()
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
