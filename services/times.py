"""Times: every timestamp Azure sends is parsed here, once, into a timezone-aware UTC datetime; models hold
those, and whatever shows a time formats it from the datetime."""

from __future__ import annotations

import datetime as dt


def parse_time(text: object) -> dt.datetime | None:
    """An ISO-8601 timestamp from ARM or run history (Z or an offset; a time without one is UTC) → an aware
    UTC datetime; None when absent or unreadable."""
    if not text:
        return None
    if isinstance(text, dt.datetime):
        value = text
    else:
        try:
            value = dt.datetime.fromisoformat(str(text).strip())
        except ValueError:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str:
    """'YYYY-MM-DDTHH:MM:SSZ' (UTC), or "" for no time."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


__all__ = ["iso", "parse_time"]
