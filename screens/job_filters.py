"""Job filters: the status word of `:jobs failed` (and `f`, which cycles it), the arguments
`:jobs failed experiment=x compute=gpu-a since=6h` (read by the service, page by page) and the `/` filter's
terms `experiment:x compute:y since:2d` (over the rows loaded).

Every value is checked before anything is sent; a refusal names the key and the rule."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

KEYS = ("experiment", "compute", "since")
SINCE_EXAMPLES = ("1h", "6h", "24h", "7d")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_SINCE_S = 366 * 86400  # Azure ML keeps run history far longer, but a window past a year is a typo


class FilterError(ValueError):
    pass


def parse_since(value: str, key: str = "since") -> int:
    """`30m`, `6h`, `2d`, `1w` → seconds. Raises FilterError naming the key and the rule."""
    m = re.fullmatch(r"(\d+)\s*([mhdw])", value.strip().lower())
    if not m:
        raise FilterError(f"{key}={value}: use a whole number and a unit m, h, d or w (30m, 6h, 2d, 1w)")
    seconds = int(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise FilterError(f"{key}={value}: the window must be longer than zero")
    if seconds > _MAX_SINCE_S:
        raise FilterError(f"{key}={value}: at most a year (366d)")
    return seconds


def since_text(seconds: int) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


@dataclass(frozen=True)
class JobArguments:
    """What `:jobs ...` asks for: a status word (or archived) and the key=value filters."""

    status: str = ""
    experiment: str = ""
    compute: str = ""
    since_s: int = 0

    def created_after(self, now: dt.datetime | None = None) -> dt.datetime | None:
        if not self.since_s:
            return None
        return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=self.since_s)

    def describe(self) -> str:
        parts = []
        if self.experiment:
            parts.append(f"experiment {self.experiment}")
        if self.compute:
            parts.append(f"compute {self.compute}")
        if self.since_s:
            parts.append(f"since {since_text(self.since_s)}")
        return ", ".join(parts)


def parse_arguments(text: str, parse_status: Callable[[str], tuple[str, str | None]]) -> JobArguments:
    """`failed experiment=x compute=gpu-a since=6h` → JobArguments. Raises FilterError with the first problem."""
    status = ""
    values: dict[str, str] = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if not eq:
            if status:
                raise FilterError(f"one status at a time: {status!r} and {word!r}")
            status, error = parse_status(word)
            if error:
                raise FilterError(error)
            status = status or "all"
            continue
        key = key.lower()
        if key not in KEYS:
            raise FilterError(f"unknown job filter {key!r}: use {', '.join(k + '=' for k in KEYS)}")
        if not value.strip():
            raise FilterError(f"{key}= needs a value, e.g. {key}={_EXAMPLE[key]}")
        if key in values:
            raise FilterError(f"{key}= is given twice")
        values[key] = value.strip()
    return JobArguments(
        status="" if status == "all" else status,
        experiment=values.get("experiment", ""),
        compute=values.get("compute", ""),
        since_s=parse_since(values["since"]) if "since" in values else 0,
    )


_EXAMPLE = {"experiment": "churn-train", "compute": "gpu-a", "since": "6h"}


@dataclass(frozen=True)
class FilterTerms:
    """The `/` filter split into job terms (experiment:, compute:, since:) and the text left for the table."""

    experiment: str = ""
    compute: str = ""
    since_s: int = 0
    text: str = ""

    @property
    def any(self) -> bool:
        return bool(self.experiment or self.compute or self.since_s)

    def matches(self, experiment: str, compute: str, created: dt.datetime | None, now: dt.datetime) -> bool:
        """Substring, case-insensitive, as the `/` filter's text is; since: created within the window."""
        if self.experiment and self.experiment.lower() not in experiment.lower():
            return False
        if self.compute and self.compute.lower() not in compute.lower():
            return False
        if self.since_s:
            return created is not None and created >= now - dt.timedelta(seconds=self.since_s)
        return True

    def describe(self) -> str:
        return JobArguments("", self.experiment, self.compute, self.since_s).describe()


_TERM = re.compile(r"(?<!\S)(experiment|compute|since):(\S*)", re.IGNORECASE)


def parse_terms(text: str) -> FilterTerms:
    """`experiment:x compute:y failed` → terms + the text `failed`. A regex filter (`re:`) is left whole.
    Raises FilterError for an empty term or a bad window."""
    stripped = text.strip()
    if stripped.startswith(("re:", "!re:")):
        return FilterTerms(text=stripped)
    values: dict[str, str] = {}
    for m in _TERM.finditer(stripped):
        key, value = m.group(1).lower(), m.group(2)
        if not value:
            raise FilterError(f"{key}: needs a value, e.g. {key}:{_EXAMPLE[key]}")
        values[key] = value
    rest = " ".join(_TERM.sub(" ", stripped).split())
    return FilterTerms(
        experiment=values.get("experiment", ""),
        compute=values.get("compute", ""),
        since_s=parse_since(values["since"], "since") if "since" in values else 0,
        text=rest,
    )


# -- `:jobs WORD` and `f`: a word → the Azure statuses it shows ----------------------------------------------------

_ACTIVE = ("NotStarted", "Queued", "Preparing", "Starting", "Provisioning", "Running", "Finalizing", "CancelRequested")
STATUS_FILTERS: dict[str, tuple[str, ...]] = {
    "running": ("Running",),
    "failed": ("Failed",),
    "completed": ("Completed",),
    "canceled": ("Canceled", "CancelRequested"),
    "queued": ("NotStarted", "Queued", "Preparing", "Starting", "Provisioning"),
    "finalizing": ("Finalizing",),
    "notresponding": ("NotResponding",),
    "active": _ACTIVE,
}
_ALIASES = {"cancelled": "canceled", "succeeded": "completed", "error": "failed", "all": ""}
STATUS_CYCLE = ("", "running", "failed", "completed")


def parse_status(argument: str) -> tuple[str, str | None]:
    """`:jobs` argument → (status word, error message). Unknown words leave the list unfiltered."""
    word = argument.strip().lower().replace("-", "").replace("_", "")
    if not word:
        return "", None
    if word == "archived":
        return "archived", None
    word = _ALIASES.get(word, word)
    if word == "" or word in STATUS_FILTERS:
        return word, None
    allowed = ", ".join([*STATUS_FILTERS, "archived"])
    return "", f"Unknown job status {argument.strip()!r}: use one of {allowed}."
