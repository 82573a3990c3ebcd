"""The live view: what a browser (and Foxglove) shows of a running experiment.

Pure Python + numpy (no ROS): :class:`~neurohybrid.live.view.LiveView` aggregates the graph's
messages into frames of bounded size (a uniform sample of each lab's spikes, its population rate,
the crossbar's resistances, plasticity, stimulation, links and refusals), which
:mod:`neurohybrid.nodes.live_node` sends at most 20 times a second. The static page in ``web/``
draws them; :mod:`~neurohybrid.live.page_server` serves it and
:mod:`~neurohybrid.live.foxglove_bridge` speaks the Foxglove WebSocket protocol.
"""

from neurohybrid.live.view import LiveView, ViewSettings

__all__ = ["LiveView", "ViewSettings"]
