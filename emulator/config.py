"""Emulator settings, importable without the server (the CLI validates them before anything starts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class EmulatorConfig:
    seed: int = 7
    scale: str = "small"
    port: int = 0
    latency_ms: int = 0
    frozen: bool = True
    lro_seconds: float = 1.0
    retry_after: str = "1"
    options: dict[str, str] = field(default_factory=dict)  # area-specific extras
    faults: list[tuple[str, int, float]] = field(default_factory=list)  # (path regex, status, rate) from the start

    @classmethod
    def from_options(cls, options: dict[str, str], **defaults: Any) -> EmulatorConfig:
        """Build from ``key=value`` settings (``--demo-option``), rejecting unknown keys by name."""
        cfg = cls(**defaults)
        for key, value in options.items():
            k = key.strip().lower().replace("-", "_")
            try:
                if k == "seed":
                    cfg.seed = int(value)
                elif k == "scale":
                    cfg.scale = value
                elif k == "latency_ms":
                    cfg.latency_ms = int(value)
                elif k == "port":
                    cfg.port = int(value)
                elif k == "frozen":
                    cfg.frozen = value.lower() in ("1", "true", "yes", "on")
                elif k == "lro_seconds":
                    cfg.lro_seconds = float(value)
                elif k == "faults":
                    cfg.faults.extend(parse_faults(value))
                else:
                    cfg.options[k] = value
            except ValueError as e:
                raise ValueError(f"emulator option {key}: {value!r} is not a valid value ({e})") from e
        if cfg.latency_ms < 0:
            raise ValueError("emulator option latency_ms: must be >= 0")
        return cfg


def parse_faults(text: str) -> list[tuple[str, int, float]]:
    """``PATTERN:STATUS[:RATE]`` entries separated by ``;`` (e.g. ``mlw-prod-weu/computes:500``).

    The pattern is a regex searched in the request path and may itself hold ``:`` (the numbers are read
    from the right). The server turns each entry into a FaultRule.
    """
    rules: list[tuple[str, int, float]] = []
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        parts = entry.rsplit(":", 2)
        rate = 1.0
        if len(parts) == 3 and parts[1].isdigit() and _is_number(parts[2]):
            pattern, status, rate = parts[0], int(parts[1]), float(parts[2])
        else:
            pattern, _, status_text = entry.rpartition(":")
            if not pattern or not status_text.isdigit():
                raise ValueError(f"fault {entry!r} is not PATTERN:STATUS[:RATE]")
            status = int(status_text)
        if not 400 <= status <= 599:
            raise ValueError(f"fault {entry!r}: the status must be within 400..599")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault {entry!r}: the rate must be within 0..1")
        try:
            re.compile(pattern)
        except re.error as e:
            raise ValueError(f"fault {entry!r}: the pattern is not a regular expression ({e})") from e
        rules.append((pattern, status, rate))
    return rules


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
