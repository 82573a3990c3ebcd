"""Three sites on loopback for graph tests: certificates, rendered profiles, each lab's launch file
as a process group of its own, and an observer that joins like a remote monitor.

Everything a site does by hand in the README's "Deploy across three sites" is done here the same
way (``neurohybrid certs`` API, ``neurohybrid transport-profile``, ``neurohybrid launch``), on
127.0.0.1 with free ports only, so tests can start, kill and restart sites in any order.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable

from neurohybrid.testing.netns import HUB_ADDRESS, SiteNetwork
from neurohybrid.transport.certs import create_lab_pki
from neurohybrid.transport.profiles import lab_environment

#: The three labs, hub first.
LABS = ("southampton", "padova", "zurich")

#: Bound on convergence after any start order or restart, s: from the last process start to the full
#: loop (README "Deploy across three sites", "Convergence"). Measured 3-10 s on 2 loaded cores.
CONVERGENCE_LIMIT_S = 30.0
#: Batches each stream must deliver after an event to count as flowing again.
FLOWING_BATCHES = 10
#: SpikeBatch.KIND_EVOKED_AP: evoked action potentials exist only where stimulation was applied.
KIND_EVOKED_AP = 1
_FIRST_MESSAGE = re.compile(r"\[recorder\]: first message on (\S+)")
#: Topics a recorder's run must have written for the loop to count as recorded.
RECORDED_SPIKES = {"/padova/spikes", "/zurich/spikes"}
_LINK_LINE = re.compile(r"link to /southampton up|/southampton for more than .* link down")

#: Lines no clean run may log (ROS severities, Fast DDS' ``[... Error]`` categories, Python and launch).
BAD_LINE = re.compile(r"\[ERROR\]|\[FATAL\]|Error\]|Traceback|process has died|died unexpectedly")

OBSERVER = '''
import signal
import time
import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from neurohybrid.msg import SpikeBatch, StimulationCommand
from neurohybrid.nodes.runtime import stream_qos

# Ctrl-C / SIGTERM only set a flag: an exception raised inside rclpy's take (the default handler)
# surfaces as "Unable to convert call argument" with a traceback
stop = []
for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, lambda *_: stop.append(True))
rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
node = Node("three_sites_observer")
def spikes(topic):
    def on(m):
        evoked = int(np.count_nonzero(np.asarray(m.kind) == 1))
        print("RX", topic, m.seq, len(m.source_id), evoked, time.monotonic_ns(), flush=True)
    return on
node.create_subscription(SpikeBatch, "/padova/spikes", spikes("padova"), stream_qos())
node.create_subscription(SpikeBatch, "/zurich/spikes", spikes("zurich"), stream_qos())
node.create_subscription(
    StimulationCommand, "/padova/stimulation",
    lambda m: print("RX stim", m.seq, len(m.electrode), 0, time.monotonic_ns(), flush=True), stream_qos())
print("READY", flush=True)
while not stop:
    rclpy.spin_once(node, timeout_sec=0.1)
node.destroy_node()
rclpy.shutdown()
'''
"""A remote monitor: prints ``RX <topic> seq events evoked monotonic_ns`` per message."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(lab: str, role: str, hub: str, certs: Path, out: Path, *extra: str) -> Path:
    """Render a profile with the ``transport-profile`` command, as a site would."""
    subprocess.run([sys.executable, "-m", "neurohybrid.transport.site", lab, "--role", role, "--hub", hub,
                    "--certs", str(certs), "-o", str(out), *extra], check=True, capture_output=True)
    return out


def allowed(line: str, hub_port: int) -> bool:
    """The allow-list: error lines a clean run may log, each with the reason it must stay.

    * The Discovery Server (``fastdds discovery -x PROFILE``, Fast DDS 3.2.3) logs one
      ``TCPTransport Error binding at port: (<hub port>) ... Address already in use`` at every
      start although it is the only process on that port and listens on it (measured: with any
      TCP server profile, TLS or not, with or without FASTDDS_DEFAULT_PROFILES_FILE; the XML is
      the only way to give the server TLS). Only this line, only for the hub's own port.
    """
    return f"TCPTransport Error binding at port: ({hub_port})" in line and "RTCP_MSG_OUT" in line


#: Words of a TLS handshake failure that say trust or configuration failed (never a transient).
TLS_TRUST_FAILURES = ("certificate", "verify", "unknown ca", "alert", "cipher", "version", "protocol")


def connection_transient(line: str) -> bool:
    """A Fast DDS 3.2.3 TCP+TLS connection transient, allowed in any log of the three sites:

    * ``RTCP_TLS Error] Handshake failed: <reason>`` where the reason is the connection's, not
      trust's (``Connection reset by peer``, ``stream truncated``, ``unspecified system error``).
      It comes when a *listening* participant (the hub node, an observer or recorder with
      ``--listen``) joins while the labs are connected to the Discovery Server: a lab dials the
      newcomer and the newcomer drops one of those TLS connections mid-handshake; the lab dials
      again and the streams flow (the lab's Ctrl-C then takes ~5 s instead of 0.2 s: Fast DDS
      closes the dropped channel on a timeout). Measured on 127.0.0.1, three labs + observer:
      4 of 30 starts with the observer started with the labs, 2 of 20 with it started after
      them, 0 of 24 without a late listening participant; never a lost stream.
    * ``RTCP Error] Failed sending Connection Request``: the same race seen before the handshake
      (1 of 20 late observer starts), or a connection request to a peer killed while it was in
      flight (chaos runs).

    A reason naming a certificate, verification, an alert, a cipher or a protocol version
    (:data:`TLS_TRUST_FAILURES`) is never allowed: that is a security failure, not a transient.
    """
    if "RTCP_TLS" in line and "Handshake failed:" in line:
        reason = line.split("Handshake failed:", 1)[1].lower()
        return not any(word in reason for word in TLS_TRUST_FAILURES)
    return "RTCP" in line and "Failed sending Connection Request" in line


def bad_lines(log: str, hub_port: int | None = None) -> list[str]:
    """The lines of ``log`` that no clean run may contain (:data:`BAD_LINE`), less the connection
    transients (:func:`connection_transient`) and one allowed Discovery Server line
    (:func:`allowed`) when ``hub_port`` is given."""
    bad = [line for line in log.splitlines() if BAD_LINE.search(line) and not connection_transient(line)]
    if hub_port is not None:
        first_allowed = next((i for i, line in enumerate(bad) if allowed(line, hub_port)), None)
        if first_allowed is not None:
            del bad[first_allowed]
    return bad


class Group:
    """A command run as its own process group, its output in a log; SIGKILL reaches every descendant."""

    def __init__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = open(log, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def rx(self, topic: str) -> list[tuple[int, int, int, int]]:
        """(seq, events, evoked, monotonic_ns) of each message the observer printed for ``topic``."""
        fields = (line.split()[2:] for line in self.text().splitlines() if line.startswith(f"RX {topic} "))
        return [tuple(int(x) for x in f) for f in fields if len(f) == 4]  # the last line may be half written

    def alive(self) -> bool:
        return self.proc.poll() is None

    def processes(self) -> list:
        """The launcher and every process it started (psutil)."""
        import psutil

        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def kill(self) -> None:
        """SIGKILL the launcher and every process under it (the supervisor gives each node its own group)."""
        import psutil

        try:
            procs = self.processes()
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=10)
        self.proc.wait()
        self._out.close()

    def stop(self, signum: int = signal.SIGINT) -> None:
        """``signum`` to the whole process group (as a terminal's Ctrl-C), SIGKILL after 20 s."""
        if self.alive():
            os.killpg(self.proc.pid, signum)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._out.close()


#: How each runner starts a lab's launch file: stock ``ros2 launch``, or ours (the pip-only path).
RUNNERS: dict[str, Callable[..., list[str]]] = {
    "stock": lambda lab, *args: ["ros2", "launch", "neurohybrid", f"{lab}.launch.yaml", *args],
    "ours": lambda lab, *args: [sys.executable, "-m", "neurohybrid", "launch", "--runner", "ours",
                                f"{lab}.launch.yaml", *args],
}


class Sites:
    """PKI, rendered profiles and launchers of the three sites plus an observer, under ``root``.

    On loopback by default; with a ``network`` every site runs in its own namespace (the observer
    in the hub's) and the labs dial the hub at :data:`~neurohybrid.testing.netns.HUB_ADDRESS`
    over their impaired links.
    """

    def __init__(self, root: Path, runner: str = "ours", network: SiteNetwork | None = None) -> None:
        self.root = root
        self.runner = runner
        self.network = network
        self.hub_address = "127.0.0.1" if network is None else HUB_ADDRESS
        self.certs = root / "pki"
        self.pki = create_lab_pki(self.certs)
        self.hub_port, hub_listen = free_port(), free_port()
        self._hub = hub = f"{self.hub_address}:{self.hub_port}"
        render("southampton", "server", hub, self.certs, self.certs / "southampton_server.xml")
        render("southampton", "client", hub, self.certs, self.certs / "southampton.xml",
               "--listen", str(hub_listen))
        for lab in ("padova", "zurich"):
            render(lab, "client", hub, self.certs, self.certs / f"{lab}.xml")
        (root / "observer.py").write_text(OBSERVER)
        self.groups: dict[str, Group] = {}
        self.runs: dict[str, int] = {}

    def launch(self, name: str) -> Group:
        """Start a lab's launch file (or ``observer``); each start has a log of its own."""
        run = self.runs.get(name, 0)
        self.runs[name] = run + 1
        log = self.root / f"{name}.{run}.log"
        at_hub = name in ("observer", "recorder")
        prefix = [] if self.network is None else self.network.prefix("southampton" if at_hub else name)
        if name == "observer":
            group = Group([*prefix, sys.executable, str(self.root / "observer.py")], log, env=self._monitor_env(name, run))
        elif name == "recorder":
            from ament_index_python.packages import get_package_prefix

            executable = Path(get_package_prefix("neurohybrid")) / "lib" / "neurohybrid" / "recorder_node"
            group = Group([*prefix, str(executable), "--ros-args", "-p", f"output:={self.recording(run)}"], log,
                          env=self._monitor_env(name, run))
        else:
            cmd = RUNNERS[self.runner](name, f"hub_address:={self.hub_address}", f"certs_dir:={self.certs}")
            group = Group([*prefix, *cmd], log)
        self.groups[name] = group
        return group

    def _monitor_env(self, name: str, run: int) -> dict[str, str]:
        """The environment of a monitor's ``run``-th start, its profile listening on a port of its own.

        A new port at every start: a super client relaunched after a SIGKILL on its predecessor's
        port sometimes never receives one lab's stream (Fast DDS 3.2.3; 3 of 9 restarts on the same
        port, 0 of 13 on fresh ones, but once in a chaos run: README, monitors). The recorder is a
        super client: it records topics it does not yet know, so it must hear of every endpoint,
        which a client is not told.
        """
        role = "super_client" if name == "recorder" else "client"
        xml = render("southampton", role, self._hub, self.certs, self.root / f"{name}.{run}.xml",
                     "--listen", str(free_port()))
        return lab_environment(xml)

    def recording(self, run: int) -> Path:
        """The MCAP file of the recorder's ``run``-th start."""
        return self.root / f"recording.{run}.mcap"

    def logs(self) -> dict[Path, str]:
        """Every log written so far, by path."""
        return {p: p.read_text(errors="replace") for p in sorted(self.root.glob("*.log"))}

    def bad_lines(self) -> dict[str, list[str]]:
        """Log file name -> its lines that no clean run may contain (:func:`bad_lines`)."""
        return {p.name: bad for p, text in self.logs().items()
                if (bad := bad_lines(text, self.hub_port if p.name.startswith("southampton.") else None))}

    def transients(self) -> int:
        """How many connection transients (:func:`connection_transient`) all logs hold so far."""
        return sum(connection_transient(line) for text in self.logs().values() for line in text.splitlines())

    def close(self) -> None:
        for group in self.groups.values():
            group.stop()


def link_up(log: str) -> bool:
    """The lab's latest link transition in ``log`` is ``link to /southampton up``."""
    changes = _LINK_LINE.findall(log)
    return bool(changes) and changes[-1].endswith(" up")


def converged(sites: Sites, since_ns: int, since_wall_s: float | None = None) -> bool:
    """The full loop after monotonic ``since_ns``: both labs' spikes and the hub's stimulation (with
    electrodes) at the observer, evoked action potentials at Padova, both labs' link to the hub up,
    and (when a recorder runs) both labs' spikes written by the recorder's current run."""
    observer = sites.groups["observer"]

    def after(topic: str) -> list[tuple[int, int, int, int]]:
        return [r for r in observer.rx(topic) if r[3] > since_ns]

    padova, zurich, stim = after("padova"), after("zurich"), after("stim")
    recorder = sites.groups.get("recorder")
    return ((recorder is None or RECORDED_SPIKES <= set(_FIRST_MESSAGE.findall(recorder.text())))
            and len(padova) >= FLOWING_BATCHES and len(zurich) >= FLOWING_BATCHES
            and any(n > 0 for _, n, _, _ in stim)
            and any(ev > 0 for _, _, ev, _ in padova)
            and all(link_up(sites.groups[lab].text()) for lab in ("padova", "zurich")))
