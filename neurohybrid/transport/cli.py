"""``neurohybrid certs OUTDIR [--labs ...] [--host LAB=ADDRESS ...]``: the lab CA and per-lab TLS keys."""

from __future__ import annotations

import argparse
from pathlib import Path

from neurohybrid.core.errors import ConfigError


def _parse_hosts(items: list[str]) -> dict[str, tuple[str, ...]]:
    hosts: dict[str, tuple[str, ...]] = {}
    for i, item in enumerate(items):
        lab, sep, address = item.partition("=")
        if not sep or not lab or not address:
            raise ConfigError(f"--host[{i}]={item!r} invalid: allowed LAB=ADDRESS, e.g. southampton=203.0.113.7")
        hosts[lab] = (*hosts.get(lab, ()), address)
    return hosts


def cmd_certs(ns: argparse.Namespace) -> int:
    """Create the CA and the labs' key/certificate pairs; print where each file must go."""
    from neurohybrid.transport.certs import CA_KEY_FILE, create_lab_pki

    outdir = Path(ns.outdir)
    identities = create_lab_pki(outdir, tuple(ns.labs), _parse_hosts(ns.host))
    print(f"lab CA: {outdir / 'ca.cert.pem'} (copy to every site); "
          f"{outdir / CA_KEY_FILE} (mode 0600: keep offline, never commit)")
    for lab, ident in identities.items():
        print(f"{lab}: {ident.cert_chain_file} + {ident.private_key_file} (mode 0600): copy to {lab} only")
    return 0


def cmd_discovery_server(ns: argparse.Namespace) -> int:
    """Run the hub's Discovery Server until SIGINT/SIGTERM (0 when stopped on request)."""
    from neurohybrid.transport.discovery import serve

    return serve(Path(ns.profile))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``certs`` and ``discovery-server`` subcommands to the ``neurohybrid`` command."""
    p = subparsers.add_parser(
        "discovery-server", help="run the hub's Fast DDS Discovery Server (fastdds discovery -x PROFILE)",
        description="Runs `fastdds discovery -x PROFILE` in the foreground as a process group of its own "
                    "and stops it cleanly on SIGINT/SIGTERM (exit code 0), as launch files expect of a process.")
    p.add_argument("profile", help="rendered server profile (neurohybrid transport-profile LAB --role server)")
    p.set_defaults(func=cmd_discovery_server)
    from neurohybrid.transport.certs import DEFAULT_LABS

    p = subparsers.add_parser(
        "certs", help="create a lab CA and per-lab TLS key/certificate pairs (PEM) for Fast DDS TLS",
        description="Writes ca.cert.pem, ca.key.pem and <lab>.cert.pem/<lab>.key.pem into OUTDIR "
                    "(private keys mode 0600, a .gitignore of '*'); refuses to overwrite.")
    p.add_argument("outdir", help="output folder (created if missing)")
    p.add_argument("--labs", nargs="+", default=list(DEFAULT_LABS), metavar="LAB",
                   help=f"lab names (default: {' '.join(DEFAULT_LABS)})")
    p.add_argument("--host", action="append", default=[], metavar="LAB=ADDRESS",
                   help="extra subjectAltName (public IP or DNS name) of a lab's certificate; repeatable")
    p.set_defaults(func=cmd_certs)
    return p
