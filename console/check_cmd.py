"""`azml check`: one summary line plus details, and a monitoring exit code (0 ok, 1 warning, 2 critical,
3 unknown). Never prompts; never reads stdin.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import Any, NoReturn

EPILOG = """exit codes (the monitoring plugin convention):
    0  OK        every check passed
    1  WARNING   a warning threshold was reached
    2  CRITICAL  a critical threshold was reached
    3  UNKNOWN   a check could not be evaluated (a workspace or its Log Analytics failed to answer,
                 bad thresholds or settings, or the report could not be written)
  CRITICAL outranks WARNING, which outranks UNKNOWN.

thresholds: defaults < the profile's [profiles.NAME.checks] table in the config file < --thresholds FILE
< flags. A count threshold of 0 turns that level off.
checks: failed-jobs, unusable-nodes, preempted-nodes, idle-gpu, deployments, quota, endpoint-5xx,
latency-p95 (the last two judge each online endpoint over the last hour of Log Analytics traffic logs and
run only when given a threshold)."""

_FLAG_HELP = {
    "failed_jobs_hours": "window for failed jobs, by creation time (default 24)",
    "failed_jobs_warn": "failed jobs in the window for WARNING (default 1)",
    "failed_jobs_crit": "failed jobs in the window for CRITICAL (default 10)",
    "unusable_nodes_warn": "unusable cluster nodes for WARNING (default 1)",
    "unusable_nodes_crit": "unusable cluster nodes for CRITICAL (default 1)",
    "preempted_nodes_warn": "preempted cluster nodes for WARNING (default 1)",
    "preempted_nodes_crit": "preempted cluster nodes for CRITICAL (default 0: off)",
    "idle_gpu_minutes": "T: GPU nodes that can stay idle longer than this many minutes (default 15)",
    "idle_gpu_warn": "such idle GPU nodes for WARNING (default 1)",
    "idle_gpu_crit": "such idle GPU nodes for CRITICAL (default 0: off)",
    "quota_warn_percent": "quota use for WARNING (default 80)",
    "quota_crit_percent": "quota use for CRITICAL (default 95)",
    "endpoint_5xx_warn_percent": "an endpoint's 5xx rate over the last hour for WARNING (default: off)",
    "endpoint_5xx_crit_percent": "an endpoint's 5xx rate over the last hour for CRITICAL (default: off)",
    "latency_p95_warn_ms": "an endpoint's p95 latency over the last hour for WARNING (default: off)",
    "latency_p95_crit_ms": "an endpoint's p95 latency over the last hour for CRITICAL (default: off)",
}

UNKNOWN = 3


def _usage_error(parser: argparse.ArgumentParser) -> Any:
    def error(message: str) -> NoReturn:
        # a typo in a monitoring command must not read as CRITICAL (argparse's own code is 2)
        parser.print_usage(sys.stderr)
        parser.exit(UNKNOWN, f"{parser.prog}: error: {message}\n")

    return error


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "check",
        parents=[common],
        help="health checks with thresholds for monitoring (exit 0 ok, 1 warning, 2 critical, 3 unknown)",
        description="Check every workspace (or those named with --workspace) against thresholds and print one "
        "summary line, then one line per check with its details.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.error = _usage_error(p)
    p.add_argument("--workspace", "-w", action="append", default=[], metavar="W", help="a workspace (repeatable)")
    p.add_argument("--checks", metavar="LIST", help="only these checks, comma-separated")
    p.add_argument("--skip", metavar="LIST", help="skip these checks, comma-separated")
    p.add_argument("--thresholds", metavar="FILE", help="a TOML file with a [checks] table")
    p.add_argument("--format", "-f", choices=("text", "json"), default="text", help="output format (default text)")
    from .thresholds import SPECS, flag_type

    group = p.add_argument_group("thresholds")
    for name, text in _FLAG_HELP.items():
        help_text = f"{text}; {SPECS[name].range_text()}"
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest="t_" + name,
            type=flag_type(name),
            metavar="N",
            default=None,
            help=help_text,
        )
    p.set_defaults(run=run)


def _names(text: str | None) -> list[str]:
    return [x.strip().lower() for x in (text or "").split(",") if x.strip()]


# -- thresholds from the config file ------------------------------------------------------------------


def config_path() -> str:
    """The profiles file, as console.config locates it ($AZML_CONFIG_DIR, else the platform's config dir)."""
    try:
        from . import config
    except ImportError:  # profiles arrive with their own module
        import platformdirs

        return os.path.join(platformdirs.user_config_dir("azml", appauthor=False), "config.toml")
    return str(config.config_path())


def profile_thresholds(profile: str | None, path: str | None = None) -> tuple[dict[str, Any], str]:
    """The ``[profiles.NAME.checks]`` table of ``profile`` (or of the file's default_profile)."""
    from .config_io import load_toml

    path = path or config_path()
    try:
        data = load_toml(path)  # the config's limits: size, regular file, nesting
    except FileNotFoundError:
        return {}, path
    name = profile or data.get("default_profile")
    profiles = data.get("profiles")
    if not name or not isinstance(profiles, Mapping):
        return {}, path
    entry = profiles.get(str(name))
    checks = entry.get("checks") if isinstance(entry, Mapping) else None
    if checks is not None and not isinstance(checks, Mapping):
        raise ValueError(f"{path}: profiles.{name}.checks must be a table")
    return dict(checks or {}), path


def thresholds_file(path: str) -> dict[str, Any]:
    from .config_io import load_toml

    data = load_toml(path)
    table = data.get("checks", data)
    if not isinstance(table, Mapping):
        raise ValueError(f"{path}: [checks] must be a table")
    return dict(table)


def run(args: argparse.Namespace) -> int:
    from .check import CHECKS, ThresholdError, Thresholds, run_checks
    from .config_io import UnreadableConfig
    from .snapshot import SnapshotUsageError, estate_clock

    def fail(message: str) -> int:
        print(f"AZML UNKNOWN - {message}")
        return UNKNOWN

    selected = _names(args.checks) or list(CHECKS)
    skipped = _names(args.skip)
    unknown = [c for c in [*selected, *skipped] if c not in CHECKS]
    if unknown:
        return fail(f"unknown check {unknown[0]!r} (known: {', '.join(CHECKS)})")
    selected = [c for c in selected if c not in skipped]
    thresholds = Thresholds()
    profile = getattr(args, "profile", None) or ("demo" if getattr(args, "demo", False) else None)
    try:
        values, path = profile_thresholds(profile)
        thresholds = thresholds.merged(values, path)
        if args.thresholds:
            thresholds = thresholds.merged(thresholds_file(args.thresholds), args.thresholds)
        flags = {k[2:]: v for k, v in vars(args).items() if k.startswith("t_") and v is not None}
        thresholds = thresholds.merged(flags, "flags")
    except UnreadableConfig as e:
        return fail(str(e))
    except (ThresholdError, ValueError, OSError) as e:  # tomllib.TOMLDecodeError is a ValueError
        return fail(str(e))

    from .source import SourceError, open_source

    try:
        source = open_source(args)
    except SourceError as e:
        return fail(str(e))
    except Exception as e:
        from .source import describe_error as describe

        return fail(describe(e))
    try:
        workspaces = tuple(w.strip() for v in args.workspace for w in v.split(",") if w.strip())
        try:
            report = run_checks(
                source.session,
                thresholds,
                checks=selected,
                workspaces=workspaces,
                source=source.label,
                now=estate_clock(source)(),
            )
        except SnapshotUsageError as e:
            return fail(str(e))
    finally:
        source.close()
    from services.outfile import OutputError, write_stdout

    try:
        write_stdout(report.json() if args.format == "json" else report.text())
    except OutputError as e:
        print(f"azml check: {e}", file=sys.stderr)
        return UNKNOWN  # the monitoring convention has no code of its own for this
    return int(report.status)
