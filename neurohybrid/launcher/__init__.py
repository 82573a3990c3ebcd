"""Runs this package's ROS 2 YAML launch files where the ``ros2 launch`` tool is absent.

The files use the standard YAML frontend (``launch:`` list of ``arg``, ``let``, ``node``,
``executable``, ``include``, ``group`` with ``push_ros_namespace``, ``set_env``; ``if``/``unless``
on any action; substitutions ``$(var)``, ``$(env)``, ``$(find-pkg-share)``, ``$(dirname)``,
``$(equals)``, ``$(not-equals)``), so stock ``ros2 launch neurohybrid <file>`` runs them too.
"""

from neurohybrid.launcher.description import LaunchError, NodeSpec, load_launch_file
from neurohybrid.launcher.supervisor import Supervisor

__all__ = ["LaunchError", "NodeSpec", "Supervisor", "load_launch_file"]
