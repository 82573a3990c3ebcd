"""File formats: MCAP recordings (rosbag2/Foxglove compatible) written and read, replay sources.

Modules: :mod:`~neurohybrid.io.msgdefs` (``ros2msg`` schema text), :mod:`~neurohybrid.io.recording`
(writer), :mod:`~neurohybrid.io.reader` (reader into numpy), :mod:`~neurohybrid.io.cdr` (CDR
decoding where the recording's schemas need it), :mod:`~neurohybrid.io.nwb_units` (NWB units and
voltage for replay), :mod:`~neurohybrid.io.replay` (what every replay backend shares). Below the
device kinds: none of them imports a device kind or rclpy.
"""
