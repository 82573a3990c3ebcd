"""Separate network stacks for the sites of a test: Linux network namespaces joined by
user-space links that can drop, delay and reorder packets.

Each site runs in a network namespace of its own (its own interfaces, routes and ports: the
closest one machine gets to three). The hub's namespace is joined to each lab's by a
point-to-point IP link made of two TUN devices, one in each namespace; a relay thread of the test
process carries every packet between them and applies the link's :class:`Impairment` (this
machine has no kernel netem, so impairment happens in user space, on IP packets: TCP sees real
loss, jitter and reordering and recovers as it would between labs). The hub also owns
:data:`HUB_ADDRESS` on its loopback, the one address every lab dials; each lab routes everything
to its link. The namespaces, devices and addresses are made by :class:`SiteNetwork` and removed
by its ``close``; no address exists outside them.

Needs root (CAP_NET_ADMIN), ``ip`` (iproute2) and ``/dev/net/tun``; :func:`unavailable` says why not.
"""

from __future__ import annotations

import fcntl
import heapq
import os
import random
import selectors
import shutil
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field

HUB_ADDRESS = "10.77.0.1"
"""The hub's address in its namespace (on its loopback), reachable from every lab over its link."""

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000
_MTU = 1500


def unavailable() -> str | None:
    """Why namespaces with TUN links cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN)"
    if shutil.which("ip") is None:
        return "no `ip` (iproute2) to make network namespaces"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun for the user-space links"
    probe = f"nhprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=True)
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass(frozen=True)
class Impairment:
    """What a link does to each packet, each direction on its own.

    ``drop``: probability a packet is lost; ``delay_s`` + uniform ``jitter_s``: one-way delay (a
    packet never leaves before one sent earlier unless it is reordered); ``reorder``: probability
    a packet is held ``reorder_s`` longer than its delay, so the packets behind it overtake it.
    """

    drop: float = 0.0
    delay_s: float = 0.0
    jitter_s: float = 0.0
    reorder: float = 0.0
    reorder_s: float = 0.005

    def __post_init__(self) -> None:
        for key in ("drop", "reorder"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key}={getattr(self, key)} invalid: allowed [0, 1] (1: the link is cut)")
        for key in ("delay_s", "jitter_s", "reorder_s"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key}={getattr(self, key)} invalid: allowed [0, 1] s")


@dataclass
class LinkCounts:
    """Packets of one direction of a link."""

    carried: int = 0
    dropped: int = 0
    reordered: int = 0


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH22x", name.encode(), _IFF_TUN | _IFF_NO_PI))
    return fd


@dataclass
class TunLink:
    """A point-to-point IP link between two namespaces, carried and impaired by a relay thread.

    ``impairment`` may be replaced while the link runs (a fault: a burst of loss, a cut).
    """

    name: str
    ends: tuple[tuple[str, str], tuple[str, str]]
    """(namespace, address) of each end."""
    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0
    counts: tuple[LinkCounts, LinkCounts] = field(default_factory=lambda: (LinkCounts(), LinkCounts()))

    def __post_init__(self) -> None:
        self._fds: list[int] = []
        self._halt = threading.Event()
        self._rng = random.Random(self.seed)
        (ns_a, addr_a), (ns_b, addr_b) = self.ends
        for i, (ns, addr, peer) in enumerate(((ns_a, addr_a, addr_b), (ns_b, addr_b, addr_a))):
            dev = f"{self.name}{'ab'[i]}"
            self._fds.append(_open_tun(dev))
            _ip("link", "set", "dev", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", addr, "peer", peer, "dev", dev)
            _ip("-n", ns, "link", "set", "dev", dev, "mtu", str(_MTU), "up")
        self.devices = (f"{self.name}a", f"{self.name}b")
        self._thread = threading.Thread(target=self._relay, name=f"link {self.name}", daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        sel = selectors.DefaultSelector()
        for i, fd in enumerate(self._fds):
            sel.register(fd, selectors.EVENT_READ, i)
        queue: list[tuple[float, int, int, bytes]] = []
        last_due = [0.0, 0.0]
        n = 0
        while not self._halt.is_set():
            imp = self.impairment
            now = time.monotonic()
            timeout = 0.05 if not queue else max(0.0, queue[0][0] - now)
            for key, _ in sel.select(timeout):
                side = key.data
                try:
                    packet = os.read(self._fds[side], 65535)
                except BlockingIOError:
                    continue
                counts = self.counts[side]
                if self._rng.random() < imp.drop:
                    counts.dropped += 1
                    continue
                due = time.monotonic() + imp.delay_s + self._rng.uniform(0.0, imp.jitter_s)
                due = max(due, last_due[side])  # jitter alone keeps the order
                last_due[side] = due
                if self._rng.random() < imp.reorder:
                    due += imp.reorder_s
                    counts.reordered += 1
                n += 1
                heapq.heappush(queue, (due, n, 1 - side, packet))
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, out, packet = heapq.heappop(queue)
                try:
                    os.write(self._fds[out], packet)
                    self.counts[1 - out].carried += 1
                except OSError:
                    self.counts[1 - out].dropped += 1  # the device went down: the packet is lost
        sel.close()

    def close(self) -> None:
        self._halt.set()
        self._thread.join(5)
        for fd in self._fds:
            os.close(fd)


class SiteNetwork:
    """A namespace per site; the hub's joined to each lab's by an impaired :class:`TunLink`."""

    def __init__(self, labs: tuple[str, ...], hub: str, impairment: Impairment = Impairment(),
                 seed: int = 0) -> None:
        tag = f"nh{os.getpid() % 100000}"
        self.namespaces = {site: f"{tag}-{site}" for site in (hub, *labs)}
        self.links: dict[str, TunLink] = {}
        self.hub = hub
        try:
            for ns in self.namespaces.values():
                _ip("netns", "add", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", self.namespaces[hub], "addr", "add", f"{HUB_ADDRESS}/32", "dev", "lo")
            for i, lab in enumerate(labs, start=1):
                link = TunLink(f"{tag}l{i}", ((self.namespaces[lab], f"10.77.{i}.2"),
                                               (self.namespaces[hub], f"10.77.{i}.1")), impairment, seed + i)
                self.links[lab] = link
                _ip("-n", self.namespaces[lab], "route", "add", "default", "dev", link.devices[0])
        except Exception:
            self.close()
            raise

    def prefix(self, site: str) -> list[str]:
        """The command prefix that runs a command in ``site``'s namespace."""
        return ["ip", "netns", "exec", self.namespaces[site]]

    def counts(self) -> dict[str, dict[str, LinkCounts]]:
        """Per lab: the packets of its link, ``up`` (lab -> hub) and ``down``."""
        return {lab: {"up": link.counts[0], "down": link.counts[1]} for lab, link in self.links.items()}

    def close(self) -> None:
        for link in self.links.values():
            link.close()
        self.links.clear()
        for ns in self.namespaces.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
