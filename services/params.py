"""Typed parameter models of the kinds' actions: one frozen dataclass per action (services/kinds).

Each field is ``Annotated[type, Param(...)]``: its form label, help and first text, its rules, and its flag in
the ``az`` equivalent. Every rule has one copy, here, and from it come:

- the form (``form_fields``): an input per parameter the user types; ``from_form`` reads the typed text into
  the model (a count that is not a whole number is refused on its field);
- the refusals before any request (``validate``): each message names the field and the rule. The mutation
  choke point runs it on every call (``@operation(params=...)`` in services/mutations.py) and a form runs it
  before it closes, each message under its field;
- the ``az`` equivalent (``az``) the plan shows before the action runs.

What the user does not type (the region's VM sizes, the family's quota, a secret store) is context: a field with
``form=None``, filled by the caller.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol, Self, dataclass_transform, get_args, get_origin

from .validation import FieldError, ValidationError

if TYPE_CHECKING:
    from .mutations import Target

# The kinds' declarations hold these classes and every kind is imported before the console's first frame: they are
# named tuples and a base that reads its fields on first use, which cost a tenth of what dataclasses cost to define.

# -- rules ------------------------------------------------------------------------------------------


class Rule(Protocol):
    """One rule of a field: ``check`` gives the rule, as the message says it, when the value breaks it;
    ``describe`` the rule as a form's help ("" when it has none of its own)."""

    def check(self, value: Any) -> str | None: ...

    def describe(self) -> str: ...


def either(choices: Iterable[str]) -> str:
    """("a", "b", "c") → "a, b or c"."""
    items = list(choices)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


class Required(NamedTuple):
    def check(self, value: Any) -> str | None:
        return "is required" if value is None or value == "" else None

    def describe(self) -> str:
        return ""


class OneOf(NamedTuple):
    choices: tuple[str, ...]

    def check(self, value: Any) -> str | None:
        return None if value in self.choices else f"must be {either(self.choices)}"

    def describe(self) -> str:
        return either(self.choices)


class Matches(NamedTuple):
    """A text matching ``pattern``; ``optional``: empty passes (another rule says when it is needed)."""

    pattern: str
    rule: str
    optional: bool = False

    def check(self, value: Any) -> str | None:
        text = str(value or "")
        if self.optional and not text:
            return None
        return None if re.fullmatch(self.pattern, text) else self.rule

    def describe(self) -> str:
        return ""


class Check(NamedTuple):
    """A rule of services/validation.py: a function of the value giving a FieldError or None."""

    fn: Callable[[Any], FieldError | None]
    help: str = ""

    def check(self, value: Any) -> str | None:
        error = self.fn(value)
        return error.rule if error is not None else None

    def describe(self) -> str:
        return self.help


GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


# -- the declaration of a parameter -----------------------------------------------------------------


class Param(NamedTuple):
    """What a model's field is, beyond its type.

    ``form``: the id of its form input ("" → the field's name; None → not typed: context). ``initial``: the form's
    first text (None → the default). ``errors_on``: the input its messages show under ("" → its own). ``az``: its
    flag in the ``az`` equivalent ("" → not in it)."""

    label: str
    help: str = ""
    rules: tuple[Rule, ...] = ()
    az: str = ""
    form: str | None = ""
    initial: str | None = None
    secret: bool = False
    errors_on: str = ""


class Spec(NamedTuple):
    """One parameter of a model, as its annotations declare it."""

    name: str
    type: Any
    param: Param
    default: Any

    @property
    def form_id(self) -> str | None:
        return None if self.param.form is None else (self.param.form or self.name)

    @property
    def shown_on(self) -> str:
        return self.param.errors_on or self.form_id or self.name

    @property
    def help(self) -> str:
        return self.param.help or "; ".join(d for d in (r.describe() for r in self.param.rules) if d)


class FormField(NamedTuple):
    """One input of a generated form (screens/modals.py Field has the same shape)."""

    name: str
    label: str
    value: str = ""
    help: str = ""
    secret: bool = False


_SPECS: dict[type[Params], tuple[Spec, ...]] = {}
_MISSING = object()


def _specs(cls: type[Params]) -> tuple[Spec, ...]:
    """The parameters of a model, in declared order (a subclass redeclaring one keeps its place), each annotation
    evaluated in its own class's module."""
    if cls in _SPECS:
        return _SPECS[cls]
    hints: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        if issubclass(base, Params):
            hints.update(inspect.get_annotations(base, eval_str=True))
    out: list[Spec] = []
    for name, hint in hints.items():
        if hint is ClassVar or get_origin(hint) is ClassVar:
            continue
        meta = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Param)]
        if not meta:
            raise TypeError(f"{cls.__name__}.{name}: annotate it Annotated[type, Param(...)]")
        default = getattr(cls, name, _MISSING)
        if default is _MISSING:
            raise TypeError(f"{cls.__name__}.{name}: every parameter has a default (rules say what is required)")
        spec = Spec(name, get_args(hint)[0], meta[0], default)
        if spec.form_id is not None and spec.type not in (str, int):
            raise TypeError(f"{cls.__name__}.{name}: a form reads text and whole numbers only")
        out.append(spec)
    _SPECS[cls] = tuple(out)
    return _SPECS[cls]


# -- the model --------------------------------------------------------------------------------------


@dataclass_transform(kw_only_default=True, frozen_default=True)
class Params:
    """The parameters of one action: a subclass declares its fields as a frozen dataclass does (type-checked as
    one: keyword arguments, no assignment), each with a default (what is required is a rule) and annotated
    ``Annotated[type, Param(...)]``; ``rules`` adds the rules between fields."""

    AZ: ClassVar[str] = ""  # the command: "az ml compute create"
    AZ_TARGET: ClassVar[str] = ""  # the flag the target's name goes in, for an action on a row: "--name"
    AZ_FLAGS: ClassVar[str] = ""  # flags after the parameters that never vary: "--type AmlCompute", "--yes"
    NOT_HERE: ClassVar[str] = "does not apply here: leave empty"  # text typed where this model takes none

    def __init__(self, **values: Any) -> None:
        specs = self.specs()
        unknown = set(values) - {s.name for s in specs}
        if unknown:
            raise TypeError(f"{type(self).__name__} has no parameter {', '.join(sorted(unknown))}")
        for s in specs:
            object.__setattr__(self, s.name, values.get(s.name, s.default))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: {name} cannot be deleted")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.kwargs().items())})"

    @classmethod
    def specs(cls) -> tuple[Spec, ...]:
        return _specs(cls)

    @classmethod
    def spec(cls, name: str) -> Spec:
        return next(s for s in cls.specs() if s.name == name)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Self:
        """The model of a call's parameters (those it does not declare are not its business; defaults fill
        the rest)."""
        names = {s.name for s in cls.specs()}
        return cls(**{k: v for k, v in values.items() if k in names})

    # -- the form --

    @classmethod
    def form_fields(cls, **initial: str) -> list[FormField]:
        """The inputs of the model's form, in declared order; ``initial`` overrides first texts by form id."""
        out: list[FormField] = []
        for s in cls.specs():
            fid = s.form_id
            if fid is None:
                continue
            first = s.param.initial if s.param.initial is not None else str(s.default)
            out.append(FormField(fid, s.param.label, initial.get(fid, first), s.help, s.param.secret))
        return out

    @classmethod
    def from_form(
        cls, values: Mapping[str, str], context: Mapping[str, Any] | None = None, *, others: Iterable[str] = ()
    ) -> tuple[Self, dict[str, str]]:
        """The model of a form's text (by input id) and its context, with {input id: rule} for text that is not
        of its field's type or (``others``: the inputs of other models sharing the form) typed where this
        model takes none. Empty text is the field's default, but a whole number must be typed."""
        errors: dict[str, str] = {}
        kwargs: dict[str, Any] = {}
        ids: set[str] = set()
        for s in cls.specs():
            fid = s.form_id
            if fid is None:
                continue
            ids.add(fid)
            text = values.get(fid, "").strip()
            if s.type is int:
                try:
                    kwargs[s.name] = int(text)
                except ValueError:
                    errors.setdefault(fid, "must be a whole number")
            elif text:
                kwargs[s.name] = text
        for fid in others:
            if fid not in ids and values.get(fid, "").strip():
                errors.setdefault(fid, cls.NOT_HERE)
        kwargs.update(context or {})
        return cls.of(kwargs), errors

    # -- the rules --

    def rules(self) -> Iterable[FieldError | None]:
        """Rules between fields (a minimum not above a maximum, a quota...): None where one holds."""
        return ()

    def validate(self) -> tuple[FieldError, ...]:
        """Every rule broken: each field's first, then the rules between fields."""
        found: list[FieldError] = []
        for s in self.specs():
            value = getattr(self, s.name)
            for rule in s.param.rules:
                text = rule.check(value)
                if text:
                    found.append(FieldError(s.name, text))
                    break
        found += [e for e in self.rules() if e is not None]
        return tuple(found)

    def check(self) -> None:
        """Raise ValidationError (nothing is sent) when a rule is broken."""
        errors = self.validate()
        if errors:
            raise ValidationError(errors)

    def form_errors(self) -> dict[str, str]:
        """The broken rules by the input they show under (the first per input)."""
        shown = {s.name: s.shown_on for s in self.specs()}
        out: dict[str, str] = {}
        for e in self.validate():
            out.setdefault(shown.get(e.field, e.field), e.rule)
        return out

    # -- the call and its az equivalent --

    def kwargs(self) -> dict[str, Any]:
        """The parameters as the operation takes them."""
        return {s.name: getattr(self, s.name) for s in self.specs()}

    def shown(self) -> dict[str, Any]:
        """The parameters the user typed (no context), for the plan."""
        return {s.name: getattr(self, s.name) for s in self.specs() if s.form_id is not None}

    def az_args(self) -> list[str]:
        """``--flag value`` of each parameter with a flag and a value."""
        out: list[str] = []
        for s in self.specs():
            value = getattr(self, s.name)
            if s.param.az and value is not None and value != "":
                out.append(f"{s.param.az} {value}")
        return out

    def az(self, target: Target) -> str:
        """The equivalent ``az ml`` command line."""
        from .mutations import ws_args

        parts = [self.AZ, f"{self.AZ_TARGET} {target.name}" if self.AZ_TARGET else "", *self.az_args()]
        parts += [self.AZ_FLAGS, ws_args(target)]
        return " ".join(p for p in parts if p)
