"""The `azml` command. Imports stay light here: Textual and the Azure SDKs load only when needed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .exitcodes import ExitCode


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azml",
        description="A terminal operations console for Azure Machine Learning.",
        epilog="Run with no command to open the console. `azml --demo` opens it on a built-in simulated estate.",
    )
    parser.add_argument("--version", action="version", version=f"azml-console {__version__}")
    parser.add_argument("--demo", action="store_true", help="open on the embedded emulator's demo estate")
    parser.add_argument(
        "--demo-option",
        action="append",
        default=[],
        type=_key_value,
        metavar="KEY=VALUE",
        help="emulator setting for --demo (seed, scale, latency_ms, frozen); repeatable",
    )
    parser.add_argument("--read-only", action="store_true", help="refuse every mutating action")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    emu = sub.add_parser("emulator", help="run the embedded Azure emulator on its own")
    emu_sub = emu.add_subparsers(dest="emulator_command", metavar="ACTION", required=True)
    serve = emu_sub.add_parser(
        "serve",
        help="serve the emulator until interrupted",
        description="Serve the emulator on 127.0.0.1 and print one JSON line "
        '{"endpoint", "ca_file", "tenant_id", "subscription_ids"} on stdout.',
    )
    serve.add_argument("--port", type=_bounded_int(0, 65535), default=0, help="TCP port (default: an ephemeral one)")
    serve.add_argument("--seed", type=int, default=7, help="estate seed (default 7)")
    serve.add_argument("--scale", choices=["small", "large"], default="small", help="estate size")
    serve.add_argument("--latency-ms", type=_bounded_int(0, 120_000), default=0, help="added latency per request")
    serve.add_argument("--frozen", action="store_true", help="freeze the simulation clock (default: follow wall time)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "emulator":
            from .emulator_cmd import serve

            return serve(args)
        if args.demo:
            from .demo import run_demo

            return run_demo(dict(args.demo_option), read_only=args.read_only)
        if args.demo_option:
            parser.error("--demo-option needs --demo")
        print(
            "azml: no profile is configured yet. Try `azml --demo` to open the console on the demo estate.",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
