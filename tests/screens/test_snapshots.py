"""SVG snapshots of every screen at 80x24 and 160x50 on the demo estate, frozen clock (pytest-textual-snapshot).

The pictures live in ``__snapshots__/test_snapshots/`` beside this file. Regenerate them after an intended change
with ``pytest tests/screens/test_snapshots.py --snapshot-update`` and review the SVGs like code; a mismatch writes
``snapshot_report.html`` (the expected and the actual picture side by side; never committed).
NO_COLOR and TEXTUAL_THEME are cleared by conftest so the developer's terminal cannot leak in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.app import AzmlApp
from console.demo import DemoBackend
from services.kinds import kinds
from tests.screens.rendered import screen_text
from tests.test_app import wait_for

SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__" / "test_snapshots"
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


async def _settled(app: AzmlApp, pilot: Any) -> None:
    """Until the frame stops changing: a loaded-enough check alone can race a late repaint on a busy machine."""
    last = ""
    for _ in range(100):
        await pilot.pause(0.1)
        now = screen_text(app)
        if now == last:
            return
        last = now
    raise AssertionError("the screen kept changing")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(("name", "keys", "wait"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_snapshot(
    name: str, keys: list[str], wait: bool, size: tuple[int, int], snap_compare: Callable[..., bool]
) -> None:
    backend = DemoBackend({"frozen": "true"})
    app = AzmlApp(backend.connect, profile="demo", default_workspace="mlw-prod-eus", clock=lambda: "09:30:00")

    async def run_before(pilot: Any) -> None:
        await wait_for(lambda: app.workspace is not None and _loaded(app)(), pilot)
        for key in _keys(keys):
            await pilot.press(key)
        if wait:
            await wait_for(_loaded(app), pilot)
        await _settled(app, pilot)
        app.clear_notifications()
        await _settled(app, pilot)

    try:
        same = snap_compare(app, terminal_size=size, run_before=run_before)
        assert same, f"{name}-{size[0]}x{size[1]} differs from its picture (see snapshot_report.html)"
    finally:
        backend.stop()


def test_snapshots_have_no_stray_files() -> None:
    expected = {f"test_screen_snapshot[{n}-{w}x{h}].svg" for n, _, _ in SCREENS for (w, h) in SIZES}
    present = {p.name for p in SNAPSHOTS.glob("*.svg")}
    assert present <= expected, sorted(present - expected)
