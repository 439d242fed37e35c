"""The one-line header: profile, subscription, workspace, read-only and production badges, last refresh."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text

from screens.widgets.line import Line


@dataclass(frozen=True)
class Context:
    profile: str = ""
    subscription: str = ""
    subscriptions: int = 0
    workspace: str = ""
    read_only: bool = False
    production: bool = False
    status: str = "connecting…"
    refreshed: str = ""
    auto_refresh: str = ""  # "30s", "paused", ""

    def with_(self, **changes: object) -> Context:
        return replace(self, **changes)  # type: ignore[arg-type]


def render_context(c: Context) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("azml", style="bold")
    text.append(f" │ {c.profile or '-'}")
    if c.production:
        text.append(" ")
        text.append(" PRODUCTION ", style="bold reverse")
    if c.read_only:
        text.append(" ")
        text.append(" READ-ONLY ", style="bold reverse")
    if c.subscription:
        more = f" (+{c.subscriptions - 1})" if c.subscriptions > 1 else ""
        text.append(f" │ {c.subscription}{more}")
    if c.workspace:
        text.append(f" │ ws {c.workspace}")
    if c.status:
        text.append(f" │ {c.status}")
    if c.refreshed:
        text.append(f" │ {c.refreshed}")
    if c.auto_refresh:
        text.append(f" │ auto {c.auto_refresh}")
    return text


class ContextBar(Line):
    """Shows the app's `context` reactive; every screen composes one."""

    DEFAULT_CSS = """
    ContextBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
        padding: 0 1;
    }
    ContextBar.-production {
        background: $error;
        color: $text;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "context", self._show, init=True)

    def _show(self, context: Context) -> None:
        self.set_class(context.production, "-production")
        self.update(render_context(context))
