"""SIGINT/SIGTERM are a stop request, and once the process has settled (shut down, exiting) a late
signal (a launcher's forwarded Ctrl-C or its SIGTERM escalation) changes nothing: exit code 0."""

import subprocess
import sys

PROGRAM = """
import os, signal, sys, time
from neurohybrid.nodes.stop import STOP
STOP.install()
os.kill(os.getpid(), signal.SIGINT)
deadline = time.monotonic() + 10.0
while not STOP.requested and time.monotonic() < deadline:  # the waker thread records it
    time.sleep(0.01)
print("stop", STOP.signal_name, flush=True)
STOP.settle()
os.kill(os.getpid(), signal.SIGINT)
os.kill(os.getpid(), signal.SIGTERM)
print("settled", flush=True)
sys.exit(0)
"""


def test_a_signal_is_a_stop_request_and_after_settling_is_ignored():
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["stop", "SIGINT", "settled"]


def test_settling_leaves_the_stop_signals_ignored_for_the_interpreters_exit():
    # Python's finalization resets handled signals to their default action but keeps ignored ones
    program = """
import signal
from neurohybrid.nodes.stop import STOP, STOP_SIGNALS
STOP.install()
assert all(signal.getsignal(s) not in (signal.SIG_IGN, signal.SIG_DFL) for s in STOP_SIGNALS)
STOP.settle()
print([signal.getsignal(s) is signal.SIG_IGN for s in STOP_SIGNALS], signal.set_wakeup_fd(-1))
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[True, True] -1"
