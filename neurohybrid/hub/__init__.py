"""The hub (Southampton in Serb et al. 2020): connectivity, weights, routing and plasticity.

Pure Python + numpy; no ROS. ``neurohybrid.nodes`` wraps :class:`Hub` in a ROS node.
"""

from neurohybrid.hub.connectivity import Connectivity, Synapse, load_connectivity
from neurohybrid.hub.hub import Hub, HubOutput, PlasticityRecords
from neurohybrid.hub.stimulus import StimulusMap
from neurohybrid.hub.weights import WeightMap

__all__ = [
    "Connectivity",
    "Hub",
    "HubOutput",
    "PlasticityRecords",
    "StimulusMap",
    "Synapse",
    "WeightMap",
    "load_connectivity",
]
