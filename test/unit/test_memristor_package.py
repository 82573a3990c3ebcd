"""The memristor core imports without ROS and registers its backend and rules."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODULES = ["backend", "crossbar", "limits", "model", "plasticity", "sim", "template"]


def test_memristor_core_imports_with_rclpy_blocked():
    code = "\n".join(
        [
            "import sys",
            "sys.modules['rclpy'] = None",
            *(f"import neurohybrid.memristor.{name}" for name in MODULES),
            "import neurohybrid.memristor as m",
            "assert 'sim' in m.MEMRISTOR_BACKENDS.names()",
            "assert m.PLASTICITY_RULES.names() == ['rate', 'stdp']",
            "assert not any(k.startswith('rclpy') and sys.modules[k] for k in sys.modules)",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
