"""The log of one container of an online deployment, in the line-based log view, with follow mode.

Azure serves a deployment's log only as its last N lines (getLogs with a tail), never from an offset, so
following reads the tail again every few seconds and appends what comes after the lines already shown (found by
overlap; when there is none, more lines arrived than the tail holds and a marker says some may be missing).
`f` toggles following; scrolling up stops it, like the job log view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static

from screens.widgets.logview import LogView
from services.models import Workspace

if TYPE_CHECKING:
    from services.session import Session

LOG_CONTAINERS = ("InferenceServer", "StorageInitializer")
LOG_LINE_CHOICES = (50, 200, 1000, 5000)
FOLLOW_EVERY_S = 2.0  # like the job log view's tail
GAP = "… (more lines arrived than the tail holds: some may be missing)"


def lines_after(shown: Sequence[str], tail: Sequence[str]) -> tuple[list[str], bool]:
    """The lines of a newly read `tail` that come after what is `shown`, and whether the two did not overlap.

    Both are ends of the same growing log: the last shown line is found in `tail` (the latest place where the
    lines before it agree with what is shown, as far as either goes) and what follows it is new."""
    if not shown:
        return list(tail), False
    last = shown[-1]
    for i in range(len(tail) - 1, -1, -1):
        if tail[i] != last:
            continue
        m = min(i + 1, len(shown))
        if list(tail[i + 1 - m : i + 1]) == list(shown[-m:]):
            return list(tail[i + 1 :]), False
    return list(tail), True


class LogsScreen(ModalScreen[None]):
    """The tail of one container's log; `f` follows, `c` switches container, `n` the line count."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="logs.close"),
        Binding("r", "reload", "Refresh", id="logs.refresh"),
        Binding("f", "follow", "Follow", id="logs.follow"),
        Binding("c", "container", "Container", id="logs.container"),
        Binding("n", "lines", "Lines", id="logs.lines"),
    ]

    def __init__(self, session: Session, workspace: Workspace, endpoint: str, deployment: str) -> None:
        super().__init__()
        self.session = session
        self.workspace = workspace
        self.endpoint = endpoint
        self.deployment = deployment
        self.container = LOG_CONTAINERS[0]
        self.lines = 200
        self.loads = 0  # full reads (open, r, c, n)
        self.polls = 0  # follow reads
        self.content = ""  # the last tail read
        self.follow = True
        self.generation = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-body", id="logs-body"):
            yield Static("", id="logs-title")
            yield LogView(id="logs")
            yield Static(Text("f follow · c container · n lines · r refresh · esc closes", style="dim"), id="logs-help")

    @property
    def view(self) -> LogView:
        return self.query_one("#logs", LogView)

    def on_mount(self) -> None:
        self.query_one("#logs-body").styles.height = "90%"
        self.view.focus()
        self.action_reload()

    def on_unmount(self) -> None:
        if self._timer is not None:
            self._timer.stop()

    def _title(self, note: str) -> None:
        text = Text(f"{self.endpoint}/{self.deployment}", style="bold")
        text.append(f" · {self.container} · {note or f'last {self.lines} lines'}")
        text.append(" · following" if self.follow else " · paused (f follows)")
        self.query_one("#logs-title", Static).update(text)

    # -- reading ------------------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.generation += 1
        self._title(f"loading the last {self.lines} lines…")
        self._load(self.container, self.lines, self.generation, False)

    def action_container(self) -> None:
        index = LOG_CONTAINERS.index(self.container)
        self.container = LOG_CONTAINERS[(index + 1) % len(LOG_CONTAINERS)]
        self.action_reload()

    def action_lines(self) -> None:
        bigger = [n for n in LOG_LINE_CHOICES if n > self.lines]
        self.lines = bigger[0] if bigger else LOG_LINE_CHOICES[0]
        self.action_reload()

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(result)

    @work(thread=True, group="logs", exclusive=True, exit_on_error=False)
    def _load(self, container: str, lines: int, generation: int, poll: bool) -> None:
        from services import deployments as svc
        from services.errors import describe

        try:
            text = svc.get_logs(
                self.session, self.workspace, self.endpoint, self.deployment, container=container, lines=lines
            )
        except Exception as e:
            self.app.call_from_thread(self._failed, generation, describe(e))
            return
        self.app.call_from_thread(self._show, generation, text, poll)

    def _show(self, generation: int, text: str, poll: bool) -> None:
        if generation != self.generation:
            return  # a newer choice is loading
        tail = text.splitlines()
        view = self.view
        if poll:
            self.polls += 1
            new, gap = lines_after(self.content.splitlines(), tail)
            if gap and self.content:
                new = [GAP, *new]
            if new:
                view.append("\n".join(new) + "\n")
            note = f"{len(new)} new lines" if new else "no new lines"
        else:
            self.loads += 1
            view.clear()
            view.follow = self.follow
            view.append("\n".join(tail or ["(the container wrote nothing)"]) + "\n")
            note = f"{len(tail)} lines (asked for the last {self.lines})"
        self.content = text
        self._title(note)
        self._schedule()

    def _failed(self, generation: int, message: str) -> None:
        if generation != self.generation:
            return
        self._title("could not read the log" + (" (retrying)" if self.follow else ""))
        self.notify(message, title="Logs", severity="error", timeout=10)
        self._schedule()

    # -- following ----------------------------------------------------------------------------------

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.follow:
            self._timer = self.set_timer(FOLLOW_EVERY_S, self._poll)

    def _poll(self) -> None:
        self._timer = None
        if self.follow and self.app.screen is self:
            self._load(self.container, self.lines, self.generation, True)

    def action_follow(self) -> None:
        self.follow = not self.follow
        self.view.follow = self.follow
        if self.follow:
            self.view.scroll_end(animate=False)
            self._poll()
        else:
            self._schedule()  # stops the timer
        self._title("")

    def on_log_view_unfollowed(self, event: LogView.Unfollowed) -> None:
        self.follow = False
        self._schedule()
        self._title("scrolled up")
