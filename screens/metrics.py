"""Live metrics (`:metrics`): charts of Log Analytics (KQL) and Azure Monitor platform metrics.

Panels for the selected scope — the workspace, one cluster or one online endpoint (`s` chooses; `:metrics NAME`
opens on it). Every KQL panel aggregates on the server (`summarize ... by bin(TimeGenerated, <bin>)`) with the
bin chosen from the time range and the panel's width, so an answer is bounded by buckets, never raw rows; the
platform-metrics panel asks for the matching interval. At 80 columns one panel shows at a time (tab, 1-7);
wide terminals get a grid. Each visible panel loads in its own thread worker and reschedules itself on the
app's refresh interval once it has finished (no overlapping polls); nothing loads while the screen is hidden
or auto-refresh is paused (`p`), and a panel that is not shown is loaded only when it is shown.

This module is the screen: its layout, when each panel loads, and the keys. What a panel loads is
screens/metrics_data.py, how it draws screens/metrics_panel.py, the scope and query modals
screens/metrics_modals.py, and the KQL editor screens/kql_editor.py.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.widgets import Static

from screens.chrome import ChromeScreen
from screens.host import host
from screens.metrics_data import RANGES, Loaded, Params, Scope, Targets, describe_failure, fetch_panel, load_targets
from screens.metrics_modals import KqlScreen, ScopeScreen
from screens.metrics_panel import MetricPanel
from screens.modals import Field, FormScreen
from screens.widgets.charts import ChartData
from screens.widgets.line import Line
from screens.widgets.prompt import Prompt
from services import monitor
from services.metrics_catalog import PANELS, PanelSpec

if TYPE_CHECKING:
    from services.models import Workspace
    from services.models.monitor import PanelQuery
    from services.session import Session

__all__ = [
    "PANELS",
    "RANGES",
    "KqlScreen",
    "MetricPanel",
    "MetricsScreen",
    "Scope",
    "ScopeScreen",
    "describe_failure",
]

GRID_MIN_SIZE = (120, 34)  # columns, rows: below this, one panel at a time
Y_AXIS = 10  # columns a chart spends on its y labels and frame


class MetricsScreen(ChromeScreen):
    TITLE = "Metrics"
    WORKSPACE_SCOPED = True
    AUTO_FOCUS = None  # the current panel takes focus (never the hidden prompt)

    DEFAULT_CSS = """
    MetricsScreen #panels { layout: grid; grid-size: 1; grid-gutter: 0; height: 1fr; }
    MetricsScreen.-grid #panels { grid-size: 2; }
    MetricsScreen.-single MetricPanel { display: none; }
    MetricsScreen.-single MetricPanel.-current { display: block; }
    MetricsScreen MetricPanel.-out-of-scope { display: none; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_panel", "Next", id="metrics.next"),
        Binding("shift+tab", "previous_panel", "Previous", show=False, id="metrics.previous"),
        *[
            Binding(str(i + 1), f"panel({i})", f"Panel {i + 1}", show=False, id=f"metrics.panel{i + 1}")
            for i in range(len(PANELS))
        ],
        Binding("t", "next_range", "Range", id="metrics.range"),
        Binding("T", "custom_range", "Custom range", show=False, id="metrics.custom_range"),
        Binding("s", "scope", "Scope", id="metrics.scope"),
        Binding("m", "variant", "Metric", id="metrics.variant"),
        Binding("k", "show_kql", "KQL", id="metrics.kql"),
        Binding("e", "edit_kql", "Edit KQL", id="metrics.edit"),
        Binding("r", "refresh", "Refresh", id="metrics.refresh"),
        Binding("p", "pause", "Pause", show=False, id="metrics.pause"),
    ]

    def __init__(self, argument: str = "") -> None:
        super().__init__()
        self.argument = argument.strip()
        self.range_label = "1h"
        self.range = dt.timedelta(hours=1)
        self.scope = Scope()
        self.targets = Targets()
        self.current = 0
        self.grid = False
        self._queries: dict[str, PanelQuery] = {}

    # -- composition ----------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Container(id="panels"):
            for i, spec in enumerate(PANELS):
                yield MetricPanel(spec, i, on_focused=self._panel_focused)

    @property
    def panels(self) -> list[MetricPanel]:
        return list(self.query(MetricPanel))

    def panel(self, key: str) -> MetricPanel:
        return self.query_one(f"#panel-{key}", MetricPanel)

    def on_mount(self) -> None:
        # The query library: built-ins, replaced by the user's own file of the same name when the app names a
        # directory for them (`queries_dir`).
        user_dir = host(self).queries_dir
        self._queries = {q.key: q for q in monitor.load_queries(user_dir)}
        for p in self.panels:
            p.query_def = self._queries.get(p.spec.query)
            p.decorate()
        self._layout()
        self._apply_scope()
        self.set_interval(1.0, self._tick)
        if self.session is not None:
            self.connected()
        else:
            self._status("waiting for the connection…")

    def on_resize(self) -> None:
        self._layout()

    def on_screen_resume(self) -> None:
        self._update_title()
        self.call_after_refresh(self._tick)

    def _layout(self) -> None:
        width, height = self.app.size
        self.grid = width >= GRID_MIN_SIZE[0] and height >= GRID_MIN_SIZE[1]
        self.set_class(self.grid, "-grid")
        self.set_class(not self.grid, "-single")

    @property
    def pending(self) -> bool:
        """Some panel on show is still waiting for its first answer or a refresh."""
        return any(p.busy or (p.loaded is None and not p.error) for p in self.shown_panels())

    @property
    def models(self) -> dict[str, ChartData | None]:
        """The charts on show by panel, once every one of them has answered (empty until then), like the
        list screens' models."""
        if self.pending:
            return {}
        return {p.spec.key: p.data for p in self.shown_panels()}

    def in_scope(self) -> list[MetricPanel]:
        return [p for p in self.panels if self.scope.kind in p.spec.scopes]

    def shown_panels(self) -> list[MetricPanel]:
        panels = self.in_scope()
        if self.grid:
            return panels
        return [p for p in panels if p.index == self.current]

    def _apply_scope(self) -> None:
        panels = self.in_scope()
        if panels and self.current not in [p.index for p in panels]:
            self.current = panels[0].index
        for p in self.panels:
            p.set_class(p not in panels, "-out-of-scope")
            p.set_class(p.index == self.current, "-current")
        self._update_title()
        self.call_after_refresh(self._focus_current)

    def _focus_current(self) -> None:
        panel = self.current_panel()
        if panel is not None and self.app.screen is self and not isinstance(self.focused, Prompt):
            panel.focus()

    def on_prompt_done(self) -> None:
        self.call_after_refresh(self._focus_current)

    def _update_title(self) -> None:
        ws = self.workspace
        parts = [self.TITLE]
        if ws is not None:
            parts.append(f"{ws.name} ({ws.location})")
        parts.append(self.scope.label)
        parts.append(f"last {self.range_label}")
        if host(self).paused:
            parts.append("paused")
        self.query_one("#screen-title", Static).update(Text(" · ".join(parts)))

    def _status(self, text: str) -> None:
        self.query_one("#status", Line).update(Text(text))

    def _clock(self) -> str:
        return host(self).clock()

    # -- connection and scope targets -------------------------------------------------------------

    def connected(self) -> None:
        """The app has a session now (or another workspace): forget the old answers and load again."""
        for p in self.panels:
            p.loaded = None
            p.data = None
            p.error = ""
            p.chart.set_data(None, "loading…")
            p.message("")
            p.decorate()
        self.targets = Targets()
        self._update_title()
        session, ws = self.session, self.workspace
        if session is None:
            return
        if ws is None:
            self._status("choose a workspace first (:workspaces, enter)")
            return
        self._load_targets(session, ws)
        if not self.argument:
            self._tick()

    @work(thread=True, exclusive=True, group="targets", exit_on_error=False)
    def _load_targets(self, session: Session, ws: Workspace) -> None:
        targets, error = load_targets(session, ws)
        self.app.call_from_thread(self._targets_loaded, ws, targets, error)

    def _targets_loaded(self, ws: Workspace, targets: Targets, error: str) -> None:
        if self.workspace is None or self.workspace.key != ws.key:
            return
        self.targets = targets
        if error:
            self._status(f"could not list clusters and endpoints: {error}")
        if self.argument:
            argument, self.argument = self.argument, ""
            scope = self._resolve(argument)
            if scope is None:
                self.notify(f"no cluster or online endpoint named {argument!r}", title="Metrics", severity="warning")
            else:
                self.scope = scope
                self._apply_scope()
        self._tick()

    def _resolve(self, argument: str) -> Scope | None:
        kind, _, name = argument.partition("/") if "/" in argument else ("", "", argument)
        name = name.strip()
        if kind in ("", "cluster", "compute") and name in self.targets.clusters:
            return Scope("cluster", name)
        if kind in ("", "endpoint") and name in [e.name for e in self.targets.endpoints]:
            return Scope("endpoint", name)
        if name.lower() in ("", "workspace"):
            return Scope()
        return None

    # -- loading ----------------------------------------------------------------------------------

    def chart_width(self, panel: MetricPanel) -> int:
        width = panel.chart.size.width
        if not width:  # not laid out yet (hidden): the width it gets when shown
            columns = 2 if self.grid else 1
            width = max(20, self.app.size.width // columns - 2)
        return max(10, width - Y_AXIS)

    def wanted(self, panel: MetricPanel) -> Params | None:
        ws = self.workspace
        if ws is None:
            return None
        width = self.chart_width(panel)
        if panel.spec.platform:
            grain = monitor.metric_interval(self.range, width)
        else:
            q = panel.query_def
            grain = monitor.choose_bin(self.range, width, q.min_bin if q is not None else dt.timedelta(minutes=1))
        return Params(self.range, self.scope, grain, ws.id, width)

    def _interval(self) -> float:
        return float(host(self).refresh_interval or 0)

    def _tick(self) -> None:
        if self.app.screen is not self or self.session is None or self.workspace is None:
            return
        if self.argument and not self.targets.loaded:
            return  # `:metrics NAME`: the scope comes first
        interval = self._interval()
        auto = bool(interval) and not host(self).paused
        now = time.monotonic()
        for p in self.shown_panels():
            if p.busy or (p.spec.platform and not self.targets.loaded):
                continue  # platform metrics are read per deployment: they wait for the list (it ticks again)
            wanted = self.wanted(p)
            if wanted is None:
                continue
            changed = p.attempted != wanted
            due = auto and p.loaded_at and now - p.loaded_at >= interval
            if changed or due:
                self.load(p, wanted)

    def load(self, panel: MetricPanel, params: Params) -> None:
        session = self.session
        if session is None or self.workspace is None:
            return
        panel.busy = True
        panel.attempted = params
        panel.decorate()
        busy = [p for p in self.shown_panels() if p.busy]
        self._status(f"loading {panel.title}…" if len(busy) == 1 else f"loading {len(busy)} panels…")
        work = partial(self._fetch, session, self.workspace, panel.spec, panel.query_def, params)
        self.run_worker(partial(self._run, panel, work), thread=True, exclusive=True, group=f"panel-{panel.spec.key}")

    def _run(self, panel: MetricPanel, work: Callable[[], Loaded]) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        try:
            loaded = work()
        except Exception as e:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._panel_failed, panel, describe_failure(e))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._panel_loaded, panel, loaded)

    def _fetch(
        self, session: Session, ws: Workspace, spec: PanelSpec, query: PanelQuery | None, params: Params
    ) -> Loaded:
        """In a thread: one panel's query, aggregated on the server."""
        return fetch_panel(session, ws, spec, query, params, lambda: self.targets.deployments)

    def _panel_loaded(self, panel: MetricPanel, loaded: Loaded) -> None:
        panel.busy = False
        panel.loads += 1
        panel.loaded_at = time.monotonic()
        panel.loaded = loaded
        panel.kql = loaded.query
        panel.error = ""
        panel.updated = self._clock()
        panel.rebuild()
        host(self).mark_refreshed()
        if not any(p.busy for p in self.shown_panels()):  # one status line when the last panel arrives
            current = self.current_panel()
            self._status(self._summary(current if current is not None and current.data is not None else panel))

    def _panel_failed(self, panel: MetricPanel, message: str) -> None:
        panel.busy = False
        panel.loaded_at = time.monotonic()  # back off until the next interval
        panel.updated = self._clock()
        panel.failed(message)
        self._status(f"{panel.title}: {message}")

    def _summary(self, panel: MetricPanel) -> str:
        data = panel.data
        if data is None or data.empty:
            return f"{panel.title}: no data"
        parts = [f"{data.buckets} buckets", f"{len(data.series)} series"]
        latest = [f"{s.label} {s.latest:g}" for s in data.series[:4] if s.latest is not None]
        if latest:
            parts.append("latest " + ", ".join(latest))
        return " · ".join(parts)

    # -- keys ---------------------------------------------------------------------------------------

    def _select(self, index: int) -> None:
        self.current = index
        self._apply_scope()
        current = self.current_panel()
        if current is not None and current.data is not None:
            self._status(self._summary(current))
        self.call_after_refresh(self._tick)

    def _panel_focused(self, index: int) -> None:
        if self.current != index:
            self._select(index)

    def current_panel(self) -> MetricPanel | None:
        return next((p for p in self.panels if p.index == self.current), None)

    def action_next_panel(self, step: int = 1) -> None:
        indices = [p.index for p in self.in_scope()]
        if not indices:
            return
        pos = indices.index(self.current) if self.current in indices else 0
        self._select(indices[(pos + step) % len(indices)])

    def action_previous_panel(self) -> None:
        self.action_next_panel(-1)

    def action_panel(self, index: int) -> None:
        if index in [p.index for p in self.in_scope()]:
            self._select(index)
        elif 0 <= index < len(PANELS):
            self.notify(f"Panel {index + 1} is not shown for {self.scope.label} (s changes the scope)", timeout=3)

    def action_next_range(self) -> None:
        labels = [label for label, _ in RANGES]
        pos = labels.index(self.range_label) if self.range_label in labels else -1
        label, span = RANGES[(pos + 1) % len(RANGES)]
        self.set_range(label, span)

    def set_range(self, label: str, span: dt.timedelta) -> None:
        self.range_label = label
        self.range = span
        self._update_title()
        self._tick()

    def action_custom_range(self) -> None:
        def validate(values: dict[str, str]) -> dict[str, str]:
            try:
                span = monitor.parse_timespan(values.get("range", ""))
            except ValueError as e:
                return {"range": str(e)}
            if not dt.timedelta(minutes=1) <= span <= dt.timedelta(days=31):
                return {"range": "between 1m and 31d"}
            return {}

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                text = values["range"].strip()
                self.set_range(text, monitor.parse_timespan(text))

        form = FormScreen(
            "Time range",
            [Field("range", "Last", self.range_label, "e.g. 30m, 2h, 3d, PT90M")],
            validate,
            submit_label="Apply",
        )
        self.app.push_screen(form, callback=chosen)

    def action_scope(self) -> None:
        if not self.targets.loaded:
            self.notify("Still listing the clusters and endpoints…", timeout=3)
            return

        def chosen(scope: Scope | None) -> None:
            if scope is not None and scope != self.scope:
                self.scope = scope
                self._apply_scope()
                self._tick()

        self.app.push_screen(ScopeScreen(self.targets, self.scope), callback=chosen)

    def action_variant(self) -> None:
        panel = self.current_panel()
        if panel is None or not panel.spec.variants:
            self.notify("This panel has one metric", timeout=2)
            return
        panel.variant = (panel.variant + 1) % len(panel.spec.variants)
        panel.rebuild()
        panel.decorate()
        if panel.data is not None:
            self._status(self._summary(panel))

    def action_show_kql(self) -> None:
        panel = self.current_panel()
        if panel is None:
            return
        kql = panel.kql
        if not kql and panel.query_def is not None:
            kql = panel.query_def.kql
        editable = not panel.spec.platform

        def closed(result: str | None) -> None:
            if result == "edit":
                self.action_edit_kql()

        self.app.push_screen(KqlScreen(panel.title, kql, editable), callback=closed)

    def action_edit_kql(self) -> None:
        panel = self.current_panel()
        if panel is None:
            return
        if panel.spec.platform:
            self.notify("Platform metrics come from Azure Monitor, not KQL", timeout=3)
            return
        kql = panel.kql
        if not kql and panel.query_def is not None:
            params = self.wanted(panel)
            width = params.width if params else 60
            kql, _ = monitor.render_panel(panel.query_def, timespan=self.range, width=width, scope=self.scope.values())
        from screens.kql_editor import KqlEditorScreen

        self.app.push_screen(KqlEditorScreen(kql, timespan=self.range, timespan_label=self.range_label))

    def action_refresh(self) -> None:
        for p in self.shown_panels():
            wanted = self.wanted(p)
            if wanted is not None and not p.busy:
                self.load(p, wanted)

    def action_pause(self) -> None:
        host(self).toggle_pause()
        self._update_title()
