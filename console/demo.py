"""The demo's data: the embedded emulator, started in-process on an ephemeral port, and a Session on it
(`azml --demo` runs the console on it: console/run.py)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulator import Emulator
    from services.session import Session


class DemoBackend:
    """Starts the emulator on first use and builds a Session on it; stops it at the end."""

    def __init__(self, options: dict[str, str], *, read_only: bool = False, frozen: bool = False) -> None:
        from emulator import EmulatorConfig

        self.config = EmulatorConfig.from_options(options, frozen=frozen)
        self.read_only = read_only
        self.emulator: Emulator | None = None
        self._lock = threading.Lock()

    def connect(self) -> Session:
        from emulator import Emulator
        from services.cloud import custom_cloud
        from services.session import Session

        with self._lock:
            if self.emulator is None:
                self.emulator = Emulator(self.config).start()
            emu = self.emulator
        from .audit import session_guard

        credential = emu.credential()
        return Session(
            cloud=custom_cloud("demo", emu.endpoint, ca_bundle=emu.ca_file, storage_at_endpoint=True),
            credential=credential,
            profile="demo",
            tenant_id=emu.tenant_id,
            read_only=self.read_only,
            guard=session_guard(credential.upn),
        )

    def default_workspace(self) -> str:
        """The demo's default workspace: the first of the estate, by name."""
        from emulator import Emulator

        with self._lock:
            if self.emulator is None:
                self.emulator = Emulator(self.config).start()
            names = sorted(w["name"] for w in self.emulator.estate.workspaces())
        return names[0] if names else ""

    def stop(self) -> None:
        with self._lock:
            if self.emulator is not None:
                self.emulator.stop()
                self.emulator = None


def check_options(options: dict[str, str]) -> None:
    """Refuse bad --demo-option keys and values by name (ValueError) before anything starts."""
    from emulator import EmulatorConfig

    EmulatorConfig.from_options(options)
