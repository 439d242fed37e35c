"""An embedded Azure: ARM, Azure ML, Resource Graph and monitoring REST shapes on 127.0.0.1 over HTTPS.

`Emulator` loads lazily: the console validates `EmulatorConfig` before the first frame and starts the
server (certificates, estate, routes) off the UI thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import EmulatorConfig
from .faults import FAULTS_HELP, parse_faults

if TYPE_CHECKING:
    from .server import Emulator

__all__ = ["FAULTS_HELP", "Emulator", "EmulatorConfig", "parse_faults"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from .server import Emulator

        return Emulator
    raise AttributeError(name)
