"""`azml emulator serve`: the embedded Azure as a standalone process."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType
from typing import Any

from .exitcodes import ExitCode


def faults_option(text: str) -> str:
    """Validate ``--faults`` at parse time, so a bad entry is named before anything starts."""
    from emulator import parse_faults

    try:
        parse_faults(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from .cli import bounded_int

    emu = sub.add_parser("emulator", help="run the embedded Azure emulator on its own")
    emu_sub = emu.add_subparsers(dest="emulator_command", metavar="ACTION", required=True)
    serve_p = emu_sub.add_parser(
        "serve",
        help="serve the emulator until interrupted",
        description="Serve the emulator on 127.0.0.1 and print one JSON line "
        '{"endpoint", "ca_file", "tenant_id", "subscription_ids", "authority", "service_principals"} on stdout.',
        epilog=_faults_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve_p.add_argument("--port", type=bounded_int(0, 65535), default=0, help="TCP port (default: an ephemeral one)")
    serve_p.add_argument("--seed", type=int, default=7, help="estate seed (default 7)")
    serve_p.add_argument("--scale", choices=["small", "large"], default="small", help="estate size")
    serve_p.add_argument("--latency-ms", type=bounded_int(0, 120_000), default=0, help="added latency per request")
    serve_p.add_argument(
        "--frozen", action="store_true", help="freeze the simulation clock (default: follow wall time)"
    )
    serve_p.add_argument(
        "--faults",
        type=faults_option,
        action="append",
        default=[],
        metavar="FAULTS",
        help="inject faults, e.g. 'rate=0.3' or 'computes:429:retry-after=3;/jobs:latency=12s' (see below); repeatable",
    )
    serve_p.set_defaults(run=serve)


def _faults_help() -> str:
    from emulator import FAULTS_HELP

    return "--faults " + FAULTS_HELP + "\nThe same text works as `azml --demo --demo-option faults=FAULTS`."


def serve(args: argparse.Namespace) -> int:
    from emulator import Emulator, EmulatorConfig, parse_faults

    try:
        config = EmulatorConfig(
            seed=args.seed,
            scale=args.scale,
            port=args.port,
            latency_ms=args.latency_ms,
            frozen=args.frozen,
            faults=[rule for text in args.faults for rule in parse_faults(text)],
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
