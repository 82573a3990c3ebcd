"""The robot device kind: a differential-drive twin in a 2-D arena, the sensory encoder
(ranges -> MEA stimulation), the motor decoder (spike rates -> wheel speeds) and the metrics.

Importing this package registers the "sim" backend in ``ROBOT_BACKENDS``. Pure Python + numpy:
no ROS import anywhere below this package.
"""

from neurohybrid.robot.arena import Arena, Pose, arena_from_dict, load_arena
from neurohybrid.robot.backend import ROBOT_BACKENDS, RobotBackend, SimRobotBackend
from neurohybrid.robot.drive import DriveLimits

__all__ = ["ROBOT_BACKENDS", "Arena", "DriveLimits", "Pose", "RobotBackend", "SimRobotBackend",
           "arena_from_dict", "load_arena"]
