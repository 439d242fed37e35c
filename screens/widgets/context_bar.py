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


def render_context(c: Context, width: int | None = None) -> Text:
    """The header; at ``width`` cells the last refresh and the auto-refresh interval always show whole (they
    are what tells a live view from a stale one): the subscription name, then the rest, give way first."""
    tail = ""
    if c.status:
        tail += f" │ {c.status}"
    if c.refreshed:
        tail += f" │ {c.refreshed}"
    if c.auto_refresh:
        tail += f" │ auto {c.auto_refresh}"
    more = f" (+{c.subscriptions - 1})" if c.subscriptions > 1 else ""
    subscription = f"{c.subscription}{more}" if c.subscription else ""

    def head(sub: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("azml", style="bold")
        text.append(f" │ {c.profile or '-'}")
        if c.production:
            text.append(" ")
            text.append(" PRODUCTION ", style="bold reverse")
        if c.read_only:
            text.append(" ")
            text.append(" READ-ONLY ", style="bold reverse")
        if sub:
            text.append(f" │ {sub}")
        if c.workspace:
            text.append(f" │ ws {c.workspace}")
        return text

    text = head(subscription)
    if width is not None and text.cell_len + len(tail) > width:
        over = text.cell_len + len(tail) - width
        if subscription:
            keep = max(len(c.subscription) - over - 1, 4)
            text = head(c.subscription[:keep] + "…" + more)
        room = width - len(tail)
        if text.cell_len > room:
            text.truncate(max(room - 1, 0), overflow="crop")
            text.append("…")
    text.append(tail)
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

    def on_resize(self) -> None:
        self._show(self.app.context)  # type: ignore[attr-defined]

    def _show(self, context: Context) -> None:
        self.set_class(context.production, "-production")
        self.update(render_context(context, self.size.width or None))
