"""Input rules, checked before any request. Each failure names the field and the rule."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import AzmlError


@dataclass(frozen=True)
class FieldError:
    field: str
    rule: str

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class ValidationError(AzmlError, ValueError):
    """Bad input; nothing was sent."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors = tuple(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(e.field for e in self.errors)


def check(*errors: FieldError | None) -> None:
    """Raise ValidationError with every failure given; do nothing when all are None."""
    found = [e for e in errors if e is not None]
    if found:
        raise ValidationError(found)


_COMPUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
_DEPLOYMENT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,30}[A-Za-z0-9]$")
_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_DATASTORE_NAME = re.compile(r"^[A-Za-z0-9_]{1,255}$")


def compute_name(value: str, *, kind: str = "cluster", field: str = "name") -> FieldError | None:
    low, high = (2, 16) if kind == "cluster" else (3, 24)
    if not value:
        return FieldError(field, "is required")
    if not (low <= len(value) <= high):
        return FieldError(field, f"must be {low} to {high} characters long")
    if not _COMPUTE_NAME.match(value):
        return FieldError(field, "must start with a letter and hold only letters, digits and hyphens")
    if value.endswith("-"):
        return FieldError(field, "must not end with a hyphen")
    return None


def node_range(min_nodes: int, max_nodes: int) -> FieldError | None:
    if min_nodes < 0:
        return FieldError("min_instances", "must be 0 or more")
    if max_nodes < 1:
        return FieldError("max_instances", "must be 1 or more")
    if min_nodes > max_nodes:
        return FieldError("min_instances", f"must not exceed max_instances ({min_nodes} > {max_nodes})")
    return None


def idle_seconds(value: int, field: str = "idle_time_before_scale_down") -> FieldError | None:
    if value < 0:
        return FieldError(field, "must be 0 seconds or more")
    if value > 7 * 24 * 3600:
        return FieldError(field, "must be at most 7 days")
    return None


def vm_size_offered(size: str, offered: Iterable[str], region: str, field: str = "size") -> FieldError | None:
    if not size:
        return FieldError(field, "is required")
    names = {s.lower() for s in offered}
    if names and size.lower() not in names:
        return FieldError(field, f"{size} is not offered in {region}")
    return None


def endpoint_name(value: str, field: str = "name") -> FieldError | None:
    if not _ENDPOINT_NAME.match(value or ""):
        return FieldError(
            field, "must be 3 to 32 characters: a letter first, then letters, digits or hyphens, no hyphen last"
        )
    return None


def deployment_name(value: str, field: str = "deployment") -> FieldError | None:
    if not _DEPLOYMENT_NAME.match(value or ""):
        return FieldError(
            field, "must be 3 to 32 characters: a letter first, then letters, digits or hyphens, no hyphen last"
        )
    return None


def traffic(values: Mapping[str, int], deployments: Iterable[str], field: str = "traffic") -> FieldError | None:
    known = {d.lower() for d in deployments}
    for name, pct in values.items():
        if name.lower() not in known:
            return FieldError(field, f"names deployment '{name}', which the endpoint does not have")
        if not isinstance(pct, int) or isinstance(pct, bool) or not (0 <= pct <= 100):
            return FieldError(field, f"{name} must be a whole percentage from 0 to 100")
    total = sum(values.values())
    if values and total != 100 and total != 0:
        return FieldError(field, f"must sum to 100 (it sums to {total})")
    return None


def mirror_traffic(
    values: Mapping[str, int], live: Mapping[str, int], deployments: Iterable[str], field: str = "mirror_traffic"
) -> FieldError | None:
    known = {d.lower() for d in deployments}
    for name, pct in values.items():
        if name.lower() not in known:
            return FieldError(field, f"names deployment '{name}', which the endpoint does not have")
        if not isinstance(pct, int) or isinstance(pct, bool) or not (0 <= pct <= 50):
            return FieldError(field, f"{name} must be a whole percentage from 0 to 50")
        if pct and live.get(name, 0):
            return FieldError(field, f"{name} takes live traffic and cannot also receive mirrored traffic")
    return None


def instance_count(value: int, field: str = "instance_count", *, high: int = 20) -> FieldError | None:
    if isinstance(value, bool) or not isinstance(value, int) or not (1 <= value <= high):
        return FieldError(field, f"must be a whole number from 1 to {high}")
    return None


def storage_account(value: str, field: str = "account_name") -> FieldError | None:
    if not _STORAGE_ACCOUNT.match(value or ""):
        return FieldError(field, "must be 3 to 24 lower-case letters or digits")
    return None


def container_name(value: str, field: str = "container_name") -> FieldError | None:
    if not _CONTAINER.match(value or ""):
        return FieldError(
            field, "must be 3 to 63 lower-case letters, digits or single hyphens, starting and ending alphanumeric"
        )
    return None


def datastore_name(value: str, field: str = "name") -> FieldError | None:
    if not _DATASTORE_NAME.match(value or ""):
        return FieldError(field, "must be letters, digits or underscores (1 to 255)")
    return None


def resource_name(value: str, field: str = "name") -> FieldError | None:
    if not value or len(value) > 255 or not _RESOURCE_NAME.match(value):
        return FieldError(field, "must start with a letter or digit and hold only letters, digits, _ and -")
    return None


def https_url(value: str, field: str = "url") -> FieldError | None:
    try:
        parts = urllib.parse.urlsplit(value or "")
    except ValueError:
        return FieldError(field, "is not a URL")
    if parts.scheme != "https" or not parts.hostname:
        return FieldError(field, "must be an https:// URL with a host")
    return None


def json_payload(text: str, field: str = "payload") -> tuple[Any, FieldError | None]:
    try:
        return json.loads(text), None
    except (ValueError, TypeError) as e:
        return None, FieldError(field, f"is not valid JSON ({e})")
