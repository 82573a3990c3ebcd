"""A neurorobot recording with known numbers, written with real rclpy serialisation (for tests).

10 s of a robot driving straight along x from (-0.5, 0) to (0.5, 0) (1001 odometry samples at
100 Hz: 1.000 m), two collisions, cmd_vel at 100 Hz (linear 0.1 m/s; angular 0 then 0.5 rad/s),
scans at 20 Hz, and ten scan-driven stimulation commands alternating right (electrode 48) and
left (electrode 8), plus one hub command on electrode 48 (not the encoder's: counted apart).
Each command's chain has known legs: scan stamp -> command stamp 7 ms -> evoked AP 12 ms ->
its batch received 3 ms -> next cmd_vel 3 ms (total 25 ms). A spontaneous AP
on the stimulated electrode before the evoked one must be skipped. The MEA refuses 3 items
once, naming electrode 48. The arena (a circle of 1 m with one obstacle) is attached as YAML;
the nodes' parameters (``PARAMETERS``: a sector split other than the encoder's defaults, the
robot's radius) are in the metadata, as the recorder writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

T0_NS = 1_700_000_000_000_000_000
MS = 1_000_000
ARENA_YAML = (b"walls: {shape: circle, radius_m: 1.0}\n"
              b"obstacles:\n  - {x_m: 0.0, y_m: 0.6, radius_m: 0.1}\n"
              b"start: {x_m: 0.0, y_m: 0.0, theta_rad: 0.0}\n")
ODOM_SAMPLES = 1001
ODOM_PERIOD_MS = 10
COMMANDS = 10
LEGS_MS = {"scan_to_stimulation": 7.0, "stimulation_to_spike": 12.0, "spike_to_batch_received": 3.0,
           "batch_to_cmd_vel": 3.0, "total": 25.0}
RIGHT, LEFT = 48, 8
PARAMETERS = {"/neurorobot": {"n_sectors": 2, "input_electrodes": [RIGHT, 50, LEFT, 10], "coding": "linear"},
              "/robot/robot": {"robot_radius_m": 0.105, "wheel_separation_m": 0.16}}


def _stamp(m, t_ns: int, frame: str):
    m.header.stamp.sec, m.header.stamp.nanosec = divmod(int(t_ns), 1_000_000_000)
    m.header.frame_id = frame
    return m


def write_robot_recording(path: Path, named_scans: bool = True, parameters: bool = True) -> Path:
    """Write the recording described in the module docstring to ``path``.

    ``named_scans``: the commands carry the causing scan's stamp in ``pre_time_ns`` (else none,
    and the budget falls back to the newest recorded scan). ``parameters``: write ``PARAMETERS``.
    """
    import json

    from geometry_msgs.msg import PointStamped, Twist
    from nav_msgs.msg import Odometry
    from rclpy.serialization import serialize_message
    from sensor_msgs.msg import LaserScan

    from neurohybrid import msg as nh
    from neurohybrid.core.events import KIND_EVOKED_AP, KIND_SPONTANEOUS_AP, NO_PRE_TIME_NS, SpikeEvents
    from neurohybrid.io.recording import PARAMETERS_METADATA_PREFIX, RecordingWriter
    from neurohybrid.nodes.convert import fill_spike_batch

    with RecordingWriter(path) as w:
        def put(topic: str, type_name: str, m, log_ns: int) -> None:
            w.write(topic, type_name, serialize_message(m), log_ns, log_ns)

        w.attach("arena.yaml", ARENA_YAML, "text/yaml", T0_NS)
        for node, values in PARAMETERS.items() if parameters else ():
            w.add_metadata(f"{PARAMETERS_METADATA_PREFIX}{node}", {k: json.dumps(v) for k, v in values.items()})
        for i in range(ODOM_SAMPLES):
            t = T0_NS + i * ODOM_PERIOD_MS * MS
            o = _stamp(Odometry(), t, "odom")
            o.pose.pose.position.x = -0.5 + i / (ODOM_SAMPLES - 1)
            o.twist.twist.linear.x = 0.1
            put("/robot/odom", "nav_msgs/msg/Odometry", o, t + MS)
            cmd = Twist()
            cmd.linear.x = 0.1
            cmd.angular.z = 0.0 if i < ODOM_SAMPLES // 2 else 0.5
            put("/robot/cmd_vel", "geometry_msgs/msg/Twist", cmd, t + 5 * MS)
            if i % 5 == 0:
                put("/robot/scan", "sensor_msgs/msg/LaserScan", _stamp(LaserScan(
                    angle_min=-np.pi, angle_increment=np.pi / 2, range_min=0.12, range_max=3.5,
                    ranges=[1.0, 0.5, 0.3, 0.5]), t, "base_scan"), t + 2 * MS)
        for t_s, x in ((3.0, -0.2), (7.0, 0.2)):
            hit = _stamp(PointStamped(), T0_NS + int(t_s * 1000) * MS, "odom")
            hit.point.x = x
            put("/robot/collisions", "geometry_msgs/msg/PointStamped", hit, T0_NS + int(t_s * 1000) * MS + MS)
        hub = _stamp(nh.StimulationCommand(
            seq=0, clock_domain="southampton", pre_frame="zurich/board", electrode=[RIGHT], amplitude_ua=[30.0],
            phase_width_us=[100.0], pulse_count=[1], time_ns=[T0_NS], synapse_id=[0], weight=[1.0], pre_id=[0]),
            T0_NS + 500 * MS, "southampton/hub")
        put("/padova/stimulation", "neurohybrid/msg/StimulationCommand", hub, T0_NS + 500 * MS)
        evoked = []
        for j in range(COMMANDS):
            scan = T0_NS + (1000 + 100 * j) * MS
            stamp = scan + 7 * MS
            electrode = RIGHT if j % 2 == 0 else LEFT
            cmd = _stamp(nh.StimulationCommand(
                seq=j, clock_domain="neurorobot", pre_frame="scan", electrode=[electrode], amplitude_ua=[30.0],
                phase_width_us=[100.0], pulse_count=[1], time_ns=[stamp], synapse_id=[0], weight=[1.0], pre_id=[0],
                pre_time_ns=[scan if named_scans else NO_PRE_TIME_NS]), stamp, "neurorobot")
            put("/padova/stimulation", "neurohybrid/msg/StimulationCommand", cmd, stamp + MS)
            evoked += [(electrode, stamp + 1 * MS, KIND_SPONTANEOUS_AP),
                       (electrode, stamp + 12 * MS, KIND_EVOKED_AP)]
        events = sorted(evoked, key=lambda e: e[1])
        for k in range(int(2.2 * 1000 / 10)):
            start = T0_NS + k * 10 * MS
            mine = [e for e in events if start <= e[1] < start + 10 * MS]
            batch = nh.SpikeBatch(seq=k, clock_domain="padova", slice_start_ns=start, slice_end_ns=start + 10 * MS)
            fill_spike_batch(batch, SpikeEvents(np.array([e[0] for e in mine], np.uint32),
                                                np.array([e[1] for e in mine], np.int64),
                                                np.array([e[2] for e in mine], np.uint8)))
            put("/padova/spikes", "neurohybrid/msg/SpikeBatch", _stamp(batch, start + 10 * MS, "padova/mea"),
                start + 12 * MS)
        refusal = _stamp(nh.Refusal(category=0, count=3, total=3, reason=(
            f"charge_per_electrode_per_s_nc=210.0 outside allowed [0, 200.0] (electrode {RIGHT}, 1 s window "
            f"ending at 0 ns) (+2 more in this batch)")), T0_NS + 1500 * MS, "padova/mea")
        put("/padova/refusals", "neurohybrid/msg/Refusal", refusal, T0_NS + 1500 * MS)
        malformed = _stamp(nh.Refusal(category=2, count=1, total=1, reason="SpikeBatch: bad"), T0_NS, "padova/mea")
        put("/padova/refusals", "neurohybrid/msg/Refusal", malformed, T0_NS + 1600 * MS)
    return path
