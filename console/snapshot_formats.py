"""The snapshot document as text: JSON, Markdown and CSV, with the columns the kinds declare.

No Textual here (import-linter contract): the headless data path.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .snapshot_tables import COLUMNS, KINDS, MD_COLUMNS, TABLES, TITLES


class SnapshotUsageError(ValueError):
    """The request cannot be served as asked (unknown workspace, bad area); exit code USAGE."""


DATA_FORMATS = ("json", "md", "csv")


def _sub_fields(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields of a fixed-shape object column (nodes.idle...), () for scalars and open maps."""
    if "properties" in schema:
        return tuple(schema["properties"])
    for option in schema.get("oneOf", ()):
        if "properties" in option:
            return tuple(option["properties"])
    return ()


# table → column → its dotted sub-columns in CSV (fixed-shape objects only; maps stay k=v;k=v)
_SUB_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    name: {c.id: _sub_fields(c.json) for c in kind.snapshot_columns if _sub_fields(c.json)}
    for name, kind in KINDS.items()
}
_OBJECT_FIELDS = frozenset(c for cols in _SUB_COLUMNS.values() for c in cols)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ";".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ";".join(_cell(v) for v in value)
    return str(value)


def flatten(row: Mapping[str, Any]) -> dict[str, str]:
    """A row as flat text cells: fixed-shape objects become dotted columns (nodes.idle), maps k=v;k=v."""
    out: dict[str, str] = {}
    for key, value in row.items():
        if isinstance(value, dict) and key in _OBJECT_FIELDS:
            for sub, v in value.items():
                out[f"{key}.{sub}"] = _cell(v)
        else:
            out[key] = _cell(value)
    return out


def _flat_columns(table: str) -> list[str]:
    subs = _SUB_COLUMNS.get(table, {})
    columns: list[str] = []
    for key in COLUMNS[table]:
        if key in subs:
            columns.extend(f"{key}.{sub}" for sub in subs[key])
        else:
            columns.append(key)
    return columns


def _doc_tables(doc: Mapping[str, Any]) -> list[str]:
    return [t for t in TABLES if t in doc]


def to_json(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_csv(doc: Mapping[str, Any]) -> str:
    """One table: a plain CSV. Several: sections, each led by a `# TABLE` line, separated by a blank line."""
    tables = _doc_tables(doc)
    if doc.get("errors"):
        tables.append("errors")
    buf = io.StringIO()
    for i, table in enumerate(tables):
        rows: list[dict[str, Any]] = list(doc.get(table) or [])
        if len(tables) > 1:
            if i:
                buf.write("\n")
            buf.write(f"# {table}\n")
        writer = csv.DictWriter(buf, fieldnames=_flat_columns(table), extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(flatten(row))
    return buf.getvalue()


def _md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


# table → column → how the kind writes that column's Markdown cell
_MD_FORMATS: dict[str, dict[str, Callable[[Any], str]]] = {
    name: {c.id: c.md_format for c in kind.snapshot_columns if c.md_format is not None} for name, kind in KINDS.items()
}


def _md_cell(table: str, key: str, value: Any) -> str:
    fmt = _MD_FORMATS.get(table, {}).get(key)
    if fmt is not None and value is not None:
        return _md_escape(fmt(value))
    return _md_escape(_cell(value))


def to_markdown(doc: Mapping[str, Any]) -> str:
    lines = [
        "# azml snapshot",
        "",
        f"- Generated: {doc.get('generated_at')}",
        f"- Source: {doc.get('source')}",
        f"- Workspaces: {doc.get('summary', {}).get('workspaces', 0)}",
        f"- Errors: {len(doc.get('errors') or [])}",
        f"- Schema: {doc.get('kind')} {doc.get('schema_version')}",
    ]
    tables = _doc_tables(doc)
    if doc.get("errors"):
        tables.insert(0, "errors")
    for table in tables:
        rows = list(doc.get(table) or [])
        columns = MD_COLUMNS[table]
        lines += ["", f"## {TITLES[table]} ({len(rows)})", ""]
        if not rows:
            lines.append("_none_")
            continue
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "|".join("---:" if _numeric(rows, c) else "---" for c in columns) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_md_cell(table, c, row.get(c)) for c in columns) + " |")
    notes = doc.get("notes") or []
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {_md_escape(n)}" for n in notes]
    return "\n".join(lines) + "\n"


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    values = [r.get(column) for r in rows if r.get(column) is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "csv":
        return to_csv(doc)
    raise SnapshotUsageError(f"{fmt} is not a data format ({', '.join(DATA_FORMATS)})")
