"""A lab certificate authority and per-lab TLS identities for the Fast DDS TCP transport.

The three labs of Serb et al., Sci. Rep. 10, 2590 (2020) are joined over the public internet by
Fast DDS' TCPv4 transport with TLS (mutual authentication). One lab CA signs every lab's
certificate; each participant presents its lab's certificate and accepts only peers whose
certificate chains to that CA (see ``config/fastdds/*.xml.in``).

Files written by :func:`create_lab_pki` into its output folder (all PEM):

- ``ca.cert.pem``: the lab CA certificate; copy it to every site (``verify_file``).
- ``ca.key.pem``: the CA private key (mode 0600); keep it offline, it signs new lab certificates.
- ``<lab>.cert.pem`` / ``<lab>.key.pem``: one lab's certificate (``cert_chain_file``) and private
  key (``private_key_file``, mode 0600); copy each pair only to its own site.
- ``.gitignore`` with ``*``: keys are never committed, even if the folder lies in a work tree.

Keys are ECDSA on NIST P-256 (FIPS 186-5), which OpenSSL 1.1.1 inside the Fast DDS wheels
accepts for TLS 1.2 and 1.3 (RFC 8446 section 4.2.3, ``ecdsa_secp256r1_sha256``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from neurohybrid.core.errors import ConfigError
from neurohybrid.transport.profiles import TlsIdentity

#: The three sites of Serb et al. 2020 (MEA, neuromorphic board, memristors + hub).
DEFAULT_LABS = ("padova", "zurich", "southampton")
#: CA validity, days: long enough to outlive an experimental campaign (a few years).
CA_VALIDITY_DAYS = 5 * 365
#: Lab certificate validity, days: renewed yearly, CA/Browser-Forum style short-lived leaves.
LAB_VALIDITY_DAYS = 365
#: Clock-skew allowance between sites, s: certificates start this long before "now".
NOT_BEFORE_SKEW_S = 300
#: Permission bits of private-key files: owner read/write only.
PRIVATE_KEY_MODE = 0o600
#: Lab names become file names and certificate CNs: lower-case letters, digits, '-' and '_'.
LAB_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")

CA_CERT_FILE = "ca.cert.pem"
CA_KEY_FILE = "ca.key.pem"


def lab_cert_file(lab: str) -> str:
    """File name of ``lab``'s certificate, e.g. ``padova.cert.pem``."""
    return f"{lab}.cert.pem"


def lab_key_file(lab: str) -> str:
    """File name of ``lab``'s private key, e.g. ``padova.key.pem``."""
    return f"{lab}.key.pem"


def check_lab_name(lab: str, key: str = "lab") -> str:
    """Return ``lab`` if it is a valid lab name, else raise ConfigError naming ``key``."""
    if not isinstance(lab, str) or not LAB_NAME_PATTERN.match(lab):
        raise ConfigError(
            f"{key}={lab!r} invalid: allowed lower-case letters, digits, '-', '_', "
            f"starting with a letter, at most 63 characters"
        )
    return lab


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _validity(now: dt.datetime, days: int) -> tuple[dt.datetime, dt.datetime]:
    start = now - dt.timedelta(seconds=NOT_BEFORE_SKEW_S)
    return start, now + dt.timedelta(days=days)


def make_ca(common_name: str = "neurohybrid lab CA", organization: str = "neurohybrid",
            validity_days: int = CA_VALIDITY_DAYS,
            now: dt.datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA key and certificate (basicConstraints CA, path length 0, RFC 5280)."""
    if not isinstance(validity_days, int) or validity_days < 1:
        raise ConfigError(f"validity_days={validity_days!r} invalid: allowed integer >= 1")
    key = _new_key()
    name = _name(common_name, organization)
    start, end = _validity(now or dt.datetime.now(dt.timezone.utc), validity_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _subject_alt_names(lab: str, hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(lab)]
    for i, host in enumerate(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            if not re.match(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$", host):
                raise ConfigError(f"hosts[{i}]={host!r} invalid: allowed an IP address or a DNS name") from None
            names.append(x509.DNSName(host))
    return names


def issue_lab_certificate(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, lab: str,
                          hosts: tuple[str, ...] = (), validity_days: int = LAB_VALIDITY_DAYS,
                          now: dt.datetime | None = None,
                          ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new key and a certificate for ``lab`` signed by the CA.

    The certificate is valid for both TLS roles (extendedKeyUsage serverAuth + clientAuth,
    RFC 5280 section 4.2.1.12) because a Fast DDS TCP participant accepts connections and opens
    them. Its subjectAltName holds the lab name and ``hosts`` (the site's public IP or DNS name).
    """
    check_lab_name(lab)
    if not isinstance(validity_days, int) or validity_days < 1:
        raise ConfigError(f"validity_days={validity_days!r} invalid: allowed integer >= 1")
    key = _new_key()
    org = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    start, end = _validity(now or dt.datetime.now(dt.timezone.utc), validity_days)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(lab, org)).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(min(end, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_subject_alt_names(lab, hosts)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only; the mode is set before any byte lands."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_KEY_MODE)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, PRIVATE_KEY_MODE)  # umask cannot loosen it, but a stricter one may tighten it


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def create_lab_pki(outdir: Path, labs: tuple[str, ...] = DEFAULT_LABS,
                   hosts: dict[str, tuple[str, ...]] | None = None,
                   ca_common_name: str = "neurohybrid lab CA") -> dict[str, TlsIdentity]:
    """Create a lab CA and one key/certificate pair per lab in ``outdir`` (PEM files).

    Refuses (ConfigError) to overwrite existing files, so a CA is never replaced by accident.
    ``hosts`` maps a lab to extra subjectAltNames (e.g. the hub's public address).
    Returns each lab's :class:`TlsIdentity` (certificate, key, CA certificate).
    """
    outdir = Path(outdir)
    labs = tuple(labs)
    if not labs:
        raise ConfigError("labs=() invalid: allowed one or more lab names")
    for i, lab in enumerate(labs):
        check_lab_name(lab, f"labs[{i}]")
    if len(set(labs)) != len(labs):
        raise ConfigError(f"labs={list(labs)!r} invalid: lab names must be distinct")
    hosts = dict(hosts or {})
    unknown = sorted(set(hosts) - set(labs))
    if unknown:
        raise ConfigError(f"hosts={unknown!r} invalid: allowed keys are the labs {list(labs)!r}")
    targets = [CA_CERT_FILE, CA_KEY_FILE] + [f(lab) for lab in labs for f in (lab_cert_file, lab_key_file)]
    existing = [name for name in targets if (outdir / name).exists()]
    if existing:
        raise ConfigError(f"outdir={str(outdir)!r} already holds {existing}: refusing to overwrite "
                          f"(allowed: a folder without these files)")
    outdir.mkdir(parents=True, exist_ok=True)
    ignore = outdir / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# TLS keys and certificates: never commit them\n*\n")

    ca_key, ca_cert = make_ca(common_name=ca_common_name)
    _write_private(outdir / CA_KEY_FILE, _key_pem(ca_key))
    (outdir / CA_CERT_FILE).write_bytes(_cert_pem(ca_cert))
    out = {}
    for lab in labs:
        key, cert = issue_lab_certificate(ca_key, ca_cert, lab, tuple(hosts.get(lab, ())))
        _write_private(outdir / lab_key_file(lab), _key_pem(key))
        (outdir / lab_cert_file(lab)).write_bytes(_cert_pem(cert))
        out[lab] = TlsIdentity(cert_chain_file=outdir / lab_cert_file(lab),
                               private_key_file=outdir / lab_key_file(lab),
                               verify_file=outdir / CA_CERT_FILE)
    return out


def verify_chain(cert_path: Path, ca_cert_path: Path) -> None:
    """Check that the certificate at ``cert_path`` is a valid TLS leaf issued by the CA.

    Uses the cryptography X.509 verifier (RFC 5280 path validation, as OpenSSL does in the TLS
    handshake). Raises ConfigError naming the file if it does not verify.
    """
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    ca = x509.load_pem_x509_certificate(Path(ca_cert_path).read_bytes())
    leaf = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
    verifier = PolicyBuilder().store(Store([ca])).build_client_verifier()
    try:
        verifier.verify(leaf, [])
    except VerificationError as exc:
        raise ConfigError(f"cert_path={str(cert_path)!r} does not verify against "
                          f"ca_cert_path={str(ca_cert_path)!r}: {exc}") from None
