"""An embedded Azure: ARM, Azure ML, Resource Graph and monitoring REST shapes on 127.0.0.1 over HTTPS."""

from .server import Emulator, EmulatorConfig

__all__ = ["Emulator", "EmulatorConfig"]
