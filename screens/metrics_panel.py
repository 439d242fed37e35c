"""One panel of the metrics screen: a chart with its title, bin and last update in the border and its errors
underneath, built from what the panel loaded (KQL rows or Azure Monitor platform metrics)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.widgets import Static

from screens.metrics_data import Loaded, Params, Scope
from screens.widgets.charts import ChartData, TimeChart, chart_from_rows
from services import monitor
from services.metrics_catalog import PanelSpec

if TYPE_CHECKING:
    from services.models import MetricSeries
    from services.models.monitor import PanelQuery


def _short_node(node: str) -> str:
    # Node ids lead with what tells them apart (tvm-<pool>_<n>-<created>); the legend has little room.
    return node if len(node) <= 20 else node[:18] + ".."


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

    def __init__(self, spec: PanelSpec, index: int, on_focused: Callable[[int], None] | None = None) -> None:
        super().__init__(id=f"panel-{spec.key}")
        self.spec = spec
        self.index = index
        self._when_focused = on_focused  # the screen makes the focused panel its current one
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
        if self._when_focused is not None:
            self._when_focused(self.index)

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
