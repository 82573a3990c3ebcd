"""Recordings: MCAP writing (rosbag2/Foxglove compatible), reading into numpy, summaries and reports.

Modules: :mod:`~neurohybrid.io.msgdefs` (``ros2msg`` schema text), :mod:`~neurohybrid.io.recording`
(writer), :mod:`~neurohybrid.io.reader` (reader), :mod:`~neurohybrid.io.summary` (numbers),
:mod:`~neurohybrid.io.report` (figure + JSON). None of them imports rclpy.
"""
