"""The ``neurohybrid`` command: launch files, the virtual-lab demo, reports."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from neurohybrid.core.errors import NeurohybridError


def _resolve_launch_file(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    from neurohybrid.launcher.substitutions import find_pkg_share

    candidate = Path(find_pkg_share("neurohybrid")) / "launch" / name
    if candidate.exists():
        return candidate
    raise NeurohybridError(f"launch file {name!r} not found (as a path or in share/neurohybrid/launch)")


def cmd_launch(ns: argparse.Namespace) -> int:
    from neurohybrid.launcher import Supervisor, load_launch_file, stock
    from neurohybrid.launcher.description import parse_arguments, plan

    path, arguments = _resolve_launch_file(ns.file), parse_arguments(ns.arguments)
    runner = ns.runner
    if runner == "auto":
        runner = "ours" if stock.missing() else "stock"
    elif runner == "stock" and stock.missing():
        raise NeurohybridError(stock.missing())
    if ns.print:
        for process in (stock.plan if runner == "stock" else plan)(path, arguments):
            print(json.dumps(process.as_dict()))
        return 0
    if runner == "stock":
        return stock.run(path, arguments, duration_s=ns.duration)
    return Supervisor(load_launch_file(path, arguments)).run(duration_s=ns.duration)


def cmd_demo(ns: argparse.Namespace) -> int:
    from neurohybrid.demo import run_demo, run_neurorobot_demo

    if ns.kind == "neurorobot":
        if ns.live or ns.slice_s is not None:
            raise NeurohybridError("--live and --slice-s belong to --kind lab (the virtual lab)")
        return run_neurorobot_demo(ns.duration, Path(ns.results))
    return run_demo(ns.duration, Path(ns.results), live=ns.live, slice_s=ns.slice_s)


def cmd_report(ns: argparse.Namespace) -> int:
    from neurohybrid.analysis.report import make_report

    out = Path(ns.out) if ns.out else Path(ns.recording).parent
    summary = make_report(Path(ns.recording), out)
    print(json.dumps(summary, indent=1, default=str))
    print(f"report: {out / 'report.html'}, {out / 'report.png'}, {out / 'summary.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurohybrid", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("launch", help="run a ROS 2 YAML launch file of this package")
    p.add_argument("file", help="path, or a file name in share/neurohybrid/launch")
    p.add_argument("arguments", nargs="*", help="launch arguments, name:=value")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--print", action="store_true",
                   help="print what would start (one JSON plan per process) and exit")
    p.add_argument("--runner", choices=("auto", "stock", "ours"), default="auto",
                   help="stock ROS 2 launch (auto: where importable) or our own runner")
    p.set_defaults(func=cmd_launch)

    p = sub.add_parser("demo", help="run the virtual lab (the paper's experiment) or the neurorobot loop, and report")
    p.add_argument("--kind", choices=("lab", "neurorobot"), default="lab",
                   help="lab: the virtual lab (Serb et al. 2020); neurorobot: the culture driving the robot twin")
    p.add_argument("--duration", type=float, default=60.0,
                   help="experiment length, s (neurorobot: closed loop from the MEA's first spike batch)")
    p.add_argument("--results", default="results", help="folder of results/<timestamp>/")
    p.add_argument("--live", action="store_true",
                   help="also serve the live view (http://127.0.0.1:8080/, Foxglove ws://127.0.0.1:8765)")
    p.add_argument("--slice-s", type=float, default=None,
                   help="device slice of both labs, s (the launch file's slice_s, 0.001-0.1; default: its default)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="figure and summary of a recording")
    p.add_argument("recording", help="an MCAP recording")
    p.add_argument("--out", default=None, help="output folder (default: beside the recording)")
    p.set_defaults(func=cmd_report)

    from neurohybrid.analysis.cli import add_parsers as add_export_parsers
    from neurohybrid.live.cli import add_parser as add_live_parser
    from neurohybrid.parameters import add_parser as add_params_parser
    from neurohybrid.transport.cli import add_parser as add_certs_parser
    from neurohybrid.transport.site import add_parser as add_transport_profile_parser

    add_export_parsers(sub)
    add_live_parser(sub)
    add_transport_profile_parser(sub)

    add_certs_parser(sub)
    add_params_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    try:
        return ns.func(ns)
    except NeurohybridError as exc:
        print(f"neurohybrid {ns.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
