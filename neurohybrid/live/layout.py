"""The Foxglove layout shipped in ``config/foxglove/live_layout.json``, built with ``foxglove.layouts``.

Panels for the virtual lab's topics: population rates of the labs (from the live frames),
resistances of the paper's two synapses and their plasticity, link state transitions and RTT,
and raw messages (plasticity, refusals, spikes, links). Regenerate the file after a change with
``python -m neurohybrid.live.layout > config/foxglove/live_layout.json`` (a unit test compares).
"""

from __future__ import annotations

import json

import foxglove.layouts as fl

from neurohybrid.live.foxglove_bridge import FRAME_TOPIC

LABS = ("padova", "zurich")
PAPER_SYNAPSES = ("zurich:0 -> padova:24", "padova:24 -> zurich:1")
"""Synapses 0 and 1 of config/connectivity/three_neuron.yaml (Serb et al. 2020)."""
RAW_TOPICS = ("/southampton/plasticity", "/southampton/refusals", "/padova/refusals", "/zurich/refusals",
              "/padova/link_status", "/zurich/link_status", "/zurich/spikes", "/southampton/synapse_states")


def _plot(title: str, series: list[tuple[str, str]], y_label: str) -> fl.PlotPanel:
    return fl.PlotPanel(title=title, config=fl.PlotConfig(
        paths=[fl.PlotSeries(value=path, label=label, timestamp_method="receiveTime") for path, label in series],
        y_axis_label=y_label, show_legend=True, legend_display="top", is_synced=True,
        x_axis_val="timestamp", time_window_mode="automatic"))


def _split(direction: str, *items: tuple[float, object]) -> fl.SplitContainer:
    return fl.SplitContainer(direction=direction,
                             items=[fl.SplitItem(proportion=p, content=c) for p, c in items])


def live_layout() -> fl.Layout:
    """The layout: plots and state transitions on the left, raw messages in tabs on the right."""
    rates = _plot("Population rate", [(f"{FRAME_TOPIC}.labs.{lab}.rate_hz", lab) for lab in LABS], "spikes/s")
    resistances = _plot("Paper synapses", [
        (f"/southampton/synapse_states.resistance_ohm[{i}]", name) for i, name in enumerate(PAPER_SYNAPSES)
    ] + [("/southampton/plasticity.resistance_after_ohm", "after each pulse")], "resistance, ohm")
    rtt = _plot("Round-trip time to the hub", [(f"/{lab}/link_status.rtt_s", lab) for lab in LABS], "s")
    transitions = fl.StateTransitionsPanel(title="Links and plasticity", config=fl.StateTransitionsConfig(
        paths=[fl.StateTransitionsSeries(value=f"/{lab}/link_status.link_up", label=f"{lab} link up",
                                         timestamp_method="receiveTime") for lab in LABS]
        + [fl.StateTransitionsSeries(value="/southampton/plasticity.direction", label="LTP (1) / LTD (-1)",
                                     timestamp_method="receiveTime")],
        is_synced=True, show_legend=True))
    raw = fl.TabContainer(tabs=[
        fl.TabItem(title=topic.strip("/").replace("/", " "),
                   content=fl.RawMessagesPanel(config=fl.RawMessagesConfig(topic_path=topic, expansion="none")))
        for topic in RAW_TOPICS])
    left = _split("column", (1, rates), (1, resistances), (1, transitions), (1, rtt))
    return fl.Layout(content=_split("row", (2, left), (1, raw)))


def layout_json() -> str:
    """The layout as the shipped file holds it (indented JSON, final newline)."""
    return json.dumps(json.loads(live_layout().to_json()), indent=2) + "\n"


if __name__ == "__main__":
    print(layout_json(), end="")
