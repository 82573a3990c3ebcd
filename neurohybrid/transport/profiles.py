"""Render a lab's Fast DDS XML profile (TCPv4 + TLS, Discovery Server) from a template.

The templates are ``config/fastdds/hub_server.xml.in`` (role ``server``: the hub's Discovery
Server) and ``config/fastdds/lab_participant.xml.in`` (roles ``client`` / ``super_client``: every
ROS participant of a lab). Element names follow the Fast DDS 3.2 schema
(``share/fastdds/fastdds_profiles.xsd``): ``transport_descriptor/tls`` (``private_key_file``,
``cert_chain_file``, ``verify_file``, ``verify_mode``, ``options``, ``handshake_role``) and
``builtin/discovery_config`` (``discoveryProtocol``, ``discoveryServersList``).

Pure Python (standard library only): no ROS, no cryptography.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from neurohybrid.core.errors import ConfigError

#: Template file of each role, in ``config/fastdds/``.
TEMPLATES = {
    "server": "hub_server.xml.in",
    "client": "lab_participant.xml.in",
    "super_client": "lab_participant.xml.in",
}
#: Fast DDS ``discoveryProtocol`` of each role (Fast DDS 3.2 Discovery Server docs).
DISCOVERY_PROTOCOL = {"server": "SERVER", "client": "CLIENT", "super_client": "SUPER_CLIENT"}
#: TCP ports a profile may name (IANA: 0 is reserved; 1-65535 usable).
PORT_RANGE = (1, 65535)
#: Default hub Discovery Server port: Fast DDS' default TCP discovery port (`fastdds discovery -q`).
DEFAULT_HUB_PORT = 42100
#: OpenSSL configuration that makes Fast DDS' TLS acceptors require a client certificate (see the
#: file: Fast DDS 3.2 applies ``verify_mode`` only to connections it opens, not to accepted ones).
OPENSSL_CONF_FILE = "openssl_mutual_tls.cnf"
#: Environment variables that would make rmw_fastrtps / Fast DDS override the XML profile.
OVERRIDING_VARIABLES = ("ROS_DISCOVERY_SERVER", "ROS_STATIC_PEERS", "ROS_LOCALHOST_ONLY",
                        "ROS_SUPER_CLIENT", "FASTDDS_BUILTIN_TRANSPORTS", "FASTDDS_ENVIRONMENT_FILE")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_LAB = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class TlsIdentity:
    """The three PEM files a TLS participant needs (Fast DDS ``tls`` element names)."""

    cert_chain_file: Path   #: this lab's certificate (leaf first)
    private_key_file: Path  #: this lab's private key (mode 0600)
    verify_file: Path       #: the lab CA certificate every peer must chain to


def template_dir() -> Path:
    """``config/fastdds`` of the source tree, else ``share/neurohybrid/config/fastdds``."""
    source = Path(__file__).resolve().parents[2] / "config" / "fastdds"
    if source.is_dir():
        return source
    from ament_index_python.packages import get_package_share_directory

    return Path(get_package_share_directory("neurohybrid")) / "config" / "fastdds"


def _check_port(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not PORT_RANGE[0] <= value <= PORT_RANGE[1]:
        raise ConfigError(f"{key}={value!r} invalid: allowed an integer port in "
                          f"[{PORT_RANGE[0]}, {PORT_RANGE[1]}]")
    return value


def _check_host(key: str, value: object) -> str:
    if isinstance(value, str):
        try:
            return str(ipaddress.IPv4Address(value))
        except ValueError:
            if _HOSTNAME.match(value) and not re.match(r"^[0-9.]+$", value):
                return value
    raise ConfigError(f"{key}={value!r} invalid: allowed an IPv4 address or a DNS host name")


def _check_ipv4(key: str, value: object) -> str:
    try:
        return str(ipaddress.IPv4Address(value))
    except (ValueError, TypeError):
        raise ConfigError(f"{key}={value!r} invalid: allowed an IPv4 address (a.b.c.d)") from None


def _check_file(key: str, value: object) -> str:
    path = Path(value) if isinstance(value, (str, os.PathLike)) else None
    if path is None or not path.is_file():
        raise ConfigError(f"{key}={value!r} invalid: allowed the path of an existing PEM file")
    return escape(str(path.resolve()))


def render_profile(role: str, lab: str, hub_address: str, hub_port: int, identity: TlsIdentity,
                   listening_port: int | None = None, wan_address: str | None = None,
                   templates: Path | None = None) -> str:
    """The XML profile of one participant role, as text.

    ``role``: ``server`` (the hub's Discovery Server, listening on ``hub_port``), ``client`` or
    ``super_client`` (a lab participant reaching the server at ``hub_address:hub_port``).
    ``listening_port``: a client's own TCP port that peers connect to (None: connect out only;
    a server always listens on ``hub_port``). ``wan_address``: public IPv4 address behind NAT.
    Every value is checked (ConfigError names the key) and XML-escaped; the result is parsed
    once to prove it is well-formed.
    """
    if role not in TEMPLATES:
        raise ConfigError(f"role={role!r} invalid: allowed {sorted(TEMPLATES)}")
    if not isinstance(lab, str) or not _LAB.match(lab):
        raise ConfigError(f"lab={lab!r} invalid: allowed lower-case letters, digits, '-', '_'")
    if not isinstance(identity, TlsIdentity):
        raise ConfigError(f"identity={identity!r} invalid: allowed a TlsIdentity")
    port = _check_port("hub_port", hub_port)
    if role == "server" and listening_port not in (None, port):
        raise ConfigError(f"listening_port={listening_port!r} invalid: a server listens on "
                          f"hub_port={port} (allowed None or {port})")
    listen = "" if listening_port is None else f"<port>{_check_port('listening_port', listening_port)}</port>"
    wan = ("" if wan_address is None
           else f"\n        <wan_addr>{_check_ipv4('wan_address', wan_address)}</wan_addr>")
    fields = {
        "lab": lab,
        "hub_address": _check_host("hub_address", hub_address),
        "hub_port": str(port),
        "listening_ports": listen,
        "wan_addr": wan,
        "discovery_protocol": DISCOVERY_PROTOCOL[role],
        "cert_chain_file": _check_file("cert_chain_file", identity.cert_chain_file),
        "private_key_file": _check_file("private_key_file", identity.private_key_file),
        "verify_file": _check_file("verify_file", identity.verify_file),
    }
    path = (templates or template_dir()) / TEMPLATES[role]
    text = string.Template(path.read_text()).substitute(fields)
    try:
        ET.fromstring(text.encode())
    except ET.ParseError as exc:
        raise ConfigError(f"template {path}: rendered XML is not well-formed: {exc}") from None
    return text


def write_profile(path: Path, role: str, lab: str, hub_address: str, hub_port: int,
                  identity: TlsIdentity, listening_port: int | None = None,
                  wan_address: str | None = None, templates: Path | None = None) -> Path:
    """Render (see :func:`render_profile`) and write the profile to ``path``; returns ``path``."""
    text = render_profile(role, lab, hub_address, hub_port, identity, listening_port,
                          wan_address, templates)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def lab_environment(profile_path: Path, base: dict[str, str] | None = None,
                    templates: Path | None = None) -> dict[str, str]:
    """Environment of a lab process that uses the rendered profile at ``profile_path``.

    Sets ``FASTDDS_DEFAULT_PROFILES_FILE``, ``RMW_IMPLEMENTATION=rmw_fastrtps_cpp``,
    ``ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT`` (rmw_fastrtps then leaves the profile's
    transports and discovery untouched) and ``OPENSSL_CONF`` (:data:`OPENSSL_CONF_FILE`, so that
    accepted TLS connections must present a certificate from the lab CA too), and removes the
    variables that would override the profile (:data:`OVERRIDING_VARIABLES`). ``base`` defaults
    to ``os.environ``. The hub's Discovery Server needs the same environment.
    """
    env = dict(os.environ if base is None else base)
    for name in OVERRIDING_VARIABLES:
        env.pop(name, None)
    env["FASTDDS_DEFAULT_PROFILES_FILE"] = str(Path(profile_path).resolve())
    env["RMW_IMPLEMENTATION"] = "rmw_fastrtps_cpp"
    env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "SYSTEM_DEFAULT"
    env["OPENSSL_CONF"] = str((templates or template_dir()) / OPENSSL_CONF_FILE)
    return env
