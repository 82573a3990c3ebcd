"""neurohybrid: biological, silicon and memristive neurons in one ROS 2 spiking network.

The core (this package minus ``neurohybrid.nodes``) is pure Python + numpy and imports
without ROS; ``neurohybrid.nodes`` holds the thin rclpy adapters.
"""

__version__ = "0.1.0"
