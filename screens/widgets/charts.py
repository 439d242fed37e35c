"""Time-series charts: plotext (through textual-plotext) drawn to the widget's size on every render.

The data is held as a :class:`ChartData` (one x value per server-side bucket, one aligned value per series),
so a resize only redraws: nothing is fetched again. Terminals without braille or block glyphs (the Linux
console, old VTs) and NO_COLOR sessions get one ASCII marker per series, so the lines stay apart without
colour.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

# Same list as the table's: these terminals lack braille and most block glyphs in their fonts.
_ASCII_TERMS = ("linux", "vt100", "vt102", "vt220", "dumb")
ASCII_MARKERS = ("*", "+", "o", "x", "#", "@", "%", "=", "&", "$")
# 16-colour names: they survive TERM=linux and tmux without truecolor.
COLORS = ("cyan", "green", "yellow", "magenta", "red", "blue", "white", "cyan+", "green+", "yellow+")
MAX_SERIES = 10


def ascii_terminal(term: str | None = None) -> bool:
    """Whether the terminal's font is unlikely to hold braille or quadrant blocks."""
    term = (os.environ.get("TERM", "") if term is None else term).lower()
    return term.startswith(("linux", "vt")) or term in _ASCII_TERMS


@dataclass(frozen=True)
class Series:
    label: str
    values: tuple[float | None, ...]  # aligned with ChartData.times; None where the bucket had no value

    @property
    def latest(self) -> float | None:
        return next((v for v in reversed(self.values) if v is not None), None)


@dataclass(frozen=True)
class ChartData:
    times: tuple[dt.datetime, ...]  # the buckets, ascending
    series: tuple[Series, ...]
    unit: str = ""
    hidden: int = 0  # series left out beyond MAX_SERIES

    @property
    def buckets(self) -> int:
        return len(self.times)

    def get(self, label: str) -> Series | None:
        return next((s for s in self.series if s.label == label), None)

    @property
    def empty(self) -> bool:
        return not self.times or not self.series


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def chart_from_rows(
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[Any]],
    *,
    values: Sequence[str] = (),
    split: Sequence[str] = (),
    where: Callable[[dict[str, Any]], bool] | None = None,
    fill: float | None = None,
    unit: str = "",
    label: Callable[[str, str], str] | None = None,
    max_series: int = MAX_SERIES,
) -> ChartData:
    """Rows of a Log Analytics answer → aligned series. ``columns`` are (name, type) pairs; the first datetime
    column is x. ``values`` are the numeric columns to plot (default: every numeric one); ``split`` the
    columns whose values name separate series (default: the string columns). Missing buckets stay None unless
    ``fill`` is given (counts: 0)."""
    names = [n for n, _ in columns]
    types = dict(columns)
    time_col = next((n for n, t in columns if t == "datetime"), None)
    if time_col is None:
        return ChartData((), (), unit)
    value_cols = list(values) or [n for n, t in columns if t in ("int", "long", "real", "decimal")]
    split_cols = list(split) if split else [n for n, t in columns if t == "string"]
    split_cols = [c for c in split_cols if c in types]
    table: dict[str, dict[dt.datetime, float | None]] = {}
    times: set[dt.datetime] = set()
    for raw in rows:
        rec = dict(zip(names, raw, strict=False))
        if where is not None and not where(rec):
            continue
        t = _utc(rec.get(time_col))
        if t is None:
            continue
        times.add(t)
        prefix = " ".join(str(rec.get(c, "")) for c in split_cols)
        for col in value_cols:
            name = col if not prefix else (prefix if len(value_cols) == 1 else f"{prefix} {col}")
            if label is not None:
                name = label(prefix, col)
            table.setdefault(name, {})[t] = _number(rec.get(col))
    ordered = tuple(sorted(times))
    series = []
    for name in sorted(table) if split_cols else list(table):
        points = table[name]
        series.append(Series(name, tuple(points.get(t, fill) for t in ordered)))
    if split_cols and len(series) > max_series:
        # keep the busiest series: a panel is for the ones that matter
        series.sort(key=lambda s: -sum(v or 0.0 for v in s.values))
        kept = sorted(series[:max_series], key=lambda s: s.label)
        return ChartData(ordered, tuple(kept), unit, len(series) - max_series)
    return ChartData(ordered, tuple(series), unit)


def _tick_label(t: dt.datetime, span: dt.timedelta) -> str:
    if span <= dt.timedelta(hours=24):
        return t.strftime("%H:%M")
    if span <= dt.timedelta(days=3):
        return t.strftime("%d %H:%M")
    return t.strftime("%m-%d")


class TimeChart(PlotextPlot):
    """A plotext line chart of a :class:`ChartData`, rebuilt on every render at the widget's size."""

    DEFAULT_CSS = """
    TimeChart { width: 1fr; height: 1fr; min-height: 5; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.data: ChartData | None = None
        self.empty_text = "no data"
        self.renders = 0

    def set_data(self, data: ChartData | None, empty_text: str = "no data") -> None:
        if data == self.data and empty_text == self.empty_text and data is not None:
            return  # the same picture: a refresh with unchanged data writes nothing to the terminal
        self.data = data
        self.empty_text = empty_text
        self.refresh()

    @property
    def ascii(self) -> bool:
        return ascii_terminal() or bool(self.app.no_color)

    def marker(self, index: int) -> str:
        return ASCII_MARKERS[index % len(ASCII_MARKERS)] if self.ascii else "braille"

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        data = self.data
        width, height = self.size.width, self.size.height
        if data is None or data.empty or width < 12 or height < 4:
            return
        t0 = data.times[0]
        xs_all = [(t - t0).total_seconds() / 60.0 for t in data.times]
        for i, s in enumerate(data.series):
            points = [(x, v) for x, v in zip(xs_all, s.values, strict=False) if v is not None]
            if not points:
                continue
            xs, ys = zip(*points, strict=False)
            plt.plot(list(xs), list(ys), marker=self.marker(i), color=COLORS[i % len(COLORS)], label=s.label)
        span = data.times[-1] - t0
        ticks = max(2, min(len(xs_all), width // 12))
        step = max(1, (len(xs_all) - 1) // (ticks - 1)) if len(xs_all) > 1 else 1
        idx = list(range(0, len(xs_all), step))
        plt.xticks([xs_all[i] for i in idx], [_tick_label(data.times[i], span) for i in idx])
        plt.frame(True)
        plt.grid(False, False)

    def render(self) -> RenderResult:
        self.renders += 1
        if self.data is None or self.data.empty:
            return Text(self.empty_text, style="dim", justify="center")
        self._draw()
        return super().render()
