"""The MEA core imports and runs with rclpy blocked (it must not depend on ROS)."""

import subprocess
import sys

CODE = """
import sys
sys.modules['rclpy'] = None
import neurohybrid.mea.sim
from neurohybrid.mea import MEA_BACKENDS, StimulationLimits, mcs60_layout
b = MEA_BACKENDS.create('sim', layout=mcs60_layout(), limits=StimulationLimits(), n_neurons=50)
b.configure()
b.advance(0.01)
assert not any(m == 'rclpy' or m.startswith('rclpy.') for m, v in sys.modules.items() if v is not None)
print('ok')
"""


def test_mea_sim_imports_and_runs_with_rclpy_blocked():
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
