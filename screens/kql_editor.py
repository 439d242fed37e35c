"""The ad-hoc KQL editor: type a query, run it (ctrl+r or F5) against the workspace's Log Analytics workspace.

Results show as a table and, when they have a datetime column and a number, as a chart. Every run is kept in a
history file (JSON, in the data directory; the app names it as ``history_path``) that later sessions read back;
ctrl+up / ctrl+down (or F7 / F8) walk it. A query Azure refuses shows Azure's message and its line and position,
and the cursor moves there with the line marked.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Static, TextArea

from screens.chrome import ChromeScreen
from screens.host import host
from screens.widgets.charts import TimeChart, chart_from_rows
from screens.widgets.table import Cell, Column, KeyedTable

if TYPE_CHECKING:
    from services.models import LogsResult, QueryError, Workspace
    from services.session import Session

HISTORY_LIMIT = 200
SPANS: tuple[tuple[str, dt.timedelta], ...] = (
    ("15m", dt.timedelta(minutes=15)),
    ("1h", dt.timedelta(hours=1)),
    ("6h", dt.timedelta(hours=6)),
    ("24h", dt.timedelta(hours=24)),
    ("7d", dt.timedelta(days=7)),
)


def load_history(path: Path | None) -> list[dict[str, Any]]:
    """The saved runs, oldest first; a missing or unreadable file is an empty history."""
    if path is None:
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return []
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("kql"), str)]


def save_history(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write atomically (a crash never leaves half a file), private to the user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"version": 1, "entries": entries[-HISTORY_LIMIT:]}, indent=1), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def remember(entries: list[dict[str, Any]], kql: str, timespan: str, now: str) -> list[dict[str, Any]]:
    """The history with this run last (an identical earlier query moves to the end)."""
    kept = [e for e in entries if e.get("kql") != kql]
    kept.append({"kql": kql, "timespan": timespan, "at": now})
    return kept[-HISTORY_LIMIT:]


def _cell(value: Any) -> Cell:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str) or value is None:
        return value
    return json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)


class KqlEditorScreen(ChromeScreen):
    TITLE = "KQL"
    WORKSPACE_SCOPED = True

    DEFAULT_CSS = """
    KqlEditorScreen #kql { height: 8; border: none; padding: 0 1; }
    KqlEditorScreen #kql.-error .text-area--cursor-line { background: $error 40%; }
    KqlEditorScreen #editor-status { height: auto; max-height: 4; padding: 0 1; }
    KqlEditorScreen #editor-status.-error { color: $error; }
    KqlEditorScreen #results-area { height: 1fr; }
    KqlEditorScreen #results { width: 1fr; height: 1fr; }
    KqlEditorScreen #results-chart { width: 1fr; height: 1fr; display: none; }
    KqlEditorScreen.-chart #results-chart { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r,f5", "run", "Run", id="kql.run", priority=True),
        Binding("ctrl+up,f7", "history(-1)", "Older", id="kql.older", priority=True),
        Binding("ctrl+down,f8", "history(1)", "Newer", id="kql.newer", priority=True),
        Binding("ctrl+t,f6", "next_timespan", "Range", id="kql.range", priority=True),
        Binding("f2", "focus_results", "Results", id="kql.results"),
    ]

    def __init__(self, kql: str = "", *, timespan: dt.timedelta | None = None, timespan_label: str = "") -> None:
        super().__init__()
        self.initial = kql
        self.timespan = timespan or dt.timedelta(hours=1)
        self.timespan_label = timespan_label or "1h"
        self.history: list[dict[str, Any]] = []
        self.history_pos = 0
        self.result: LogsResult | None = None
        self.error: QueryError | None = None
        self.running = False
        self.runs = 0

    STATUS_LINE = False  # its status line sits between the editor and the results

    def compose_body(self) -> ComposeResult:
        yield TextArea(self.initial, id="kql", show_line_numbers=True, soft_wrap=True)
        yield Static(
            Text("ctrl+r or F5 runs · ctrl+up/down history · ctrl+t time range", style="dim"), id="editor-status"
        )
        with Horizontal(id="results-area"):
            yield KeyedTable((), id="results")
            yield TimeChart(id="results-chart")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#kql", TextArea)

    @property
    def table(self) -> KeyedTable:
        return self.query_one("#results", KeyedTable)

    @property
    def chart(self) -> TimeChart:
        return self.query_one("#results-chart", TimeChart)

    @property
    def history_path(self) -> Path | None:
        return host(self).history_path

    def on_mount(self) -> None:
        self.history = load_history(self.history_path)
        self.history_pos = len(self.history)
        if not self.initial and self.history:
            self.history_pos = len(self.history) - 1
            self.editor.load_text(self.history[-1]["kql"])
        self._update_title()
        self.editor.focus()

    def on_screen_resume(self) -> None:
        self._update_title()

    def connected(self) -> None:
        self._update_title()

    def _update_title(self) -> None:
        ws = host(self).workspace
        parts = [self.TITLE]
        if ws is not None:
            parts.append(f"{ws.name} ({ws.location})")
        parts.append(f"last {self.timespan_label}")
        self.query_one("#screen-title", Static).update(Text(" · ".join(parts)))

    def _status(self, text: str | Text, error: bool = False) -> None:
        status = self.query_one("#editor-status", Static)
        status.update(text if isinstance(text, Text) else Text(text))
        status.set_class(error, "-error")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.editor.remove_class("-error")

    # -- running ----------------------------------------------------------------------------------

    def action_run(self) -> None:
        kql = self.editor.text.strip()
        session, ws = host(self).session, host(self).workspace
        if not kql:
            self._status("type a query first", error=True)
            return
        if session is None or ws is None:
            self._status("choose a workspace first (:workspaces, enter)", error=True)
            return
        if self.running:
            return
        self.running = True
        self._status(f"running over the last {self.timespan_label}…")
        self.history = remember(self.history, kql, self.timespan_label, dt.datetime.now(dt.UTC).isoformat())
        self.history_pos = len(self.history)
        self._run(session, ws, kql, self.timespan, list(self.history), self.history_path)

    @work(thread=True, exclusive=True, group="kql", exit_on_error=False)
    def _run(
        self,
        session: Session,
        ws: Workspace,
        kql: str,
        timespan: dt.timedelta,
        history: list[dict[str, Any]],
        path: Path | None,
    ) -> None:
        from services import monitor
        from services.models import KqlQueryFailed

        if path is not None:
            try:
                save_history(path, history)
            except OSError as e:
                self.app.call_from_thread(self.notify, f"history not saved: {e}", severity="warning")
        started = time.monotonic()
        try:
            law = monitor.log_analytics_workspace(session, ws)
            result = monitor.run_query(session, law, kql, timespan)
        except KqlQueryFailed as e:
            from screens.metrics_data import describe_failure

            self.app.call_from_thread(self._refused, e.error, describe_failure(e))
            return
        except Exception as e:
            from screens.metrics_data import describe_failure

            self.app.call_from_thread(self._failed, describe_failure(e))
            return
        self.app.call_from_thread(self._show, result, time.monotonic() - started)

    def _show(self, result: LogsResult, seconds: float) -> None:
        self.running = False
        self.runs += 1
        self.result = result
        self.error = None
        self.editor.remove_class("-error")
        columns = [
            Column(f"c{i}", c.name, numeric=c.type in ("int", "long", "real", "decimal"))
            for i, c in enumerate(result.columns)
        ]
        rows = {str(n): [_cell(v) for v in row] for n, row in enumerate(result.rows)}
        with self.app.batch_update():
            self.table.set_columns(columns)
            self.table.set_rows(rows)
            chartable = result.chartable
            if chartable:
                self.chart.set_data(
                    chart_from_rows(tuple((c.name, c.type) for c in result.columns), result.rows), "no points"
                )
            else:
                self.chart.set_data(None)
            self.set_class(chartable, "-chart")
        text = f"{len(result.rows)} rows · {len(result.columns)} columns · {seconds:.2f} s · last {self.timespan_label}"
        if result.partial_error is not None:
            self._status(f"{text} · PARTIAL: {result.partial_error}", error=True)
        else:
            self._status(text)
        host(self).mark_refreshed()

    def _refused(self, error: QueryError, message: str) -> None:
        self.running = False
        self.runs += 1
        self.error = error
        self._status(Text(message), error=True)
        if error.line is not None:
            lines = self.editor.text.split("\n")
            row = min(max(error.line - 1, 0), len(lines) - 1)
            col = min(max(error.position or 0, 0), len(lines[row]))
            self.editor.focus()
            self.editor.move_cursor((row, col))
            self.editor.add_class("-error")

    def _failed(self, message: str) -> None:
        self.running = False
        self.runs += 1
        self._status(message, error=True)

    # -- keys ---------------------------------------------------------------------------------------

    def action_history(self, step: int) -> None:
        if not self.history:
            self.notify("No history yet", timeout=2)
            return
        self.history_pos = min(max(self.history_pos + step, 0), len(self.history) - 1)
        entry = self.history[self.history_pos]
        self.editor.load_text(entry["kql"])
        self._status(f"history {self.history_pos + 1}/{len(self.history)} · ran {entry.get('at', '')[:19]}Z")

    def action_next_timespan(self) -> None:
        labels = [label for label, _ in SPANS]
        pos = labels.index(self.timespan_label) if self.timespan_label in labels else -1
        self.timespan_label, self.timespan = SPANS[(pos + 1) % len(SPANS)]
        self._update_title()

    def action_focus_results(self) -> None:
        if self.focused is self.table:
            self.editor.focus()
        else:
            self.table.focus()
