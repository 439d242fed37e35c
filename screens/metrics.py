"""Live metrics (`:metrics`): charts of Log Analytics (KQL) and Azure Monitor platform metrics.

Panels for the selected scope — the workspace, one cluster or one online endpoint (`s` chooses; `:metrics NAME`
opens on it). Every KQL panel aggregates on the server (`summarize ... by bin(TimeGenerated, <bin>)`) with the
bin chosen from the time range and the panel's width, so an answer is bounded by buckets, never raw rows; the
platform-metrics panel asks for the matching interval. At 80 columns one panel shows at a time (tab, 1-7);
wide terminals get a grid. Each visible panel loads in its own thread worker and reschedules itself on the
app's refresh interval once it has finished (no overlapping polls); nothing loads while the screen is hidden
or auto-refresh is paused (`p`), and a panel that is not shown is loaded only when it is shown.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from screens.host import host
from screens.modals import Field, FormScreen
from screens.widgets.charts import ChartData, TimeChart, chart_from_rows
from screens.widgets.context_bar import ContextBar
from screens.widgets.keybar import KeyBar
from screens.widgets.line import Line
from screens.widgets.prompt import Prompt, PromptBar
from services import monitor
from services.metrics_catalog import PANELS, PanelSpec

if TYPE_CHECKING:
    from services.models import LogsResult, MetricSeries, OnlineDeployment, OnlineEndpoint, Workspace
    from services.models.monitor import PanelQuery
    from services.session import Session

RANGES: tuple[tuple[str, dt.timedelta], ...] = (
    ("15m", dt.timedelta(minutes=15)),
    ("1h", dt.timedelta(hours=1)),
    ("6h", dt.timedelta(hours=6)),
    ("24h", dt.timedelta(hours=24)),
    ("7d", dt.timedelta(days=7)),
)
GRID_MIN_SIZE = (120, 34)  # columns, rows: below this, one panel at a time
Y_AXIS = 10  # columns a chart spends on its y labels and frame


@dataclass(frozen=True)
class Scope:
    kind: str = "workspace"  # workspace | cluster | endpoint
    name: str = ""

    @property
    def label(self) -> str:
        return "workspace" if self.kind == "workspace" else f"{self.kind} {self.name}"

    def values(self) -> dict[str, str]:
        return {self.kind: self.name} if self.kind != "workspace" else {}


@dataclass
class Targets:
    """What a scope can name: the workspace's clusters and online endpoints (with their deployments)."""

    clusters: list[str] = field(default_factory=list)
    endpoints: list[OnlineEndpoint] = field(default_factory=list)
    deployments: dict[str, list[OnlineDeployment]] = field(default_factory=dict)  # endpoint name → deployments
    loaded: bool = False


@dataclass(frozen=True)
class Params:
    """What a panel's data depends on: a change reloads it."""

    range: dt.timedelta
    scope: Scope
    bin: dt.timedelta
    workspace: str
    width: int = field(default=60, compare=False)  # the columns the bin was chosen for


@dataclass(frozen=True)
class Loaded:
    """A panel's answer, built in the worker."""

    params: Params
    query: str  # the KQL sent (or, for platform metrics, a description of the request)
    columns: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    series: tuple[MetricSeries, ...] = ()
    partial: str = ""


def _short_node(node: str) -> str:
    # Node ids lead with what tells them apart (tvm-<pool>_<n>-<created>); the legend has little room.
    return node if len(node) <= 20 else node[:18] + ".."


def _request_id(exc: BaseException) -> str:
    from services.errors import classify

    for e in (exc, exc.__cause__):
        if e is not None:
            rid = classify(e).request_id
            if rid:
                return rid
    return ""


def describe_failure(exc: BaseException) -> str:
    """Azure's message (and where, for KQL), with the request id when there is one."""
    from services.errors import describe
    from services.models import KqlQueryFailed

    if isinstance(exc, KqlQueryFailed):
        rid = _request_id(exc)
        return str(exc.error) + (f" (request id {rid})" if rid else "")
    if isinstance(exc, monitor.MonitorLookupError):
        return str(exc)
    return describe(exc)


class MetricPanel(Vertical, can_focus=True):
    """One chart with its title, bin and last update in the border, errors underneath."""

    DEFAULT_CSS = """
    MetricPanel { border: round $panel-lighten-2; height: 1fr; padding: 0; }
    MetricPanel.-current { border: round $accent; }
    MetricPanel:focus { border: round $accent; background-tint: $foreground 0%; }
    MetricPanel > .panel-message { height: auto; max-height: 6; color: $error; padding: 0 1; display: none; }
    MetricPanel > .panel-message.-shown { display: block; }
    MetricPanel.-failed > TimeChart { display: none; }
    """

    def __init__(self, spec: PanelSpec, index: int) -> None:
        super().__init__(id=f"panel-{spec.key}")
        self.spec = spec
        self.index = index
        self.variant = 0
        self.query_def: PanelQuery | None = None
        self.loaded: Loaded | None = None
        self.data: ChartData | None = None
        self.kql = ""
        self.error = ""
        self.updated = ""
        self.busy = False
        self.loaded_at = 0.0
        self.loads = 0
        self.attempted: Params | None = None  # the last load's parameters, whether it worked or not
        self._border_rows: tuple[int, ...] = ()  # set while only the border's text changes
        self._border_text: tuple[str | None, str | None] = (None, None)

    def on_focus(self) -> None:
        screen = self.screen
        if isinstance(screen, MetricsScreen) and screen.current != self.index:
            screen._select(self.index)

    def compose(self) -> ComposeResult:
        yield TimeChart(id=f"chart-{self.spec.key}")
        yield Static("", classes="panel-message")

    @property
    def chart(self) -> TimeChart:
        return self.query_one(TimeChart)

    @property
    def title(self) -> str:
        base = self.query_def.title if self.query_def is not None else self.spec.title
        if self.spec.variants:
            base += f" · {self.spec.variants[self.variant][1]}"
        return base

    @property
    def params(self) -> Params | None:
        return self.loaded.params if self.loaded is not None else None

    def decorate(self) -> None:
        parts: list[str] = []
        params = self.params
        if params is not None:
            parts.append(("interval " if self.spec.platform else "bin ") + monitor.kql_timespan(params.bin))
        if self.data is not None and self.data.hidden:
            parts.append(f"+{self.data.hidden} series")
        if self.updated:  # (a load in flight shows in the status line: the chart stays as it is)
            parts.append(("STALE " if self.error and self.data is not None else "updated ") + self.updated)
        self._set_border(f"{self.index + 1} {self.title}", " · ".join(parts))

    def _set_border(self, title: str, subtitle: str) -> None:
        """Change the border's texts, repainting only the border row that changed (Textual repaints the whole
        panel, chart included, when a border title is set)."""
        old_title, old_subtitle = self._border_text
        height = self.outer_size.height
        rows: tuple[int, ...] = (0,) if title != old_title else ()
        rows += (height - 1,) if subtitle != old_subtitle else ()
        if not rows:
            return
        self._border_text = (title, subtitle)
        self._border_rows = rows if height > 1 else ()
        try:
            self.border_title, self.border_subtitle = title, subtitle
        finally:
            self._border_rows = ()

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> MetricPanel:
        if self._border_rows and not regions and repaint and not layout and not recompose:
            # Regions are taken relative to the content: the border rows sit outside it.
            width, (x, top) = self.outer_size.width, self.content_offset
            return super().refresh(*(Region(-x, y - top, width, 1) for y in self._border_rows))
        super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        return self

    def message(self, text: str) -> None:
        msg = self.query_one(".panel-message", Static)
        msg.update(Text(text))
        msg.set_class(bool(text), "-shown")

    def rebuild(self) -> None:
        """The chart from the loaded rows (again, after `m` picks another variant)."""
        loaded = self.loaded
        if loaded is None:
            return
        spec = self.spec
        variant = spec.variants[self.variant][0] if spec.variants else ""
        if spec.platform:
            self.data = _chart_from_metrics(loaded.series, variant, loaded.params.scope)
        else:
            column = spec.variant_column
            where: Callable[[dict[str, Any]], bool] | None = (
                (lambda rec: rec.get(column) == variant) if column else None
            )
            label = (lambda prefix, col: _short_node(prefix)) if spec.key == "utilization" else None
            self.data = chart_from_rows(
                loaded.columns,
                loaded.rows,
                values=spec.values,
                split=spec.split,
                where=where,
                fill=spec.fill,
                unit=spec.unit,
                label=label,
            )
        empty = "no data in this time range" + (f" ({loaded.partial})" if loaded.partial else "")
        self.chart.set_data(self.data, empty)
        self.message(f"partial result: {loaded.partial}" if loaded.partial else "")
        self.set_class(False, "-failed")
        self.decorate()

    def failed(self, message: str) -> None:
        self.error = message
        self.set_class(self.data is None, "-failed")
        self.message(("STALE (last update failed): " if self.data is not None else "") + message)
        self.decorate()


def _chart_from_metrics(series: tuple[MetricSeries, ...], metric: str, scope: Scope) -> ChartData:
    chosen = [s for s in series if s.metric == metric]
    times = sorted({p.timestamp for s in chosen for p in s.points})
    rows: list[tuple[Any, ...]] = []
    for s in chosen:
        parts = s.resource_id.rstrip("/").split("/")
        name = parts[-1] if scope.kind == "endpoint" else "/".join(parts[-3::2])  # endpoint/deployment
        rows.extend((p.timestamp, name, p.average) for p in s.points)
    if not times:
        return ChartData((), (), "%")
    return chart_from_rows(
        (("TimeGenerated", "datetime"), ("Deployment", "string"), ("Value", "real")), rows, values=("Value",)
    )


class ScopeScreen(ModalScreen[Scope | None]):
    """Choose what the panels show: the workspace, a cluster or an online endpoint."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="scope.cancel")]

    def __init__(self, targets: Targets, current: Scope) -> None:
        super().__init__()
        self.targets = targets
        self.current = current
        self.choices: list[Scope] = [Scope()]
        self.choices += [Scope("cluster", c) for c in targets.clusters]
        self.choices += [Scope("endpoint", e.name) for e in targets.endpoints]

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-body"):
            yield Static(Text("Metrics for…", style="bold"))
            yield OptionList(*[Option(s.label, id=str(i)) for i, s in enumerate(self.choices)], id="scope-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.choices.index(self.current) if self.current in self.choices else 0
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class KqlScreen(ModalScreen[str | None]):
    """A panel's query: `e` opens it in the editor, `y` copies it."""

    BINDINGS = [
        Binding("escape,q,k", "dismiss_none", "Close", id="kql.close"),
        Binding("e", "edit", "Edit", id="kql.edit"),
        Binding("y", "copy", "Copy", id="kql.copy"),
    ]

    def __init__(self, title: str, kql: str, editable: bool) -> None:
        super().__init__()
        self._title = title
        self.kql = kql
        self.editable = editable

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self._title + "\n\n", style="bold")
        text.append(self.kql or "(not loaded yet)")
        hint = "e opens it in the editor · " if self.editable else ""
        text.append(f"\n\n{hint}y copies · esc closes", style="dim")
        with VerticalScroll(classes="modal-body"):
            yield Static(text, id="kql-text")

    def action_edit(self) -> None:
        if self.editable:
            self.dismiss("edit")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.kql)
        self.notify("Copied the query", timeout=3)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class MetricsScreen(Screen[None]):
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

    def compose(self) -> ComposeResult:
        yield ContextBar()
        yield Static(self.TITLE, id="screen-title", classes="screen-title")
        with Container(id="panels"):
            for i, spec in enumerate(PANELS):
                yield MetricPanel(spec, i)
        yield Line("", id="status", classes="status-line")
        yield PromptBar()
        yield KeyBar()

    @property
    def panels(self) -> list[MetricPanel]:
        return list(self.query(MetricPanel))

    def panel(self, key: str) -> MetricPanel:
        return self.query_one(f"#panel-{key}", MetricPanel)

    @property
    def session(self) -> Session | None:
        return host(self).session

    @property
    def workspace(self) -> Workspace | None:
        return host(self).workspace

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
        from services import compute, deployments

        targets = Targets(loaded=True)
        error = ""
        try:
            targets.clusters = sorted(c.name for c in compute.list_computes(session, ws) if c.kind == "cluster")
            targets.endpoints = sorted(deployments.list_online_endpoints(session, ws), key=lambda e: e.name)
            for e in targets.endpoints:
                targets.deployments[e.name] = deployments.list_online_deployments(session, ws, e.name)
        except Exception as e:
            error = describe_failure(e)
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
            if p.busy:
                continue
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
        law = monitor.log_analytics_workspace(session, ws)
        if spec.platform:
            return self._fetch_metrics(session, ws, law, params)
        assert query is not None
        kql, _ = monitor.render_panel(query, timespan=params.range, width=params.width, scope=params.scope.values())
        result: LogsResult = monitor.run_query(session, law, kql, params.range)
        return Loaded(
            params,
            kql,
            tuple((c.name, c.type) for c in result.columns),
            result.rows,
            partial=str(result.partial_error) if result.partial_error else "",
        )

    def _fetch_metrics(self, session: Session, ws: Workspace, law: Any, params: Params) -> Loaded:
        spec = next(s for s in PANELS if s.platform)
        endpoints = self.targets.deployments
        if params.scope.kind == "endpoint":
            deps = list(endpoints.get(params.scope.name, []))
        else:
            deps = [d for ds in endpoints.values() for d in ds]
        names = [v for v, _ in spec.variants]
        description = (
            f"Azure Monitor metrics:getBatch · namespace {monitor.DEPLOYMENT_NAMESPACE}\n"
            f"metrics {', '.join(names)} · aggregation Average · interval {monitor.kql_timespan(params.bin)}\n"
            f"over the last {monitor.kql_timespan(params.range)} for {len(deps)} deployments:\n"
            + "\n".join(f"  {d.endpoint}/{d.name}" for d in deps)
        )
        if not deps:
            return Loaded(params, description)
        # The estate's clock (Log Analytics' now()), so the window ends where the logs do.
        now_rows = monitor.run_query(session, law, "print Now = now()", None).rows
        end = now_rows[0][0] if now_rows and isinstance(now_rows[0][0], dt.datetime) else None
        series = monitor.query_metrics(
            session,
            [(d.id, ws.location) for d in deps],
            monitor.DEPLOYMENT_NAMESPACE,
            names,
            timespan=params.range,
            end=end,
            interval=params.bin,
        )
        return Loaded(params, description, series=tuple(series))

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
