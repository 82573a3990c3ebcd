"""Runs this package's ROS 2 YAML launch files: with stock ``launch``/``launch_ros`` where they are
importable (:mod:`~neurohybrid.launcher.stock`), with our own runner where they are not (the
pip-only environment has no ``ros2 launch``).

Both read a file alike (``test/unit/test_launch_parity.py`` compares what they would start):
``launch:`` list of ``arg``, ``let``, ``node``, ``executable``, ``include``, ``group`` (scoped),
``push_ros_namespace``, ``set_env``; ``if``/``unless`` on any action; substitutions ``$(var)``,
``$(env)``, ``$(find-pkg-share)``, ``$(dirname)``, ``$(equals)``, ``$(not-equals)``. Forms that are
safe under both, as stock launch reads them:

- an ``include`` is not scoped: what the included file sets (variables, namespace, environment)
  stays set after it, and its ``arg`` defaults yield to variables already set; wrap it in a
  ``group`` to keep it to itself (the virtual lab does);
- a quoted empty argument ``''`` reads as the text ``[]``: ask "is it empty" with a prefix on
  both sides, ``$(equals 'x$(var a)' 'x')`` (our runner refuses ``''``);
- ``$(equals)`` compares two booleans by truth and two numbers by value, anything else as text;
- a parameter literal keeps its YAML type (``"2"`` stays text); text with a substitution is read
  as YAML once substituted; a value must be a bool, int, float, str or a uniform list of one
  (no mappings: name nested parameters ``a.b``).

A construct our runner cannot reproduce exactly is refused with ``file: <tag>: reason``.
"""

from neurohybrid.launcher.description import LaunchError, NodeSpec, load_launch_file
from neurohybrid.launcher.supervisor import Supervisor

__all__ = ["LaunchError", "NodeSpec", "Supervisor", "load_launch_file"]
