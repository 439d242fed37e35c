"""The one-line header: profile, subscription, workspace, read-only and production badges, last refresh."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


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

    def with_(self, **changes: object) -> Context:
        return replace(self, **changes)  # type: ignore[arg-type]


class ContextBar(Static):
    context: reactive[Context] = reactive(Context, layout=False)

    def render(self) -> Text:
        c = self.context
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("azml", style="bold")
        text.append(f" │ {c.profile or '-'}")
        if c.subscription:
            more = f" (+{c.subscriptions - 1})" if c.subscriptions > 1 else ""
            text.append(f" │ {c.subscription}{more}")
        if c.workspace:
            text.append(f" │ ws {c.workspace}")
        if c.production:
            text.append(" │ ")
            text.append("PRODUCTION", style="bold reverse")
        if c.read_only:
            text.append(" │ ")
            text.append("READ-ONLY", style="bold reverse")
        if c.status:
            text.append(f" │ {c.status}")
        if c.refreshed:
            text.append(f" │ refreshed {c.refreshed}")
        return text

    def watch_context(self, old: Context, new: Context) -> None:
        self.set_class(new.production, "-production")
