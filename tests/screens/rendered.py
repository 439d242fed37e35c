"""What the terminal shows: the top screen's compositor lines (text and styles), not widget state."""

from __future__ import annotations

from typing import Any

from textual.strip import Strip


def strips(app: Any) -> list[Strip]:
    return list(app.screen._compositor.render_strips())


def screen_lines(app: Any) -> list[str]:
    """The rendered text of each line of the screen on top."""
    return [strip.text for strip in strips(app)]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))


def styled(strip: Strip, attribute: str) -> str:
    """The text of a line drawn with a style attribute ("reverse", "bold", ...)."""
    return "".join(seg.text for seg in strip if seg.style is not None and getattr(seg.style, attribute))
