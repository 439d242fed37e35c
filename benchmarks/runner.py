"""Run the benchmarks, print a table of figures beside their targets, write JSON.

    benchmarks/run [--quick] [--output benchmarks/results/latest.json]

Every figure is measured side by side with its baseline in the same run, on an emulator with
realistic injected latency. Medians of several runs; no figure is a test assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
LATENCY_MS = 60


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: str
    ok: bool | None
    detail: str = ""


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def azml(*args: str) -> list[str]:
    return [PY, "-m", "console.cli", *args]


# -- 1. launch → first frame, first rows ------------------------------------------------------------


def launch(runs: int) -> list[Figure]:
    from benchmarks.pty_driver import Terminal

    floor: list[float] = []
    frame: list[float] = []
    first_rows: list[float] = []
    for _ in range(runs):
        t = Terminal([PY, str(ROOT / "benchmarks" / "minimal_app.py")]).start()
        v = t.wait_for(b"Workspaces")
        t.stop()
        if v is not None:
            floor.append(v)
        t = Terminal(azml("--demo", "--demo-option", f"latency_ms={LATENCY_MS}")).start()
        v = t.wait_for(b"Workspaces")
        r = t.wait_for(b"mlw-prod-eus")
        t.stop()
        if v is not None:
            frame.append(v)
        if r is not None:
            first_rows.append(r)
    ratio = median(frame) / median(floor)
    return [
        Figure("minimal Textual app: first frame", median(floor), "s", "(the floor)", None),
        Figure("azml --demo: first frame", median(frame), "s", "", None),
        Figure("first frame vs the floor", ratio, "x", "<= 1.25x", ratio <= 1.25),
        Figure(
            f"azml --demo: first inventory rows ({LATENCY_MS} ms latency)",
            median(first_rows),
            "s",
            "<= 1.0 s",
            median(first_rows) <= 1.0,
        ),
    ]


# -- 2. snapshot of the large estate vs a serial azure-ai-ml script ----------------------------------


def snapshot_vs_script(runs: int) -> list[Figure]:
    """Both read the same emulator (large estate, 60 ms per request): the script as a user writes it
    with azure-ai-ml, the snapshot through a profile pointing at that emulator. Start-up included."""
    import tempfile

    from emulator import Emulator, EmulatorConfig

    script_times: list[float] = []
    snap_times: list[float] = []
    script_rows = snap_rows = 0
    with Emulator(EmulatorConfig(scale="large", latency_ms=LATENCY_MS)) as emu, tempfile.TemporaryDirectory() as cfg:
        env = {**os.environ, "AZML_CONFIG_DIR": cfg}
        subprocess.run(
            azml(
                "profile", "add", "bench", "--auth", "emulator", "--endpoint", emu.endpoint,
                "--ca-bundle", emu.ca_file, "--tenant", emu.tenant_id,
            ),
            check=True, capture_output=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(runs):
            t = time.monotonic()
            out = subprocess.run(
                [PY, str(ROOT / "benchmarks" / "serial_script.py"), emu.endpoint, emu.ca_file, emu.tenant_id,
                 *emu.subscription_ids],
                check=True, capture_output=True, text=True, cwd=ROOT,
            )  # fmt: skip
            script_times.append(time.monotonic() - t)
            script_rows = int(out.stdout.strip() or 0)
            t = time.monotonic()
            snap = subprocess.run(
                azml(
                    "snapshot", "workspaces", "compute", "datastores", "deployments", "jobs",
                    "--profile", "bench", "--format", "json",
                ),
                capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            snap_times.append(time.monotonic() - t)
            if snap.returncode == 0:
                data = json.loads(snap.stdout)
                snap_rows = sum(int(n) for n in data.get("summary", {}).get("rows", {}).values())
    ratio = median(script_times) / median(snap_times)
    return [
        Figure("serial azure-ai-ml script, large estate", median(script_times), "s", "(baseline)", None,
               f"{script_rows} rows"),
        Figure("azml snapshot, same estate", median(snap_times), "s", "", None, f"{snap_rows} rows"),
        Figure("snapshot speed-up over the script", ratio, "x", ">= 5x", ratio >= 5),
    ]  # fmt: skip


# -- 3. 100k jobs in a table ---------------------------------------------------------------------------


def table(quick: bool) -> list[Figure]:
    def run(kind: str, n: int) -> dict[str, Any]:
        out = subprocess.run(
            [PY, "-m", "benchmarks.table_100k", kind, str(n)], check=True, capture_output=True, text=True, cwd=ROOT
        ).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result

    keyed = run("keyed", 100_000)
    stock_rows = 10_000 if quick else 100_000
    stock = run("datatable", stock_rows)
    paint, filt, rss = keyed["first_paint_s"], keyed["filter_s"], keyed["peak_rss_mb"]
    return [
        Figure(
            "100k jobs: first paint (console table)",
            paint,
            "s",
            "<= 0.5 s",
            paint <= 0.5,
            f"{int(keyed['lines_painted'])} lines drawn; search index built in the background by "
            f"{keyed['index_built_s']:.2f} s",
        ),
        Figure(f"stock DataTable, {stock_rows:,} rows: first paint", stock["first_paint_s"], "s", "(baseline)", None),
        Figure("100k jobs: filter", filt, "s", "<= 0.15 s", filt <= 0.15, f"{int(keyed['filter_rows']):,} rows match"),
        Figure("100k jobs: sort", keyed["sort_s"], "s", "(no freeze)", None),
        Figure("100k jobs: peak RSS", rss, "MB", "<= 500 MB", rss <= 500),
        Figure(f"stock DataTable, {stock_rows:,} rows: peak RSS", stock["peak_rss_mb"], "MB", "(baseline)", None),
    ]


# -- 4. bytes written to the terminal -----------------------------------------------------------------


def _rest(emu: Any, method: str, path: str) -> dict[str, Any]:
    """One ARM call to the emulator, as another operator's tool would make it (not through the console)."""
    import ssl
    import urllib.request

    token = emu.credential().get_token("https://management.azure.com/.default").token
    sep = "&" if "?" in path else "?"
    req = urllib.request.Request(
        f"{emu.endpoint}{path}{sep}api-version=2024-10-01",
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        data=b"{}" if method == "POST" else None,
    )
    with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=emu.ca_file), timeout=30) as resp:
        body = resp.read()
    return json.loads(body) if body else {}


def terminal_bytes(quick: bool) -> list[Figure]:
    """The console on its own emulator through a profile (frozen clock, no auto-refresh), at 120x40: idle,
    a refresh of unchanged data, a refresh after one compute instance was stopped or started elsewhere,
    and a refresh of the metrics screen."""
    import tempfile

    from benchmarks.pty_driver import Terminal
    from emulator import Emulator, EmulatorConfig

    idle_s = 5.0 if quick else 30.0
    workspace = "mlw-prod-eus"
    with Emulator(EmulatorConfig(frozen=True)) as emu, tempfile.TemporaryDirectory() as cfg:
        env = {"AZML_CONFIG_DIR": cfg, "AZML_DATA_DIR": cfg}
        subprocess.run(
            azml(
                "profile", "add", "bench", "--auth", "emulator", "--endpoint", emu.endpoint,
                "--ca-bundle", emu.ca_file, "--tenant", emu.tenant_id, "--default-workspace", workspace,
                "--refresh-interval", "0",
            ),
            check=True, capture_output=True, env={**os.environ, **env}, cwd=ROOT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        computes_path = next(
            w["id"] for sub in emu.subscription_ids
            for w in _rest(emu, "GET", f"/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/workspaces")
            .get("value", [])
            if w["name"] == workspace
        ) + "/computes"  # fmt: skip
        instances = [
            c for c in _rest(emu, "GET", computes_path).get("value", [])
            if c["properties"].get("computeType") == "ComputeInstance"
        ]  # fmt: skip
        t = Terminal(azml("--profile", "bench"), columns=120, lines=40, env=env).start()
        try:
            t.wait_for(workspace.encode())
            t.quiet(idle=1.0)
            idle = len(t.read_for(idle_s))
            t.send(":compute\r")
            t.wait_for(b"cpu-cluster")
            t.quiet(idle=1.0)
            unchanged: list[float] = []
            for _ in range(3):
                t.send("r")
                unchanged.append(t.quiet(idle=0.7))
            one_row: list[float] = []
            for c in instances[:2]:
                state = c["properties"].get("properties", {}).get("state", "")
                action = "stop" if state == "Running" else "start"
                _rest(emu, "POST", f"{c['id']}/{action}")
                time.sleep(1.5)  # the operation settles (Stopping -> Stopped)
                t.send("r")
                one_row.append(t.quiet(idle=0.7))
            t.send(":metrics\r")
            t.quiet(idle=1.5)
            metrics: list[float] = []
            for _ in range(3):
                t.send("r")
                metrics.append(t.quiet(idle=0.7))
        finally:
            t.stop()
    return [
        Figure(f"idle screen, {idle_s:g} s", idle, "B", "0 B", idle == 0),
        Figure("compute screen: refresh, unchanged data", median(unchanged), "B", "(header + status)", None),
        Figure(
            "compute screen: refresh, one changed row", median(one_row), "B", "<= 2 KB", median(one_row) <= 2048,
            f"{len(one_row)} instances stopped/started between refreshes",
        ),
        Figure("metrics screen: refresh (7 panels)", median(metrics), "B", "(border times + status)", None),
    ]  # fmt: skip


# -- 5. KQL panel: bytes received as log volume grows ------------------------------------------------------


def kql_volume(quick: bool) -> list[Figure]:
    try:
        from benchmarks import kql_volume as kv
    except ImportError:
        return [Figure("KQL panel bytes vs log volume", None, "B", "flat", None, "not built yet")]
    figures: list[Figure] = kv.figures(quick=quick)  # type: ignore[attr-defined]
    return figures


SECTIONS: list[tuple[str, Callable[[argparse.Namespace], list[Figure]]]] = [
    ("launch", lambda a: launch(3 if a.quick else 7)),
    ("snapshot", lambda a: snapshot_vs_script(1 if a.quick else 3)),
    ("table", lambda a: table(a.quick)),
    ("terminal", lambda a: terminal_bytes(a.quick)),
    ("kql", lambda a: kql_volume(a.quick)),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a representative subset in under a minute")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    parser.add_argument("--only", action="append", choices=[n for n, _ in SECTIONS], help="run only these sections")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for name, section in SECTIONS:
        if args.only and name not in args.only:
            continue
        if args.quick and name == "snapshot":
            continue  # minutes on the large estate: full runs only
        t = time.monotonic()
        try:
            got = section(args)
        except Exception as e:  # one broken section must not hide the others
            got = [Figure(name, None, "", "", False, f"failed: {type(e).__name__}: {e}")]
        figures.extend(got)
        print(f"  [{name}: {time.monotonic() - t:.1f} s]", file=sys.stderr)
    width = max(len(f.name) for f in figures)
    print(f"{'figure':<{width}}  {'value':>10}  unit  target")
    for f in figures:
        value = "-" if f.value is None else f"{f.value:,.3f}".rstrip("0").rstrip(".")
        mark = "" if f.ok is None else ("  ok" if f.ok else "  MISSED")
        extra = f"  ({f.detail})" if f.detail else ""
        print(f"{f.name:<{width}}  {value:>10}  {f.unit:<4}  {f.target}{mark}{extra}")
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    payload = {
        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quick": args.quick,
        "latency_ms": LATENCY_MS,
        "machine": machine,
        "figures": [asdict(f) for f in figures],
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
