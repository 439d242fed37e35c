"""`azml query`: KQL from the command line, on the demo estate (subprocesses, stdin closed)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from console.cli import main
from console.query_cmd import KQL_ERROR, describe_error
from services.models import QueryError


def _azml(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )


def test_query_demo_prints_rows_as_json() -> None:
    proc = _azml("query", "--demo", "AmlComputeClusterEvent | summarize count() by ClusterName", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["workspace"] == "mlw-dev-eus2"  # the demo's first workspace by name
    assert [c["name"] for c in doc["columns"]] == ["ClusterName", "count_"]
    assert doc["rows"] and all(r["count_"] > 0 for r in doc["rows"])
    assert {r["ClusterName"] for r in doc["rows"]} >= {"cpu-cluster"}
    assert proc.stderr == ""


def test_invalid_query_exits_non_zero_naming_line_and_position() -> None:
    proc = _azml("query", "--demo", "AmlComputeClusterEvent\n| where NoSuchColumn > 1")
    assert proc.returncode == KQL_ERROR == 5
    assert "line 2, position 8" in proc.stderr
    assert "Failed to resolve scalar expression named 'NoSuchColumn'" in proc.stderr
    assert "^" in proc.stderr and proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_query_table_and_csv_for_a_named_workspace() -> None:
    kql = "AmlOnlineEndpointTrafficLog | summarize n = count() by DeploymentName | order by DeploymentName asc"
    proc = _azml("query", "--demo", "--workspace", "mlw-prod-eus", kql, "--timespan", "6h", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(proc.stdout)))
    assert rows[0] == ["DeploymentName", "n"] and len(rows) > 2
    table = _azml("query", "--demo", "-w", "mlw-prod-eus", kql, "-t", "6h")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["DeploymentName", "n"]
    assert table.stdout.rstrip().endswith("rows)")


def test_unknown_workspace_and_bad_timespan_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "--demo", "--timespan", "soon", "print 1"]) == 2
    assert "--timespan" in capsys.readouterr().err
    assert main(["query", "--demo", "--workspace", "mlw-nope", "print 1"]) == 2
    assert "no workspace named 'mlw-nope'" in capsys.readouterr().err


def test_describe_error_marks_the_position() -> None:
    err = QueryError("boom", kind="SyntaxError", detail_code="SYN0002", line=2, position=3)
    text = describe_error(err, "T\n| wherex")
    assert "SyntaxError SYN0002 at line 2, position 3: boom" in text
    assert text.splitlines()[-1].index("^") - text.splitlines()[-2].index("|") == 5
