"""`azml emulator serve`: the embedded Azure as a standalone process."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from .exitcodes import ExitCode


def serve(args: argparse.Namespace) -> int:
    from emulator import Emulator, EmulatorConfig

    try:
        config = EmulatorConfig(
            seed=args.seed,
            scale=args.scale,
            port=args.port,
            latency_ms=args.latency_ms,
            frozen=args.frozen,
        )
        if config.latency_ms < 0:
            raise ValueError("--latency-ms must be >= 0")
        emu = Emulator(config)
        emu.start()
    except (ValueError, OSError) as e:
        print(f"azml emulator serve: {e}", file=sys.stderr)
        return ExitCode.USAGE
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, on_signal)
    sys.stdout.write(json.dumps(emu.info()) + "\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emu.stop()
    return ExitCode.OK
