"""SVG snapshots of every screen at 80x24 and 160x50 on the demo estate, frozen clock.

Regenerate after an intended change with AZML_UPDATE_SNAPSHOTS=1; review the SVGs like code.
NO_COLOR and TEXTUAL_THEME are cleared by conftest so the developer's terminal cannot leak in.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from services.kinds import kinds
from tests.test_app import wait_for

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots"
UPDATE = os.environ.get("AZML_UPDATE_SNAPSHOTS") == "1"
SIZES = [(80, 24), (160, 50)]


def _loaded(app: AzmlApp) -> Callable[[], bool]:
    def check() -> bool:
        screen = app.screen
        models = getattr(screen, "models", None)
        return bool(models) and not getattr(screen, "busy", False)

    return check


# (snapshot name, keys after the workspace is chosen, wait for data): the home screen, the screen of every
# resource kind's command (from the registry), and help
SCREENS: list[tuple[str, list[str], bool]] = [
    ("workspaces", [], True),
    *(
        (k.command_name, [f":{k.command_name}", "enter"], True)
        for k in kinds()
        if k.command_name and k.command_name != "workspaces"
    ),
    ("help", ["question_mark"], False),
]


def _keys(spec: list[str]) -> list[str]:
    keys: list[str] = []
    for item in spec:
        if item.startswith(":"):
            keys += ["colon", *item[1:]]
        else:
            keys.append(item)
    return keys


def _normalise(svg: str) -> str:
    # Textual names its CSS classes after a hash of the export; keep the comparison about content.
    return re.sub(r"terminal-\d+", "terminal", svg)


def _render(name: str, keys: list[str], wait: bool, size: tuple[int, int]) -> str:
    backend = DemoBackend({"frozen": "true"})
    svg: dict[str, str] = {}

    async def scenario() -> None:
        app = AzmlApp(backend.connect, profile="demo", default_workspace="mlw-prod-eus", clock=lambda: "09:30:00")
        async with app.run_test(size=size) as pilot:
            await wait_for(lambda: app.workspace is not None and _loaded(app)(), pilot)
            for key in _keys(keys):
                await pilot.press(key)
            if wait:
                await wait_for(_loaded(app), pilot)
            await pilot.pause(0.3)
            app.clear_notifications()
            await pilot.pause(0.1)
            svg["text"] = app.export_screenshot(title="azml")

    try:
        asyncio.run(scenario())
    finally:
        backend.stop()
    return svg["text"]


@pytest.mark.timeout(180)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("name", "keys", "wait"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_snapshot(name: str, keys: list[str], wait: bool, size: tuple[int, int], tmp_path: Path) -> None:
    path = SNAPSHOTS / f"{name}-{size[0]}x{size[1]}.svg"
    got = _render(name, keys, wait, size)
    if UPDATE or not path.exists():
        path.write_text(got)
        if not UPDATE:
            pytest.fail(f"new snapshot written to {path.name}; review it and run again")
        return
    expected = _normalise(path.read_text())
    if _normalise(got) != expected:
        # A loaded-enough check can race a late repaint on a busy machine: render once more before judging.
        (tmp_path / "first-attempt.svg").write_text(got)
        got = _render(name, keys, wait, size)
    assert _normalise(got) == expected, f"{path.name} differs (AZML_UPDATE_SNAPSHOTS=1 to accept)"


def test_snapshots_have_no_stray_files() -> None:
    expected = {f"{n}-{w}x{h}.svg" for n, _, _ in SCREENS for (w, h) in SIZES}
    present = {p.name for p in SNAPSHOTS.glob("*.svg")}
    assert present <= expected, sorted(present - expected)
