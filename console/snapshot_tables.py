"""The snapshot's tables, derived from the resource-kind registry (services/kinds): their order, titles,
columns (JSON/CSV), Markdown columns and sort keys; plus the errors table, which belongs to no kind.

No Textual here (import-linter contract): the headless data path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from services.errors import ErrorKind, ServiceError
from services.kind import Kind
from services.kinds import area_kinds, areas, kinds

ALL_AREAS: tuple[str, ...] = areas()  # every area a snapshot can hold
AREAS: tuple[str, ...] = areas(default_only=True)  # the areas of a snapshot that names none
# area → the tables it fills, in document order
AREA_TABLES: dict[str, tuple[str, ...]] = {a: tuple(k.name for k in area_kinds(a)) for a in ALL_AREAS}
TABLES: tuple[str, ...] = tuple(t for a in ALL_AREAS for t in AREA_TABLES[a])
KINDS: dict[str, Kind] = {k.name: k for k in kinds()}

ERROR_COLUMNS = ("area", "workspace", "target", "kind", "message", "status", "code", "request_id")
TITLES: dict[str, str] = {**{k.name: k.title for k in kinds()}, "errors": "Errors"}
# every column of a table, in order (CSV headers, and the shape of an empty table)
COLUMNS: dict[str, tuple[str, ...]] = {**{k.name: k.column_ids for k in kinds()}, "errors": ERROR_COLUMNS}
# the columns a person reads in Markdown
MD_COLUMNS: dict[str, tuple[str, ...]] = {
    **{k.name: k.md_columns for k in kinds()},
    "errors": ("area", "workspace", "kind", "status", "code", "message", "request_id"),
}
SORT_KEYS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    **{k.name: k.sort_key for k in kinds()},
    "errors": lambda r: (r["area"], (r["workspace"] or "").lower(), r["target"].lower()),
}


def error_row(area: str, workspace: str | None, target: str, err: ServiceError) -> dict[str, Any]:
    return {
        "area": area,
        "workspace": workspace,
        "target": target,
        "kind": err.kind.value,
        "message": err.message,
        "status": err.status,
        "code": err.code,
        "request_id": err.request_id or None,
    }


def error_kind(error: Mapping[str, Any]) -> ErrorKind:
    try:
        return ErrorKind(error.get("kind", "error"))
    except ValueError:
        return ErrorKind.UNKNOWN


# -- secrets ------------------------------------------------------------------------------------------

REDACTED = "***REDACTED***"
_SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|credential|connection_?string|sas_?token|account_?key|"
    r"primary_?key|secondary_?key|api_?key|private_?key|signature)",
    re.IGNORECASE,
)
_SIGNED_URL = re.compile(r"([?&])(sig|se|sv|skoid|sktid|st|sp|spr|srt|ss)=[^&\s\"]*", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """Mask any secret-looking field and any URL signature; everything else passes unchanged."""
    if key and _SECRET_KEY.search(key) and value not in (None, "", {}, []):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and "sig=" in value.lower():
        return _SIGNED_URL.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", value)
    return value
