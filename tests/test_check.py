"""`azml check`: monitoring exit codes on the frozen demo estate (each code by choosing thresholds),
thresholds from flags, files and the profile's checks table, and the check logic on the models the kinds'
loaders return."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.check import (
    CheckStatus,
    ThresholdError,
    Thresholds,
    check_idle_gpu,
    check_metric,
    check_quota,
    level,
    worst,
)
from console.check_cmd import profile_thresholds
from console.cli import main
from services.kinds.compute import RegionalUsage
from services.kinds.metrics import MetricPoint
from services.models import Compute, NodeCounts, Usage

ROOT = Path(__file__).resolve().parent.parent
FROZEN = ["--demo", "--demo-option", "frozen=true"]


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The developer's own config must not change what these tests expect."""
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path / "absent"))


def check(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", *FROZEN, *args])
    return code, capsys.readouterr().out


def test_defaults_on_the_demo_estate_are_critical(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check([], capsys)
    assert code == CheckStatus.CRITICAL == 2
    lines = out.splitlines()
    assert lines[0].startswith("AZML CRITICAL - deployments: ")  # one summary line, worst first
    # the demo has a Failed canary deployment and a GPU family at 100% of its quota
    assert "[CRITICAL] deployments: 1 not Succeeded" in out and "llm-summarize-prod-eus/canary: Failed" in out
    assert "[CRITICAL] quota:" in out and "(100.0%)" in out
    assert "[OK] unusable-nodes: 0 unusable nodes" in out
    assert "note: endpoint-5xx: off until a threshold is set" in out


def test_warning(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(["--checks", "failed-jobs,preempted-nodes"], capsys)
    assert code == CheckStatus.WARNING == 1
    assert out.startswith("AZML WARNING - ")
    assert "[WARNING] failed-jobs: 4 failed in the last 24h" in out
    assert "[WARNING] preempted-nodes: 7 preempted nodes" in out


def test_ok(capsys: pytest.CaptureFixture[str]) -> None:
    loose = ["--failed-jobs-warn", "50", "--preempted-nodes-warn", "0", "--idle-gpu-minutes", "120"]
    code, out = check(["--skip", "deployments,quota", *loose], capsys)
    assert code == CheckStatus.OK == 0
    assert out.splitlines()[0] == "AZML OK - 4 checks passed on 4 workspaces"


def test_critical_by_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(["--checks", "failed-jobs", "--failed-jobs-crit", "3"], capsys)
    assert code == CheckStatus.CRITICAL
    code, out = check(["--checks", "failed-jobs", "--failed-jobs-hours", "1"], capsys)
    assert code == CheckStatus.OK, out  # none failed within the last hour of the frozen clock


@pytest.mark.parametrize(
    ("flags", "expected", "worst"),
    [
        # on the frozen demo: fraud-detect-prod-weu answers 1.99% 5xx, llm-summarize-prod-eus 287 ms at p95
        (["--endpoint-5xx-warn-percent", "1.5", "--endpoint-5xx-crit-percent", "5"], CheckStatus.WARNING, "1.99%"),
        (["--endpoint-5xx-crit-percent", "1.5"], CheckStatus.CRITICAL, "1.99%"),
        (["--endpoint-5xx-warn-percent", "3"], CheckStatus.OK, "1.99%"),
        (["--latency-p95-warn-ms", "250", "--latency-p95-crit-ms", "1000"], CheckStatus.WARNING, "287 ms"),
        (["--latency-p95-crit-ms", "250"], CheckStatus.CRITICAL, "287 ms"),
        (["--latency-p95-warn-ms", "500"], CheckStatus.OK, "287 ms"),
    ],
)
def test_endpoint_metrics_from_log_analytics(
    flags: list[str], expected: CheckStatus, worst: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = check(["--checks", "endpoint-5xx,latency-p95", *flags, "--format", "json"], capsys)
    assert code == expected, out
    doc = json.loads(out)
    (finding,) = doc["checks"]  # the other one has no threshold: off, with a note
    assert finding["status"] == expected.name
    assert f"worst {worst} on mlw-" in finding["summary"] and "7 endpoints" in finding["summary"]
    if expected is not CheckStatus.OK:
        assert finding["details"] and worst in finding["details"][0]
    assert any("off until a threshold is set" in n for n in doc["notes"])


def test_endpoint_metric_check_on_metric_points() -> None:
    def row(ws: str, scope: str, metric: str, value: float | None) -> MetricPoint:
        return MetricPoint(ws, scope, metric, "average", value, "", None)

    rows = [
        row("a", "endpoint/e1", "5xx_rate", 0.5),
        row("a", "endpoint/e2", "5xx_rate", 4.0),
        row("b", "endpoint/e3", "5xx_rate", None),  # no traffic: not judged
        row("b", "endpoint/e3", "latency_p95", 900.0),
        row("b", "cluster/c", "5xx_rate", 99.0),  # not an endpoint
    ]
    f = check_metric("endpoint-5xx", "5xx_rate", rows, [], 1.0, 5.0, "%")
    assert f.status is CheckStatus.WARNING and f.details == ("a/e2: 4% (WARNING)",)
    assert "worst 4% on a/e2" in f.summary and "2 endpoints" in f.summary
    assert check_metric("endpoint-5xx", "5xx_rate", rows, [], None, 4.0, "%").status is CheckStatus.CRITICAL
    empty = check_metric("endpoint-5xx", "5xx_rate", [], [], 1.0, None, "%")
    assert empty.status is CheckStatus.OK and empty.summary.startswith("no endpoint traffic")
    missing = [
        {"area": "metrics", "workspace": "c", "target": "", "kind": "transient", "message": "m", "request_id": "r1"}
    ]
    f = check_metric("endpoint-5xx", "5xx_rate", rows[:1], missing, 1.0, 5.0, "%")
    assert f.status is CheckStatus.UNKNOWN and "request id r1" in f.details[-1]


def test_unknown_when_a_workspace_cannot_be_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(
        ["--demo-option", "faults=workspaces/mlw-prod-weu/computes:403", "--checks", "unusable-nodes"], capsys
    )
    assert code == CheckStatus.UNKNOWN
    assert "could not read compute of mlw-prod-weu: forbidden" in out and "request id" in out


def test_a_warning_outranks_missing_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(
        ["--demo-option", "faults=workspaces/mlw-prod-weu/computes:403", "--checks", "preempted-nodes"], capsys
    )
    assert code == CheckStatus.WARNING
    assert "could not read compute of mlw-prod-weu" in out


def test_usage_errors_are_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--demo", "--quota-warn-percent", "lots"])
    assert exc.value.code == 3  # never CRITICAL for a typo
    code, out = check(["--checks", "nodes"], capsys)
    assert code == 3 and out.startswith("AZML UNKNOWN - unknown check 'nodes'")
    code, out = check(["-w", "nope"], capsys)
    assert code == 3 and "no workspace named 'nope'" in out


def test_thresholds_from_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "prod"\n\n[profiles.prod.checks]\nquota_warn_percent = 50\n\n'
        "[profiles.demo.checks]\nfailed-jobs-warn = 100\nfailed-jobs-crit = 200\n"
    )
    monkeypatch.setenv("AZML_CONFIG_DIR", str(tmp_path))
    values, path = profile_thresholds("demo")
    assert path == str(config) and values == {"failed-jobs-warn": 100, "failed-jobs-crit": 200}
    assert profile_thresholds(None)[0] == {"quota_warn_percent": 50}  # the file's default profile
    code, out = check(["--checks", "failed-jobs"], capsys)
    assert code == CheckStatus.OK, out
    code, out = check(["--checks", "failed-jobs", "--failed-jobs-warn", "2"], capsys)  # flags win
    assert code == CheckStatus.WARNING
    config.write_text("[profiles.demo.checks]\nfailed_jobs_warm = 1\n")
    code, out = check([], capsys)
    assert code == 3 and "unknown threshold 'failed_jobs_warm'" in out and str(config) in out


def test_thresholds_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "t.toml"
    f.write_text("[checks]\nfailed_jobs_crit = 2\n")
    code, _ = check(["--checks", "failed-jobs", "--thresholds", str(f)], capsys)
    assert code == CheckStatus.CRITICAL


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(["--checks", "quota", "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == doc["exit_code"] == 2 and doc["status"] == "CRITICAL"
    assert doc["checks"][0]["check"] == "quota" and doc["generated_at"] == "2026-11-02T09:30:00Z"


def test_check_never_imports_textual() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "console.cli", "check", *FROZEN, "--checks", "quota"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stdout.startswith("AZML CRITICAL - quota:")
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "console.check" in imported
    assert not [m for m in imported if m == "textual" or m.startswith("textual.")]


# -- the logic on models ----------------------------------------------------------------------


def _cluster(**kw: Any) -> Compute:
    nodes = NodeCounts(**kw.pop("nodes", {}))
    fields: dict[str, Any] = {"gpus": 1, "min_nodes": 0, "idle_seconds": 600, **kw}
    return Compute(
        "id",
        fields.pop("name", "c"),
        "ws",
        "cluster",
        "AmlCompute",
        "l",
        "NC",
        6,
        nodes=nodes,
        state="",
        provisioning_state="",
        **fields,
    )


def test_idle_gpu_counts_nodes_that_can_outlast_t() -> None:
    t = Thresholds(idle_gpu_minutes=15)
    rows = [
        _cluster(name="short", nodes={"idle": 2}),  # scales down after 10 min: fine
        _cluster(name="long", nodes={"idle": 2}, idle_seconds=3600),
        _cluster(name="held", nodes={"idle": 3}, min_nodes=1),  # min nodes keep one idle forever
        _cluster(name="cpu", nodes={"idle": 5}, gpus=0, idle_seconds=3600),
    ]
    f = check_idle_gpu(rows, [], t)
    assert f.status is CheckStatus.WARNING and f.summary.startswith("3 GPU nodes")
    assert [d.split(":")[0] for d in f.details] == ["ws/long (NC)", "ws/held (NC)"]
    assert check_idle_gpu(rows[:1], [], t).status is CheckStatus.OK
    missing = [
        {"area": "compute", "workspace": "x", "target": "", "kind": "transient", "message": "m", "request_id": ""}
    ]
    assert check_idle_gpu(rows[:1], missing, t).status is CheckStatus.UNKNOWN


def test_quota_levels_and_unlimited_families() -> None:
    def quota(current: int, limit: int) -> RegionalUsage:
        return RegionalUsage("s", "l", Usage("f", "F", current, limit, "Count", "vmFamily/usages"))

    rows = [quota(81, 100), quota(96, 100), quota(0, 0)]  # 81%, 96%, and a family without a limit of its own
    f = check_quota(rows, [], Thresholds())
    assert f.status is CheckStatus.CRITICAL and len(f.details) == 2
    assert check_quota(rows[:1], [], Thresholds()).status is CheckStatus.WARNING


def test_levels_and_ranking() -> None:
    assert level(0, 1, 5) is CheckStatus.OK
    assert level(1, 1, 5) is CheckStatus.WARNING
    assert level(5, 1, 5) is CheckStatus.CRITICAL
    assert level(9, 0, 0) is CheckStatus.OK  # 0 turns a level off
    assert worst([CheckStatus.UNKNOWN, CheckStatus.OK]) is CheckStatus.UNKNOWN
    assert worst([CheckStatus.UNKNOWN, CheckStatus.WARNING]) is CheckStatus.WARNING
    assert worst([CheckStatus.CRITICAL, CheckStatus.WARNING, CheckStatus.UNKNOWN]) is CheckStatus.CRITICAL
    assert worst([]) is CheckStatus.OK


def test_threshold_validation() -> None:
    t = Thresholds().merged({"quota-warn-percent": 70, "failed_jobs_warn": 3}, "test")
    assert t.quota_warn_percent == 70.0 and t.failed_jobs_warn == 3
    for bad in ({"nope": 1}, {"failed_jobs_warn": 1.5}, {"quota_warn_percent": -1}, {"idle_gpu_minutes": "x"}):
        with pytest.raises(ThresholdError):
            Thresholds().merged(bad, "test")
