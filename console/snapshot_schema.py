"""The JSON Schema of `azml snapshot --format json`, generated from the resource kinds' columns.

The published file (schemas/snapshot.schema.json) is this output, checked by a test; regenerate it with
``python -m console.snapshot_schema > console/schemas/snapshot.schema.json``.
"""

from __future__ import annotations

import json
from typing import Any

from services.errors import ErrorKind
from services.kind import STR, TIME_PATTERN

from .snapshot_tables import ALL_AREAS, KINDS, TABLES

SCHEMA_VERSION = "1.0"
SCHEMA_ID = "urn:azml-console:schemas:snapshot:1.0"  # also the $id of schemas/snapshot.schema.json
KIND = "azml.snapshot"
JOB_LIMIT = 100  # the most recent jobs per workspace: one server page, never more

DESCRIPTION = (
    "The output of `azml snapshot --format json`: the state of Azure ML workspaces, one flat list of rows per "
    "table (present when its area was asked for), with per-target errors beside the data. Times are ISO-8601 "
    "UTC; no secret ever appears."
)


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }
    if description:
        out["description"] = description
    return out


def _count() -> dict[str, Any]:
    return {"type": "integer", "minimum": 0}


def schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for name in TABLES:
        kind = KINDS[name]
        defs[kind.def_name] = _object({c.id: dict(c.json) for c in kind.snapshot_columns}, kind.description)
    defs["error"] = _object(
        {
            "area": {"enum": list(ALL_AREAS)},
            "workspace": {"type": ["string", "null"]},
            "target": {"type": "string", "description": "the resource id (or subscription/location scope) that failed"},
            "kind": {"enum": [k.value for k in ErrorKind]},
            "message": STR,
            "status": {"type": ["integer", "null"]},
            "code": STR,
            "request_id": {"type": ["string", "null"]},
        },
        "one failed target: beside the data, never instead of it",
    )
    properties: dict[str, Any] = {
        "kind": {"const": KIND},
        "schema_version": {
            "const": SCHEMA_VERSION,
            "description": "major.minor: a new minor only adds optional fields; a new major may break",
        },
        "schema": {"type": "string", "format": "uri"},
        "generated_at": {"type": "string", "format": "date-time", "pattern": TIME_PATTERN},
        "source": {"type": "string", "description": "the profile name, or demo"},
        "areas": {"type": "array", "items": {"enum": list(ALL_AREAS)}, "uniqueItems": True},
        "workspace_filter": {"type": "array", "items": {"type": "string"}},
        "job_limit": {"type": "integer", "minimum": 1, "maximum": JOB_LIMIT},
        "summary": {
            "type": "object",
            "additionalProperties": False,
            "required": ["workspaces", "errors", "rows"],
            "properties": {
                "workspaces": _count(),
                "errors": _count(),
                "rows": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {t: _count() for t in TABLES},
                },
            },
        },
    }
    for name in TABLES:
        properties[name] = {"type": "array", "items": {"$ref": f"#/$defs/{KINDS[name].def_name}"}}
    properties["errors"] = {"type": "array", "items": {"$ref": "#/$defs/error"}}
    properties["notes"] = {"type": "array", "items": {"type": "string"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "azml snapshot",
        "description": DESCRIPTION,
        "type": "object",
        "additionalProperties": False,
        "required": [
            "kind",
            "schema_version",
            "schema",
            "generated_at",
            "source",
            "areas",
            "workspace_filter",
            "job_limit",
            "summary",
            "errors",
            "notes",
        ],
        "properties": properties,
        "$defs": defs,
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")
