"""``neurohybrid export nwb RECORDING.mcap OUT.nwb``: the recording-export subcommands.

:func:`add_parsers` adds ``export`` (with its formats as sub-subcommands) to the ``neurohybrid``
command's subparsers; each sets ``func`` to a handler taking the parsed namespace and returning
the exit code (0 on success), as the other subcommands do.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_export_nwb(ns: argparse.Namespace) -> int:
    """Export ``ns.recording`` to ``ns.out`` (NWB), validate it with pynwb and print what was written."""
    from pynwb import validate

    from neurohybrid.analysis.nwb import export_nwb
    from neurohybrid.core.errors import NeurohybridError

    result = export_nwb(Path(ns.recording), Path(ns.out), subject_id=ns.subject_id,
                        session_description=ns.session_description, species=ns.species,
                        experimenter=ns.experimenter, identifier=ns.identifier, overwrite=ns.overwrite)
    problems = validate(path=str(result.path))
    print(json.dumps({"nwb": str(result.path), "spikes": result.spikes, "units": result.n_units,
                      "silicon_units": result.n_silicon_units, "stimulation": result.n_stimulation,
                      "plasticity": result.n_plasticity, "synapses": result.n_synapses,
                      "synapse_samples": result.n_synapse_samples}, indent=1))
    if problems:
        raise NeurohybridError(f"{result.path} fails pynwb validation: {problems}")
    print(f"wrote {result.path} (passes pynwb validation)")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add ``export`` (``export nwb RECORDING OUT [...]``) to the ``neurohybrid`` subcommands."""
    export = subparsers.add_parser("export", help="convert a recording to another format")
    formats = export.add_subparsers(dest="format", required=True)
    p = formats.add_parser("nwb", help="Neurodata Without Borders (NWB 2) file of a recording")
    p.add_argument("recording", help="an MCAP recording")
    p.add_argument("out", help="the NWB file to write")
    p.add_argument("--subject-id", default=None, help="subject id (default: metadata 'subject', else culture-1)")
    p.add_argument("--species", default=None, help="species (default: Rattus norvegicus)")
    p.add_argument("--session-description", default=None, help="session description")
    p.add_argument("--experimenter", default=None, help="experimenter name")
    p.add_argument("--identifier", default=None, help="file identifier (default: derived from the recording)")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=cmd_export_nwb)
