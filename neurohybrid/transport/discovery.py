"""Run the hub's Fast DDS Discovery Server (``fastdds discovery -x <profile>``) and probe a TLS link.

No ROS client library: the server is Fast DDS' own tool, started as a process group with the
library path the ROS wheels need (``ros_wheels_bootstrapper.get_ros_paths()``; on a stock ROS
install the sourced environment already has it) and the lab environment of
:func:`neurohybrid.transport.profiles.lab_environment` (profile, OpenSSL configuration).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Mapping

from neurohybrid.core.errors import ConfigError, NeurohybridError
from neurohybrid.process_group import stop_process_group
from neurohybrid.transport.profiles import TlsIdentity, lab_environment

#: Poll interval while waiting for the server to listen, s.
POLL_INTERVAL_S = 0.05
#: Seconds a stopping server gets after SIGINT before SIGKILL.
STOP_TIMEOUT_S = 10.0


class DiscoveryServerError(NeurohybridError):
    """The Discovery Server could not start, or a TLS link to it could not be established."""


def ros_library_path(base: str | None = None) -> str:
    """``LD_LIBRARY_PATH`` for native Fast DDS tools: the ROS wheels' libraries, then ``base``."""
    base = os.environ.get("LD_LIBRARY_PATH", "") if base is None else base
    try:
        import ros_wheels_bootstrapper
    except ImportError:  # a stock ROS install: the sourced setup already set the path
        return base
    ros = ros_wheels_bootstrapper.get_ros_paths()
    return ":".join(p for p in (ros, base) if p)


def discovery_command(profile_path: Path) -> list[str]:
    """The command line of a Discovery Server configured entirely by ``profile_path``."""
    exe = shutil.which("fastdds")
    if exe is None:
        raise DiscoveryServerError("the `fastdds` tool is not on PATH (it comes with Fast DDS / ros-fastdds)")
    return [exe, "discovery", "-x", str(Path(profile_path).resolve())]


def _listening_ports(pid: int) -> set[int]:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    ports = set()
    for proc in procs:
        try:
            conns = proc.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        ports.update(c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN)
    return ports


class DiscoveryServer:
    """The hub's Discovery Server as a child process group (start, wait until listening, stop)."""

    def __init__(self, profile_path: Path, port: int, log_path: Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        if not Path(profile_path).is_file():
            raise ConfigError(f"profile_path={str(profile_path)!r} invalid: allowed an existing "
                              f"rendered server profile (profiles.write_profile(role='server'))")
        self.profile_path = Path(profile_path)
        self.port = port
        self.log_path = log_path
        env = dict(lab_environment(self.profile_path) if env is None else env)
        env["LD_LIBRARY_PATH"] = ros_library_path(env.get("LD_LIBRARY_PATH", ""))
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout_s: float = 20.0) -> DiscoveryServer:
        """Start the server and wait until it listens on ``port``; raises if it does not."""
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(discovery_command(self.profile_path), stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True, env=self.env)
        deadline = time.monotonic() + timeout_s
        while self.port not in _listening_ports(self.proc.pid):
            if not self.alive():
                self.stop()
                raise DiscoveryServerError(f"discovery server exited with code {self.proc.returncode}"
                                           f" (log: {self.log_path})")
            if time.monotonic() > deadline:
                self.stop()
                raise DiscoveryServerError(f"discovery server not listening on TCP port {self.port}"
                                           f" after {timeout_s} s (log: {self.log_path})")
            time.sleep(POLL_INTERVAL_S)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGINT the process group, SIGKILL it after ``timeout_s``; returns the exit code."""
        if self.proc is None:
            return None
        code = stop_process_group(self.proc, timeout_s)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        return code

    def __enter__(self) -> DiscoveryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(profile_path: Path, stop_timeout_s: float = STOP_TIMEOUT_S) -> int:
    """Run the Discovery Server of ``profile_path`` in the foreground (``neurohybrid discovery-server``).

    ``fastdds`` is a shell script running a Python tool running the server binary: a launcher's
    SIGINT to the script's pid alone ends the script by the signal ("process has died") and can
    leave the server orphaned. Here the server runs as a process group of its own; SIGINT or
    SIGTERM is passed to that whole group (SIGKILL if it is still there ``stop_timeout_s`` later),
    and the exit code is 0 when it stopped on request, the server's own code when it ended by itself.
    """
    if not Path(profile_path).is_file():
        raise ConfigError(f"profile={str(profile_path)!r} invalid: allowed an existing rendered server "
                          f"profile (neurohybrid transport-profile LAB --role server)")
    env = {**os.environ, "LD_LIBRARY_PATH": ros_library_path()}
    proc = subprocess.Popen(discovery_command(Path(profile_path)), env=env, start_new_session=True)
    requested: list[float] = []

    def forward(signum: int, frame: object) -> None:
        if not requested:
            requested.append(time.monotonic())
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    while True:
        try:
            code = proc.wait(POLL_INTERVAL_S)
            break
        except subprocess.TimeoutExpired:
            if requested and time.monotonic() - requested[0] > stop_timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
    return 0 if requested else code


def check_link(address: str, port: int, identity: TlsIdentity | None, timeout_s: float = 5.0) -> str:
    """TLS handshake with a Fast DDS TLS port (e.g. the hub's Discovery Server); returns the peer's CN.

    Verifies the peer against ``identity.verify_file`` and presents ``identity``'s certificate
    (``identity=None``: present none, to check that the hub refuses such peers). TLS 1.2 is used
    so that the server's verdict on our certificate is part of the handshake (in TLS 1.3 it
    arrives after it). Raises DiscoveryServerError with OpenSSL's reason if the link is refused.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False  # Fast DDS does not check host names; the CA is the lab's own
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if identity is not None:
        ctx.load_verify_locations(cafile=str(identity.verify_file))
        ctx.load_cert_chain(str(identity.cert_chain_file), str(identity.private_key_file))
    else:
        ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((address, port), timeout=timeout_s) as raw:
            with ctx.wrap_socket(raw) as tls:
                der = tls.getpeercert(binary_form=True)
    except (ssl.SSLError, OSError) as exc:
        raise DiscoveryServerError(f"TLS link to {address}:{port} refused: {exc}") from None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
