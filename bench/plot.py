"""``results/bench.png``: every growth curve of a bench run, events/s and CPU load against size.

A curve is a bench.json entry with ``x`` (sizes), ``events_per_s`` and ``cpu_load_cores`` lists
(see ``bench/growth.py``); each panel's title carries the fitted statement (slope, growth, where
the load reaches one core).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(entries: list[dict], path: Path) -> Path | None:
    """Draw the curves among ``entries`` into ``path`` (PNG); None if there is none."""
    curves = [e for e in entries if e.get("x") and e.get("cpu_load_cores") and e.get("events_per_s")]
    if not curves:
        return None
    fig, axes = plt.subplots(len(curves), 1, figsize=(8, 3.6 * len(curves)), squeeze=False)
    for ax, e in zip(axes[:, 0], curves):
        ax.plot(e["x"], e["events_per_s"], "o-", color="tab:blue", label="events/s")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(e.get("x_name", "size"))
        ax.set_ylabel("events/s", color="tab:blue")
        load = ax.twinx()
        load.plot(e["x"], e["cpu_load_cores"], "s--", color="tab:red", label="CPU load")
        load.axhline(1.0, color="tab:red", lw=0.8, ls=":")  # one core: the real-time limit
        load.set_ylabel("CPU load (cores)", color="tab:red")
        ax.set_title("\n".join(textwrap.wrap(f"{e['name']}: {e.get('statement', '')}", 90)), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
