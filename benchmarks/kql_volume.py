"""Bytes received per panel query as the simulated log volume grows 1x, 10x, 100x.

Every built-in panel aggregates on the server (``summarize ... by bin(TimeGenerated, <bin>)``), so what
comes back is bounded by the buckets and should stay flat while the rows Log Analytics scans grow with
the volume. Runs the real LogsQueryClient against the embedded emulator (frozen clock, seed 7), one
emulator per volume, on the production workspace (clusters, GPUs, endpoints), panel width 60 columns.

    python -m benchmarks.kql_volume [--width 60] [--volumes 1,10,100]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulator import Emulator, EmulatorConfig
from services import clients, monitor, workspaces
from services.cloud import custom_cloud
from services.session import Session


def measure(volume: int, width: int, workspace: str) -> dict[str, tuple[int, int, int, float]]:
    """panel key → (bytes received, rows returned, rows scanned, seconds)."""
    emu = Emulator(EmulatorConfig(seed=7, frozen=True, options={"log_volume": str(volume)})).start()
    try:
        cloud = custom_cloud("bench", emu.endpoint, ca_bundle=emu.ca_file)
        session = Session(cloud=cloud, credential=emu.credential())
        ws = next(w for w in workspaces.list_workspaces(session) if w.name == workspace)
        law = monitor.log_analytics_workspace(session, ws)
        client = clients.logs_client(cloud, emu.credential())
        out: dict[str, tuple[int, int, int, float]] = {}
        for panel in monitor.builtin_queries():
            kql, _ = monitor.render_panel(panel, width=width)
            received: list[int] = []

            def hook(response: Any, received: list[int] = received) -> None:
                received.append(len(response.http_response.body() or b""))

            started = time.perf_counter()
            result = client.query_workspace(
                law.customer_id, kql, timespan=panel.timespan, include_statistics=True, raw_response_hook=hook
            )
            seconds = time.perf_counter() - started
            scanned = int(result.statistics["query"]["inputDatasetStatistics"]["rows"])
            out[panel.key] = (sum(received), len(result.tables[0].rows), scanned, seconds)
        session.close()
        client.close()
        return out
    finally:
        emu.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=60, help="panel width in columns (buckets)")
    parser.add_argument("--volumes", default="1,10,100", help="log volume multipliers")
    parser.add_argument("--workspace", default="mlw-prod-eus")
    args = parser.parse_args(argv)
    volumes = [int(v) for v in args.volumes.split(",")]
    started = time.perf_counter()
    results = {v: measure(v, args.width, args.workspace) for v in volumes}
    panels = list(results[volumes[0]])
    head = f"{'panel':<24}" + "".join(f"{f'bytes {v}x':>12}" for v in volumes)
    head += "".join(f"{f'rows {v}x':>11}" for v in volumes) + "".join(f"{f'scanned {v}x':>14}" for v in volumes)
    head += "".join(f"{f'ms {v}x':>9}" for v in volumes)
    print(f"KQL panel queries, width {args.width}, workspace {args.workspace}")
    print(head)
    print("-" * len(head))
    for key in panels:
        line = f"{key:<24}"
        line += "".join(f"{results[v][key][0]:>12,}" for v in volumes)
        line += "".join(f"{results[v][key][1]:>11,}" for v in volumes)
        line += "".join(f"{results[v][key][2]:>14,}" for v in volumes)
        line += "".join(f"{results[v][key][3] * 1000:>9.0f}" for v in volumes)
        print(line)
    first, last = volumes[0], volumes[-1]
    grew = max(results[last][k][0] / max(1, results[first][k][0]) for k in panels)
    scanned = sum(results[last][k][2] for k in panels) / max(1, sum(results[first][k][2] for k in panels))
    print(
        f"\nrows scanned grew {scanned:.0f}x from {first}x to {last}x volume; bytes received grew at most "
        f"{grew:.2f}x (pushdown: answers are bounded by buckets). {time.perf_counter() - started:.1f} s in all."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def figures(quick: bool = False) -> list[Any]:
    """The runner's figures: bytes received per panel query at 1x, 10x and 100x log volume."""
    from benchmarks.runner import Figure

    volumes = [1, 10] if quick else [1, 10, 100]
    results = {v: measure(v, 60, "mlw-prod-eus") for v in volumes}
    first, last = volumes[0], volumes[-1]
    out: list[Figure] = []
    for key in results[first]:
        b0, b1 = results[first][key][0], results[last][key][0]
        growth = b1 / max(1, b0)
        detail = ", ".join(f"{v}x: {results[v][key][0]:,} B" for v in volumes)
        out.append(Figure(f"KQL panel {key}: bytes at {last}x / {first}x volume", growth, "x", "flat (<= 4x)",
                          growth <= 4, detail))  # fmt: skip
    scanned_last = sum(r[2] for r in results[last].values())
    scanned = scanned_last / max(1, sum(r[2] for r in results[first].values()))
    out.append(Figure(f"rows Log Analytics scanned, {last}x / {first}x volume", scanned, "x", "(grows)", None))
    return out
