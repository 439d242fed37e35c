"""Forms generated from an action's typed parameter model (services/params.py): the inputs, their labels, help and
first texts; and, before the form closes, the messages of the model's rules under the fields they name. Nothing is
sent until every rule holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from screens.modals import Field, Validator
from services.params import Params

P = TypeVar("P", bound=Params)


def form_fields(
    *models: type[Params],
    initial: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    helps: Mapping[str, str] | None = None,
) -> list[Field]:
    """The inputs of the models' form, in declared order. A form several models share (one per datastore type)
    has each input once, as the first model declaring it has it; ``labels`` renames inputs for such a form and
    ``helps`` gives an input the help only the screen knows (the workspace's computes)."""
    out: dict[str, Field] = {}
    for model in models:
        for f in model.form_fields(**(initial or {})):
            if f.name not in out:
                label = (labels or {}).get(f.name, f.label)
                out[f.name] = Field(f.name, label, f.value, (helps or {}).get(f.name, f.help), f.secret)
    return list(out.values())


def read(
    model: type[P], values: Mapping[str, str], context: Mapping[str, Any] | None = None, *, others: Iterable[str] = ()
) -> tuple[P, dict[str, str]]:
    """The model of the form's text and context, and the messages to show ({input: rule}; empty: it may be sent).
    Text that is not of its field's type is said first (the rules would judge a default instead)."""
    params, errors = model.from_form(values, context, others=others)
    return params, errors or params.form_errors()


Context = Callable[[Mapping[str, str]], Mapping[str, Any]]


def validator(model: type[Params], context: Context | None = None) -> Validator:
    """A FormScreen validator from a model (``context``: what the form does not type, from what it does)."""

    def validate(values: dict[str, str]) -> dict[str, str]:
        return read(model, values, context(values) if context else None)[1]

    return validate
