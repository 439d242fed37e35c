"""The one choke point every mutating operation goes through.

In order: (1) refuse in read-only mode, (2) validate the input, (3) write the audit line (attempt and
outcome), (4) run it. Each operation also knows its equivalent ``az ml`` command, so the console can
show what it will do before it runs. The registry lets a test enumerate every mutation.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

from .errors import AzmlError, ServiceError, classify, response_lost
from .validation import ValidationError

if TYPE_CHECKING:
    from .params import Params
    from .session import Session

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

SECRET_PARAMS = {"account_key", "sas_token", "client_secret", "secret", "password", "key", "token", "certificate"}


class ReadOnlyError(AzmlError, PermissionError):
    def __init__(self, operation: str, profile: str) -> None:
        super().__init__(f"{operation} refused: profile '{profile}' is read-only")
        self.operation = operation


# What an operation's ``reconcile`` reports after a lost response: (applied?, the state read), where
# applied is True (Azure took it), False (it did not) or None (the state cannot tell).
Reconciled = tuple["bool | None", str]


class ResponseLost(AzmlError):
    """A mutation was sent and its outcome is unknown — its answer never came back (reset, timeout) or Azure
    answered 5xx, which does not say whether the change was made — so the resource was read to learn what
    happened. Nothing was re-sent. ``applied``: True, False or None (unknown)."""

    def __init__(
        self, title: str, applied: bool | None, state: str, cause: str, *, answered: bool = False, request_id: str = ""
    ) -> None:
        self.title = title
        self.applied = applied
        self.state = state
        self.cause = cause
        self.request_id = request_id
        lead = (
            f"Azure answered {cause}, which leaves the outcome open" if answered else f"the answer was lost ({cause})"
        )
        if applied is True:
            text = f"{lead}, but Azure accepted it: {state}"
        elif applied is False:
            text = (
                f"{lead} and Azure did not apply it: {state}. Nothing was re-sent; run it again if it is still wanted"
            )
        elif state:
            text = f"{lead}; {state}. Nothing was re-sent: check before running it again"
        else:
            text = f"{lead}. Nothing was re-sent: refresh and check before running it again"
        if request_id:
            text += f" (request id {request_id})"
        super().__init__(f"{title}: {text}")


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
    outcome: str  # attempted | succeeded | failed | refused | invalid | unknown (answer lost, state unclear)
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
    # After a lost answer: read the resource and say whether the mutation took effect (see ResponseLost).
    reconcile: Callable[[Session, Target, Mapping[str, Any]], Reconciled] | None = None
    params: type[Params] | None = None  # its typed parameter model: the rules, the form, the az equivalent


class Mutation(Protocol[P, R_co]):
    """A registered mutation: called as the function it wraps (same parameters, same result), through the
    choke point; ``operation`` is what it registered."""

    operation: Operation

    def __call__(self, session: Session, target: Target, /, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


REGISTRY: dict[str, Operation] = {}
FUNCTIONS: dict[str, Mutation[..., Any]] = {}


def registry() -> dict[str, Operation]:
    """Every mutating operation the console can perform: those of the service modules of every kind that
    declares actions (services/kinds), imported so the registry is complete."""
    import importlib

    from .kinds import action_modules

    for name in action_modules():
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
    identify: Callable[[], str] | None = field(default=None, repr=False)  # names ``user`` on first need
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, operation_name: str, target: Target | None = None) -> str:
        """Asked before anything opens (a form, a plan): "" when the operation may go on, else the reason, with
        the refusal written to the audit. The same rule ``run`` applies when the operation is sent."""
        if not self.read_only:
            return ""
        op = REGISTRY[operation_name]
        _record(self, op, target or Target("", "", ""), {}, "refused", message="read-only")
        return str(ReadOnlyError(op.title, self.profile))

    def who(self) -> str:
        """The acting user for an audit line (asked of ``identify`` until it names one, when not given)."""
        if not self.user and self.identify is not None:
            try:
                self.user = self.identify()
            except Exception:  # the identity is best effort; the action reports its own failure
                self.user = ""
        return self.user

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
    az: Callable[[Target, Mapping[str, Any]], str] | None = None,
    destructive: bool = False,
    validate: Callable[[Mapping[str, Any]], None] | None = None,
    reconcile: Callable[[Session, Target, Mapping[str, Any]], Reconciled] | None = None,
    params: type[Params] | None = None,
) -> Callable[[Callable[Concatenate[Session, Target, P], R]], Mutation[P, R]]:
    """Register ``fn(session, target, **params)`` as a mutation and wrap it in the choke point; the wrapper
    keeps ``fn``'s signature, so a call with a wrong or missing parameter is a type error. ``params``: the
    action's typed parameter model (services/params.py), whose rules validate every call and which renders the
    ``az`` equivalent (``validate`` and ``az`` are for operations without one)."""
    if params is not None:
        model = params
        validate = validate or (lambda p: model.of(p).check())
        az = az or (lambda t, p: model.of(p).az(t))
    if az is None:
        raise ValueError(f"mutation {name}: an az equivalent or a parameter model is required")
    op = Operation(name, title, az, destructive, validate, reconcile, params)
    if name in REGISTRY:
        raise ValueError(f"mutation {name} registered twice")
    REGISTRY[name] = op

    def deco(fn: Callable[Concatenate[Session, Target, P], R]) -> Mutation[P, R]:
        @functools.wraps(fn)
        def wrapper(session: Session, target: Target, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{name}: parameters are keyword-only (got {len(args)} positional)")
            return run(op, fn, session, target, kwargs)

        mutation = cast("Mutation[P, R]", wrapper)
        mutation.operation = op
        FUNCTIONS[name] = mutation
        return mutation

    return deco


def _record(guard: Guard, op: Operation, target: Target, params: Mapping[str, Any], outcome: str, **kw: str) -> None:
    guard.write(
        AuditRecord(
            time=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            profile=guard.profile,
            user=guard.who(),
            operation=op.name,
            target=target.describe(),
            subscription_id=target.subscription_id,
            resource_group=target.resource_group,
            parameters=redact(params),
            outcome=outcome,
            **kw,
        )
    )


def run(op: Operation, fn: Callable[..., R], session: Session, target: Target, params: Mapping[str, Any]) -> R:
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
    from .rest import MUTATION_REQUEST_IDS

    request_ids: list[str] = []
    token = MUTATION_REQUEST_IDS.set(request_ids)
    try:
        result = fn(session, target, **params)
    except ValidationError as e:
        _record(guard, op, target, params, "invalid", message=str(e))
        raise
    except Exception as e:
        err: ServiceError = classify(e)
        rid = err.request_id or ",".join(request_ids)
        if response_lost(e) or outcome_unknown(e, err):
            lost = _reconcile(op, session, target, params, err)
            outcome = {True: "succeeded", False: "failed"}.get(lost.applied, "unknown")  # type: ignore[arg-type]
            _record(guard, op, target, params, outcome, message=str(lost), request_id=rid)
            raise lost from None
        _record(guard, op, target, params, "failed", message=err.message, request_id=rid)
        raise
    finally:
        MUTATION_REQUEST_IDS.reset(token)
    _record(guard, op, target, params, "succeeded", request_id=",".join(request_ids))
    return result


def outcome_unknown(exc: BaseException, err: ServiceError) -> bool:
    """A 5xx answer to the mutating request itself says nothing of whether it was applied (500, 502, 503,
    504 alike). A long-running operation's failure reported on its status monitor is an answer: failed."""
    if err.status is None or err.status < 500:
        return False
    request = getattr(getattr(exc, "response", None), "request", None)
    return str(getattr(request, "method", "POST")).upper() != "GET"


def _reconcile(
    op: Operation, session: Session, target: Target, params: Mapping[str, Any], err: ServiceError
) -> ResponseLost:
    """A sent mutation's outcome is unknown (answer lost, or a 5xx): never send it again, read the resource."""
    answered = err.status is not None and err.status >= 500
    if answered:
        cause = f"{err.status}" + (f" {err.code}" if err.code else "")
    else:
        cause = "connection dropped" if "dropped" in err.message else "no answer in time"
    rid = err.request_id
    if op.reconcile is None:
        return ResponseLost(op.title, None, "", cause, answered=answered, request_id=rid)
    try:
        applied, state = op.reconcile(session, target, params)
    except Exception as e:
        return ResponseLost(
            op.title, None, f"reading the state failed too ({classify(e)})", cause, answered=answered, request_id=rid
        )
    return ResponseLost(op.title, applied, state, cause, answered=answered, request_id=rid)


# -- reading the state after a lost answer ---------------------------------------------------------


def resource_path(t: Target, *parts: str) -> str:
    """The ARM path of a resource of the target's workspace (``parts``: e.g. "computes", name)."""
    base = (
        f"/subscriptions/{t.subscription_id}/resourceGroups/{t.resource_group}"
        f"/providers/Microsoft.MachineLearningServices/workspaces/{t.workspace}"
    )
    return "/".join([base, *(urllib.parse.quote(p, safe="") for p in parts)])


def read_resource(session: Session, path: str, api_version: str) -> dict[str, Any] | None:
    """GET a resource (retried as every read is); None when it does not exist."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        body = session.rest().get(path, api_version)
    except ResourceNotFoundError:
        return None
    return body if isinstance(body, dict) else {}


def expect_state(
    read: Callable[[Session, Target, Mapping[str, Any]], tuple[str, str]],
    applied: tuple[str, ...],
    not_applied: tuple[str, ...] = (),
) -> Callable[[Session, Target, Mapping[str, Any]], Reconciled]:
    """A reconcile from ``read`` → (name, state, "" when missing) and the states that mean applied / not
    (``not_applied`` ``("*",)``: every state not in ``applied``, e.g. a delete: whatever still exists)."""

    def reconcile(session: Session, target: Target, params: Mapping[str, Any]) -> Reconciled:
        name, state = read(session, target, params)
        s = state.lower().replace(" ", "")
        shown = f"{name} is {state}" if state else f"{name} does not exist"
        if s in applied:
            return True, shown
        if s in not_applied or not_applied == ("*",):
            return False, shown
        return None, shown

    return reconcile


def az_command(name: str, target: Target, params: Mapping[str, Any]) -> str:
    """The equivalent `az ml` command line for a registered mutation."""
    return REGISTRY[name].az(target, redact(params))


def ws_args(t: Target) -> str:
    return f"--resource-group {t.resource_group} --workspace-name {t.workspace} --subscription {t.subscription_id}"
