"""The `azml` command. Imports stay light here: Textual and the Azure SDKs load only when needed.

Each command lives in its own module exposing `register(subparsers, common)`; the module adds its parser
and sets `run=` to a function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__
from .exitcodes import ExitCode, describe_exit_codes

# Modules that register subcommands, by the command names each adds.
COMMAND_MODULES = {
    "console.emulator_cmd": ("emulator",),
    "console.profile_cmd": ("profile", "login", "config"),
    "console.snapshot_cmd": ("snapshot",),
    "console.check_cmd": ("check",),
    "console.query_cmd": ("query",),
}
_VALUE_OPTIONS = {"--demo-option", "--profile", "-p"}


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand named on the line, if any (the first word that is not an option or its value)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word in _VALUE_OPTIONS:
            skip = True
            continue
        if word.startswith("-"):
            continue
        return word
    return None


def _modules_for(argv: Sequence[str] | None) -> list[str]:
    """Only the module the command needs: `azml --demo` imports none of them, so the first frame waits
    for nothing it does not draw. Help and unknown words load them all (to list or to refuse them)."""
    if argv is None or any(w in ("-h", "--help") for w in argv):
        return list(COMMAND_MODULES)
    word = _command_word(argv)
    if word is None:
        return []
    chosen = [m for m, names in COMMAND_MODULES.items() if word in names]
    return chosen or list(COMMAND_MODULES)


def key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def finite_number(low: float, high: float, what: str = "") -> Callable[[str], float]:
    """An argparse type for a finite number in low..high (inf, nan and huge values are usage errors)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} must be a number in {low:g}..{high:g}{what}")
        return value

    return parse


def common_options(*, for_subcommand: bool = False) -> argparse.ArgumentParser:
    """Where the console's data comes from: shared by the TUI and the headless commands.

    Subcommands get the same options with suppressed defaults, so `azml --demo snapshot` and
    `azml snapshot --demo` mean the same (argparse would otherwise let the subcommand's default win).
    """
    common = argparse.ArgumentParser(add_help=False)
    sup: dict[str, Any] = {"default": argparse.SUPPRESS} if for_subcommand else {}
    source = common.add_argument_group("where the data comes from")
    source.add_argument("--demo", action="store_true", help="use the embedded emulator's demo estate", **sup)
    source.add_argument(
        "--demo-option",
        action="append",
        default=argparse.SUPPRESS if for_subcommand else [],
        type=key_value,
        metavar="KEY=VALUE",
        help="emulator setting for --demo (seed, scale, port, latency_ms, frozen, lro_seconds, faults, log_volume, "
        "max_result_rows, partial_tables; others are refused); repeatable; "
        "faults=FAULTS injects failures, e.g. faults=rate=0.3 (syntax: azml emulator serve --help)",
    )
    source.add_argument(
        "--profile", "-p", metavar="NAME", help="the profile to use (default: the default profile)", **sup
    )
    source.add_argument("--read-only", action="store_true", help="refuse every mutating action", **sup)
    return common


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    common = common_options()
    sub_common = common_options(for_subcommand=True)
    parser = argparse.ArgumentParser(
        prog="azml",
        description="A terminal operations console for Azure Machine Learning.",
        epilog="Run with no command to open the console. `azml --demo` opens it on a built-in simulated estate.\n\n"
        + describe_exit_codes()
        + "\n  azml query adds 5 (invalid KQL); azml check speaks the monitoring convention (0-3).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"azml-console {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _modules_for(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue  # a command not built yet
            raise
        module.register(sub, sub_common)
    return parser


def _quiet_sdk_logs() -> None:
    """The SDKs log failures at WARNING (azure-identity: "AzureCliCredential.get_token failed: ..."); with no
    handler anywhere Python's last-resort handler prints them on stderr, before and beside azml's own message.
    A do-nothing handler on the root logger ends that; a handler someone adds on purpose still gets them."""
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_sdk_logs()
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    args = parser.parse_args(words)
    if args.demo_option and not args.demo:
        parser.error("--demo-option needs --demo")
    if args.demo_option:
        from .demo import check_options

        try:
            check_options(dict(args.demo_option))
        except ValueError as e:  # before the emulator, the app or any request starts
            if getattr(args, "command", None) == "check":  # the monitoring convention: UNKNOWN, on stdout
                print(f"AZML UNKNOWN - --demo-option: {e}")
                return 3
            print(f"azml: --demo-option: {e}", file=sys.stderr)
            return ExitCode.USAGE
    try:
        run = getattr(args, "run", None)
        if run is not None:
            guard = _StdoutGuard(sys.stdout)
            sys.stdout = guard
            try:
                code = int(run(args))
            except OSError as e:
                if e is not guard.failure:  # not about stdout: a real bug, keep its traceback
                    raise
                return _stdout_error(e, args)
            finally:
                sys.stdout = guard.inner
            return _flushed(code, args)
        if args.demo:
            from .run import run_demo

            return run_demo(dict(args.demo_option), read_only=args.read_only)
        from .run import run_console

        return run_console(args.profile, read_only=args.read_only)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


def _flushed(code: int, args: argparse.Namespace) -> int:
    """Flush stdout now, so a full device (`> /dev/full`) is a message and an exit code of its own, not a
    traceback at interpreter exit and not 1 (which reads as "partial")."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as e:
        return _stdout_error(e, args)
    return code


class _StdoutGuard:
    """stdout for a command, remembering the error a write raised, so main() can tell a full device on
    stdout (a message and an exit code) from any other OSError (a bug: its traceback stays)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failure: OSError | None = None

    def write(self, text: str) -> int:
        try:
            return int(self.inner.write(text))
        except BrokenPipeError:
            raise
        except OSError as e:
            self.failure = e
            raise

    def flush(self) -> None:
        try:
            self.inner.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            self.failure = e
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _stdout_error(e: OSError, args: argparse.Namespace) -> int:
    from services.outfile import silence_stdout, stdout_failure

    silence_stdout()
    print(f"azml: {stdout_failure(e)}", file=sys.stderr)
    # `azml check` keeps the monitoring convention: anything it cannot deliver is UNKNOWN
    return 3 if getattr(args, "command", None) == "check" else ExitCode.WRITE


if __name__ == "__main__":
    raise SystemExit(main())
