"""`azml snapshot --format txt|svg`: the console's real screens, rendered headlessly at a chosen size.

The app runs on Textual's headless driver (no terminal is opened, stdin is never read), is driven with
the same `:` commands a user types, and each screen is captured once its data has loaded.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .exitcodes import ExitCode

if TYPE_CHECKING:
    from .app import AzmlApp
    from .source import Source


def screen_modules() -> dict[str, str]:
    """area → the module of its screen (the console command of the area's main kind opens it); derived
    from the kind registry: a kind's own screen, else the generic list screen."""
    from services.kinds import kinds

    out: dict[str, str] = {}
    for k in kinds():
        if k.command_name == k.name and k.area_name not in out:
            out[k.area_name] = k.screen.partition(":")[0] if k.screen else "screens.kind_list"
    return out


class RenderError(Exception):
    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def render_screens(
    source: Source,
    areas: Sequence[str],
    *,
    workspace: str,
    size: tuple[int, int],
    fmt: str,
    timeout_s: float = 60.0,
) -> tuple[str, ExitCode]:
    """The screens of ``areas`` for ``workspace`` as text (txt) or one SVG; and the exit code."""
    modules = screen_modules()
    for area in areas:
        module = modules.get(area)
        if module is None:
            raise RenderError(f"unknown area {area!r}; choose among {', '.join(modules)}")
        if importlib.util.find_spec(module) is None:
            raise RenderError(f"the {area} screen is not available in this build; use --format json, md or csv")
    if fmt == "svg" and len(areas) != 1:
        raise RenderError("svg pictures one screen: name one area")
    return asyncio.run(_render(source, list(areas), workspace, size, fmt, timeout_s))


async def _wait(predicate: Callable[[], Any], pilot: Any, deadline: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    while not predicate():
        if loop.time() > deadline:
            raise RenderError(f"timed out waiting for {what}", ExitCode.UNREACHABLE)
        await pilot.pause(0.05)


def _loaded(screen: Any) -> bool:
    if not hasattr(screen, "loads"):
        return True  # not a list screen: nothing to wait for
    return bool(screen.loads or getattr(screen, "error", ""))


async def _render(
    source: Source, areas: list[str], workspace: str, size: tuple[int, int], fmt: str, timeout_s: float
) -> tuple[str, ExitCode]:
    from .app import AzmlApp

    app = AzmlApp(
        lambda: source.session,
        profile=source.label,
        read_only=True,
        refresh_interval=0,  # one load per screen, no timers firing while we capture
        default_workspace=workspace,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pictures: list[str] = []
    code = ExitCode.OK
    async with app.run_test(headless=True, size=size) as pilot:
        home = app.screen
        await _wait(
            lambda: app.session is not None or app.context.status.startswith("not connected"),
            pilot,
            deadline,
            "the connection",
        )
        if app.session is None:
            raise RenderError("could not connect (see `azml snapshot --format json` for the error)", ExitCode.AUTH)
        await _wait(lambda: _loaded(home), pilot, deadline, "the workspace list")
        models = dict(getattr(home, "models", {}))
        if workspace and models and not any(w.name.lower() == workspace.lower() for w in models.values()):
            raise RenderError(f"no workspace named {workspace!r}")
        if getattr(home, "error", ""):
            raise RenderError(f"the workspace list failed: {getattr(home, 'error', '')}", ExitCode.UNREACHABLE)
        await _wait(lambda: app.workspace is not None, pilot, deadline, "a workspace")
        for i, area in enumerate(areas):
            if not (area == "workspaces" and i == 0):
                before = app.screen
                app.run_command(area)
                await _wait(lambda b=before: app.screen is not b, pilot, deadline, f"the {area} screen")  # type: ignore[misc]
            screen = app.screen
            await _wait(lambda s=screen: _loaded(s), pilot, deadline, f"the {area} data")  # type: ignore[misc]
            await pilot.pause(0.2)  # let the table lay out its rows
            if getattr(screen, "error", ""):
                code = ExitCode.PARTIAL
            title = f"azml · {getattr(screen, 'TITLE', area) or area}"
            pictures.append(app.export_screenshot(title=title) if fmt == "svg" else _screen_text(app))
        app.exit(0)
    return ("\n".join(pictures) if fmt == "txt" else pictures[0]), code


def _screen_text(app: AzmlApp) -> str:
    """The current screen as plain text, exactly as export_screenshot lays it out."""
    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system=None,
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    lines = console.export_text(styles=False).splitlines()
    return "\n".join(line.rstrip() for line in lines) + "\n"
