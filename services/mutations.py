"""The one choke point every mutating operation goes through.

In order: (1) refuse in read-only mode, (2) validate the input, (3) write the audit line (attempt and
outcome), (4) run it. Each operation also knows its equivalent ``az ml`` command, so the console can
show what it will do before it runs. The registry lets a test enumerate every mutation.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

from .errors import ServiceError, classify
from .validation import ValidationError

P = ParamSpec("P")
R = TypeVar("R")

SECRET_PARAMS = {"account_key", "sas_token", "client_secret", "secret", "password", "key", "token", "certificate"}


class ReadOnlyError(PermissionError):
    def __init__(self, operation: str, profile: str) -> None:
        super().__init__(f"{operation} refused: profile '{profile}' is read-only")
        self.operation = operation


@dataclass(frozen=True)
class Target:
    """What a mutation acts on: a workspace-scoped resource."""

    subscription_id: str
    resource_group: str
    workspace: str
    name: str = ""  # the resource's name (compute, endpoint, job, datastore...)
    parent: str = ""  # e.g. the endpoint of a deployment

    def describe(self) -> str:
        path = "/".join(p for p in (self.workspace, self.parent, self.name) if p)
        return path or self.workspace


@dataclass(frozen=True)
class AuditRecord:
    time: str
    profile: str
    user: str
    operation: str
    target: str
    subscription_id: str
    resource_group: str
    parameters: dict[str, Any]
    outcome: str  # attempted | succeeded | failed | refused | invalid
    message: str = ""
    request_id: str = ""


class AuditSink(Protocol):
    def __call__(self, record: AuditRecord) -> None: ...


@dataclass(frozen=True)
class Operation:
    name: str  # e.g. "compute.stop"
    title: str  # e.g. "Stop compute instance"
    az: Callable[[Target, Mapping[str, Any]], str]
    destructive: bool = False
    validate: Callable[[Mapping[str, Any]], None] | None = None


REGISTRY: dict[str, Operation] = {}
FUNCTIONS: dict[str, Callable[..., Any]] = {}

# Every module that defines mutations; registry() imports them so the registry is complete.
ACTION_MODULES = ("services.compute", "services.datastores", "services.deployments", "services.jobs")


def registry() -> dict[str, Operation]:
    """Every mutating operation the console can perform."""
    import importlib

    for name in ACTION_MODULES:
        importlib.import_module(name)
    return dict(REGISTRY)


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        if any(s in k.lower() for s in SECRET_PARAMS):
            out[k] = "***" if v else v
        elif isinstance(v, Mapping):
            out[k] = redact(v)
        else:
            out[k] = v
    return out


@dataclass
class Guard:
    """What the choke point needs from a session: mode, identity and where audit lines go."""

    profile: str = "default"
    user: str = ""
    read_only: bool = False
    audit: AuditSink | None = None
    records: list[AuditRecord] = field(default_factory=list)  # the last few, for the console
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def write(self, record: AuditRecord) -> None:
        with self._lock:
            self.records.append(record)
            del self.records[:-200]
        if self.audit is not None:
            self.audit(record)


def operation(
    name: str,
    title: str,
    *,
    az: Callable[[Target, Mapping[str, Any]], str],
    destructive: bool = False,
    validate: Callable[[Mapping[str, Any]], None] | None = None,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Register ``fn(session, target, **params)`` as a mutation and wrap it in the choke point."""
    op = Operation(name, title, az, destructive, validate)
    if name in REGISTRY:
        raise ValueError(f"mutation {name} registered twice")
    REGISTRY[name] = op

    def deco(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(session: Any, target: Target, **params: Any) -> R:
            return run(op, fn, session, target, params)

        wrapper.operation = op  # type: ignore[attr-defined]
        FUNCTIONS[name] = wrapper
        return wrapper

    return deco


def _record(guard: Guard, op: Operation, target: Target, params: Mapping[str, Any], outcome: str, **kw: str) -> None:
    guard.write(
        AuditRecord(
            time=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            profile=guard.profile,
            user=guard.user,
            operation=op.name,
            target=target.describe(),
            subscription_id=target.subscription_id,
            resource_group=target.resource_group,
            parameters=redact(params),
            outcome=outcome,
            **kw,
        )
    )


def run(op: Operation, fn: Callable[..., R], session: Any, target: Target, params: Mapping[str, Any]) -> R:
    guard: Guard = session.guard
    if guard.read_only:
        _record(guard, op, target, params, "refused", message="read-only")
        raise ReadOnlyError(op.title, guard.profile)
    if op.validate is not None:
        try:
            op.validate(params)
        except ValidationError as e:
            _record(guard, op, target, params, "invalid", message=str(e))
            raise
    _record(guard, op, target, params, "attempted")
    try:
        result = fn(session, target, **params)
    except ValidationError as e:
        _record(guard, op, target, params, "invalid", message=str(e))
        raise
    except Exception as e:
        err: ServiceError = classify(e)
        _record(guard, op, target, params, "failed", message=err.message, request_id=err.request_id)
        raise
    _record(guard, op, target, params, "succeeded")
    return result


def az_command(name: str, target: Target, params: Mapping[str, Any]) -> str:
    """The equivalent `az ml` command line for a registered mutation."""
    return REGISTRY[name].az(target, redact(params))


def ws_args(t: Target) -> str:
    return f"--resource-group {t.resource_group} --workspace-name {t.workspace} --subscription {t.subscription_id}"
