"""The ``neurohybrid`` command: launch files, the virtual-lab demo, reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurohybrid.errors import NeurohybridError


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
    from neurohybrid.launcher import Supervisor, load_launch_file
    from neurohybrid.launcher.description import parse_arguments

    specs = load_launch_file(_resolve_launch_file(ns.file), parse_arguments(ns.arguments))
    if ns.print:
        from neurohybrid.launcher.description import command_line

        for spec in specs:
            print(" ".join(command_line(spec)))
        return 0
    return Supervisor(specs).run(duration_s=ns.duration)


def cmd_demo(ns: argparse.Namespace) -> int:
    from neurohybrid.demo import run_demo

    return run_demo(ns.duration, Path(ns.results))


def cmd_report(ns: argparse.Namespace) -> int:
    import json

    from neurohybrid.io.report import make_report

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
    p.add_argument("--print", action="store_true", help="print the node command lines and exit")
    p.set_defaults(func=cmd_launch)

    p = sub.add_parser("demo", help="run the virtual lab (the paper's experiment) and report")
    p.add_argument("--duration", type=float, default=60.0, help="experiment length, s")
    p.add_argument("--results", default="results", help="folder of results/<timestamp>/")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("report", help="figure and summary of a recording")
    p.add_argument("recording", help="an MCAP recording")
    p.add_argument("--out", default=None, help="output folder (default: beside the recording)")
    p.set_defaults(func=cmd_report)

    from neurohybrid.io.cli import add_parsers as add_export_parsers
    from neurohybrid.transport.cli import add_parser as add_certs_parser
    from neurohybrid.transport.site import add_parser as add_transport_profile_parser

    add_export_parsers(sub)
    add_transport_profile_parser(sub)

    add_certs_parser(sub)
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
