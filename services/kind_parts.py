"""The parts of a kind's declaration the first frame does not need: its actions and relations, and what its
loader reads (Target, LoadOptions) and returns (Loaded, TargetError). ``services.kind`` re-exports them on
first use, so declarations import everything from there; the workspace list drawn on the first frame loads
this module only when it reads its rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import ServiceError
    from .models import Workspace
    from .params import Params


@dataclass(frozen=True)
class Action:
    """A key of the kind's screen bound to a registered mutation (services/mutations.py ``@operation``):
    the operation validates its parameters, writes the audit line and knows its ``az`` equivalent.
    ``unavailable(model)`` says why it does not apply to a row as it is ("" when it does): the screens hide
    the key on that row and refuse it, and never send what Azure would refuse as a conflict. ``params``: the
    typed parameter model of the operation (services/params.py), the same the operation registers: its rules
    refuse bad input on the form and at the choke point, and it renders the ``az`` equivalent."""

    id: str
    operation: str
    key: str
    unavailable: Callable[[Any], str] = field(default=lambda _m: "")
    on_row: bool = True
    params: type[Params] | None = None


@dataclass(frozen=True)
class Relation:
    kind: str  # the kind it links to
    via: str  # the column holding the link
    label: str = ""


@dataclass(frozen=True)
class Target:
    """What one loader call reads: one workspace, one (subscription, region) or one subscription."""

    workspace: Workspace | None = None
    subscription_id: str = ""
    location: str = ""

    @property
    def id(self) -> str:
        if self.workspace is not None:
            return self.workspace.id
        if self.location:
            return f"/subscriptions/{self.subscription_id}/locations/{self.location}"
        return f"/subscriptions/{self.subscription_id}"

    @property
    def workspace_name(self) -> str | None:
        return self.workspace.name if self.workspace is not None else None


@dataclass(frozen=True)
class LoadOptions:
    job_limit: int = 100
    now: dt.datetime | None = None


@dataclass(frozen=True)
class TargetError:
    """A part of a target that failed while the rest was read (one endpoint of a workspace, one source)."""

    kind: str
    workspace: str | None
    target: str
    error: ServiceError


@dataclass
class Loaded:
    """What one loader call read: models per kind (a loader may fill its children's kinds too: joins) and
    the failures of parts of its target."""

    rows: dict[str, list[Any]] = field(default_factory=dict)
    errors: list[TargetError] = field(default_factory=list)


Loader = Callable[[Any, Target, LoadOptions], Loaded]
