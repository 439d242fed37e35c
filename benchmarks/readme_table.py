"""Write the latest benchmark figures into the README, between its PERF markers.

python -m benchmarks.readme_table [benchmarks/results/latest.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- PERF:START -->", "<!-- PERF:END -->"


def table(data: dict[str, object]) -> str:
    machine = data["machine"]
    assert isinstance(machine, dict)
    lines = [
        f"Measured {data['when']} with `benchmarks/run`{' --quick' if data.get('quick') else ''} on "
        f"{machine['cpus']} CPUs ({machine['processor']}, {machine['platform']}, Python {machine['python']}), "
        f"{data['latency_ms']} ms injected latency per request:",
        "",
        "| figure | value | target |",
        "| --- | --- | --- |",
    ]
    figures = data["figures"]
    assert isinstance(figures, list)
    for f in figures:
        value = "-" if f["value"] is None else f"{f['value']:,.3f}".rstrip("0").rstrip(".") + f" {f['unit']}"
        mark = "" if f["ok"] is None else (" ✓" if f["ok"] else " ✗ (missed)")
        target = (f["target"] or "") + mark
        detail = f" ({f['detail']})" if f.get("detail") else ""
        lines.append(f"| {f['name']}{detail} | {value} | {target} |")
    return "\n".join(lines)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks" / "results" / "latest.json"
    data = json.loads(path.read_text())
    readme = ROOT / "README.md"
    text = readme.read_text()
    if START not in text:
        raise SystemExit("README has no PERF markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table(data)}\n{END}{tail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
