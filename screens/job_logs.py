"""Logs: one run's log files, tailed by byte range (follow, search, wrap, save, switch files)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import OptionList, Static

from screens.chrome import ChromeScreen
from screens.host import host
from screens.modals import Field, FormScreen
from screens.widgets.line import Line
from screens.widgets.logview import LogView, compile_search
from screens.widgets.prompt import Prompt

if TYPE_CHECKING:
    from services.models import Workspace
    from services.models.jobs import LogFile
    from services.session import Session

DEFAULT_LOG = "user_logs/std_log.txt"


class LogFilesScreen(ModalScreen[int | None]):
    """Choose one of a run's log files."""

    BINDINGS = [Binding("escape", "close", "Close", id="logfiles.close")]

    def __init__(self, names: Sequence[str], current: int) -> None:
        super().__init__()
        self.names = list(names)
        self.current = current

    def compose(self) -> ComposeResult:
        options = OptionList(*self.names, id="log-files", classes="modal-body")
        options.highlighted = self.current if self.names else None
        yield options

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_close(self) -> None:
        self.dismiss(None)


def _safe_file_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "log"


class LogScreen(ChromeScreen):
    """One run's log files: follow (tail every ~2 s), search, wrap, save, switch files."""

    TITLE: ClassVar[str] = "Logs"
    POLL_SECONDS: ClassVar[float] = 2.0
    MAX_BACKOFF: ClassVar[float] = 30.0

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "follow", "Follow", id="logs.follow"),
        Binding("slash", "search", "Search", id="logs.search"),
        Binding("n", "next_match", "Next", id="logs.next"),
        Binding("N", "previous_match", "Prev", show=False, id="logs.previous"),
        Binding("w", "wrap", "Wrap", id="logs.wrap"),
        Binding("s", "save", "Save", id="logs.save"),
        Binding("left_square_bracket", "previous_file", "Prev file", show=False, id="logs.previous_file"),
        Binding("right_square_bracket", "next_file", "Next file", show=False, id="logs.next_file"),
        Binding("o", "choose_file", "Files", id="logs.files"),
        Binding("G", "bottom", "Bottom", show=False, id="logs.bottom"),
        Binding("g", "top", "Top", show=False, id="logs.top"),
    ]

    def __init__(self, run: str, label: str = "", *, follow: bool = True) -> None:
        super().__init__()
        self.run = run
        self.label = label or run
        self.files: list[LogFile] = []
        self.index = -1
        self.log_offset = 0
        self.follow = follow
        self.generation = 0
        self.reading = False
        self.failures = 0
        self.error = ""
        self.search_text = ""
        self.reads = 0  # completed reads (tests wait on it)
        self._timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        yield LogView(id="log")

    @property
    def view(self) -> LogView:
        return self.query_one("#log", LogView)

    @property
    def file(self) -> LogFile | None:
        return self.files[self.index] if 0 <= self.index < len(self.files) else None

    def title_text(self) -> str:
        parts = [self.TITLE, self.label]
        if self.file is not None:
            parts.append(f"{self.file.name} ({self.index + 1}/{len(self.files)})")
        return " · ".join(parts)

    def on_mount(self) -> None:
        self.view.follow = self.follow
        self.view.focus()
        self._show_status()
        session, ws = self.session, self.workspace
        if session is None or ws is None:
            self._show_status("not connected to a workspace")
            return
        self._show_status("listing log files…")
        self._list_files(session, ws, self.generation, "")

    def on_unmount(self) -> None:
        self.generation += 1  # whatever is in flight is dropped
        if self._timer is not None:
            self._timer.stop()

    # -- status ---------------------------------------------------------------------------------

    def _show_status(self, note: str = "") -> None:
        view = self.view
        parts: list[str] = []
        if self.file is not None:
            text = f"{view.line_count:,} lines"
            if view.dropped:
                text += f" (first {view.dropped:,} dropped)"
            parts.append(text)
            parts.append(f"{self.log_offset:,} bytes")
            parts.append("following" if self.follow else "paused (f follows)")
        if view.wrap:
            parts.append("wrap")
        if self.search_text:
            hits = view.match_count()
            parts.append(f"/{self.search_text}: {hits} line{'s' if hits != 1 else ''}")
        if self.error:
            parts.append(f"read failed: {self.error} · reconnecting… (attempt {self.failures})")
        if note:
            parts.append(note)
        self.query_one("#status", Line).update(Text(" · ".join(parts)))

    # -- reading --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="logfiles", exit_on_error=False)
    def _list_files(self, session: Session, ws: Workspace, generation: int, keep: str) -> None:
        from services import jobs

        try:
            files = jobs.list_log_files(session, ws, self.run)
        except Exception as e:
            from services.errors import describe

            self.app.call_from_thread(self._read_failed, generation, describe(e), True)
            return
        self.app.call_from_thread(self._files_listed, generation, files, keep)

    def _files_listed(self, generation: int, files: list[LogFile], keep: str) -> None:
        if generation != self.generation:
            return
        self.files = list(files)
        if not files:
            self.error = ""
            self._show_status(f"{self.run} has no log files yet" + (" (f polls)" if self.follow else ""))
            if self.follow:
                self._schedule(self.POLL_SECONDS, relist=True)
            return
        names = [f.name for f in files]
        if keep and keep in names:  # reconnecting: fresh signed URLs for the same file
            self.index = names.index(keep)
            self._title_changed()
            self._start_read()
            return
        if DEFAULT_LOG in names:
            index = names.index(DEFAULT_LOG)
        else:
            index = next((i for i, n in enumerate(names) if n.startswith("user_logs/")), 0)
        self.open_file(index)

    def _title_changed(self) -> None:
        self.query_one("#screen-title", Static).update(self.title_text())

    def open_file(self, index: int) -> None:
        if not self.files:
            return
        self.index = max(0, min(index, len(self.files) - 1))
        self.generation += 1
        self.log_offset = 0
        self.error = ""
        self.failures = 0
        self.reading = False
        if self._timer is not None:
            self._timer.stop()
        self.view.clear()
        self._title_changed()
        self._show_status("reading…")
        self._start_read()

    def _start_read(self) -> None:
        session, log = self.session, self.file
        if session is None or log is None or self.reading:
            return
        self.reading = True
        self._read(session, log, self.log_offset, self.generation)

    @work(thread=True, group="tail", exit_on_error=False)
    def _read(self, session: Session, log: LogFile, offset: int, generation: int) -> None:
        from services import jobs

        call = self.app.call_from_thread
        while True:
            try:
                chunk = jobs.tail_log(session, log, offset)
            except Exception as e:
                from services.errors import describe

                call(self._read_failed, generation, describe(e), False)
                return
            if generation != self.generation:
                return
            reset = chunk.offset < offset  # the file was replaced by a shorter one
            caught_up = reset or chunk.offset - offset < jobs.LOG_READ_BYTES - 4
            call(self._got, generation, chunk.text, chunk.offset, reset, caught_up)
            if caught_up:
                return
            offset = chunk.offset

    def _got(self, generation: int, text: str, offset: int, reset: bool, caught_up: bool) -> None:
        if generation != self.generation:
            return
        view = self.view
        if reset:
            view.clear()
        if text:
            view.append(text)
        self.log_offset = offset
        self.error = ""
        self.failures = 0
        if caught_up:
            self.reading = False
            self.reads += 1
            if self.follow:
                self._schedule(self.POLL_SECONDS)
        self._show_status()

    def _read_failed(self, generation: int, message: str, listing: bool) -> None:
        if generation != self.generation:
            return
        self.reading = False
        self.failures += 1
        self.error = message
        delay = min(self.MAX_BACKOFF, self.POLL_SECONDS * 2 ** min(self.failures - 1, 5))
        self._show_status(f"next try in {delay:g}s")
        # A 403 is usually an expired signature: list the files again for fresh URLs, keeping what was read.
        self._schedule(delay, relist=True)

    def _schedule(self, delay: float, relist: bool = False) -> None:
        if self._timer is not None:
            self._timer.stop()
        generation = self.generation
        self._timer = self.set_timer(delay, lambda: self._poll(generation, relist))

    def _poll(self, generation: int, relist: bool) -> None:
        if generation != self.generation or self.reading:
            return
        session, ws = self.session, self.workspace
        if session is None or ws is None:
            return
        if relist:
            keep = self.file.name if self.file is not None else ""
            self._list_files(session, ws, generation, keep)
        elif self.follow:
            self._start_read()

    # -- keys -----------------------------------------------------------------------------------

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.view.follow = self.follow
        if self.follow:
            self.view.scroll_end(animate=False, x_axis=False)
            if not self.reading and not self.error:
                self._start_read()
        elif self._timer is not None and not self.error:
            self._timer.stop()
        self._show_status()

    def on_log_view_unfollowed(self, event: LogView.Unfollowed) -> None:
        self.follow = False
        if self._timer is not None and not self.error:
            self._timer.stop()
        self._show_status()

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False, x_axis=False)

    def action_top(self) -> None:
        self.view.follow = False
        self.on_log_view_unfollowed(LogView.Unfollowed())
        self.view.scroll_home(animate=False)

    def action_wrap(self) -> None:
        self.view.set_wrap(not self.view.wrap)
        self._show_status()

    def action_search(self) -> None:
        host(self).open_prompt("/", self.search_text)

    def on_prompt_done(self, event: Prompt.Done) -> None:
        self.view.focus()  # the app applies the value through apply_filter

    def apply_filter(self, text: str) -> None:
        """`/` from the prompt: search (a substring, or re:REGEX)."""
        self.search(text)

    def search(self, text: str) -> bool:
        self.search_text = text
        pattern = compile_search(text)
        if text and pattern is None:
            self.notify(f"Invalid regular expression: {text[3:]!r}", severity="error", timeout=5)
        self.view.set_search(pattern)
        found = bool(pattern) and self.view.find_next()
        if pattern is not None and not found:
            self.notify(f"{text!r} not found in the {self.view.line_count:,} lines read", timeout=4)
        if found:
            self.follow = False
        self._show_status()
        return found

    def action_next_match(self) -> None:
        self._step(False)

    def action_previous_match(self) -> None:
        self._step(True)

    def _step(self, backwards: bool) -> None:
        if self.view.search is None:
            self.notify("Search first with /", timeout=3)
            return
        if self.view.find_next(backwards):
            self.follow = False
        else:
            self.notify(f"{self.search_text!r} not found", timeout=3)
        self._show_status()

    def action_previous_file(self) -> None:
        if len(self.files) > 1:
            self.open_file((self.index - 1) % len(self.files))

    def action_next_file(self) -> None:
        if len(self.files) > 1:
            self.open_file((self.index + 1) % len(self.files))

    def action_choose_file(self) -> None:
        if not self.files:
            self.notify("No log files yet.", timeout=3)
            return

        def chosen(index: int | None) -> None:
            if index is not None and index != self.index:
                self.open_file(index)

        self.app.push_screen(LogFilesScreen([f.name for f in self.files], self.index), callback=chosen)

    def default_save_path(self) -> str:
        name = self.file.name if self.file is not None else "log"
        return f"~/azml-{_safe_file_part(self.run)}-{_safe_file_part(name)}.log"

    def action_save(self) -> None:
        if self.file is None:
            self.notify("Nothing to save yet.", timeout=3)
            return

        def validate(values: dict[str, str]) -> dict[str, str]:
            raw = values.get("path", "")
            if not raw:
                return {"path": "is required"}
            path = Path(os.path.expanduser(raw))
            if path.is_dir():
                return {"path": f"{path} is a directory: add a file name"}
            if not path.parent.is_dir():
                return {"path": f"the folder {path.parent} does not exist"}
            return {}

        def submitted(values: dict[str, str] | None) -> None:
            if values is None:
                return
            path = Path(os.path.expanduser(values["path"]))
            view = self.view
            self._write(path, view.text(), view.line_count, view.dropped)

        self.app.push_screen(
            FormScreen(
                "Save the log as",
                [Field("path", "File", self.default_save_path(), "~ is your home folder")],
                validate,
                submit_label="Save",
            ),
            callback=submitted,
        )

    @work(thread=True, group="save", exit_on_error=False)
    def _write(self, path: Path, text: str, lines: int, dropped: int) -> None:
        from services.outfile import OutputError, write_output_file

        try:
            write_output_file(path, text)  # atomic for a regular file; in place for a device, FIFO or symlink
        except OutputError as e:
            message = str(e)
            self.app.call_from_thread(self.notify, message[:1].upper() + message[1:], severity="error")
            return
        note = f" (the last {lines:,}; {dropped:,} earlier lines were not kept)" if dropped else ""
        self.app.call_from_thread(self.notify, f"Saved {lines:,} lines to {path}{note}", title="Log saved", timeout=8)
