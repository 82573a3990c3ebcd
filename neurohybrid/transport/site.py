"""``neurohybrid transport-profile LAB --role ROLE --hub ADDRESS:PORT --certs DIR -o FILE``.

Renders one site's Fast DDS profile (TCPv4 + TLS, Discovery Server; see
:func:`neurohybrid.transport.profiles.render_profile`) from the lab certificates that
``neurohybrid certs`` wrote, before any process of the site starts. The lab launch files then take
the rendered file as ``profile:=FILE`` (and the hub's Discovery Server profile as
``server_profile:=FILE``). Also runnable as ``python -m neurohybrid.transport.site``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurohybrid.core.errors import ConfigError, NeurohybridError
from neurohybrid.transport.certs import CA_CERT_FILE, lab_cert_file, lab_key_file
from neurohybrid.transport.profiles import DEFAULT_HUB_PORT, TEMPLATES, TlsIdentity, write_profile

#: Name of the subcommand this module adds to ``neurohybrid``.
COMMAND = "transport-profile"


def lab_identity(certs_dir: Path, lab: str) -> TlsIdentity:
    """``lab``'s TLS identity in a folder written by ``neurohybrid certs`` (files checked when rendering)."""
    certs_dir = Path(certs_dir)
    return TlsIdentity(cert_chain_file=certs_dir / lab_cert_file(lab),
                       private_key_file=certs_dir / lab_key_file(lab),
                       verify_file=certs_dir / CA_CERT_FILE)


def parse_hub(text: str) -> tuple[str, int]:
    """``"ADDRESS:PORT"`` or ``"ADDRESS"`` (port :data:`DEFAULT_HUB_PORT`) -> (address, port)."""
    address, sep, port = str(text).rpartition(":")
    if not sep:
        address, port = str(text), str(DEFAULT_HUB_PORT)
    if not address or not port.isdigit():
        raise ConfigError(f"--hub={text!r} invalid: allowed ADDRESS[:PORT], e.g. 203.0.113.7:{DEFAULT_HUB_PORT}")
    return address, int(port)


def cmd_transport_profile(ns: argparse.Namespace) -> int:
    """Render and write the profile; print the file and the environment the site must use."""
    address, port = parse_hub(ns.hub)
    out = write_profile(Path(ns.output), ns.role, ns.lab, address, port, lab_identity(Path(ns.certs), ns.lab),
                        listening_port=ns.listen, wan_address=ns.wan_address)
    print(f"{ns.lab} ({ns.role}): {out.resolve()}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``transport-profile`` subcommand to the ``neurohybrid`` command's subparsers."""
    p = subparsers.add_parser(
        COMMAND, help="render a site's Fast DDS TCP+TLS profile (XML) from its lab certificates",
        description="Writes the Fast DDS profile of one process role of a lab: 'server' for the hub's "
                    "Discovery Server, 'client' for a lab's nodes (with --listen PORT for a hub node "
                    "that labs connect to), 'super_client' for monitors. Certificates come from "
                    "`neurohybrid certs` (DIR/LAB.cert.pem, DIR/LAB.key.pem, DIR/ca.cert.pem).")
    p.add_argument("lab", help="lab name (its certificate's name), e.g. padova")
    p.add_argument("--role", required=True, choices=sorted(TEMPLATES), help="participant role")
    p.add_argument("--hub", required=True, metavar="ADDRESS[:PORT]",
                   help=f"the hub's Discovery Server (port default {DEFAULT_HUB_PORT})")
    p.add_argument("--certs", required=True, metavar="DIR", help="folder written by `neurohybrid certs`")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="profile file to write")
    p.add_argument("--listen", type=int, default=None, metavar="PORT",
                   help="TCP port this participant listens on (hub nodes; a server uses the hub port)")
    p.add_argument("--wan-address", default=None, metavar="IPV4", help="public IPv4 address behind NAT")
    p.set_defaults(func=cmd_transport_profile, command=COMMAND)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the subcommand on its own (``python -m neurohybrid.transport.site ...``)."""
    parser = argparse.ArgumentParser(prog=f"neurohybrid {COMMAND}")
    add_parser(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args([COMMAND, *(sys.argv[1:] if argv is None else argv)])
    try:
        return ns.func(ns)
    except NeurohybridError as exc:
        print(f"neurohybrid {COMMAND}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
