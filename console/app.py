"""The app shell: context header, screens with history, `:` commands, `/` filter, `?` help, palette.

The first frame is drawn before any Azure SDK loads: connecting (and, for the demo, starting the
embedded emulator) happens in a thread worker after mount.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from screens.widgets.context_bar import Context
from screens.widgets.prompt import Prompt, PromptBar
from themes import STYLESHEET

from .commands import CommandError, Parsed, all_commands, parse
from .completion import NoMatch, complete_line, match_name
from .palette import WorkspacesAndScreens

if TYPE_CHECKING:
    from pathlib import Path

    from screens.host import ConsoleHost
    from services.models import Workspace
    from services.secrets import MemorySecrets
    from services.session import Session

Connect = Callable[[], "Session"]
MAX_CONNECT_BACKOFF_S = 60.0  # the longest wait between two connection attempts


def _screen_for(name: str, argument: str) -> Screen[Any]:
    """The screen a command opens: its kind's own screen when it declares one, else the generic list screen.
    Imported here so the first frame needs only the workspace screen."""
    from .commands import by_name

    command = by_name(name)
    if command is None or not command.kind:
        raise CommandError(f"no screen for :{name}")
    from services.kinds import kind

    return _kind_screen(kind(command.kind), argument)


def _kind_screen(k: Any, argument: str) -> Screen[Any]:
    if k.screen:
        import importlib

        module, _, cls = k.screen.partition(":")
        screen: Screen[Any] = getattr(importlib.import_module(module), cls)(argument)
        return screen
    from screens.kind_list import kind_screen

    return kind_screen(k, argument)


def _screen_matches(screen: Screen[Any], name: str) -> bool:
    """Whether ``screen`` is the one the command ``name`` opens (the palette goes back to it in the history)."""
    from .commands import by_name

    command = by_name(name)
    if command is None or not command.kind:
        return False
    from services.kinds import kind

    k = kind(command.kind)
    if k.screen:
        return type(screen).__name__ == k.screen.partition(":")[2]
    return getattr(screen, "kind_name", None) == k.name


class CommandsProvider(Provider):
    """The command palette, from the same list as `:` command mode."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        assert isinstance(app, AzmlApp)
        for command in all_commands():
            text = f":{command.name}"
            score = max(matcher.match(text), matcher.match(command.help))
            if score > 0:
                yield Hit(score, matcher.highlight(text), _runner(app, command.name), help=command.help)


def _runner(app: AzmlApp, name: str) -> Callable[[], None]:
    return lambda: app.run_command(name)


def _is_text_field(widget: object) -> bool:
    """An Input or a TextArea: keys typed there are text. (TextArea's module is heavy to import; when it is not
    loaded, no TextArea exists.)"""
    from textual.widgets import Input

    if isinstance(widget, Input):
        return True
    text_area = sys.modules.get("textual.widgets._text_area")
    return text_area is not None and isinstance(widget, text_area.TextArea)


class AzmlApp(App[int]):
    TITLE = "azml"
    CSS_PATH = str(STYLESHEET)
    COMMANDS = {CommandsProvider, WorkspacesAndScreens}
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # Priority: handled as the key arrives, so keys typed right after it (type-ahead over a slow
        # link, a paste of ":jobs failed") reach the prompt. Off while a text field has focus.
        Binding("colon", "command", ":cmd", id="app.command", priority=True),
        Binding("slash", "filter", "Filter", id="app.filter", priority=True, show=False),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("escape", "go_back", "Back", show=False, id="app.back"),
        Binding("ctrl+c", "ignore_ctrl_c", "", show=False, id="app.ctrl_c", priority=True),
    ]

    # repaint=False: the header redraws itself; repainting the app would rewrite the whole terminal.
    context: reactive[Context] = reactive(Context, repaint=False)

    def __init__(
        self,
        connect: Connect,
        *,
        profile: str,
        read_only: bool = False,
        production: bool = False,
        refresh_interval: float = 30.0,
        default_workspace: str = "",
        initial: str = "",
        clock: Callable[[], str] | None = None,
        connect_backoff_s: float = 1.0,
    ) -> None:
        super().__init__()
        self._connect = connect
        self.connect_backoff_s = connect_backoff_s  # the first wait before a connection is retried (doubling)
        self._connecting = False
        self._connect_attempts = 0
        self._retry_due = 0.0
        self._retry_timer: Timer | None = None
        self.session: Session | None = None
        self.workspace: Workspace | None = None
        self.read_only = read_only
        self.production = production
        self.refresh_interval = refresh_interval
        self.default_workspace = default_workspace
        self.paused = False
        self._clock = clock or (lambda: time.strftime("%H:%M:%S"))
        self.errors: list[tuple[str, str, str]] = []  # (time, where, message): `:errors` shows them whole
        self.secrets: MemorySecrets | None = None  # secrets typed in forms (this session only)
        self._initial = initial
        self.set_reactive(
            AzmlApp.context,
            Context(
                profile=profile,
                read_only=read_only,
                production=production,
                auto_refresh=self._auto_label(),
            ),
        )

    @property
    def _background_screens(self) -> list[Screen[Any]]:
        """Screens that show through the top one. Textual always counts the screen just beneath, even under an
        opaque screen; with the screen history kept as a stack, that screen's header and footer updates were
        forwarded as dirty regions to the top screen, and every refresh rewrote the whole terminal. Under an
        opaque screen nothing shows through; modals (translucent) still composite over what is beneath."""
        stack = self._screen_stack
        if stack and stack[-1].styles.background.a == 1:
            return []
        return super()._background_screens

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def history_path(self) -> Path:
        """The KQL editor's runs, kept across sessions (resolved when first needed, not before the first frame)."""
        from .audit import data_dir

        return data_dir() / "kql-history.json"

    @property
    def queries_dir(self) -> Path:
        """The user's own panel queries (*.kql), beside the config file."""
        return _queries_dir()

    def get_default_screen(self) -> Screen[Any]:
        from screens.workspaces import WorkspacesScreen  # the home screen, straight: no registry before the first frame

        return WorkspacesScreen("")

    def run(self, *args: Any, **kwargs: Any) -> int | None:
        if not kwargs.get("headless"):
            from .ttywatch import arm

            arm()  # before the driver starts: a hang-up during start-up ends the process too
        return super().run(*args, **kwargs)

    def on_mount(self) -> None:
        if not self.is_headless:
            from .ttywatch import EXIT_CODE, watch_terminal

            self._tty_watch = watch_terminal(lambda: self.call_from_thread(self.exit, EXIT_CODE))
        # After the first frame: signing in and starting the clients imports a lot, and that thread would
        # compete with the first frame for the interpreter.
        self.call_after_refresh(self.connect)

    def on_unmount(self) -> None:
        watch = getattr(self, "_tty_watch", None)
        if watch is not None:
            watch.quitting()  # stays armed: a quit that races a hang-up still ends the process
        if self.session is not None:
            self.session.close()  # the SDK clients' connections go with the app

    def on_screen_resume(self) -> None:
        pass

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)

    # -- connecting, with retries -----------------------------------------------------------------

    def connect(self) -> None:
        """Start a connection attempt now (at start-up, on a retry's timer, or on `r` while not connected)."""
        if self._connecting or self.session is not None:
            return
        self._cancel_retry()
        self._connecting = True
        self._connect_attempts += 1
        attempt = self._connect_attempts
        self.update_context(status="connecting…" if attempt == 1 else f"connecting… (attempt {attempt})")
        self._connect_worker()

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def _connect_worker(self) -> None:
        session: Session | None = None
        try:
            session = self._connect()
            from services.workspaces import list_subscriptions

            subs = list_subscriptions(session)
        except Exception as e:
            from services.errors import ErrorKind, classify, describe

            from .source import SourceError

            if session is not None:
                session.close()
            # A blip (a dropped connection, a 5xx, throttling) is retried on a timer; a setup problem
            # (a profile, a secret, a refused sign-in) waits for `r` once the user has fixed it.
            transient = not isinstance(e, SourceError) and classify(e).kind in (
                ErrorKind.UNREACHABLE,
                ErrorKind.TRANSIENT,
                ErrorKind.THROTTLED,
            )
            self.call_from_thread(self._connect_failed, describe(e), transient)
            return
        self.subscription_names = {s.id.lower(): s.name for s in subs}
        self.call_from_thread(self._connected, session, [s.name for s in subs])

    def _connect_failed(self, message: str, transient: bool = False) -> None:
        self._connecting = False
        attempt = self._connect_attempts
        if attempt == 1 or not transient:
            self.notify(message, title="Connecting", severity="error", timeout=15)
        else:
            self.errors.append((time.strftime("%H:%M:%S"), "Connecting", message))
        if not transient:
            self.update_context(status=f"not connected (attempt {attempt} failed) · r retries")
            return
        delay = min(self.connect_backoff_s * 2 ** (attempt - 1), MAX_CONNECT_BACKOFF_S)
        self._retry_due = time.monotonic() + delay
        self._retry_timer = self.set_interval(1.0, self._tick_retry)
        self._tick_retry()

    def _tick_retry(self) -> None:
        left = self._retry_due - time.monotonic()
        if left <= 0.05:
            self.connect()
            return
        self.update_context(
            status=f"not connected · retrying in {math.ceil(left)}s (attempt {self._connect_attempts} failed)"
            " · r retries now"
        )

    def _cancel_retry(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def on_resource_screen_reconnect(self, message: Any) -> None:
        """`r` on a screen while not connected: try again now."""
        self.connect()

    def _connected(self, session: Session, subscriptions: list[str]) -> None:
        self._connecting = False
        self._cancel_retry()
        self.session = session
        self.read_only = self.read_only or session.read_only
        # One rule in one place: the services' guard refuses (and audits) whatever made the console read-only.
        session.guard.read_only = session.guard.read_only or self.read_only
        self.production = self.production or session.production
        self.update_context(
            subscription=subscriptions[0] if subscriptions else "",
            subscriptions=len(subscriptions),
            status="",
            read_only=self.read_only,
            production=self.production,
        )
        for screen in self.screen_stack:
            connected = getattr(screen, "connected", None)
            if callable(connected):
                connected()
        if self._initial:
            initial, self._initial = self._initial, ""
            self.run_command(initial)

    # -- context --------------------------------------------------------------------------------

    def notify(self, message: str, *, title: str = "", severity: Any = "information", **kwargs: Any) -> None:
        if severity == "error":
            self.errors.append((time.strftime("%H:%M:%S"), title or "azml", str(message)))
            del self.errors[:-100]
        super().notify(message, title=title, severity=severity, **kwargs)

    def show_errors(self) -> None:
        from screens.modals import DetailScreen

        fields = [(f"{when} {where}", message) for when, where, message in reversed(self.errors)]
        self.push_screen(DetailScreen("Recent errors (newest first)", fields or [("", "No errors so far.")]))

    def update_context(self, **changes: object) -> None:
        self.context = self.context.with_(**changes)

    def _auto_label(self) -> str:
        if not self.refresh_interval:
            return "off"
        return "paused" if self.paused else f"{self.refresh_interval:g}s"

    def clock(self) -> str:
        """The wall time shown as the last refresh."""
        return self._clock()

    def mark_refreshed(self) -> None:
        self.update_context(refreshed=self.clock())
        if self.session is not None:  # the first rows are on screen: azure-ai-ml loads for the first action
            self.session.preload_actions()

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        self.update_context(auto_refresh=self._auto_label())
        self.notify("Auto-refresh paused (p resumes)" if self.paused else "Auto-refresh on", timeout=3)

    def choose_workspace(self, workspace: Workspace, quiet: bool = False) -> None:
        changed = self.workspace is None or self.workspace.key != workspace.key
        self.workspace = workspace
        names = getattr(self, "subscription_names", {})
        self.update_context(
            workspace=workspace.name,
            subscription=names.get(workspace.subscription_id.lower(), self.context.subscription),
        )
        if not quiet:
            self.notify(f"Workspace {workspace.name} ({workspace.location})", title="Workspace", timeout=3)
        if changed:
            for screen in self.screen_stack:
                if getattr(screen, "WORKSPACE_SCOPED", False):
                    screen.connected()  # type: ignore[attr-defined]

    # -- commands, prompt, help, navigation -----------------------------------------------------

    def _prompt(self) -> Prompt | None:
        found = self.screen.query(Prompt)
        return found.first() if found else None

    def open_prompt(self, mode: str, value: str = "") -> None:
        # Every screen composes its own prompt, so focus moves at once and keys typed right after
        # ':' (type-ahead over a slow link, a paste) land in the prompt, never on the list's keys.
        prompt = self._prompt()
        if prompt is None:  # a screen without one (a modal): it opens once mounted
            bar = PromptBar()
            bar.prompt.completer = self.complete_command
            self.screen.mount(bar)
            self.call_after_refresh(bar.prompt.open, mode, value)
            return
        prompt.completer = self.complete_command
        prompt.open(mode, value)

    # -- completion and matching ----------------------------------------------------------------

    def complete_command(self, text: str) -> list[str]:
        """What Tab offers for the prompt's text: commands, then the argument's values (see completion.py)."""
        from .palette import argument_values

        return complete_line(text, lambda command, word: argument_values(self, command, word))

    def known_workspaces(self) -> list[Workspace]:
        """The workspaces listed so far (the workspaces screen at the bottom of the history holds them)."""
        from screens.workspaces import WorkspacesScreen

        for screen in self.screen_stack:
            if isinstance(screen, WorkspacesScreen) and screen.models:
                return sorted(screen.models.values(), key=lambda w: w.name.lower())
        return []

    def show_status(self, text: str) -> None:
        """One line on the current screen's status line (when it has one)."""
        from screens.widgets.line import Line

        found = self.screen.query("#status")
        if found and isinstance(found.first(), Line):
            found.first(Line).update(text)

    def show_screen(self, name: str) -> None:
        """Back to the screen of that command when it is in the history, else open it."""
        for index, screen in enumerate(self.screen_stack):
            if index > 0 and _screen_matches(screen, name):
                while self.screen is not screen and len(self.screen_stack) > index + 1:
                    self.pop_screen()
                return
        if name == "workspaces" and self.screen_stack:
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.run_command(name)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("command", "filter"):
            if _is_text_field(self.focused):
                return False
            if action == "filter" and not hasattr(self.screen, "apply_filter"):
                return False
        return True

    def action_command(self) -> None:
        self.open_prompt(":")

    def action_filter(self) -> None:
        current = getattr(self.screen, "current_filter", None)
        if callable(current):
            text = str(current() or "")
        else:
            table = getattr(self.screen, "table", None)
            text = getattr(table, "filter_text", "") or ""
        self.open_prompt("/", text)

    def on_prompt_done(self, event: Prompt.Done) -> None:
        table = self.screen.query("#table")
        if table:
            table.first().focus()
        if event.cancelled:
            return
        if event.mode == ":":
            self.run_command(event.value)
        elif event.mode == "/":
            apply = getattr(self.screen, "apply_filter", None)
            if callable(apply):
                apply(event.value)

    def run_command(self, text: str) -> None:
        try:
            parsed = parse(text)
        except CommandError as e:
            self.notify(str(e), title="Command", severity="error")
            return
        name = parsed.command.name
        if name == "quit":
            self.exit(0)
            return
        if name == "help":
            self.action_help()
            return
        if name == "errors":
            self.show_errors()
            return
        if name == "keys":
            from screens.modals import DetailScreen

            from .keys import KEYS_TITLE, keys_fields

            self.push_screen(DetailScreen(KEYS_TITLE, keys_fields()))
            return
        if name == "workspaces" and parsed.argument:
            known = [w.name for w in self.known_workspaces()]
            if known:  # a unique substring is enough; several matches are named, nothing is opened
                try:
                    parsed = Parsed(parsed.command, match_name(parsed.argument, known, width=self.size.width - 2))
                except NoMatch as e:
                    self.show_status(str(e))
                    self.notify(str(e), title="Workspace", severity="warning", timeout=6)
                    return
        if name == "workspaces" and parsed.argument and self.session is not None:
            # `:ws NAME` chooses without leaving the current screen when it is already loaded
            from screens.workspaces import WorkspacesScreen

            screen = self.screen
            if isinstance(screen, WorkspacesScreen) and screen.models:
                screen.argument = parsed.argument
                screen.reapply()
                return
        self.push_screen(_screen_for(name, parsed.argument))

    def action_go_back(self) -> None:
        """Esc closes the topmost thing first (a modal closes itself; then the prompt, then an applied filter,
        staying on the screen) and goes back only when there is nothing to close."""
        prompt = self._prompt()
        if prompt is not None and prompt.is_open:
            prompt.action_cancel()
            return
        clear_filter = getattr(self.screen, "clear_filter", None)
        if callable(clear_filter) and clear_filter():
            return
        if len(self.screen_stack) > 1:
            self.pop_screen()

    def action_help(self) -> None:
        screen = self.screen
        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or key in seen:
                continue
            seen.add(key)
            label = f"{binding.description}  ({binding.id})" if binding.id else binding.description
            keys.append((self.get_key_display(binding), label))
        keys += [("ctrl+p", "Command palette"), ("esc", "Back")]
        commands = [(f":{c.name}" + (f" [{c.argument}]" if c.argument else ""), c.help) for c in all_commands()]
        title = getattr(screen, "TITLE", "") or "azml"
        from screens.modals import HelpScreen

        self.push_screen(HelpScreen(title, keys, commands))

    def action_ignore_ctrl_c(self) -> None:
        # An ops console must not vanish on a stray ctrl+c (a common k9s complaint).
        self.notify("Press q (or :q) to quit.", timeout=3)


def _queries_dir() -> Path:
    from .config import config_dir

    return config_dir() / "queries"


if TYPE_CHECKING:  # the console is the host the screens are written against (checked by mypy)

    def _is_host(app: AzmlApp) -> ConsoleHost:
        return app
