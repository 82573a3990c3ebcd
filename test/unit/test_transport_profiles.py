"""Fast DDS TLS profiles render valid XML; lab certificates chain to the lab CA; `neurohybrid certs`."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from neurohybrid.core.errors import ConfigError
from neurohybrid.transport import certs
from neurohybrid.transport.cli import add_parser
from neurohybrid.transport.profiles import (
    OPENSSL_CONF_FILE,
    TlsIdentity,
    lab_environment,
    render_profile,
    template_dir,
    write_profile,
)

NS = "{http://www.eprosima.com}"
XSD_NS = "{http://www.w3.org/2001/XMLSchema}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, TlsIdentity]:
    return certs.create_lab_pki(tmp_path_factory.mktemp("pki"), hosts={"southampton": ("127.0.0.1",)})


@pytest.fixture(scope="module")
def foreign_pki(tmp_path_factory) -> dict[str, TlsIdentity]:
    return certs.create_lab_pki(tmp_path_factory.mktemp("foreign"), labs=("rogue",))


def _schema_path() -> Path | None:
    prefixes = [sys.prefix, *os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep)]
    for prefix in filter(None, prefixes):
        path = Path(prefix) / "share" / "fastdds" / "fastdds_profiles.xsd"
        if path.is_file():
            return path
    return None


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode())


def _qualified(path: str) -> str:
    return "/".join(s if s in ("", ".") else NS + s for s in path.split("/"))


def _text(root: ET.Element, path: str) -> str:
    node = root.find(_qualified(path))
    assert node is not None, f"missing element {path}"
    return (node.text or "").strip()


# ---------------------------------------------------------------- profiles


def test_client_profile_names_the_hub_and_this_labs_pem_files(pki):
    ident = pki["padova"]
    root = _parse(render_profile("client", "padova", "203.0.113.7", 42100, ident))
    assert _text(root, ".//tls/cert_chain_file") == str(ident.cert_chain_file.resolve())
    assert _text(root, ".//tls/private_key_file") == str(ident.private_key_file.resolve())
    assert _text(root, ".//tls/verify_file") == str(ident.verify_file.resolve())
    assert _text(root, ".//discoveryProtocol") == "CLIENT"
    locator = root.find(f".//{NS}discoveryServersList/{NS}locator/{NS}tcpv4")
    assert locator is not None
    assert locator.findtext(f"{NS}address") == "203.0.113.7"
    assert locator.findtext(f"{NS}physical_port") == "42100"
    assert locator.findtext(f"{NS}port") == "42100"


def test_every_profile_uses_only_the_tls_tcpv4_transport_without_builtins(pki):
    for role in ("server", "client", "super_client"):
        root = _parse(render_profile(role, "zurich", "127.0.0.1", 42100, pki["zurich"]))
        descriptors = root.findall(f".//{NS}transport_descriptor")
        assert [d.findtext(f"{NS}type") for d in descriptors] == ["TCPv4"], role
        assert descriptors[0].find(f"{NS}tls") is not None, role
        assert _text(root, ".//useBuiltinTransports") == "false", role
        used = [t.text for t in root.iter(f"{NS}transport_id")]
        assert set(used) == {descriptors[0].findtext(f"{NS}transport_id")}, role
        assert root.find(f".//{NS}udpv4") is None and root.find(f".//{NS}defaultMulticastLocatorList") is None


def test_profiles_verify_peers_and_refuse_peers_without_a_certificate(pki):
    root = _parse(render_profile("client", "zurich", "127.0.0.1", 42100, pki["zurich"]))
    modes = {v.text for v in root.iter(f"{NS}verify")}
    assert modes == {"VERIFY_PEER", "VERIFY_FAIL_IF_NO_PEER_CERT"}
    options = {o.text for o in root.iter(f"{NS}option")}
    assert {"NO_SSLV2", "NO_SSLV3", "NO_TLSV1", "NO_TLSV1_1"} <= options


def test_server_profile_listens_on_the_hub_port_and_announces_it(pki):
    root = _parse(render_profile("server", "southampton", "127.0.0.1", 42311, pki["southampton"]))
    assert _text(root, ".//discoveryProtocol") == "SERVER"
    assert [p.text for p in root.find(_qualified(".//listening_ports"))] == ["42311"]
    loc = root.find(f".//{NS}metatrafficUnicastLocatorList/{NS}locator/{NS}tcpv4")
    assert loc.findtext(f"{NS}physical_port") == "42311" and loc.findtext(f"{NS}address") == "127.0.0.1"
    assert root.find(f".//{NS}discoveryServersList") is None


def test_a_client_listens_only_when_given_a_listening_port(pki):
    closed = _parse(render_profile("client", "padova", "127.0.0.1", 42100, pki["padova"]))
    assert list(closed.find(f".//{NS}listening_ports")) == []
    opened = _parse(render_profile("client", "southampton", "127.0.0.1", 42100, pki["southampton"],
                                   listening_port=42101))
    assert [p.text for p in opened.find(f".//{NS}listening_ports")] == ["42101"]


def test_super_client_role_and_wan_address_are_rendered(pki):
    root = _parse(render_profile("super_client", "zurich", "hub.example.org", 42100, pki["zurich"],
                                 wan_address="198.51.100.4"))
    assert _text(root, ".//discoveryProtocol") == "SUPER_CLIENT"
    assert _text(root, ".//wan_addr") == "198.51.100.4"
    assert _text(root, ".//discoveryServersList/locator/tcpv4/address") == "hub.example.org"


def test_paths_with_xml_special_characters_are_escaped(tmp_path, pki):
    odd = tmp_path / "a&b <lab>"
    odd.mkdir()
    src = pki["padova"]
    files = {}
    for name in ("cert_chain_file", "private_key_file", "verify_file"):
        files[name] = odd / f"{name}.pem"
        files[name].write_bytes(Path(getattr(src, name)).read_bytes())
    root = _parse(render_profile("client", "padova", "127.0.0.1", 42100, TlsIdentity(**files)))
    assert _text(root, ".//tls/verify_file") == str(files["verify_file"].resolve())


def test_every_rendered_element_and_value_is_in_the_fast_dds_schema(pki):
    xsd = _schema_path()
    if xsd is None:
        pytest.skip("fastdds_profiles.xsd not installed (share/fastdds)")
    schema = ET.parse(xsd).getroot()
    declared = {e.get("name") for e in schema.iter(f"{XSD_NS}element")}
    enums = {e.get("value") for e in schema.iter(f"{XSD_NS}enumeration")}
    for role in ("server", "client"):
        root = _parse(render_profile(role, "padova", "127.0.0.1", 42100, pki["padova"], listening_port=
                                     None if role == "client" else 42100, wan_address="198.51.100.4"))
        for node in root.iter():
            assert node.tag.removeprefix(NS) in declared, f"{role}: <{node.tag}> not in {xsd}"
        for tag in ("verify", "option", "type", "discoveryProtocol", "handshake_role"):
            for node in root.iter(NS + tag):
                assert node.text in enums, f"{role}: <{tag}>{node.text} not an enumeration of {xsd}"


def test_write_profile_writes_the_rendered_text(tmp_path, pki):
    path = write_profile(tmp_path / "sub" / "padova.xml", "client", "padova", "127.0.0.1", 42100, pki["padova"])
    assert path.read_text() == render_profile("client", "padova", "127.0.0.1", 42100, pki["padova"])


@pytest.mark.parametrize("kwargs, key", [
    ({"role": "peer"}, "role"),
    ({"lab": "Padova!"}, "lab"),
    ({"hub_port": 0}, "hub_port"),
    ({"hub_port": 70000}, "hub_port"),
    ({"hub_port": True}, "hub_port"),
    ({"hub_port": "42100"}, "hub_port"),
    ({"hub_address": "300.1.2.3"}, "hub_address"),
    ({"hub_address": "bad host"}, "hub_address"),
    ({"hub_address": ""}, "hub_address"),
    ({"listening_port": -1}, "listening_port"),
    ({"wan_address": "hub.example.org"}, "wan_address"),
    ({"role": "server", "listening_port": 1234}, "listening_port"),
])
def test_bad_profile_values_are_refused_naming_the_key(pki, kwargs, key):
    args = {"role": "client", "lab": "padova", "hub_address": "127.0.0.1", "hub_port": 42100,
            "identity": pki["padova"], **kwargs}
    with pytest.raises(ConfigError, match=key):
        render_profile(**args)


@pytest.mark.parametrize("field", ["cert_chain_file", "private_key_file", "verify_file"])
def test_a_missing_pem_file_is_refused_naming_the_field(tmp_path, pki, field):
    ident = pki["padova"]
    files = {n: getattr(ident, n) for n in ("cert_chain_file", "private_key_file", "verify_file")}
    files[field] = tmp_path / "missing.pem"
    with pytest.raises(ConfigError, match=field):
        render_profile("client", "padova", "127.0.0.1", 42100, TlsIdentity(**files))


def test_lab_environment_points_at_the_profile_and_drops_overrides(tmp_path):
    base = {"ROS_DISCOVERY_SERVER": "127.0.0.1:11811", "ROS_LOCALHOST_ONLY": "1", "KEEP": "x",
            "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    env = lab_environment(tmp_path / "padova.xml", base=base)
    assert env["FASTDDS_DEFAULT_PROFILES_FILE"] == str((tmp_path / "padova.xml").resolve())
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SYSTEM_DEFAULT"
    assert env["RMW_IMPLEMENTATION"] == "rmw_fastrtps_cpp"
    assert "ROS_DISCOVERY_SERVER" not in env and "ROS_LOCALHOST_ONLY" not in env
    assert env["KEEP"] == "x"
    assert Path(env["OPENSSL_CONF"]).is_file()


def test_openssl_configuration_makes_accepted_tls_connections_require_a_certificate():
    text = (template_dir() / OPENSSL_CONF_FILE).read_text()
    settings = dict(line.replace(" ", "").split("=", 1) for line in text.splitlines()
                    if "=" in line and not line.lstrip().startswith("#"))
    assert settings["system_default"] == "neurohybrid_tls"
    assert set(settings["VerifyMode"].split(",")) == {"Peer", "Require"}
    assert settings["MinProtocol"] == "TLSv1.2"


# ---------------------------------------------------------------- certificates


def test_each_lab_certificate_chains_to_the_lab_ca(pki):
    for ident in pki.values():
        certs.verify_chain(ident.cert_chain_file, ident.verify_file)


def test_a_certificate_from_another_ca_does_not_verify(pki, foreign_pki):
    with pytest.raises(ConfigError, match="cert_path"):
        certs.verify_chain(foreign_pki["rogue"].cert_chain_file, pki["padova"].verify_file)


def test_private_keys_are_owner_only_and_the_folder_is_git_ignored(pki):
    folder = pki["padova"].cert_chain_file.parent
    for key in [folder / certs.CA_KEY_FILE, *(i.private_key_file for i in pki.values())]:
        assert stat.S_IMODE(key.stat().st_mode) == certs.PRIVATE_KEY_MODE, key
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_lab_certificates_serve_both_tls_roles_and_name_their_hosts(pki):
    cert = x509.load_pem_x509_certificate(pki["southampton"].cert_chain_file.read_bytes())
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH} <= set(eku)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "southampton" in san.get_values_for_type(x509.DNSName)
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_existing_pki_files_are_never_overwritten(pki):
    folder = pki["padova"].cert_chain_file.parent
    before = pki["padova"].cert_chain_file.read_bytes()
    with pytest.raises(ConfigError, match="overwrite"):
        certs.create_lab_pki(folder)
    assert pki["padova"].cert_chain_file.read_bytes() == before


@pytest.mark.parametrize("kwargs, key", [
    ({"labs": ()}, "labs"),
    ({"labs": ("padova", "Zurich")}, "labs"),
    ({"labs": ("padova", "padova")}, "labs"),
    ({"labs": ("padova",), "hosts": {"zurich": ("1.2.3.4",)}}, "hosts"),
    ({"labs": ("padova",), "hosts": {"padova": ("not a host!",)}}, "hosts"),
])
def test_bad_pki_arguments_are_refused_naming_the_key(tmp_path, kwargs, key):
    with pytest.raises(ConfigError, match=key):
        certs.create_lab_pki(tmp_path / "out", **kwargs)


# ---------------------------------------------------------------- CLI and purity


def _certs_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurohybrid")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_certs_subcommand_writes_a_ca_and_the_three_labs_by_default(tmp_path, capsys):
    ns = _certs_parser().parse_args(["certs", str(tmp_path / "pki"), "--host", "southampton=127.0.0.1"])
    assert ns.func(ns) == 0
    names = sorted(p.name for p in (tmp_path / "pki").iterdir())
    assert names == sorted([".gitignore", "ca.cert.pem", "ca.key.pem"]
                           + [f"{lab}.{kind}.pem" for lab in certs.DEFAULT_LABS for kind in ("cert", "key")])
    assert "never commit" in capsys.readouterr().out


def test_certs_subcommand_refuses_a_malformed_host(tmp_path):
    ns = _certs_parser().parse_args(["certs", str(tmp_path / "pki"), "--host", "southampton"])
    with pytest.raises(ConfigError, match="--host"):
        ns.func(ns)
