"""`azml snapshot`: golden files on the frozen demo estate, the published schema, partial results, the
picture formats, and proof that the data path never imports Textual.

Regenerate the golden files with ``AZML_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_snapshot.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from console.cli import main
from console.exitcodes import ExitCode
from console.snapshot import (
    AREAS,
    COLUMNS,
    REDACTED,
    SCHEMA_ID,
    TABLES,
    SnapshotRequest,
    SnapshotUsageError,
    collect_snapshot,
    exit_code_for,
    flatten,
    iso_utc,
    redact,
    schema_path,
    schema_text,
    to_csv,
)
from services.errors import ErrorKind

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("AZML_UPDATE_GOLDEN", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent
FROZEN = ["--demo", "--demo-option", "frozen=true"]
# the embedded emulator listens on an ephemeral port; it is the one thing that differs between runs
# (pass --demo-option port=N for byte-identical output)
_PORT = re.compile(r"https://127\.0\.0\.1:\d+")


def normalise(text: str) -> str:
    return _PORT.sub("https://127.0.0.1:PORT", text)


def schema() -> dict[str, Any]:
    return json.loads(Path(schema_path()).read_text())


def validate(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def run_cli(args: list[str], tmp_path: Path, name: str = "out") -> tuple[int, str]:
    out = tmp_path / name
    code = main(["snapshot", *args, "--output", str(out)])
    return code, out.read_text() if out.exists() else ""


# -- golden files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "md", "csv"])
def test_golden_files_on_the_frozen_demo_estate(fmt: str, tmp_path: Path) -> None:
    code, text = run_cli([*FROZEN, "--format", fmt, "--job-limit", "10"], tmp_path)
    assert code == ExitCode.OK
    text = normalise(text)
    golden = GOLDEN / f"snapshot.{fmt}"
    if UPDATE or not golden.exists():
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text)
        if not UPDATE:
            pytest.fail(f"wrote the missing golden file {golden}; check it in and run again")
    assert text == golden.read_text(), f"{golden.name} differs (AZML_UPDATE_GOLDEN=1 regenerates it)"


def test_same_seed_and_frozen_clock_give_the_same_output(tmp_path: Path) -> None:
    first = run_cli([*FROZEN, "compute", "jobs", "--job-limit", "5"], tmp_path, "a")
    second = run_cli([*FROZEN, "compute", "jobs", "--job-limit", "5"], tmp_path, "b")
    assert first[0] == second[0] == ExitCode.OK
    assert normalise(first[1]) == normalise(second[1])


def test_the_golden_json_follows_the_published_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    doc = json.loads((GOLDEN / "snapshot.json").read_text())
    validate(doc)
    assert doc["schema_version"] == schema()["properties"]["schema_version"]["const"]
    assert list(doc)[:5] == ["kind", "schema_version", "schema", "generated_at", "source"]
    assert doc["generated_at"] == "2026-11-02T09:30:00Z"  # the frozen simulation clock, not the wall clock
    assert doc["schema"] == schema()["$id"] == SCHEMA_ID


def test_the_schema_and_the_code_agree_on_every_column() -> None:
    s = schema()
    for table in (*TABLES, "errors"):
        ref = s["properties"][table]["items"]["$ref"].rsplit("/", 1)[-1]
        assert tuple(s["$defs"][ref]["properties"]) == COLUMNS[table], table


# -- must show: json with every area, no Textual --------------------------------------------------


def test_json_on_stdin_devnull_holds_every_area_and_never_imports_textual() -> None:
    # -X importtime lists every module the process imports, on stderr: the proof covers the real command
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "console.cli", "snapshot", "--demo", "--format", "json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == ExitCode.OK, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    validate(doc)
    assert doc["areas"] == list(AREAS)
    for table in ("workspaces", "compute", "quota", "datastores", "jobs", "endpoints", "deployments"):
        assert doc[table], f"{table} has no rows"
    assert doc["metrics"] and any(n.startswith("metrics:") for n in doc["notes"])
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "console.snapshot" in imported and "services.compute" in imported
    textual = [m for m in imported if m == "textual" or m.startswith("textual.")]
    assert not textual, f"the json path imported {textual[:5]}"
    assert not [m for m in imported if m.startswith("screens")]


def test_metrics_area_has_endpoint_health_and_node_counts_that_agree_with_compute(tmp_path: Path) -> None:
    code, text = run_cli([*FROZEN, "--format", "json", "metrics", "compute", "deployments"], tmp_path)
    assert code == ExitCode.OK, text
    doc = json.loads(text)
    validate(doc)
    rows = doc["metrics"]
    assert rows and doc["summary"]["rows"]["metrics"] == len(rows)
    by_key = {(r["workspace"], r["scope"], r["metric"]): r for r in rows}
    online = [e for e in doc["endpoints"] if e["type"] == "online"]
    for e in online:
        requests = by_key[(e["workspace"], f"endpoint/{e['name']}", "requests")]
        rate = by_key[(e["workspace"], f"endpoint/{e['name']}", "5xx_rate")]
        p95 = by_key[(e["workspace"], f"endpoint/{e['name']}", "latency_p95")]
        assert requests["value"] > 0 and 0 <= rate["value"] < 100 and p95["value"] > 0
        assert requests["time"] == doc["generated_at"]
    for c in doc["compute"]:
        if c["kind"] != "cluster":
            continue
        scope = f"cluster/{c['name']}"
        for metric, state in (("Active Nodes", "running"), ("Idle Nodes", "idle"), ("Preempted Nodes", "preempted")):
            row = by_key[(c["workspace"], scope, metric)]
            assert row["value"] == c["nodes"][state], (scope, metric)
            assert row["time"] == doc["generated_at"]
    assert rows == sorted(rows, key=lambda r: (r["workspace"].lower(), r["scope"].lower(), r["metric"].lower()))


def test_the_data_modules_import_without_textual() -> None:
    code = (
        "import sys, console.snapshot, console.check, console.check_cmd, console.snapshot_cmd; "
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'screens'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


# -- partial results --------------------------------------------------------------------------------


def test_a_failing_workspace_gives_partial_results_with_its_error(tmp_path: Path) -> None:
    code, text = run_cli(
        [*FROZEN, "--demo-option", "faults=workspaces/mlw-prod-weu/:403", "--format", "json"], tmp_path
    )
    assert code == ExitCode.PARTIAL
    doc = json.loads(text)
    validate(doc)
    failed = {e["workspace"] for e in doc["errors"]}
    assert failed == {"mlw-prod-weu"}
    assert {e["area"] for e in doc["errors"]} == {"compute", "datastores", "jobs", "deployments", "metrics"}
    for e in doc["errors"]:
        assert e["kind"] == "forbidden" and e["status"] == 403 and e["code"] == "AuthorizationFailed"
        assert re.fullmatch(r"[0-9a-f-]{36}", e["request_id"]), e
    # the others are all there
    assert {r["workspace"] for r in doc["compute"]} == {"mlw-dev-eus2", "mlw-prod-eus", "mlw-research-scus"}
    assert "mlw-prod-weu" in {w["name"] for w in doc["workspaces"]}
    assert doc["summary"]["errors"] == 5
    # its Log Analytics could not be found (diagnostic settings refused); its platform metrics still came
    assert {r["scope"] for r in doc["metrics"] if r["workspace"] == "mlw-prod-weu"} == {
        "cluster/cpu-cluster",
        "cluster/gpu-a100",
        "cluster/gpu-t4",
    }


def test_errors_travel_into_md_and_csv(tmp_path: Path) -> None:
    code, text = run_cli(
        [*FROZEN, "--demo-option", "faults=workspaces/mlw-prod-weu/computes:403", "compute", "--format", "md"], tmp_path
    )
    assert code == ExitCode.PARTIAL
    assert "## Errors (1)" in text and "mlw-prod-weu" in text and "forbidden" in text
    code, text = run_cli(
        [*FROZEN, "--demo-option", "faults=workspaces/mlw-prod-weu/computes:403", "compute", "--format", "csv"],
        tmp_path,
        "csv",
    )
    assert code == ExitCode.PARTIAL
    assert "# errors\narea,workspace,target,kind,message,status,code,request_id\ncompute,mlw-prod-weu," in text


def test_nothing_readable_maps_to_auth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = run_cli([*FROZEN, "--demo-option", "faults=^/subscriptions$:401", "workspaces"], tmp_path)
    assert code == ExitCode.AUTH
    doc = json.loads(text)
    assert doc["errors"][0]["kind"] == "auth" and doc["workspaces"] == []
    assert "auth" in capsys.readouterr().err


def test_exit_code_mapping() -> None:
    assert exit_code_for([], succeeded=3) is ExitCode.OK
    assert exit_code_for([ErrorKind.TRANSIENT], succeeded=3) is ExitCode.PARTIAL
    assert exit_code_for([ErrorKind.AUTH, ErrorKind.FORBIDDEN], succeeded=0) is ExitCode.AUTH
    assert exit_code_for([ErrorKind.UNREACHABLE], succeeded=0) is ExitCode.UNREACHABLE
    assert exit_code_for([ErrorKind.AUTH], succeeded=0, fatal=True) is ExitCode.AUTH
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 6, 130]  # stable for scripts (5 is azml query's)


# -- the job cap, secrets, times --------------------------------------------------------------------


def test_jobs_are_capped_per_workspace_in_one_server_page(session: Any, emulator: Any) -> None:
    before = len(emulator.request_log)
    snap = collect_snapshot(
        session,
        SnapshotRequest(areas=("jobs",), job_limit=7),
        source="test",
        now=dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC),
    )
    jobs = snap.doc["jobs"]
    by_ws: dict[str, int] = {}
    for j in jobs:
        by_ws[j["workspace"]] = by_ws.get(j["workspace"], 0) + 1
    assert set(by_ws.values()) == {7} and len(by_ws) == len(emulator.estate.workspaces())
    requests = [p for _, p, _ in emulator.request_log[before:] if p.endswith("/jobs")]
    assert len(requests) == len(by_ws), "one server page per workspace, never more"
    created = [j["created"] for j in jobs if j["workspace"] == jobs[0]["workspace"]]
    assert created == sorted(created, reverse=True), "the most recent, newest first"


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) and len(value) >= 12 else []


def test_no_secret_reaches_the_snapshot(session: Any, emulator: Any) -> None:
    snap = collect_snapshot(
        session, SnapshotRequest(areas=AREAS), source="test", now=dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    )
    assert redact(snap.doc) == snap.doc  # the models carry nothing secret-shaped: redaction had no work
    text = json.dumps(snap.doc)
    secrets = _strings(emulator.estate.area_state["datastores"]["secrets"])
    endpoint_state = emulator.estate.area_state.get("endpoints")
    secrets += _strings(getattr(endpoint_state, "keys", {}))
    assert secrets, "the estate should hold datastore and endpoint secrets to look for"
    leaked = [s for s in secrets if s in text]
    assert not leaked


def test_redact_masks_secret_fields_and_url_signatures() -> None:
    doc = {
        "name": "x",
        "account_key": "abc",
        "nested": {"clientSecret": "s3cr3t", "auth": "account_key"},
        "url": "https://a.blob.core.windows.net/c/f?sv=2024&se=2026&sig=AbC%2Fd&sp=r",
        "list": [{"sas_token": "sv=1&sig=2"}],
    }
    out = redact(doc)
    assert out["account_key"] == REDACTED and out["nested"]["clientSecret"] == REDACTED
    assert out["nested"]["auth"] == "account_key"  # how it authenticates is not a secret
    assert "AbC" not in out["url"] and out["url"].startswith("https://a.blob.core.windows.net/c/f?")
    assert out["list"][0]["sas_token"] == REDACTED


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-02T09:24:48Z", "2026-11-02T09:24:48Z"),
        ("2026-11-02T09:24:48.1234567+00:00", "2026-11-02T09:24:48Z"),
        ("2026-11-02T11:24:48+02:00", "2026-11-02T09:24:48Z"),
        ("2026-11-02T09:24:48", "2026-11-02T09:24:48Z"),
        ("", None),
        (None, None),
    ],
)
def test_times_are_iso_utc(given: str | None, expected: str | None) -> None:
    assert iso_utc(given) == expected


def test_csv_flattens_fixed_objects_and_joins_maps() -> None:
    row = {"name": "c", "nodes": {"idle": 1, "running": 2}, "tags": {"a": "1", "b": "2"}, "errors": ["x", "y"]}
    assert flatten(row) == {"name": "c", "nodes.idle": "1", "nodes.running": "2", "tags": "a=1;b=2", "errors": "x;y"}
    text = to_csv({"metrics": []})
    assert text == "workspace,scope,metric,aggregation,value,unit,time\n"


# -- pictures -----------------------------------------------------------------------------------------


def test_svg_of_the_compute_screen(tmp_path: Path) -> None:
    code, text = run_cli(["--demo", "compute", "--format", "svg", "--size", "120x30"], tmp_path, "compute.svg")
    assert code == ExitCode.OK
    assert text.lstrip().startswith("<svg") and text.rstrip().endswith("</svg>")
    assert "Compute" in text
    assert re.search(r"(cpu|gpu)-[a-z0-9]+", text), "no compute name in the picture"


def test_txt_renders_several_screens_headlessly(tmp_path: Path) -> None:
    code, text = run_cli(["--demo", "workspaces", "compute", "--format", "txt", "--size", "100x20"], tmp_path)
    assert code == ExitCode.OK
    assert "Workspaces" in text and "Compute · " in text and "mlw-" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_svg_of_a_subprocess_without_a_terminal(tmp_path: Path) -> None:
    out = tmp_path / "ws.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "snapshot", "--demo", "--format", "svg", "-o", str(out)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "" and "mlw-" in out.read_text()


# -- usage ------------------------------------------------------------------------------------------------


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--demo", "nodes"], tmp_path)[0] == ExitCode.USAGE
    assert "unknown area 'nodes'" in capsys.readouterr().err
    assert run_cli(["--demo", "-w", "nope", "compute"], tmp_path)[0] == ExitCode.USAGE
    assert "no workspace named 'nope'" in capsys.readouterr().err
    assert run_cli(["--demo", "compute", "jobs", "--format", "svg"], tmp_path)[0] == ExitCode.USAGE
    with pytest.raises(SystemExit) as exc:
        main(["snapshot", "--demo", "--size", "12"])
    assert exc.value.code == ExitCode.USAGE
    for limit in (0, 101):
        with pytest.raises(SnapshotUsageError):
            SnapshotRequest(job_limit=limit)


def test_demo_faults_option() -> None:
    from emulator.config import EmulatorConfig

    cfg = EmulatorConfig.from_options({"faults": "workspaces/a/computes:500; x:y:503:0.5"})
    got = [(r.pattern, r.status, r.rate) for r in cfg.faults]
    assert got == [("workspaces/a/computes", 500, 1.0), ("x:y", 503, 0.5)]
    for bad in ("nothing", "p:200", "(:500", "p:500:2"):
        with pytest.raises(ValueError, match="emulator option faults"):
            EmulatorConfig.from_options({"faults": bad})


def test_workspace_filter(tmp_path: Path) -> None:
    code, text = run_cli([*FROZEN, "-w", "mlw-prod-eus,mlw-dev-eus2", "compute", "datastores"], tmp_path)
    assert code == ExitCode.OK
    doc = json.loads(text)
    assert {r["workspace"] for r in doc["compute"]} == {"mlw-prod-eus", "mlw-dev-eus2"}
    assert "jobs" not in doc and doc["areas"] == ["compute", "datastores"]
    validate(doc)


def test_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["snapshot", "--help"])
    out = capsys.readouterr().out
    for word in ("ok", "partial", "auth", "usage", "unreachable", "interrupted"):
        assert re.search(rf"^\s+\d+\s+{word}\b", out, re.MULTILINE), word


def test_print_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "--print-schema"]) == 0
    assert json.loads(capsys.readouterr().out)["$id"] == SCHEMA_ID


def test_the_published_schema_is_the_one_generated_from_the_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    # regenerate with: python -m console.snapshot_schema > console/schemas/snapshot.schema.json
    published = Path(schema_path()).read_text(encoding="utf-8")
    assert published == schema_text(), "the published schema differs from the kinds' columns: regenerate it"
    assert main(["snapshot", "--print-schema"]) == 0
    assert capsys.readouterr().out == published
