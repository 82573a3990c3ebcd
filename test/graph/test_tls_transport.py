"""Three sites over Fast DDS TCPv4 + TLS through the hub's Discovery Server, on 127.0.0.1 only.

Hub: the Discovery Server (``fastdds discovery``) and a relay participant that listens (the hub
side of every link). Labs: a Padova publisher and a Zurich subscriber that only connect out.
Intruders: a subscriber with no certificate and one whose certificate comes from another CA (both
skip verifying the hub, as an attacker would), and a publisher with the foreign certificate.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from neurohybrid.testing.graph import NodeProcess, wait_for
from neurohybrid.transport.certs import create_lab_pki
from neurohybrid.transport.discovery import DiscoveryServer, DiscoveryServerError, check_link
from neurohybrid.transport.profiles import TlsIdentity, lab_environment, write_profile

pytestmark = [pytest.mark.graph, pytest.mark.slow]

NS = "{http://www.eprosima.com}"
EVENTS_PER_BATCH = 1000
#: Bounded window in which an intruder must receive nothing once the legit lab receives, s.
NEGATIVE_WINDOW_S = 5.0
#: Offered load of the throughput check: batches/s (x 1,000 events) and how many batches.
THROUGHPUT_RATE_HZ = 250.0
THROUGHPUT_BATCHES = 1000

PUBLISHER = '''
import sys, time
import numpy as np
import rclpy
from rclpy.node import Node
from neurohybrid.core.events import SpikeEvents
from neurohybrid.msg import SpikeBatch
from neurohybrid.nodes.convert import fill_spike_batch
from neurohybrid.nodes.runtime import stream_qos

topic, n_events, period_s, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rclpy.init()
node = Node("tls_test_publisher")
pub = node.create_publisher(SpikeBatch, topic, stream_qos())
rng = np.random.default_rng(0)
events = SpikeEvents(source_id=rng.integers(0, 60, n_events).astype(np.uint32),
                     time_ns=np.sort(rng.integers(0, 10**7, n_events)).astype(np.int64),
                     kind=np.full(n_events, 2, np.uint8))
msg = fill_spike_batch(SpikeBatch(clock_domain="padova/mea"), events)
print("READY", flush=True)
while pub.get_subscription_count() == 0:
    rclpy.spin_once(node, timeout_sec=0.05)
print("MATCHED", flush=True)
t0 = time.monotonic()
seq = 0
while count == 0 or seq < count:
    msg.seq = seq
    pub.publish(msg)
    seq += 1
    deadline = t0 + seq * period_s
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=max(0.0, deadline - time.monotonic()))
print("SENT", seq, time.monotonic() - t0, flush=True)
rclpy.spin(node)
'''

SUBSCRIBER = '''
import sys, time
import rclpy
from rclpy.node import Node
from neurohybrid.msg import SpikeBatch
from neurohybrid.nodes.runtime import stream_qos

rclpy.init()
node = Node("tls_test_subscriber")
sub = node.create_subscription(
    SpikeBatch, sys.argv[1],
    lambda m: print("RX", m.seq, len(m.source_id), time.monotonic_ns(), flush=True), stream_qos())
matched = []
def check():
    if not matched and sub.get_publisher_count() > 0:
        matched.append(True)
        print("MATCHED", flush=True)
node.create_timer(0.05, check)
print("READY", flush=True)
rclpy.spin(node)
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Script:
    """A Python script run as its own process group; its stdout lines are read from a log."""

    def __init__(self, source: Path, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, str(source), *args], stdout=self._out,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def lines(self, tag: str) -> list[list[str]]:
        return [line.split() for line in self.log.read_text(errors="replace").splitlines()
                if line.startswith(tag + " ") or line == tag]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._out.close()


def _intruder_profile(path: Path, hub_port: int, identity: TlsIdentity, with_cert: bool) -> Path:
    """A client profile that skips verifying the hub, with a foreign certificate or none."""
    write_profile(path, "client", "rogue", "127.0.0.1", hub_port, identity)
    ET.register_namespace("", NS.strip("{}"))
    tree = ET.parse(path)
    tls = tree.getroot().find(f".//{NS}tls")
    if not with_cert:
        for name in ("cert_chain_file", "private_key_file"):
            tls.remove(tls.find(NS + name))
    for verify in tls.iter(NS + "verify"):
        verify.text = "VERIFY_NONE"
    tree.write(path)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The hub: a Discovery Server and a listening relay, both TLS; the PKI; profile helpers."""
    root = tmp_path_factory.mktemp("tls")
    pki = create_lab_pki(root / "pki")
    foreign = create_lab_pki(root / "foreign", labs=("rogue",))
    hub_port, relay_port = _free_port(), _free_port()
    server_xml = write_profile(root / "hub_server.xml", "server", "southampton", "127.0.0.1",
                               hub_port, pki["southampton"])
    server = DiscoveryServer(server_xml, hub_port, log_path=root / "discovery_server.log").start()
    relay_xml = write_profile(root / "relay.xml", "client", "southampton", "127.0.0.1", hub_port,
                              pki["southampton"], listening_port=relay_port)
    relay = NodeProcess("relay_node", log_path=root / "relay.log", env=lab_environment(relay_xml))
    (root / "publisher.py").write_text(PUBLISHER)
    (root / "subscriber.py").write_text(SUBSCRIBER)
    yield SimpleNamespace(root=root, pki=pki, foreign=foreign, hub_port=hub_port, server=server,
                          relay=relay)
    relay.stop()
    server.stop()


@pytest.fixture
def start_script(site):
    scripts: list[Script] = []

    def start(name: str, role: str, args: list[str], profile: Path, legit: bool = True) -> Script:
        env = lab_environment(profile)
        if not legit:  # an intruder does not use our OpenSSL settings either
            env.pop("OPENSSL_CONF")
        script = Script(site.root / f"{role}.py", args, env, site.root / f"{name}.log")
        scripts.append(script)
        return script

    yield start
    for script in scripts:
        script.stop()


def _lab_profile(site, lab: str) -> Path:
    return write_profile(site.root / f"{lab}.xml", "client", lab, "127.0.0.1", site.hub_port, site.pki[lab])


def test_the_hub_accepts_a_lab_certificate_and_refuses_none_or_a_foreign_one(site):
    assert check_link("127.0.0.1", site.hub_port, site.pki["padova"]) == "southampton"
    with pytest.raises(DiscoveryServerError, match="refused"):
        check_link("127.0.0.1", site.hub_port, None)
    foreign = site.foreign["rogue"]
    trusting_hub = TlsIdentity(foreign.cert_chain_file, foreign.private_key_file, site.pki["padova"].verify_file)
    with pytest.raises(DiscoveryServerError, match="refused"):
        check_link("127.0.0.1", site.hub_port, trusting_hub)


def test_spike_batches_cross_tls_while_uncertified_and_foreign_peers_get_nothing(site, start_script):
    root, hub_port, rogue = site.root, site.hub_port, site.foreign["rogue"]
    nocert = start_script("rogue_nocert_sub", "subscriber", ["out/spike_batch"],
                          _intruder_profile(root / "rogue_nocert.xml", hub_port, rogue, with_cert=False),
                          legit=False)
    foreign = start_script("rogue_ca_sub", "subscriber", ["out/spike_batch"],
                           _intruder_profile(root / "rogue_ca.xml", hub_port, rogue, with_cert=True),
                           legit=False)
    injector = start_script("rogue_ca_pub", "publisher", ["in/spike_batch", str(EVENTS_PER_BATCH), "0.05", "0"],
                            root / "rogue_ca.xml", legit=False)
    zurich = start_script("zurich_sub", "subscriber", ["out/spike_batch"], _lab_profile(site, "zurich"))
    padova = start_script("padova_pub", "publisher", ["in/spike_batch", str(EVENTS_PER_BATCH), "0.05", "0"],
                          _lab_profile(site, "padova"))

    wait_for(lambda: len(zurich.lines("RX")) >= 5, timeout_s=60, what="Zurich receiving Padova's spikes via the hub")
    rx = zurich.lines("RX")
    assert all(int(n) == EVENTS_PER_BATCH for _, _, n, _ in rx)
    seqs = [int(s) for _, s, _, _ in rx]
    assert seqs == sorted(seqs)

    intruders = (nocert, foreign, injector)
    wait_for(lambda: all(s.lines("READY") for s in intruders), timeout_s=30, what="intruders up")
    with pytest.raises(TimeoutError):
        wait_for(lambda: nocert.lines("RX") or foreign.lines("RX") or injector.lines("MATCHED")
                 or foreign.lines("MATCHED") or nocert.lines("MATCHED"),
                 timeout_s=NEGATIVE_WINDOW_S, what="an intruder reaching the graph")
    assert all(s.alive() for s in intruders), "an intruder died: the negative would prove nothing"
    assert padova.alive() and site.relay.alive() and site.server.alive()
    assert len(zurich.lines("RX")) > len(rx), "the legit link stopped while intruders tried"


def test_tls_link_carries_1000_event_batches_in_order_without_loss(site, start_script, record_property):
    zurich = start_script("zurich_throughput", "subscriber", ["out/spike_batch"], _lab_profile(site, "zurich"))
    wait_for(lambda: zurich.lines("MATCHED"), timeout_s=60, what="Zurich matched to the relay")
    padova = start_script("padova_throughput", "publisher",
                          ["in/spike_batch", str(EVENTS_PER_BATCH), str(1.0 / THROUGHPUT_RATE_HZ),
                           str(THROUGHPUT_BATCHES)], _lab_profile(site, "padova"))
    wait_for(lambda: padova.lines("SENT"), timeout_s=120, what="Padova sending every batch")
    wait_for(lambda: len(zurich.lines("RX")) >= THROUGHPUT_BATCHES, timeout_s=10,
             what=f"all {THROUGHPUT_BATCHES} batches at Zurich")
    rx = zurich.lines("RX")
    seqs = [int(s) for _, s, _, _ in rx]
    assert seqs == list(range(THROUGHPUT_BATCHES)), "batches lost or reordered on the TLS link"
    t_ns = [int(t) for *_, t in rx]
    events_per_s = (len(rx) - 1) * EVENTS_PER_BATCH / ((t_ns[-1] - t_ns[0]) * 1e-9)
    record_property("tls_spike_throughput_events_per_s", round(events_per_s))
    print(f"TLS link (Padova -> hub relay -> Zurich, 2 TLS hops): {events_per_s:,.0f} events/s "
          f"with {EVENTS_PER_BATCH}-event batches offered at {THROUGHPUT_RATE_HZ:g} batches/s")
    assert events_per_s >= 0.8 * THROUGHPUT_RATE_HZ * EVENTS_PER_BATCH
