"""`azml snapshot`: the estate in json / md / csv (no Textual) or as pictures of the real screens (txt / svg).

Never prompts and never waits for a terminal: stdin is not read, stdout may be a pipe or a file.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .exitcodes import ExitCode, describe_exit_codes

if TYPE_CHECKING:
    from .source import Source

FORMATS = ("json", "md", "csv", "txt", "svg")


def parse_size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    try:
        w, h = int(width), int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 120x40, got {text!r}") from None
    if not sep or not (40 <= w <= 500 and 10 <= h <= 200):
        raise argparse.ArgumentTypeError(f"{text!r}: the width must be 40..500 and the height 10..200")
    return w, h


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    from services.kinds import areas

    from .cli import bounded_int

    every, default = areas(), areas(default_only=True)

    p = sub.add_parser(
        "snapshot",
        parents=[common],
        help="the estate as json, md, csv (for scripts and cron) or txt/svg pictures of the screens",
        description="Print the state of every workspace (or of those named with --workspace): "
        "json (schema: `azml snapshot --print-schema`), md and csv come straight from the services; "
        "txt and svg render the console's real screens headlessly at --size. Areas default to "
        + ", ".join(default)
        + (f" (also: {', '.join(a for a in every if a not in default)})" if len(every) > len(default) else "")
        + ". A workspace that fails does not hide the others: its error is reported beside the data "
        "and the exit code says partial.",
        epilog=describe_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "areas", nargs="*", metavar="AREA", help=f"one of {', '.join(every)} (default: {', '.join(default)})"
    )
    p.add_argument(
        "--workspace",
        "-w",
        action="append",
        default=[],
        metavar="W",
        help="a workspace name (repeatable, or comma-separated); default: every visible workspace",
    )
    p.add_argument("--format", "-f", choices=FORMATS, default="json", help="output format (default json)")
    p.add_argument("--size", type=parse_size, default=(120, 40), metavar="WxH", help="txt/svg size (default 120x40)")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p.add_argument(
        "--job-limit",
        type=bounded_int(1, 100),
        default=100,
        metavar="N",
        help="most recent jobs per workspace (1..100, default 100)",
    )
    p.add_argument("--print-schema", action="store_true", help="print the JSON Schema of the json format and exit")
    p.set_defaults(run=run)


def _workspaces(values: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return tuple(out)


def write_output(text: str, output: str | None) -> None:
    """To FILE (atomically if it is a regular file; in place if a device, FIFO or symlink target) or stdout."""
    from services.outfile import write_output_file, write_stdout

    if output and output != "-":
        write_output_file(output, text)
        return
    write_stdout(text)


def _error(message: str) -> None:
    print(f"azml snapshot: {message}", file=sys.stderr)


def _written(text: str, output: str | None, code: int) -> int:
    """Write the output; its own exit code when that fails (the data was read, but nobody gets it)."""
    from services.outfile import OutputError

    try:
        write_output(text, output)
    except OutputError as e:
        _error(str(e))
        return ExitCode.WRITE
    return code


def run(args: argparse.Namespace) -> int:
    from services.outfile import OutputError, check_target

    from .snapshot import AREAS, SnapshotRequest, SnapshotUsageError, schema_text

    if args.print_schema:  # generated from the resource kinds; the published file is the same text
        return _written(schema_text(), args.output, ExitCode.OK)
    areas = tuple(dict.fromkeys(args.areas)) or AREAS
    try:
        request = SnapshotRequest(areas=areas, workspaces=_workspaces(args.workspace), job_limit=args.job_limit)
    except SnapshotUsageError as e:
        _error(str(e))
        return ExitCode.USAGE
    if args.format == "svg" and len(args.areas) > 1:
        _error("svg pictures one screen: name one area (or use txt for several)")
        return ExitCode.USAGE

    if args.output and args.output != "-":
        try:
            check_target(args.output)  # before any request: a missing folder or a directory fails fast
        except OutputError as e:
            _error(str(e))
            return ExitCode.WRITE

    from .source import SourceError, open_source

    try:
        source = open_source(args)
    except SourceError as e:
        _error(str(e))
        return ExitCode.USAGE
    except Exception as e:  # credentials or network before anything was read
        from services.errors import ErrorKind, classify

        err = classify(e)
        _error(str(err))
        return ExitCode.AUTH if err.kind in (ErrorKind.AUTH, ErrorKind.FORBIDDEN) else ExitCode.UNREACHABLE
    try:
        if args.format in ("txt", "svg"):
            return _pictures(source, request, args)
        return _data(source, request, args)
    finally:
        source.close()


def _data(source: Source, request: Any, args: argparse.Namespace) -> int:
    from .snapshot import SnapshotUsageError, collect_snapshot, estate_clock, render

    try:
        snap = collect_snapshot(source.session, request, source=source.label, now=estate_clock(source)())
    except SnapshotUsageError as e:
        _error(str(e))
        return ExitCode.USAGE
    code = _written(render(snap.doc, args.format), args.output, snap.exit_code)
    for err in snap.errors:
        where = err["workspace"] or err["target"] or "the estate"
        rid = f" (request id {err['request_id']})" if err["request_id"] else ""
        _error(f"{err['area']} of {where}: {err['kind']}: {err['message']}{rid}")
    return code


def _pictures(source: Source, request: Any, args: argparse.Namespace) -> int:
    from .snapshot_render import RenderError, render_screens

    areas = list(dict.fromkeys(args.areas)) or ["workspaces"]
    workspace = request.workspaces[0] if request.workspaces else source.default_workspace
    try:
        text, code = render_screens(
            source, areas, workspace=workspace, size=args.size, fmt=args.format, timeout_s=float(60)
        )
    except RenderError as e:
        _error(str(e))
        return e.exit_code
    return _written(text, args.output, code)
