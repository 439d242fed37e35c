"""The metrics screen and the KQL editor on the frozen demo estate: every panel's data (bucket counts, bins),
consistency with the compute screen, scopes, time ranges, errors, the editor's results, errors and history,
and charts without braille on the Linux console."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from screens.compute import ComputeScreen
from screens.kql_editor import KqlEditorScreen, load_history, remember
from screens.metrics import PANELS, KqlScreen, MetricPanel, MetricsScreen, ScopeScreen
from screens.widgets.charts import ChartData, ascii_terminal, chart_from_rows
from tests.test_app import wait_for

Scenario = Callable[[AzmlApp, Any, DemoBackend], Awaitable[None]]
BRAILLE = re.compile("[\u2800-\u28ff]")


def _run(scenario: Scenario, size: tuple[int, int] = (80, 24), **app_kwargs: Any) -> None:
    backend = DemoBackend({"frozen": "true"})

    async def main() -> None:
        app = AzmlApp(
            backend.connect, profile="demo", default_workspace="mlw-prod-eus", clock=lambda: "09:30:00", **app_kwargs
        )
        try:
            async with app.run_test(size=size) as pilot:
                await wait_for(lambda: app.workspace is not None and app.session is not None, pilot)
                await scenario(app, pilot, backend)
        finally:
            if app.session is not None:
                app.session.close()  # the SDK clients' pooled connections: no sockets left behind

    try:
        asyncio.run(main())
    finally:
        backend.stop()


async def _open(app: AzmlApp, pilot: Any, argument: str = "") -> MetricsScreen:
    await pilot.press("colon", *("metrics" + (f" {argument}" if argument else "")), "enter")
    await wait_for(lambda: isinstance(app.screen, MetricsScreen), pilot)
    screen = app.screen
    assert isinstance(screen, MetricsScreen)
    return screen


def _done(panel: MetricPanel) -> Callable[[], bool]:
    return lambda: not panel.busy and (panel.loaded is not None or bool(panel.error))


def _buckets(panel: MetricPanel) -> int:
    loaded = panel.loaded
    assert loaded is not None
    if loaded.series:
        return len({p.timestamp for s in loaded.series for p in s.points})
    names = [n for n, _ in loaded.columns]
    return len({row[names.index("TimeGenerated")] for row in loaded.rows})


# -- panels -------------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_every_panel_renders_server_aggregated_data() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        assert "workspace" in str(screen.query_one("#screen-title").render())
        assert "last 1h" in str(screen.query_one("#screen-title").render())
        for i, spec in enumerate(PANELS):
            await pilot.press(str(i + 1))
            panel = screen.panel(spec.key)
            await wait_for(lambda p=panel: screen.current == p.index and _done(p)(), pilot)
            assert not panel.error, f"{spec.key}: {panel.error}"
            data = panel.data
            assert data is not None and not data.empty, spec.key
            # one point per server-side bucket in every series: nothing was aggregated on this side
            assert data.buckets == _buckets(panel), spec.key
            assert all(len(s.values) == data.buckets for s in data.series), spec.key
            assert data.buckets <= screen.chart_width(panel) + 1
            params = panel.params
            assert params is not None and params.range == dt.timedelta(hours=1)
            if spec.platform:
                assert "metrics:getBatch" in panel.kql and f"interval {params.bin.seconds // 60}m" in panel.kql
            else:
                assert "bin(TimeGenerated, " in panel.kql and "summarize" in panel.kql
                assert re.search(r"bin\(TimeGenerated, \d+[mhd]\)", panel.kql), panel.kql
            assert "updated 09:30:00" in str(panel.border_subtitle)
            assert panel.chart.renders > 0
        # at 80 columns only the current panel is drawn
        shown = [p for p in screen.panels if p.display and p.styles.display != "none" and p.region.width]
        assert [p.index for p in shown] == [screen.current]
        jobs = screen.panel("jobs").data
        assert jobs is not None and {s.label for s in jobs.series} <= {"Completed", "Failed", "Canceled"}
        latency = screen.panel("latency").data
        assert latency is not None and [s.label for s in latency.series] == ["P50", "P95", "P99"]

    _run(scenario)


@pytest.mark.timeout(120)
def test_nodes_by_state_latest_point_equals_the_compute_screens_counts() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        await pilot.press("colon", *"compute", "enter")
        await wait_for(lambda: isinstance(app.screen, ComputeScreen) and bool(app.screen.models), pilot)
        compute = app.screen
        assert isinstance(compute, ComputeScreen)
        clusters = {c.name: c.nodes for c in compute.models.values() if c.kind == "cluster"}
        assert sum(n.total for n in clusters.values()) > 0
        for name in ("gpu-t4", "cpu-cluster"):
            screen = await _open(app, pilot, name)
            panel = screen.panel("nodes")
            await wait_for(lambda s=screen, p=panel, n=name: s.scope.name == n and p.loaded is not None, pilot)
            await wait_for(_done(panel), pilot)
            assert screen.scope.kind == "cluster" and f"cluster {name}" in str(
                screen.query_one("#screen-title").render()
            )
            assert f'ClusterName == "{name}"' in panel.kql
            data = panel.data
            assert data is not None
            latest = {s.label: s.latest for s in data.series}
            n = clusters[name]
            assert latest == {
                "Running": n.running,
                "Idle": n.idle,
                "Preparing": n.preparing,
                "Unusable": n.unusable,
                "Leaving": n.leaving,
                "Preempted": n.preempted,
            }, name
            # a cluster's scope shows the cluster panels only
            assert [p.spec.key for p in screen.in_scope()] == ["nodes", "utilization"]
            await pilot.press("escape")
            await wait_for(lambda: isinstance(app.screen, ComputeScreen), pilot)
        # and the workspace panel sums every cluster
        screen = await _open(app, pilot)
        panel = screen.panel("nodes")
        await wait_for(lambda: panel.loaded is not None and not panel.busy, pilot)
        assert panel.data is not None
        assert panel.data.get("Running") is not None
        assert panel.data.get("Running").latest == sum(n.running for n in clusters.values())  # type: ignore[union-attr]

    _run(scenario)


@pytest.mark.timeout(120)
def test_time_range_changes_the_bin_and_scope_picker_narrows_to_an_endpoint() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        panel = screen.panel("nodes")
        await wait_for(lambda: panel.loaded is not None and not panel.busy, pilot)
        first = panel.params
        assert first is not None and first.bin == dt.timedelta(minutes=1)
        await pilot.press("t")  # 1h → 6h
        await wait_for(lambda: panel.params is not None and panel.params.range == dt.timedelta(hours=6), pilot)
        await wait_for(_done(panel), pilot)
        assert "last 6h" in str(screen.query_one("#screen-title").render())
        params = panel.params
        assert params is not None and params.bin > first.bin
        assert f"bin(TimeGenerated, {params.bin.seconds // 60}m)" in panel.kql
        assert panel.data is not None and panel.data.buckets <= screen.chart_width(panel)
        # custom range
        await pilot.press("T")
        await wait_for(lambda: app.screen.query("#field-range"), pilot)
        app.screen.query_one("#field-range").value = "2h"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(lambda: panel.params is not None and panel.params.range == dt.timedelta(hours=2), pilot)
        assert "last 2h" in str(screen.query_one("#screen-title").render())
        # scope: an endpoint
        await wait_for(lambda: screen.targets.loaded, pilot)
        await pilot.press("s")
        await wait_for(lambda: isinstance(app.screen, ScopeScreen), pilot)
        picker = app.screen
        assert isinstance(picker, ScopeScreen)
        target = next(i for i, s in enumerate(picker.choices) if s.kind == "endpoint")
        endpoint = picker.choices[target].name
        picker.dismiss(picker.choices[target])
        await wait_for(lambda: screen.scope.kind == "endpoint", pilot)
        assert [p.spec.key for p in screen.in_scope()] == ["requests", "latency", "errors", "deployment"]
        requests = screen.panel("requests")
        assert screen.current == requests.index
        await wait_for(lambda: requests.params is not None and requests.params.scope.name == endpoint, pilot)
        await wait_for(_done(requests), pilot)
        assert f'EndpointName == "{endpoint}"' in requests.kql
        await pilot.press("7")  # the deployment panel: that endpoint's deployments only
        deployment = screen.panel("deployment")
        await wait_for(lambda: deployment.params is not None and deployment.params.scope.name == endpoint, pilot)
        await wait_for(_done(deployment), pilot)
        assert deployment.data is not None and deployment.data.series
        assert all("/" not in s.label for s in deployment.data.series)
        await pilot.press("1")  # not in this scope: stays
        assert screen.current == deployment.index

    _run(scenario)


@pytest.mark.timeout(120)
def test_wide_terminals_get_a_grid_and_m_cycles_the_metric() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        assert screen.grid
        await wait_for(lambda: all(p.loaded is not None and not p.busy for p in screen.in_scope()), pilot)
        widths = {p.region.width for p in screen.in_scope()}
        assert len(screen.in_scope()) == len(PANELS) and all(w and w < 100 for w in widths)
        await pilot.press("2")
        util = screen.panel("utilization")
        assert util.data is not None
        before = util.data
        await pilot.press("m")
        assert util.title.endswith("CPU") and util.data is not before
        assert all(len(s.values) == util.data.buckets for s in util.data.series)

    _run(scenario, size=(160, 50))


@pytest.mark.timeout(120)
def test_a_failing_panel_shows_azures_message_and_pause_stops_auto_refresh() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        panel = screen.panel("nodes")
        await wait_for(lambda: panel.loaded is not None and not panel.busy, pilot)
        loads = panel.loads
        await wait_for(lambda: panel.loads > loads, pilot, timeout=10)  # auto-refresh (interval 1 s)
        await pilot.press("p")
        assert app.paused and "paused" in str(screen.query_one("#screen-title").render())
        await wait_for(lambda: not panel.busy, pilot)
        loads = panel.loads
        await pilot.pause(2.5)
        assert panel.loads == loads
        await pilot.press("p")
        assert panel.query_def is not None
        panel.query_def = dataclasses.replace(
            panel.query_def, kql="AmlComputeClusterEvent\n| summarize count() by Nope"
        )
        await pilot.press("r")
        await wait_for(lambda: bool(panel.error), pilot)
        assert "SemanticError" in panel.error and "line 2, position 23" in panel.error
        assert "Failed to resolve scalar expression named 'Nope'" in panel.error
        message = str(panel.query_one(".panel-message").render())
        assert "STALE" in message and "Nope" in message  # the last good chart stays, marked stale
        assert panel.data is not None

    _run(scenario, refresh_interval=1.0)


@pytest.mark.timeout(120)
def test_k_shows_a_panels_kql_and_e_opens_it_in_the_editor() -> None:
    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        await pilot.press("5")
        panel = screen.panel("latency")
        await wait_for(_done(panel), pilot)
        await pilot.press("k")
        await wait_for(lambda: isinstance(app.screen, KqlScreen), pilot)
        assert isinstance(app.screen, KqlScreen) and app.screen.kql == panel.kql
        await pilot.press("e")
        await wait_for(lambda: isinstance(app.screen, KqlEditorScreen), pilot)
        editor = app.screen
        assert isinstance(editor, KqlEditorScreen)
        assert editor.editor.text == panel.kql
        await pilot.press("ctrl+r")
        await wait_for(lambda: editor.result is not None, pilot)
        assert editor.result is not None and editor.result.rows
        assert editor.table.row_count == len(editor.result.rows)
        assert editor.has_class("-chart") and editor.chart.data is not None
        assert {s.label for s in editor.chart.data.series} == {"P50", "P95", "P99"}

    _run(scenario)


# -- the KQL editor -------------------------------------------------------------------------------------------


async def _editor(app: AzmlApp, pilot: Any) -> KqlEditorScreen:
    screen = await _open(app, pilot)
    await pilot.press("e")
    await wait_for(lambda: isinstance(app.screen, KqlEditorScreen), pilot)
    editor = app.screen
    assert isinstance(editor, KqlEditorScreen) and screen is not editor
    return editor


@pytest.mark.timeout(120)
def test_editor_runs_a_query_shows_rows_and_marks_an_error_where_azure_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZML_DATA_DIR", str(tmp_path))

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        editor = await _editor(app, pilot)
        editor.editor.load_text("AmlComputeClusterEvent | summarize Events = count() by ClusterName")
        await pilot.press("f5")
        await wait_for(lambda: editor.runs == 1, pilot)
        result = editor.result
        assert result is not None and len(result.rows) >= 3
        assert editor.table.row_count == len(result.rows)
        assert {editor.table.row(str(i))[0] for i in range(len(result.rows))} == {r[0] for r in result.rows}  # type: ignore[index]
        assert not editor.has_class("-chart")  # no time column: a table only
        assert f"{len(result.rows)} rows" in str(editor.query_one("#editor-status").render())

        editor.editor.load_text("AmlComputeClusterEvent\n| where ClusterName != ''\n| summarize count() by Nope")
        editor.editor.move_cursor((0, 0))
        await pilot.press("ctrl+r")
        await wait_for(lambda: editor.runs == 2, pilot)
        error = editor.error
        assert error is not None and (error.kind, error.line, error.position) == ("SemanticError", 3, 23)
        status = str(editor.query_one("#editor-status").render())
        assert "line 3, position 23" in status and "Failed to resolve scalar expression named 'Nope'" in status
        assert editor.editor.cursor_location == (2, 23)
        assert editor.editor.has_class("-error") and app.focused is editor.editor
        await pilot.press("x")  # editing clears the mark
        assert not editor.editor.has_class("-error")

        editor.editor.load_text("AmlComputeClusterEvent | project")
        await pilot.press("ctrl+r")
        await wait_for(lambda: editor.runs == 3, pilot)
        assert editor.error is not None and editor.error.kind == "SyntaxError"
        assert editor.editor.cursor_location[0] == 0

    _run(scenario)


@pytest.mark.timeout(120)
def test_history_persists_across_app_restarts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZML_DATA_DIR", str(tmp_path))
    first = "AmlRunStatusChangedEvent | summarize count() by Status"
    second = "AmlComputeClusterEvent | summarize n = count() by bin(TimeGenerated, 5m)"

    async def write(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        assert app.history_path == tmp_path / "kql-history.json"
        editor = await _editor(app, pilot)
        for n, kql in enumerate((first, second), start=1):
            editor.editor.load_text(kql)
            await pilot.press("ctrl+r")
            await wait_for(lambda n=n: editor.runs == n, pilot)
        assert editor.has_class("-chart")  # a time column and a number: charted too
        assert editor.chart.data is not None and editor.chart.data.get("n") is not None

    _run(write)
    saved = json.loads((tmp_path / "kql-history.json").read_text())
    assert [e["kql"] for e in saved["entries"]] == [first, second]

    async def read(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        editor = KqlEditorScreen()
        app.push_screen(editor)
        await wait_for(lambda: app.screen is editor and editor.history, pilot)
        assert screen is not editor
        assert editor.editor.text == second  # an empty editor starts from the last run
        await pilot.press("ctrl+up")
        assert editor.editor.text == first
        await pilot.press("ctrl+down")
        assert editor.editor.text == second

    _run(read)


def test_history_helpers(tmp_path: Path) -> None:
    entries = remember([], "a", "1h", "t1")
    entries = remember(entries, "b", "1h", "t2")
    entries = remember(entries, "a", "6h", "t3")
    assert [e["kql"] for e in entries] == ["b", "a"] and entries[-1]["timespan"] == "6h"
    assert load_history(tmp_path / "missing.json") == []
    (tmp_path / "bad.json").write_text("{not json")
    assert load_history(tmp_path / "bad.json") == []
    assert load_history(None) == []


# -- charts on the Linux console and without colour ----------------------------------------------------------


def _chars(svg: str) -> str:
    return "".join(re.findall(r">([^<]*)</text>", svg))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("var", "value"), [("TERM", "linux"), ("TERM", "vt220"), ("NO_COLOR", "1"), ("TERM", "xterm-256color")]
)
def test_charts_use_no_braille_on_the_linux_console_or_without_colour(
    var: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv(var, value)
    got: dict[str, Any] = {}

    async def scenario(app: AzmlApp, pilot: Any, backend: DemoBackend) -> None:
        screen = await _open(app, pilot)
        panel = screen.panel("nodes")
        await wait_for(lambda: panel.loaded is not None and not panel.busy, pilot)
        await pilot.pause(0.2)
        got["svg"] = app.export_screenshot()
        got["ascii"] = panel.chart.ascii
        got["markers"] = [panel.chart.marker(i) for i in range(len(panel.data.series))]  # type: ignore[union-attr]

    _run(scenario)
    text = _chars(got["svg"])
    if value == "xterm-256color":
        assert not got["ascii"] and BRAILLE.search(got["svg"])  # the check below can see braille when it is there
        return
    assert got["ascii"]
    assert not BRAILLE.search(got["svg"]), f"braille with {var}={value}"
    assert len(set(got["markers"])) == len(got["markers"])  # one marker per series: told apart without colour
    assert "*" in text and "Running" in text
    assert ascii_terminal("linux") and ascii_terminal("vt100") and not ascii_terminal("xterm-256color")


def test_chart_from_rows_aligns_series_on_buckets_and_fills_counts() -> None:
    t = [dt.datetime(2026, 11, 2, 9, m, tzinfo=dt.UTC) for m in (0, 1, 2)]
    columns = (("TimeGenerated", "datetime"), ("Status", "string"), ("Runs", "long"))
    rows = [(t[0], "Failed", 1), (t[1], "Completed", 2), (t[2], "Failed", 3)]
    data = chart_from_rows(columns, rows, values=("Runs",), split=("Status",), fill=0.0)
    assert data.times == tuple(t) and data.buckets == 3
    assert data.get("Failed") is not None and data.get("Failed").values == (1.0, 0.0, 3.0)  # type: ignore[union-attr]
    assert data.get("Completed").values == (0.0, 2.0, 0.0)  # type: ignore[union-attr]
    gaps = chart_from_rows(columns, rows, values=("Runs",), split=("Status",))
    assert gaps.get("Completed").values == (None, 2.0, None)  # type: ignore[union-attr]
    assert chart_from_rows((("n", "long"),), [(1,)]) == ChartData((), ())
    many = [(t[0], f"node-{i:02d}", i) for i in range(15)]
    capped = chart_from_rows(columns, many, values=("Runs",), split=("Status",))
    assert len(capped.series) == 10 and capped.hidden == 5
    assert {s.label for s in capped.series} == {f"node-{i:02d}" for i in range(5, 15)}  # the busiest
