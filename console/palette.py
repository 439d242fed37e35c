"""The command palette's workspaces and screens (the commands come from the same list as `:`), and the values
Tab offers for a command's argument. Both read only what the console has already loaded: no request is sent."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .app import AzmlApp

# The screens the palette offers, as (command, title): choosing one goes back to it when it is in the history.
SCREENS: tuple[tuple[str, str], ...] = (
    ("workspaces", "Workspaces"),
    ("compute", "Compute"),
    ("sizes", "VM sizes and quota"),
    ("datastores", "Datastores"),
    ("jobs", "Jobs"),
    ("deployments", "Endpoints and deployments"),
    ("metrics", "Metrics"),
)


def _app(provider: Provider) -> AzmlApp:
    from .app import AzmlApp

    app = provider.app
    assert isinstance(app, AzmlApp)
    return app


def _entries(app: AzmlApp) -> Iterator[tuple[str, str, Callable[[], None]]]:
    """(text, help, what choosing it does) for every screen and every workspace listed so far."""
    for command, title in SCREENS:
        yield f"screen {title}", f":{command}", _show(app, command)
    current = app.workspace.key if app.workspace is not None else ""
    for w in app.known_workspaces():
        mark = " (current)" if w.key == current else ""
        yield f"workspace {w.name}", f"{w.location} · {w.resource_group}{mark}", _choose(app, w)


def _show(app: AzmlApp, command: str) -> Callable[[], None]:
    return lambda: app.show_screen(command)


def _choose(app: AzmlApp, workspace: Any) -> Callable[[], None]:
    return lambda: app.choose_workspace(workspace)


class WorkspacesAndScreens(Provider):
    """Workspaces (choosing one makes it current) and screens, beside the commands."""

    async def discover(self) -> Hits:
        for text, help_text, run in _entries(_app(self)):
            yield DiscoveryHit(text, run, text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, run in _entries(_app(self)):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), run, text=text, help=help_text)


# -- argument values for Tab -----------------------------------------------------------------------


def argument_values(app: AzmlApp, command: str, word: str) -> list[str]:
    """The values the argument word of `command` can take, from what the console holds now."""
    if command == "workspaces":
        return [w.name for w in app.known_workspaces()]
    if command == "jobs":
        from screens.job_filters import KEYS, SINCE_EXAMPLES, STATUS_FILTERS

        key, eq, _ = word.partition("=")
        if eq:
            if key == "experiment":
                return [f"experiment={x}" for x in _job_values(app, "experiment")]
            if key == "compute":
                return [f"compute={x}" for x in sorted({*_job_values(app, "compute"), *_compute_names(app, "")})]
            if key == "since":
                return [f"since={x}" for x in SINCE_EXAMPLES]
            return []
        return [*STATUS_FILTERS, "archived", *(f"{k}=" for k in KEYS)]
    if command == "metrics":
        return sorted({*_compute_names(app, "cluster"), *_endpoint_names(app)})
    return []


def _screens_of(app: AzmlApp, module: str, cls: str) -> list[Any]:
    """Screens of a class in the history (only when its module is loaded: Tab never imports a screen)."""
    mod = sys.modules.get(module)
    kind = getattr(mod, cls, None) if mod is not None else None
    return [s for s in app.screen_stack if kind is not None and isinstance(s, kind)]


def _job_values(app: AzmlApp, field: str) -> list[str]:
    values: set[str] = set()
    for screen in _screens_of(app, "screens.jobs", "JobsScreen"):
        values.update(str(getattr(j, field, "") or "") for j in screen.models.values())
    return sorted(v for v in values if v)


def _compute_names(app: AzmlApp, kind: str) -> list[str]:
    names: set[str] = set()
    for screen in _screens_of(app, "screens.compute", "ComputeScreen"):
        names.update(c.name for c in screen.models.values() if not kind or c.kind == kind)
    return sorted(names)


def _endpoint_names(app: AzmlApp) -> list[str]:
    names: set[str] = set()
    for screen in _screens_of(app, "screens.deployments", "DeploymentsScreen"):
        names.update(r.endpoint.name for r in screen.models.values())
    return sorted(n for n in names if n)
