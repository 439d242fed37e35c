"""`azml query`: run KQL against the Log Analytics workspace behind an Azure ML workspace.

    azml query [--demo | --profile P] [--workspace W] "KQL" [--timespan 1h] [--format table|json|csv]

The Log Analytics workspace is found from the Azure ML workspace's diagnostic settings (or given with
--log-analytics). No Textual import: the output is plain text, JSON or CSV on stdout.

Exit codes: 0 rows printed; 1 partial result (rows printed, Azure's partial error on stderr); 2 usage (bad
arguments, unknown workspace, no Log Analytics workspace found); 3 authentication; 4 unreachable;
5 the query was refused (syntax or semantic error: Azure's message, line and position on stderr);
6 the output could not be written (standard output on a full device).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .exitcodes import ExitCode

if TYPE_CHECKING:
    from services.models import LogsResult, QueryError

MAX_TIMESPAN = dt.timedelta(days=4383)  # Log Analytics keeps data 12 years at most
KQL_ERROR = 5  # the query was refused by Log Analytics (documented above and in --help)

_EPILOG = (
    "exit codes: 0 rows printed; 1 partial result (rows printed, the partial error on stderr); 2 usage, "
    "unknown workspace or no Log Analytics workspace; 3 authentication; 4 unreachable; "
    "5 invalid query (Azure's message with its line and position on stderr); "
    "6 the output could not be written (e.g. standard output on a full device)"
)


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "query",
        parents=[common],
        help="run KQL on the Log Analytics workspace behind an Azure ML workspace",
        description="Run a KQL query against the Log Analytics workspace an Azure ML workspace sends its logs "
        "to (found from its diagnostic settings).",
        epilog=_EPILOG,
    )
    p.add_argument("kql", metavar="KQL", help="the query text (use - to read it from stdin)")
    p.add_argument("--workspace", "-w", metavar="W", help="Azure ML workspace name or ARM id (default: the profile's)")
    p.add_argument("--timespan", "-t", default="1h", metavar="SPAN", help="time range: 15m, 1h, 6h, 24h, 7d, PT1H")
    p.add_argument("--format", "-f", choices=["table", "json", "csv"], default="table", help="output format")
    p.add_argument(
        "--log-analytics",
        metavar="ID",
        help="the Log Analytics workspace to query (customerId GUID or ARM id), instead of diagnostic settings",
    )
    p.set_defaults(run=run)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        v = value.astimezone(dt.UTC)
        text = v.strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
        return text + "Z"
    return value


def _text(value: Any) -> str:
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_table(result: LogsResult, out: TextIO, max_width: int = 48) -> None:
    names = [c.name for c in result.columns]
    rows = [[_text(v) for v in row] for row in result.rows]
    widths = [len(n) for n in names]
    for row in rows:
        for i, v in enumerate(row):
            widths[i] = min(max_width, max(widths[i], len(v)))

    def fit(v: str, w: int) -> str:
        return v if len(v) <= w else v[: w - 1] + "…"

    out.write("  ".join(fit(n, w).ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    numeric = set(result.numeric_columns)
    for row in rows:
        cells = [
            fit(v, w).rjust(w) if i in numeric else fit(v, w).ljust(w)
            for i, (v, w) in enumerate(zip(row, widths, strict=True))
        ]
        out.write("  ".join(cells).rstrip() + "\n")
    out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")


def format_json(result: LogsResult, out: TextIO, workspace: str, law: str) -> None:
    doc: dict[str, Any] = {
        "workspace": workspace,
        "logAnalyticsWorkspace": law,
        "columns": [{"name": c.name, "type": c.type} for c in result.columns],
        "rows": [{c.name: _cell(v) for c, v in zip(result.columns, row, strict=False)} for row in result.rows],
    }
    if result.partial_error is not None:
        doc["partialError"] = {"code": result.partial_error.code, "message": result.partial_error.message}
    json.dump(doc, out, indent=2, default=str)
    out.write("\n")


def format_csv(result: LogsResult, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        writer.writerow([_cell(v) if v is not None else "" for v in row])


def describe_error(error: QueryError, kql: str) -> str:
    """Azure's message, where it went wrong, and the line with a caret under the position."""
    head = " ".join(x for x in (error.kind, error.detail_code) if x) or "QueryError"
    text = f"azml query: {head}"
    if error.location:
        text += f" at {error.location}"
    text += f": {error.message}\n"
    if error.line is not None:
        lines = kql.splitlines() or [""]
        if 1 <= error.line <= len(lines):
            src = lines[error.line - 1]
            pos = max(0, min(error.position or 0, len(src)))
            text += f"  {error.line:>3} | {src}\n      | {' ' * pos}^\n"
    return text


def _find_workspace(source: Any, wanted: str) -> Any:
    from services.workspaces import get_workspace, list_workspaces

    session = source.session
    if wanted.lower().startswith("/subscriptions/"):
        parts = wanted.strip("/").split("/")
        if len(parts) < 8:
            raise LookupError(f"{wanted!r} is not a workspace resource id")
        return get_workspace(session, parts[1], parts[3], parts[7])
    matches = [w for w in list_workspaces(session) if w.name.lower() == wanted.lower()]
    if not matches:
        raise LookupError(f"no workspace named {wanted!r} is visible to this profile")
    if len(matches) > 1:
        ids = ", ".join(w.id for w in matches)
        raise LookupError(f"several workspaces are named {wanted!r}; pass its resource id instead: {ids}")
    return matches[0]


def run(args: argparse.Namespace) -> int:
    from services import monitor

    kql = sys.stdin.read() if args.kql == "-" else args.kql
    if not kql.strip():
        print("azml query: the query is empty", file=sys.stderr)
        return ExitCode.USAGE
    try:
        span = monitor.parse_timespan(args.timespan)
        if not dt.timedelta(seconds=1) <= span <= MAX_TIMESPAN:
            raise ValueError(f"{args.timespan!r} must be between 1s and {MAX_TIMESPAN.days}d")
    except (ValueError, OverflowError) as e:
        if isinstance(e, OverflowError):
            e = ValueError(f"{args.timespan!r} must be between 1s and {MAX_TIMESPAN.days}d")
        print(f"azml query: --timespan: {e}", file=sys.stderr)
        return ExitCode.USAGE
    from .source import SourceError, open_source

    try:
        source = open_source(args)
    except SourceError as e:
        print(f"azml query: {e}", file=sys.stderr)
        return ExitCode.USAGE
    try:
        return _run(args, source, kql, span)
    finally:
        source.close()


def _run(args: argparse.Namespace, source: Any, kql: str, span: dt.timedelta) -> int:
    from services import monitor
    from services.errors import ErrorKind, classify
    from services.models import KqlQueryFailed

    wanted = args.workspace or source.default_workspace
    try:
        if args.log_analytics:
            law = monitor.resolve_log_analytics(source.session, args.log_analytics)
            label = wanted or ""
        else:
            if not wanted:
                print(
                    "azml query: no workspace given and the profile has no default: pass --workspace", file=sys.stderr
                )
                return ExitCode.USAGE
            workspace = _find_workspace(source, wanted)
            law = monitor.log_analytics_workspace(source.session, workspace)
            label = workspace.name
        result = monitor.run_query(source.session, law, kql, span)
    except KqlQueryFailed as e:
        sys.stderr.write(describe_error(e.error, kql))
        return KQL_ERROR
    except LookupError as e:
        print(f"azml query: {e}", file=sys.stderr)
        return ExitCode.USAGE
    except Exception as e:  # every SDK failure is reported in the user's terms
        err = classify(e)
        print(f"azml query: {err}", file=sys.stderr)
        if err.kind in (ErrorKind.AUTH, ErrorKind.FORBIDDEN):
            return ExitCode.AUTH
        if err.kind in (ErrorKind.UNREACHABLE, ErrorKind.TRANSIENT):
            return ExitCode.UNREACHABLE
        return ExitCode.USAGE if err.kind in (ErrorKind.INVALID, ErrorKind.NOT_FOUND) else ExitCode.UNREACHABLE
    buf = io.StringIO()
    if args.format == "json":
        format_json(result, buf, label, law.customer_id)
    elif args.format == "csv":
        format_csv(result, buf)
    else:
        format_table(result, buf)
    from services.outfile import OutputError, write_stdout

    try:
        write_stdout(buf.getvalue())
    except OutputError as e:
        print(f"azml query: {e}", file=sys.stderr)
        return ExitCode.WRITE
    if result.partial_error is not None:
        print(f"azml query: partial result: {result.partial_error.message}", file=sys.stderr)
        return ExitCode.PARTIAL
    return ExitCode.OK
