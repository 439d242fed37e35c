"""What the terminal shows: the app's composed frame as plain text lines (the compositor's output, the same one
an SVG screenshot is made of), and the top screen's styled strips, so screen tests assert on what a user reads
and sees rather than on widget state."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.strip import Strip


def screen_text(app: Any) -> str:
    """The whole frame, one line per terminal row, trailing blanks stripped."""
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
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def screen_lines(app: Any) -> list[str]:
    return screen_text(app).splitlines()


def bottom_lines(app: Any, count: int = 3) -> list[str]:
    """The last `count` rows of the frame (status line, prompt, key bar)."""
    return screen_lines(app)[-count:]


def strips(app: Any) -> list[Strip]:
    """The top screen's rendered lines with their styles."""
    return list(app.screen._compositor.render_strips())


def styled(strip: Strip, attribute: str) -> str:
    """The text of a line drawn with a style attribute ("reverse", "bold", ...)."""
    return "".join(seg.text for seg in strip if seg.style is not None and getattr(seg.style, attribute))
