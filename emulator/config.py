"""Emulator settings, importable without the server (the CLI validates them before anything starts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .faults import FaultRule, parse_faults

# The --demo-option keys: the settings below, plus the area-specific extras kept in ``options``.
SETTINGS = ("seed", "scale", "port", "latency_ms", "frozen", "lro_seconds", "faults")
AREA_OPTIONS = ("log_volume", "max_result_rows", "partial_tables")  # read by emulator/areas/monitor.py
KNOWN_OPTIONS = SETTINGS + AREA_OPTIONS


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
    faults: list[FaultRule] = field(default_factory=list)  # from the start (the ``faults`` option, FAULTS_HELP)
    # A connection waiting this long for a request (or a TLS handshake) is closed. Not a multiple of the usual
    # auto-refresh intervals, so a keep-alive connection is rarely closed just as its next request is sent.
    idle_timeout_s: float = 75.0
    max_workers: int = 128  # connections served at once; idle ones give way to new ones when all are taken

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
                elif k in AREA_OPTIONS:
                    cfg.options[k] = value
                else:  # a typo (`fault=rate=0.3`) must not run quietly without what it asked for
                    raise KeyError(k)
            except KeyError:
                raise ValueError(f"emulator option {key!r} is unknown (known: {', '.join(KNOWN_OPTIONS)})") from None
            except ValueError as e:
                raise ValueError(f"emulator option {key}: {value!r} is not a valid value ({e})") from e
        if not 0 <= cfg.latency_ms <= 600_000:
            raise ValueError("emulator option latency_ms: must be within 0..600000")
        if cfg.scale not in ("small", "large"):
            raise ValueError(f"emulator option scale: {cfg.scale!r} is not small or large")
        if not 0 <= cfg.port <= 65535:
            raise ValueError(f"emulator option port: {cfg.port} is outside 0..65535")
        if not 0.0 <= cfg.lro_seconds <= 3600.0:  # NaN fails this too
            raise ValueError(f"emulator option lro_seconds: {cfg.lro_seconds} is outside 0..3600")
        return cfg
