"""Chaos soak of the three sites (``make bench SOAK=1``): ``test/graph/test_chaos.py`` with many
faults; reports convergence times after every start and fault (p50/p99/max, s) and faults survived,
on loopback (``chaos_*``) and on separate network stacks with impaired links (``chaos_namespaces_*``).

``--faults N`` (quick: 3, as in ``make test``; soak: 40) and ``--seed S`` are passed to the test as
``CHAOS_FAULTS`` / ``CHAOS_SEED``; the test writes its figures to ``CHAOS_REPORT``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from measure import REPO_ROOT, emit, entry

#: The networks the test runs the sites on (its ``sites`` fixture's params).
NETWORKS = ("loopback", "namespaces")
#: The convergence bound the test asserts (neurohybrid.testing.sites.CONVERGENCE_LIMIT_S), s.
CONVERGENCE_LIMIT_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--faults", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "chaos.json"
        env = {**os.environ, "CHAOS_FAULTS": str(args.faults), "CHAOS_SEED": str(args.seed),
               "CHAOS_REPORT": str(report)}
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "test/graph/test_chaos.py"], cwd=REPO_ROOT, env=env)
        found = {network: json.loads(path.read_text()) for network in NETWORKS
                 if (path := report.with_name(f"chaos.{network}.json")).exists()}
    ok = proc.returncode == 0
    for network in NETWORKS:
        prefix = "chaos" if network == "loopback" else f"chaos_{network}"
        data = found.get(network)
        if data is None:
            emit(entry(f"{prefix}_convergence_p99_s", None, "s", f"<= {CONVERGENCE_LIMIT_S:.0f}", False,
                       note=f"chaos test on {network} failed or was skipped (exit {proc.returncode}) before its report"))
            continue
        p50, p99, worst = np.percentile(data["convergence_s"], [50, 99, 100])
        for name, value in (("convergence_p50_s", p50), ("convergence_p99_s", p99), ("convergence_max_s", worst)):
            emit(entry(f"{prefix}_{name}", round(float(value), 2), "s", f"<= {CONVERGENCE_LIMIT_S:.0f}",
                       ok and value <= CONVERGENCE_LIMIT_S, seed=data["seed"], network=network))
        emit(entry(f"{prefix}_faults_survived", len(data["faults"]), "faults", str(args.faults),
                   ok and len(data["faults"]) == args.faults, seed=data["seed"], network=network,
                   faults=", ".join(data["faults"]), start_order=" ".join(data["order"]),
                   batches_while_hub_away=data["batches_while_hub_away"],
                   evoked_while_hub_away=data["evoked_while_hub_away"], devices_checked=data["devices_checked"]))

if __name__ == "__main__":
    main()
