"""The one schema of `azml check` thresholds: their names, kinds and ranges.

Used by the config file's validation (`azml config check`, the ``checks`` table of a profile), by
`azml check` when it merges the config, a ``--thresholds FILE`` and its flags, and by the flags' own parsing:
a value one of them refuses, all of them refuse, with the same rule. Imports nothing heavy (no services).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    name: str
    unit: str  # hours, minutes, count, percent, ms
    high: float  # every threshold is >= 0; this is the top of its range

    @property
    def whole(self) -> bool:
        return self.unit == "count"

    def range_text(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        unit = "" if self.unit in ("count", "percent") else f" ({self.unit})"
        top = f"{int(self.high):,}" if float(self.high).is_integer() else f"{self.high:g}"
        return f"{kind} in 0..{top}{unit}"


HOURS_MAX = 8760.0  # a year
MINUTES_MAX = 525600.0  # a year
COUNT_MAX = 1_000_000.0
MS_MAX = 3_600_000.0  # an hour

SPECS: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("failed_jobs_hours", "hours", HOURS_MAX),
        Spec("failed_jobs_warn", "count", COUNT_MAX),
        Spec("failed_jobs_crit", "count", COUNT_MAX),
        Spec("unusable_nodes_warn", "count", COUNT_MAX),
        Spec("unusable_nodes_crit", "count", COUNT_MAX),
        Spec("preempted_nodes_warn", "count", COUNT_MAX),
        Spec("preempted_nodes_crit", "count", COUNT_MAX),
        Spec("idle_gpu_minutes", "minutes", MINUTES_MAX),
        Spec("idle_gpu_warn", "count", COUNT_MAX),
        Spec("idle_gpu_crit", "count", COUNT_MAX),
        Spec("quota_warn_percent", "percent", 100.0),
        Spec("quota_crit_percent", "percent", 100.0),
        Spec("endpoint_5xx_warn_percent", "percent", 100.0),
        Spec("endpoint_5xx_crit_percent", "percent", 100.0),
        Spec("latency_p95_warn_ms", "ms", MS_MAX),
        Spec("latency_p95_crit_ms", "ms", MS_MAX),
    )
}


def canonical(key: str) -> str:
    """A threshold's name as written in files and flags (``quota-warn-percent`` and ``quota_warn_percent``)."""
    return str(key).strip().lower().replace("-", "_")


def unknown_rule() -> str:
    return f"unknown threshold (known: {', '.join(SPECS)})"


def value_rule(name: str, value: Any) -> str | None:
    """The rule ``value`` breaks for the threshold ``name`` (already known), or None when it is valid."""
    spec = SPECS[canonical(name)]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be {spec.range_text()}"
    if not math.isfinite(value) or not 0 <= value <= spec.high:
        return f"must be {spec.range_text()}"
    if spec.whole and not float(value).is_integer():
        return f"is a count: must be {spec.range_text()}"
    return None


def flag_type(name: str) -> Callable[[str], float]:
    """The argparse type of a threshold flag: finite, in range, named in the error by argparse."""
    spec = SPECS[name]

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number; must be {spec.range_text()}") from None
        rule = value_rule(name, value)
        if rule:
            raise argparse.ArgumentTypeError(f"{text!r} {rule}")
        return value

    return parse
